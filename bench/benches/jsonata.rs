//! JSONata evaluation of typical ASL-style expressions against a state
//! input bound as `$states`, compiled once.

use criterion::{Criterion, criterion_group, criterion_main};
use spate_engine::jsonata::{Jsonata, Limits};
use spate_engine::{Map, Value, json};
use std::hint::black_box;

const EXPRESSIONS: [&str; 5] = [
    "$states.input.device.id",
    "$states.input.temp * 1.8 + 32",
    "$uppercase($states.input.site)",
    "$count($states.input.readings)",
    "$states.input.readings[value > 20].value",
];

fn states() -> Map {
    let input = json!({
        "device": {"id": "sensor-42", "model": "TX-9"},
        "site": "north-lab",
        "temp": 21.5,
        "readings": [
            {"ts": 1, "value": 18.2},
            {"ts": 2, "value": 21.7},
            {"ts": 3, "value": 19.9},
            {"ts": 4, "value": 23.4},
            {"ts": 5, "value": 20.1}
        ]
    });
    let mut states = Map::new();
    states.insert("input".into(), input);
    let mut bindings = Map::new();
    bindings.insert("states".into(), Value::object(states));
    bindings
}

fn bench_jsonata(c: &mut Criterion) {
    let bindings = states();
    let limits = Limits::default();
    let compiled: Vec<Jsonata> = EXPRESSIONS
        .iter()
        .map(|e| Jsonata::compile(e).expect("valid expression"))
        .collect();
    let mut group = c.benchmark_group("jsonata");
    for (src, expr) in EXPRESSIONS.iter().zip(&compiled) {
        group.bench_function(*src, |b| {
            b.iter(|| expr.evaluate(None, black_box(&bindings), &limits).unwrap())
        });
    }
    group.bench_function("all five", |b| {
        b.iter(|| {
            for expr in &compiled {
                black_box(expr.evaluate(None, &bindings, &limits).unwrap());
            }
        })
    });
    group.bench_function("compile all five", |b| {
        b.iter(|| {
            for src in EXPRESSIONS {
                black_box(Jsonata::compile(black_box(src)).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_jsonata);
criterion_main!(benches);
