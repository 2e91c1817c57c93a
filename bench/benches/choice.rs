//! A 4-rule Choice (the `choice-router` benchmark workflow's rules) evaluated
//! against an IoT event that falls through to `Default`, so every rule runs.

use criterion::{Criterion, criterion_group, criterion_main};
use spate_engine::choice::{self, Condition};
use spate_engine::template::InputOnly;
use spate_engine::value::Value;
use std::hint::black_box;

fn rules() -> Vec<Condition> {
    let text =
        std::fs::read_to_string(spate_bench::workflow_path("choice-router.asl.json")).unwrap();
    let definition: serde_json::Value = serde_json::from_str(&text).unwrap();
    definition["States"]["Route"]["Choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| choice::compile(&serde_json::from_value(rule.clone()).unwrap()).unwrap())
        .collect()
}

fn four_rules(c: &mut Criterion) {
    let rules = rules();
    let mut event = spate_bench::input("iot-event.json");
    event
        .as_object_mut()
        .unwrap()
        .insert("temperature".into(), Value::from(20));
    let event_value = event;
    let roots = InputOnly(&event_value);
    c.bench_function("choice/4_rules_to_default", |b| {
        b.iter(|| {
            let roots = black_box(&roots);
            black_box(rules.iter().position(|r| r.eval(roots).unwrap()))
        })
    });
}

criterion_group!(benches, four_rules);
criterion_main!(benches);
