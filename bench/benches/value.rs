//! The JSON value representation, against `serde_json::Value`, on the
//! operations every state performs: parsing an event (and writing the
//! output back out), cloning a state's
//! input, writing a result into it (ResultPath) and building a small object
//! from pieces of it (Parameters). This is the measurement behind the choice
//! of `spate_engine::Value` (shared sub-trees, inline short strings).

use criterion::{Criterion, criterion_group, criterion_main};
use spate_engine::value::{Map, Str, Value, parse_json};
use std::hint::black_box;

/// A ~1 KiB event: nested objects, arrays and short strings.
fn event_text() -> String {
    let readings: Vec<String> = (0..40)
        .map(|i| format!("{}.{}", 20 + i % 30, i % 10))
        .collect();
    format!(
        r#"{{"device_id":"dev-0042","site":"plant-7","timestamp":"2026-11-24T14:00:00Z","temperature":48.5,"humidity":61,"tags":["line-3","outdoor","v2"],"location":{{"lat":52.52,"lon":13.405,"floor":3,"room":"B-204"}},"readings":[{}],"meta":{{"firmware":"4.2.1","owner":"ops-team","calibrated":true}}}}"#,
        readings.join(",")
    )
}

fn parse(c: &mut Criterion) {
    let text = event_text();
    let mut group = c.benchmark_group("value/parse_1KiB");
    group.throughput(criterion::Throughput::Bytes(text.len() as u64));
    group.bench_function("spate_simd_json", |b| {
        b.iter(|| black_box(parse_json(text.as_bytes()).unwrap()))
    });
    group.bench_function("serde_json", |b| {
        b.iter(|| black_box(serde_json::from_str::<serde_json::Value>(&text).unwrap()))
    });
    group.finish();
}

fn write(c: &mut Criterion) {
    let text = event_text();
    let ours = spate_engine::value::parse_json_str(&text).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut group = c.benchmark_group("value/write_1KiB");
    group.throughput(criterion::Throughput::Bytes(text.len() as u64));
    group.bench_function("spate", |b| {
        b.iter(|| {
            let mut out = String::new();
            spate_engine::value::write_json(&ours, &mut out);
            black_box(out)
        })
    });
    group.bench_function("spate_bytes", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(256);
            spate_engine::value::write_json_bytes(&ours, &mut out);
            black_box(out)
        })
    });
    group.bench_function("serde_json", |b| {
        b.iter(|| black_box(serde_json::to_string(&theirs).unwrap()))
    });
    group.finish();
}

fn result_path(c: &mut Criterion) {
    let text = event_text();
    let ours = spate_engine::value::parse_json_str(&text).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut group = c.benchmark_group("value/clone_and_set_result");
    group.bench_function("spate", |b| {
        b.iter(|| {
            let mut next = ours.clone();
            next.as_object_mut()
                .unwrap()
                .insert(Str::new("result"), Value::from(42));
            black_box(next)
        })
    });
    group.bench_function("serde_json", |b| {
        b.iter(|| {
            let mut next = theirs.clone();
            next.as_object_mut()
                .unwrap()
                .insert("result".to_string(), serde_json::Value::from(42));
            black_box(next)
        })
    });
    group.finish();
}

fn build_parameters(c: &mut Criterion) {
    let text = event_text();
    let ours = spate_engine::value::parse_json_str(&text).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut group = c.benchmark_group("value/build_parameters");
    group.bench_function("spate", |b| {
        b.iter(|| {
            let mut map = Map::with_capacity(3);
            map.push_unique(Str::new("device"), ours.get("device_id").unwrap().clone());
            map.push_unique(Str::new("location"), ours.get("location").unwrap().clone());
            map.push_unique(Str::new("readings"), ours.get("readings").unwrap().clone());
            black_box(Value::object(map))
        })
    });
    group.bench_function("serde_json", |b| {
        b.iter(|| {
            let mut map = serde_json::Map::with_capacity(3);
            map.insert("device".to_string(), theirs["device_id"].clone());
            map.insert("location".to_string(), theirs["location"].clone());
            map.insert("readings".to_string(), theirs["readings"].clone());
            black_box(serde_json::Value::Object(map))
        })
    });
    group.finish();
}

criterion_group!(benches, parse, write, result_path, build_parameters);
criterion_main!(benches);
