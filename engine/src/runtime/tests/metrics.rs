//! The execution metrics: what the shards count per state machine, per
//! task resource and per shard, summed by `Runtime::metrics`.

use super::*;

fn totals_of<'a>(metrics: &'a RuntimeMetrics, name: &str) -> &'a MachineTotals {
    &metrics
        .machines
        .iter()
        .find(|(n, _)| &**n == name)
        .unwrap_or_else(|| panic!("no metrics for {name}: {metrics:?}"))
        .1
}

fn resource_of<'a>(metrics: &'a RuntimeMetrics, name: &str) -> &'a ResourceTotals {
    &metrics
        .resources
        .iter()
        .find(|(n, _)| &**n == name)
        .unwrap_or_else(|| panic!("no metrics for {name}: {metrics:?}"))
        .1
}

fn state_type(name: &str) -> usize {
    STATE_TYPES
        .iter()
        .position(|t| *t == name)
        .expect("a state type")
}

fn submit_as(h: &Harness, plan: &Arc<Plan>, machine: &str, tag: u64, input: Value) {
    let mut submission = Submission::new(
        Arc::clone(plan),
        format!("exec-{tag}"),
        input,
        Arc::clone(&h.sink),
    );
    submission.tag = tag;
    submission.machine = Some(MachineLabel::named(machine));
    h.runtime.submit(submission).expect("admitted");
}

#[test]
fn executions_states_and_fan_out_are_counted_per_state_machine() {
    for shards in shapes() {
        let h = Harness::new(shards, Resources::new());
        let machine = format!("metrics-fan-out-{shards}");
        let plan = plan(serde_json::json!({
            "StartAt": "Check",
            "States": {
                "Check": {"Type": "Choice",
                    "Choices": [{"Variable": "$.fail", "BooleanEquals": true, "Next": "Boom"}],
                    "Default": "Fan"},
                "Boom": {"Type": "Fail", "Error": "Bad"},
                "Fan": {"Type": "Map", "ItemsPath": "$.items",
                    "ItemProcessor": {"StartAt": "Both", "States": {
                        "Both": {"Type": "Parallel", "End": true, "Branches": [
                            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}
                        ]}
                    }},
                    "End": true}
            }
        }));
        submit_as(
            &h,
            &plan,
            &machine,
            1,
            json!({"fail": false, "items": [1, 2, 3]}),
        );
        submit_as(&h, &plan, &machine, 2, json!({"fail": true}));
        h.collect(2);
        h.assert_idle();
        let metrics = h.runtime.metrics();
        let totals = totals_of(&metrics, &machine);
        assert_eq!(totals.started, 2);
        assert_eq!(totals.finished, [1, 1, 0, 0], "succeeded, failed");
        assert_eq!(totals.duration.count(), 2);
        assert_eq!(totals.map_items, 3);
        assert_eq!(totals.parallel_branches, 6);
        assert_eq!(totals.transitions[state_type("Choice")], 2);
        assert_eq!(totals.transitions[state_type("Fail")], 1);
        assert_eq!(totals.transitions[state_type("Map")], 1);
        assert_eq!(totals.transitions[state_type("Parallel")], 3);
        assert_eq!(totals.transitions[state_type("Pass")], 6);
        assert_eq!(metrics.shards.len(), shards);
        h.assert_no_more();
    }
}

