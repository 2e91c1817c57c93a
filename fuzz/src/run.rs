//! `run` (structure-aware): the input's bytes are decisions that build a
//! definition ([`crate::generate`]) and an input; a byte may then break the
//! definition at one spot (a field removed or given an odd value).
//!
//! Invariants: a generated definition validates (the generator and the
//! validator agree on what is valid); a definition that validates, broken
//! or not, runs on the runtime (one shard, virtual time) to exactly one
//! completion (succeeded, failed or timed out, never cancelled) within its
//! `TimeoutSeconds` (capped by the runtime's longest execution); a time-out
//! is `States.Timeout`, and a generated definition's failure names its
//! error.

use crate::choices::Choices;
use crate::generate::generate;
use serde_json::{Value as Json, json};
use spate_engine::plan::{CompileOptions, Plan, from_definition};
use spate_engine::runtime::{
    Completion, CompletionSink, Runtime, RuntimeClock, RuntimeConfig, RuntimeHandle, Status,
    Submission,
};
use spate_engine::task::Resources;
use spate_engine::value::Value;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The runtime's cap on any execution (virtual time).
const MAX_DURATION: Duration = Duration::from_secs(10);

/// How far past its limit an execution may end: virtual time runs at the
/// speed of real time between jumps, and sanitizers are slow.
const LATE: Duration = Duration::from_secs(2);

/// How long to wait (real time) for a completion before calling it a hang.
const HANG: Duration = Duration::from_secs(60);

/// Values a broken definition may get in place of one of its own. None of
/// them names a state, nor is a zero wait, so breaking a definition makes
/// no new loop without a wait.
fn odd_values() -> [Json; 10] {
    [
        json!(null),
        json!(1e9),
        json!(-1),
        json!("x"),
        json!("$.nope"),
        json!("{% $states.input %}"),
        json!([]),
        json!({}),
        json!(true),
        json!("States.Format('{}', $.n)"),
    ]
}

/// One runtime for every input: one shard on virtual time.
fn runtime() -> RuntimeHandle {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Runtime::start(RuntimeConfig {
                shards: 1,
                max_in_flight: 4,
                max_duration: MAX_DURATION,
                io_threads: 1,
                resources: Resources::new(),
                clock: RuntimeClock::Virtual,
                max_fibers_per_execution: 1000,
                max_bytes_per_execution: spate_engine::runtime::DEFAULT_MAX_BYTES_PER_EXECUTION,
                metrics: true,
            })
            .expect("the runtime starts")
        })
        .handle()
}

/// Builds a definition from `data`, checks it validates (unless broken on
/// purpose), and runs it if it does.
pub(crate) fn fuzz(data: &[u8]) {
    let mut choices = Choices::new(data);
    let generated = generate(&mut choices);
    let mut definition = generated.definition;
    let broken = choices.flag();
    if broken {
        break_one_field(&mut definition, &mut choices);
    }
    let text = definition.to_string();
    let plan = match from_definition(&text, &CompileOptions::default()) {
        Ok(plan) => Arc::new(plan),
        Err(problems) if broken => {
            assert!(!problems.0.is_empty());
            return;
        }
        Err(problems) => panic!("a generated definition does not validate: {problems}\n{text}"),
    };
    let limit = plan.timeout.unwrap_or(MAX_DURATION).min(MAX_DURATION);
    let completion = run(plan, Value::from(&generated.input), &text);
    assert_ne!(completion.status, Status::Aborted, "{text}");
    let took = completion.ended_at.since(completion.started_at);
    assert!(
        took <= limit + LATE,
        "ran {took:?} (virtual), past its limit of {limit:?}\n{text}"
    );
    match (&completion.status, &completion.result) {
        (Status::Succeeded, Ok(_)) => {}
        (Status::TimedOut, Err(error)) => {
            assert_eq!(error.error(), Some("States.Timeout"), "{text}");
        }
        // A broken definition may fail without an error name (a Fail state
        // whose `Error` was removed); a generated one names every error.
        (Status::Failed, Err(error)) => assert!(
            broken || error.error().is_some_and(|name| !name.is_empty()),
            "{error:?}\n{text}"
        ),
        (status, result) => panic!("{status:?} with {result:?}\n{text}"),
    }
}

/// Runs `plan` on `input` and waits for its completion.
fn run(plan: Arc<Plan>, input: Value, text: &str) -> Completion {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    let sink: Arc<dyn CompletionSink> = Arc::new(move |c: Completion| {
        let _ = sender.send(c);
    });
    runtime()
        .submit(Submission::new(plan, "fuzz", input, sink))
        .unwrap_or_else(|e| panic!("the runtime refused the execution: {e:?}"));
    receiver
        .recv_timeout(HANG)
        .unwrap_or_else(|e| panic!("no completion after {HANG:?} ({e})\n{text}"))
}

/// Removes a field of some object in `definition`, or replaces some value
/// with one of [`odd_values`].
fn break_one_field(definition: &mut Json, choices: &mut Choices<'_>) {
    let mut pointers = Vec::new();
    collect_pointers(definition, String::new(), &mut pointers);
    let at = (usize::from(choices.byte()) << 8 | usize::from(choices.byte())) % pointers.len();
    let target = definition
        .pointer_mut(&pointers[at])
        .expect("the pointer was just collected");
    match target {
        Json::Object(map) if !map.is_empty() && choices.flag() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            map.remove(&choices.pick(&keys));
        }
        _ => *target = choices.pick(&odd_values()),
    }
}

fn collect_pointers(json: &Json, at: String, out: &mut Vec<String>) {
    match json {
        Json::Object(map) => {
            for (key, value) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                collect_pointers(value, format!("{at}/{escaped}"), out);
            }
        }
        Json::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                collect_pointers(value, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}
