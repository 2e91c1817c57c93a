//! Runtime behaviour, each test run with one shard and with several (one
//! body, two shapes). No sleeps for synchronisation: tests wait on the
//! completions they expect; timeouts use short durations and only check
//! outcomes, never timing.

use super::*;
use crate::json;
use crate::plan::{CompileOptions, from_definition};
use crate::task::{MockBehaviour, MockHandler, TaskCall, TaskReply};
use crossbeam::channel::{Receiver, unbounded};
use std::collections::HashMap;

fn plan(definition: serde_json::Value) -> Arc<Plan> {
    Arc::new(
        from_definition(&definition.to_string(), &CompileOptions::default())
            .expect("valid definition"),
    )
}

/// A runtime and a channel of completions.
struct Harness {
    runtime: Runtime,
    sink: Arc<dyn CompletionSink>,
    completions: Receiver<Completion>,
}

impl Harness {
    fn new(shards: usize, resources: Resources) -> Harness {
        Harness::with(RuntimeConfig {
            shards,
            resources,
            ..RuntimeConfig::default()
        })
    }

    fn with(config: RuntimeConfig) -> Harness {
        let (sender, completions) = unbounded();
        let sink: Arc<dyn CompletionSink> = Arc::new(move |c: Completion| {
            sender.send(c).expect("the test holds the receiver");
        });
        Harness {
            runtime: Runtime::start(config).expect("runtime starts"),
            sink,
            completions,
        }
    }

    fn submit(&self, plan: &Arc<Plan>, tag: u64, input: Value) -> ExecutionId {
        self.runtime
            .submit(Submission {
                plan: Arc::clone(plan),
                name: Str::from(format!("exec-{tag}")),
                input,
                key: None,
                tag,
                sink: Arc::clone(&self.sink),
                history: None,
                resources: None,
                machine: None,
            })
            .expect("admitted")
    }

    /// Waits for `n` completions (long timeout: a stuck runtime fails the test).
    fn collect(&self, n: usize) -> Vec<Completion> {
        (0..n)
            .map(|_| {
                self.completions
                    .recv_timeout(Duration::from_secs(60))
                    .expect("a completion within a minute")
            })
            .collect()
    }

    /// Nothing is in flight once the sinks of the completions seen so far
    /// have returned (an execution counts until its sink returns).
    fn assert_idle(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.runtime.in_flight() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{} executions still in flight",
                self.runtime.in_flight()
            );
            std::thread::yield_now();
        }
    }

    /// No further completion arrives after the runtime is stopped.
    fn assert_no_more(self) {
        self.runtime.shutdown(Duration::from_secs(5));
        assert!(
            self.completions.try_recv().is_err(),
            "a completion arrived twice"
        );
    }
}

fn shapes() -> [usize; 2] {
    [1, 4]
}

#[test]
fn every_execution_completes_exactly_once() {
    let fan = plan(serde_json::json!({
        "StartAt": "Each",
        "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "Branches", "States": {
                "Branches": {"Type": "Parallel", "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "flaky", "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1, "MaxDelaySeconds": 1, "JitterStrategy": "FULL"}], "End": true}}}
                ], "End": true}}}, "End": true}
        }
    }));
    for shards in shapes() {
        let mut resources = Resources::new();
        let behaviour: MockBehaviour = serde_json::from_value(serde_json::json!({
            "kind": "fail_then", "times": 1, "error": "Busy", "cause": "c", "then": {"kind": "echo"}
        }))
        .unwrap();
        resources.register("flaky", Arc::new(MockHandler::new(behaviour)));
        let h = Harness::new(shards, resources);
        let n = 200u64;
        for tag in 0..n {
            h.submit(&fan, tag, json!({"items": [1, 2, 3]}));
        }
        let done = h.collect(n as usize);
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for c in &done {
            *seen.entry(c.tag).or_default() += 1;
            assert_eq!(c.status, Status::Succeeded, "{:?}", c.result);
            assert_eq!(c.result.as_ref().unwrap(), &json!([[1, 1], [2, 2], [3, 3]]));
        }
        assert_eq!(seen.len(), n as usize);
        assert!(seen.values().all(|&count| count == 1));
        h.assert_idle();
        h.assert_no_more();
    }
}

