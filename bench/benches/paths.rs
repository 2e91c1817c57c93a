//! JSONPath evaluation on an IoT event: a definite lookup (what most
//! `Parameters` fields use) and an indefinite filter.

use criterion::{Criterion, criterion_group, criterion_main};
use spate_engine::path::Path;
use std::hint::black_box;

fn lookups(c: &mut Criterion) {
    let event = spate_bench::input("iot-event.json");
    let mut group = c.benchmark_group("path");
    let definite = Path::parse("$.device_id").unwrap();
    group.bench_function("definite_lookup", |b| {
        b.iter(|| black_box(definite.select_value(black_box(&event)).unwrap()))
    });
    let nested = Path::parse("$.tags[1]").unwrap();
    group.bench_function("definite_index", |b| {
        b.iter(|| black_box(nested.select_value(black_box(&event)).unwrap()))
    });
    let items = spate_engine::json!({"items": [{"id": 1, "price": 3}, {"id": 2, "price": 12}, {"id": 3, "price": 7}, {"id": 4, "price": 1}]});
    let filter = Path::parse("$.items[?(@.price < 5)].id").unwrap();
    group.bench_function("filter_4_items", |b| {
        b.iter(|| black_box(filter.select_value(black_box(&items)).unwrap()))
    });
    group.bench_function("parse_definite", |b| {
        b.iter(|| black_box(Path::parse(black_box("$.device.location.room")).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
