//! Shared helpers for the benchmarks in `benches/`: loading the benchmark
//! workflows shipped in `config/workflows/bench/`, and running an execution
//! whose states are all CPU-only by driving its fiber directly (the
//! interpreter's own cost, with no scheduler around it).

use spate_engine::interp::{ExecutionInfo, Fiber, Poll, StepEnv};

// The benchmarks measure with the allocator the `spate` binary uses; a
// global allocator declared in this library applies to every bench binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use spate_engine::plan::{CompileOptions, Plan, from_definition};
use spate_engine::time::Timestamp;
use spate_engine::value::{Value, parse_json_str};
use std::path::PathBuf;
use std::sync::Arc;

/// `config/workflows/bench/<file>` in the repository.
pub fn workflow_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../config/workflows/bench")
        .join(file)
}

/// Loads and compiles a benchmark workflow.
pub fn workflow(file: &str) -> Arc<Plan> {
    let path = workflow_path(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let options = CompileOptions {
        name: file.split('.').next().unwrap_or(file).to_string(),
        ..CompileOptions::default()
    };
    Arc::new(from_definition(&text, &options).unwrap_or_else(|d| panic!("{}: {d}", path.display())))
}

/// Loads a benchmark input document.
pub fn input(file: &str) -> Value {
    let path = workflow_path(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_json_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs an execution made only of CPU-only states (no Task, Wait, Map or
/// Parallel) by driving its top-level fiber, and returns its output.
pub fn run_cpu_only(plan: &Arc<Plan>, input: &Value) -> Value {
    let exec = Arc::new(ExecutionInfo::new(
        Arc::clone(plan),
        "bench",
        input,
        Timestamp::from_unix_nanos(0),
    ));
    let mut fiber = Fiber::start(exec, input.clone());
    let mut env = StepEnv::at(Timestamp::from_unix_nanos(0));
    loop {
        match fiber.run(&mut env) {
            Poll::Done(Ok(output)) => return output,
            Poll::Done(Err(error)) => panic!("execution failed: {error}"),
            Poll::Yield => continue,
            other => panic!("not a CPU-only workflow: {other:?}"),
        }
    }
}