/// A timer fires no earlier than its instant, even when the instant falls
/// inside a millisecond (the wheel counts whole milliseconds).
#[test]
fn a_wait_never_ends_before_its_timestamp() {
    let until = plan(serde_json::json!({
        "StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": true}}
    }));
    for shards in shapes() {
        let h = Harness::new(shards, Resources::new());
        let targets: Vec<Timestamp> = (0..20u64)
            .map(|i| {
                let at = crate::time::Clock::now(&crate::time::SystemClock)
                    .plus(Duration::from_micros(20_000 + i * 1_000 + 999));
                let millis = at.to_iso_millis();
                let nanos = at.unix_nanos().rem_euclid(1_000_000);
                let text = format!("{}{nanos:06}Z", &millis[..millis.len() - 1]);
                assert_eq!(Timestamp::parse(&text), Some(at), "{text}");
                h.submit(&until, i, json!({ "at": text }));
                at
            })
            .collect();
        for c in h.collect(targets.len()) {
            assert_eq!(c.status, Status::Succeeded, "{:?}", c.result);
            let at = targets[c.tag as usize];
            assert!(c.ended_at >= at, "ended {:?} before {:?}", c.ended_at, at);
        }
        h.assert_idle();
    }
}

#[test]
fn fan_out_results_keep_their_order() {
    let map = plan(serde_json::json!({
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "ItemProcessor": {"StartAt": "Delay", "States": {
            "Delay": {"Type": "Task", "Resource": "delay", "End": true}
        }}, "End": true}}
    }));
    for shards in shapes() {
        let mut resources = Resources::new();
        // later items finish first
        resources.register(
            "delay",
            Arc::new(|call: TaskCall| {
                let n = call.input.as_i64().unwrap_or(0);
                TaskReply::After(
                    Duration::from_millis((50 - n).max(0) as u64),
                    Ok(call.input),
                )
            }),
        );
        let h = Harness::new(shards, resources);
        let items: Vec<Value> = (0..50).map(Value::from).collect();
        h.submit(&map, 1, Value::array(items.clone()));
        let done = h.collect(1);
        assert_eq!(done[0].result.as_ref().unwrap(), &Value::array(items));
        assert_eq!(done[0].transitions, 1 + 50);
        h.assert_no_more();
    }
}

#[test]
fn max_concurrency_bounds_running_children() {
    let map = plan(serde_json::json!({
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "MaxConcurrency": 3, "ItemProcessor": {"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": "gauge", "End": true}
        }}, "End": true}}
    }));
    for shards in shapes() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut resources = Resources::new();
        let (r, p) = (Arc::clone(&running), Arc::clone(&peak));
        resources.register(
            "gauge",
            Arc::new(move |call: TaskCall| {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                let r = Arc::clone(&r);
                TaskReply::Pending(Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    Ok(call.input)
                }))
            }),
        );
        let h = Harness::new(shards, resources);
        h.submit(&map, 1, Value::array((0..20).map(Value::from).collect()));
        let done = h.collect(1);
        assert_eq!(done[0].status, Status::Succeeded, "{:?}", done[0].result);
        assert!(
            peak.load(Ordering::SeqCst) <= 3,
            "peak {}",
            peak.load(Ordering::SeqCst)
        );
        assert!(peak.load(Ordering::SeqCst) >= 1);
        h.assert_no_more();
    }
}

#[test]
fn execution_timeout_ends_the_execution_and_its_children() {
    let slow = plan(serde_json::json!({
        "TimeoutSeconds": 1,
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "ItemProcessor": {"StartAt": "Hang", "States": {
            "Hang": {"Type": "Task", "Resource": "hang", "End": true}
        }}, "End": true}}
    }));
    for shards in shapes() {
        let started = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut resources = Resources::new();
        let (s, d) = (Arc::clone(&started), Arc::clone(&dropped));
        resources.register(
            "hang",
            Arc::new(move |_call: TaskCall| {
                s.fetch_add(1, Ordering::SeqCst);
                let guard = DropCounter(Arc::clone(&d));
                TaskReply::Pending(Box::pin(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                    unreachable!()
                }))
            }),
        );
        let h = Harness::new(shards, resources);
        h.submit(&slow, 7, Value::array((0..8).map(Value::from).collect()));
        let done = h.collect(1);
        assert_eq!(done[0].status, Status::TimedOut);
        assert_eq!(
            done[0].result.as_ref().unwrap_err().error(),
            Some("States.Timeout")
        );
        assert_eq!(started.load(Ordering::SeqCst), 8);
        // every in-flight task future is aborted (dropped) eventually
        let until = std::time::Instant::now() + Duration::from_secs(30);
        while dropped.load(Ordering::SeqCst) < 8 && std::time::Instant::now() < until {
            std::thread::yield_now();
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 8);
        h.assert_no_more();
    }
}

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn task_timeout_is_an_ordinary_catchable_error() {
    let caught = plan(serde_json::json!({
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "slow", "TimeoutSeconds": 1,
                     "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": true},
            "Late": {"Type": "Pass", "Result": "late", "End": true}
        }
    }));
    for shards in shapes() {
        let mut resources = Resources::new();
        resources.register(
            "slow",
            Arc::new(|_call: TaskCall| TaskReply::After(Duration::from_secs(30), Ok(Value::Null))),
        );
        let h = Harness::new(shards, resources);
        h.submit(&caught, 1, json!({}));
        let done = h.collect(1);
        assert_eq!(done[0].result.as_ref().unwrap(), &json!("late"));
        h.assert_no_more();
    }
}

