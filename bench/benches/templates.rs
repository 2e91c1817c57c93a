//! Payload templates and intrinsics: a Pass state's `Parameters` with three
//! path fields and a literal, and a `States.Format` call.

use criterion::{Criterion, criterion_group, criterion_main};
use spate_engine::intrinsics::Intrinsic;
use spate_engine::json;
use spate_engine::template::{InputOnly, Template};
use std::hint::black_box;

fn templates(c: &mut Criterion) {
    let event = spate_bench::input("iot-event.json");
    let roots = InputOnly(&event);
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
