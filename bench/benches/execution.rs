//! Whole executions, per state transition:
//!
//! * `interpreter/*`: the fiber driven directly (the interpreter's own cost);
//! * `exec/*`: `run_execution` on a current-thread tokio runtime, as
//!   `spate exec` runs it (driver, timers and history numbering included,
//!   process start-up excluded).
//!
//! Workflows: the 10-Pass chain (10 transitions) and the 4-rule Choice router
//! (Choice, Pass, Succeed: 3 transitions), from `config/workflows/bench/`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spate_engine::interp::{RunOptions, run_execution};
use spate_engine::task::Resources;
use std::hint::black_box;

fn executions(c: &mut Criterion) {
    let event = spate_bench::input("iot-event.json");
    let workflows = [
        ("pass_chain_10", "pass-chain.asl.json", 10),
        ("choice_router", "choice-router.asl.json", 3),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let options = RunOptions::real_time(Resources::new());
    for (name, file, transitions) in workflows {
        let plan = spate_bench::workflow(file);
        let mut group = c.benchmark_group("execution");
        group.throughput(Throughput::Elements(transitions));
        group.bench_function(format!("interpreter/{name}"), |b| {
            b.iter(|| black_box(spate_bench::run_cpu_only(&plan, black_box(&event))))
        });
        group.bench_function(format!("exec/{name}"), |b| {
            b.iter(|| {
                let outcome = runtime.block_on(run_execution(
                    plan.clone(),
                    "bench",
                    event.clone(),
                    &options,
                    None,
                ));
                black_box(outcome.result.unwrap())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, executions);
criterion_main!(benches);