#[test]
fn cancellation_completes_once_as_cancelled() {
    let wait = plan(serde_json::json!({
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "ItemProcessor": {"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 120, "End": true}
        }}, "End": true}}
    }));
    for shards in shapes() {
        let h = Harness::new(shards, Resources::new());
        let keep = h.submit(&wait, 1, Value::array((0..10).map(Value::from).collect()));
        let cancel = h.submit(&wait, 2, Value::array((0..10).map(Value::from).collect()));
        h.runtime.cancel(cancel);
        let done = h.collect(1);
        assert_eq!(done[0].tag, 2);
        assert_eq!(done[0].status, Status::Aborted);
        h.runtime.cancel(cancel);
        h.runtime.cancel(keep);
        let done = h.collect(1);
        assert_eq!(done[0].tag, 1);
        assert_eq!(done[0].status, Status::Aborted);
        h.assert_idle();
        h.assert_no_more();
    }
}

#[test]
fn admission_is_bounded() {
    let wait = plan(serde_json::json!({
        "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}
    }));
    let h = Harness::with(RuntimeConfig {
        shards: 2,
        max_in_flight: 5,
        ..RuntimeConfig::default()
    });
    for tag in 0..5 {
        h.submit(&wait, tag, json!({}));
    }
    let refused = h.runtime.submit(Submission {
        plan: Arc::clone(&wait),
        name: "one-too-many".into(),
        input: json!({}),
        key: None,
        tag: 99,
        sink: Arc::clone(&h.sink),
        history: None,
        resources: None,
        machine: None,
    });
    match refused {
        Err(SubmitError::Full(submission)) => assert_eq!(submission.tag, 99),
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(h.runtime.in_flight(), 5);
    let cancelled = h.runtime.shutdown(Duration::ZERO);
    assert_eq!(cancelled, 5);
    let done: Vec<Completion> = h.completions.try_iter().collect();
    assert_eq!(done.len(), 5);
    assert!(done.iter().all(|c| c.status == Status::Aborted));
}

#[test]
fn failures_and_large_inputs_complete_with_their_errors() {
    let fails = plan(serde_json::json!({
        "StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "why"}}
    }));
    let h = Harness::new(2, Resources::new());
    h.submit(&fails, 1, json!({}));
    h.submit(&fails, 2, Value::from("x".repeat(300 * 1024)));
    let mut done = h.collect(2);
    done.sort_by_key(|c| c.tag);
    assert_eq!(done[0].status, Status::Failed);
    assert_eq!(done[0].result.as_ref().unwrap_err().error(), Some("Boom"));
    assert_eq!(
        done[1].result.as_ref().unwrap_err().error(),
        Some("States.DataLimitExceeded")
    );
    assert_eq!(h.runtime.stats().completed, 2);
    h.assert_no_more();
}

#[test]
fn a_panicking_handler_fails_its_task_instead_of_hanging() {
    let call = plan(serde_json::json!({
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "boom", "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}], "End": true},
            "Caught": {"Type": "Pass", "End": true}
        }
    }));
    let mut resources = Resources::new();
    resources.register(
        "boom",
        Arc::new(|_call: TaskCall| {
            TaskReply::Pending(Box::pin(async {
                panic!("handler bug");
            }))
        }),
    );
    let h = Harness::new(2, resources);
    h.submit(&call, 1, json!({}));
    let done = h.collect(1);
    let output = done[0].result.as_ref().unwrap();
    assert_eq!(
        output.get("error").and_then(|e| e.get("Error")),
        Some(&json!("States.TaskFailed"))
    );
    assert!(
        output
            .get("error")
            .and_then(|e| e.get("Cause"))
            .and_then(Value::as_str)
            .unwrap()
            .contains("handler bug")
    );
    h.assert_no_more();
}

