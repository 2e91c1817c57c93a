//! The sharded runtime's hot path:
//!
//! * `runtime/submit_to_complete_1_state`: submit a one-Pass execution and
//!   wait for its completion, many at a time (`iter_custom`: the time per
//!   execution from the first submit to the last completion), on one shard
//!   and on two;
//! * `timer_wheel/insert_fire`: insert timers at spread deadlines and advance
//!   the wheel until all have fired, per timer.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use spate_engine::plan::{CompileOptions, from_definition};
use spate_engine::runtime::{
    Completion, CompletionSink, Runtime, RuntimeConfig, Submission, SubmitError, TimerWheel,
};
use spate_engine::value::{Str, Value};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Counter(AtomicU64);

impl CompletionSink for Counter {
    fn complete(&self, _: Completion) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

fn submit_to_complete(c: &mut Criterion) {
    let plan = Arc::new(
        from_definition(
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": true}, "End": true}}}"#,
            &CompileOptions::default(),
        )
        .unwrap(),
    );
    let mut group = c.benchmark_group("runtime");
    group.throughput(Throughput::Elements(1));
    for shards in [1usize, 2] {
        let runtime = Runtime::start(RuntimeConfig {
            shards,
            max_in_flight: 4_096,
            ..RuntimeConfig::default()
        })
        .unwrap();
        let counter = Arc::new(Counter(AtomicU64::new(0)));
        let sink: Arc<dyn CompletionSink> = counter.clone();
        group.bench_function(
            BenchmarkId::new("submit_to_complete_1_state", format!("{shards}_shards")),
            |b| {
                b.iter_custom(|iterations| {
                    let target = counter.0.load(Ordering::Acquire) + iterations;
                    let started = Instant::now();
                    let mut pending: Option<Submission> = None;
                    let mut sent = 0;
                    while sent < iterations {
                        let submission = pending.take().unwrap_or_else(|| Submission {
                            plan: Arc::clone(&plan),
                            name: Str::new("bench"),
                            input: Value::Null,
                            key: None,
                            tag: sent,
                            sink: Arc::clone(&sink),
                            history: None,
                            resources: None,
                            machine: None,
                        });
                        match runtime.submit(submission) {
                            Ok(_) => sent += 1,
                            Err(SubmitError::Full(back)) => {
                                pending = Some(*back);
                                std::thread::yield_now();
                            }
                            Err(SubmitError::ShuttingDown(_)) => panic!("runtime stopped"),
                        }
                    }
                    while counter.0.load(Ordering::Acquire) < target {
                        std::hint::spin_loop();
                    }
                    started.elapsed()
                })
            },
        );
        runtime.shutdown(Duration::from_secs(1));
    }
    group.finish();
}

fn timer_wheel(c: &mut Criterion) {
    let mut group = c.benchmark_group("timer_wheel");
    const TIMERS: u64 = 10_000;
    group.throughput(Throughput::Elements(TIMERS));
    group.bench_function("insert_fire", |b| {
        let mut fired = Vec::with_capacity(TIMERS as usize);
        b.iter(|| {
            let mut wheel = TimerWheel::new(1_000_000);
            for i in 0..TIMERS {
                // deadlines spread over 0..60 s, like Waits and back-offs
                let deadline = 1_000_000 + (i.wrapping_mul(2_654_435_761) % 60_000);
                wheel.insert(deadline, i);
            }
            let mut now = 1_000_000;
            while !wheel.is_empty() {
                now += 250;
                wheel.advance(now, &mut fired);
            }
            black_box(fired.len());
            fired.clear();
        })
    });
    group.finish();
}

criterion_group!(benches, submit_to_complete, timer_wheel);
criterion_main!(benches);