#[test]
fn tasks_are_counted_per_resource_with_retries_and_timeouts() {
    for shards in shapes() {
        let mut resources = Resources::new();
        let flaky = format!("metrics-flaky-{shards}");
        let slow = format!("metrics-slow-{shards}");
        resources.register(
            flaky.as_str(),
            Arc::new(MockHandler::new(MockBehaviour::FailThen {
                times: 2,
                error: "Flaky".into(),
                cause: "try again".into(),
                then: Box::new(MockBehaviour::Echo),
            })),
        );
        resources.register(
            slow.as_str(),
            Arc::new(MockHandler::new(MockBehaviour::Sleep {
                ms: 5_000,
                then: Box::new(MockBehaviour::Echo),
            })),
        );
        // On virtual time: the back-offs and the timeout take no real time.
        let h = Harness::with(RuntimeConfig {
            shards,
            resources,
            clock: RuntimeClock::Virtual,
            ..RuntimeConfig::default()
        });
        let plan = plan(serde_json::json!({
            "StartAt": "Flaky",
            "States": {
                "Flaky": {"Type": "Task", "Resource": flaky, "Next": "Slow",
                    "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 3}]},
                "Slow": {"Type": "Task", "Resource": slow, "TimeoutSeconds": 1,
                    "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Done"}], "End": true},
                "Done": {"Type": "Succeed"}
            }
        }));
        let machine = format!("metrics-tasks-{shards}");
        submit_as(&h, &plan, &machine, 1, json!({}));
        let completion = h.collect(1).remove(0);
        assert_eq!(
            completion.status,
            Status::Succeeded,
            "{:?}",
            completion.result
        );
        h.assert_idle();
        let metrics = h.runtime.metrics();
        let flaky = resource_of(&metrics, &flaky);
        assert_eq!(flaky.invocations, [1, 2, 0], "succeeded, failed, timed out");
        assert_eq!(flaky.retries, 2);
        assert_eq!(flaky.duration.count(), 3);
        let slow = resource_of(&metrics, &slow);
        assert_eq!(slow.invocations, [0, 0, 1]);
        assert_eq!(slow.retries, 0);
        // The timed-out attempt lasted its TimeoutSeconds.
        assert!(slow.duration.sum_seconds() >= 1.0, "{slow:?}");
        let totals = totals_of(&metrics, &machine);
        assert_eq!(totals.transitions[state_type("Task")], 2);
        assert_eq!(totals.finished, [1, 0, 0, 0]);
        h.assert_no_more();
    }
}

#[test]
fn timeouts_and_stops_are_counted_by_status() {
    let h = Harness::new(2, Resources::new());
    let machine = "metrics-statuses";
    let waits = plan(serde_json::json!({
        "TimeoutSeconds": 1,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 30, "End": true}}
    }));
    submit_as(&h, &waits, machine, 1, json!({}));
    let mut stopped = Submission::new(
        Arc::clone(&waits),
        "stopped",
        json!({}),
        Arc::clone(&h.sink),
    );
    stopped.machine = Some(MachineLabel::named(machine));
    let id = h.runtime.submit(stopped).expect("admitted");
    h.runtime.cancel(id);
    let statuses: Vec<Status> = h.collect(2).into_iter().map(|c| c.status).collect();
    assert!(statuses.contains(&Status::TimedOut) && statuses.contains(&Status::Aborted));
    h.assert_idle();
    let metrics = h.runtime.metrics();
    assert_eq!(totals_of(&metrics, machine).finished, [0, 0, 1, 1]);
    assert_eq!(metrics.in_flight, 0);
    h.assert_no_more();
}

#[test]
fn nothing_is_counted_with_metrics_off_or_without_a_state_machine() {
    let h = Harness::with(RuntimeConfig {
        shards: 1,
        metrics: false,
        ..RuntimeConfig::default()
    });
    let plan = plan(serde_json::json!({
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}
    }));
    submit_as(&h, &plan, "metrics-off", 1, json!({}));
    h.submit(&plan, 2, json!({}));
    h.collect(2);
    h.assert_idle();
    let metrics = h.runtime.metrics();
    assert!(metrics.machines.is_empty(), "{metrics:?}");
    assert!(metrics.resources.is_empty());
    h.assert_no_more();
}

#[test]
fn busy_ratio_follows_the_work_and_falls_when_idle() {
    let h = Harness::new(1, Resources::new());
    // A CPU-only loop that only its one-second timeout ends.
    let spin = plan(serde_json::json!({
        "TimeoutSeconds": 1,
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Choice",
                "Choices": [{"Variable": "$.never", "IsPresent": true, "Next": "C"}],
                "Default": "A"},
            "C": {"Type": "Succeed"}
        }
    }));
    assert_eq!(h.runtime.metrics().shards[0].busy_ratio, 0.0);
    submit_as(&h, &spin, "metrics-busy", 1, json!({}));
    assert_eq!(h.collect(1)[0].status, Status::TimedOut);
    let busy = h.runtime.metrics().shards[0].busy_ratio;
    assert!(busy > 0.5, "a shard that spun for its whole window: {busy}");
    std::thread::sleep(BUSY_WINDOW_FOR_TESTS);
    let idle = h.runtime.metrics().shards[0].busy_ratio;
    assert!(idle < 0.2, "a shard idle for a whole window: {idle}");
    h.assert_no_more();
}

/// A little more than the busy ratio's window.
const BUSY_WINDOW_FOR_TESTS: Duration = Duration::from_millis(1100);
