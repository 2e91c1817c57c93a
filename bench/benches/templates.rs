//! Payload templates and intrinsics: a Pass state's `Parameters` with three
//! path fields and a literal, and a `States.Format` call.

use criterion::{Criterion, criterion_group, criterion_main};
use spate_engine::intrinsics::{Intrinsic, PathResolver};
use spate_engine::path::Path;
use spate_engine::template::{Roots, Template};
use spate_engine::value::Value;
use spate_engine::{error::StatesError, json};
use std::hint::black_box;

struct Input(Value);

impl Roots for Input {
    fn input(&self) -> &Value {
        &self.0
    }
    fn context(&self) -> Value {
        Value::Null
    }
    fn variable(&self, _: &str) -> Option<Value> {
        None
    }
}

impl PathResolver for Input {
    fn resolve(&self, path: &Path) -> Result<Value, StatesError> {
        path.select_value(&self.0)
            .map_err(|e| StatesError::runtime(e.message))
    }
}

fn templates(c: &mut Criterion) {
    let roots = Input(spate_bench::input("iot-event.json"));
    let mut group = c.benchmark_group("template");
    let parameters = Template::compile(&json!({
        "device.$": "$.device_id",
        "reading.$": "$.temperature",
        "tags.$": "$.tags",
        "step": 3
    }))
    .unwrap();
    group.bench_function("pass_parameters_3_paths", |b| {
        b.iter(|| black_box(parameters.eval(black_box(&roots)).unwrap()))
    });
    let format =
        Intrinsic::parse("States.Format('{}/{} at {}', $.site, $.device_id, $.temperature)")
            .unwrap();
    group.bench_function("states_format_3_args", |b| {
        b.iter(|| black_box(format.eval(black_box(&roots)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, templates);
criterion_main!(benches);
