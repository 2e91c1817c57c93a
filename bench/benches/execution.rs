//! Whole executions, per state transition:
//!
//! * `interpreter/*`: the fiber driven directly (the interpreter's own cost);
//! * `round_trip/*`: one execution submitted to a one-shard runtime and
//!   waited for, as `spate exec` runs it (hand-over to the shard thread,
//!   timers and history numbering included, process start-up excluded).
//!
//! Workflows: the 10-Pass chain (10 transitions) and the 4-rule Choice router
//! (Choice, Pass, Succeed: 3 transitions), from `config/workflows/bench/`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spate_engine::runtime::{Completion, CompletionSink, Runtime, RuntimeConfig, Submission};
use std::hint::black_box;
use std::sync::Arc;

fn executions(c: &mut Criterion) {
    let event = spate_bench::input("iot-event.json");
    let workflows = [
        ("pass_chain_10", "pass-chain.asl.json", 10),
        ("choice_router", "choice-router.asl.json", 3),
    ];
    let runtime = Runtime::start(RuntimeConfig {
        shards: 1,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let handle = runtime.handle();
    let sink: Arc<dyn CompletionSink> = Arc::new(|_: Completion| {});
    for (name, file, transitions) in workflows {
        let plan = spate_bench::workflow(file);
        let mut group = c.benchmark_group("execution");
        group.throughput(Throughput::Elements(transitions));
        group.bench_function(format!("interpreter/{name}"), |b| {
            b.iter(|| black_box(spate_bench::run_cpu_only(&plan, black_box(&event))))
        });
        group.bench_function(format!("round_trip/{name}"), |b| {
            b.iter(|| {
                let submission =
                    Submission::new(plan.clone(), "bench", event.clone(), Arc::clone(&sink));
                let completion = handle.run_to_end(submission).unwrap();
                black_box(completion.result.unwrap())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, executions);
criterion_main!(benches);
