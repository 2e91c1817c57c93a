//! Runs a CPU-only benchmark workflow many times in a loop, for profilers
//! that want a plain process (callgrind, perf):
//!
//! ```sh
//! cargo build --release -p spate-bench --example profile_workflow
//! valgrind --tool=callgrind target/release/examples/profile_workflow pass-chain.asl.json iot-event.json 10000
//! ```
//!
//! Prints the number of executions run.

fn main() {
    let mut args = std::env::args().skip(1);
    let workflow = args
        .next()
        .unwrap_or_else(|| "pass-chain.asl.json".to_string());
    let input = args.next().unwrap_or_else(|| "iot-event.json".to_string());
    let runs: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let plan = spate_bench::workflow(&workflow);
    let input = spate_bench::input(&input);
    for _ in 0..runs {
        std::hint::black_box(spate_bench::run_cpu_only(&plan, &input));
    }
    println!("{runs} executions of {workflow}");
}