#[test]
fn a_sink_chains_executions_through_a_handle_on_its_own_shard() {
    let pass = plan(serde_json::json!({
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}
    }));
    for shards in shapes() {
        let runtime = Runtime::start(RuntimeConfig {
            shards,
            ..RuntimeConfig::default()
        })
        .expect("runtime starts");
        // Each chain: tag = chain * 1000 + step; a completion submits the
        // next step from the shard thread it completed on.
        let (sender, completions) = unbounded::<(u64, String)>();
        let steps = 50u64;
        let sink = Arc::new_cyclic(|me| Chain {
            me: me.clone(),
            sender,
            handle: runtime.handle(),
            plan: Arc::clone(&pass),
            steps,
        });
        let sink: Arc<dyn CompletionSink> = sink;
        let chains = 4u64;
        for chain in 0..chains {
            runtime
                .submit(Submission {
                    plan: Arc::clone(&pass),
                    name: Str::from(format!("chain-{}", chain * 1000)),
                    input: json!({}),
                    key: None,
                    tag: chain * 1000,
                    sink: Arc::clone(&sink),
                    history: None,
                    resources: None,
                    machine: None,
                })
                .expect("admitted");
        }
        let mut threads: HashMap<u64, std::collections::HashSet<String>> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..chains * steps {
            let (tag, thread) = completions
                .recv_timeout(Duration::from_secs(60))
                .expect("a completion within a minute");
            assert!(seen.insert(tag), "{tag} completed twice");
            assert!(thread.starts_with("spate-shard-"), "{thread}");
            threads.entry(tag / 1000).or_default().insert(thread);
        }
        for (chain, on) in &threads {
            assert_eq!(on.len(), 1, "chain {chain} moved between shards: {on:?}");
        }
        runtime.shutdown(Duration::from_secs(5));
        assert!(
            completions.try_recv().is_err(),
            "a completion arrived twice"
        );
    }
}

/// A sink that reports each completion with its thread's name and submits
/// the next step of the chain (tag + 1) until `steps`.
struct Chain {
    me: std::sync::Weak<Chain>,
    sender: crossbeam::channel::Sender<(u64, String)>,
    handle: RuntimeHandle,
    plan: Arc<Plan>,
    steps: u64,
}

impl CompletionSink for Chain {
    fn complete(&self, c: Completion) {
        let thread = std::thread::current().name().unwrap_or("").to_string();
        self.sender
            .send((c.tag, thread))
            .expect("the test holds the receiver");
        if c.tag % 1000 + 1 < self.steps {
            let next = Submission {
                plan: Arc::clone(&self.plan),
                name: Str::from(format!("chain-{}", c.tag + 1)),
                input: json!({}),
                key: None,
                tag: c.tag + 1,
                sink: self.me.upgrade().expect("the test holds the sink"),
                history: None,
                resources: None,
                machine: None,
            };
            self.handle.submit(next).expect("admitted");
        }
    }
}

#[test]
fn an_execution_over_its_fiber_budget_fails_and_spares_its_neighbours() {
    let nested = plan(serde_json::json!({"StartAt": "Outer", "States": {
        "Outer": {"Type": "Map", "ItemsPath": "$.xs", "ItemSelector": {"xs.$": "$.xs"}, "ItemProcessor": {
            "StartAt": "Inner", "States": {"Inner": {"Type": "Map", "ItemsPath": "$.xs", "ItemProcessor": {
                "StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 1, "End": true}}}, "End": true}}},
            "End": true}
    }}));
    let small = plan(serde_json::json!({"StartAt": "Outer", "States": {
        "Outer": {"Type": "Map", "ItemProcessor": {
            "StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 1, "End": true}}}, "End": true}
    }}));
    for shards in shapes() {
        let h = Harness::with(RuntimeConfig {
            shards,
            max_fibers_per_execution: 50,
            clock: RuntimeClock::Virtual,
            ..RuntimeConfig::default()
        });
        let xs: Vec<u32> = (0..10).collect();
        h.submit(&nested, 1, json!({"xs": xs}));
        h.submit(&small, 2, json!([1, 2, 3]));
        let mut done = h.collect(2);
        done.sort_by_key(|c| c.tag);
        assert_eq!(done[0].status, Status::Failed);
        let error = done[0].result.as_ref().unwrap_err();
        assert_eq!(error.error(), Some("States.Runtime"));
        assert!(error.cause().unwrap_or_default().contains("50"), "{error}");
        assert_eq!(done[1].status, Status::Succeeded, "{:?}", done[1].result);
        h.assert_idle();
        h.assert_no_more();
    }
}

mod budget;
mod callbacks;
mod history;
mod metrics;
