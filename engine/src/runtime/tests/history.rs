//! History on request: the runtime's shards deliver each typed event to the
//! submission's subscriber, with AWS's names and ids, from whichever shard
//! runs the branch; virtual time skips waits on any number of shards.

use super::*;
use crate::interp::{EventType, HistoryBuffer, HistoryEvent, LogLevel, history_channel};

fn virtual_harness(shards: usize) -> Harness {
    let mut resources = Resources::new();
    resources.register(
        "double",
        Arc::new(|call: TaskCall| {
            TaskReply::Ready(Ok(json!(call.input.as_i64().unwrap_or(0) * 2)))
        }),
    );
    Harness::with(RuntimeConfig {
        shards,
        resources,
        clock: RuntimeClock::Virtual,
        ..RuntimeConfig::default()
    })
}

fn run_with_history(
    h: &Harness,
    plan: Arc<Plan>,
    input: Value,
    include_data: bool,
) -> (Completion, Vec<HistoryEvent>) {
    run_logged(h, plan, input, include_data, LogLevel::All)
}

fn run_logged(
    h: &Harness,
    plan: Arc<Plan>,
    input: Value,
    include_data: bool,
    level: LogLevel,
) -> (Completion, Vec<HistoryEvent>) {
    let buffer = Arc::new(HistoryBuffer::default());
    let sink: Arc<dyn crate::interp::HistorySink> = buffer.clone();
    h.runtime
        .submit(Submission {
            history: History::logging(sink, level, include_data),
            ..Submission::new(plan, "recorded", input, Arc::clone(&h.sink))
        })
        .expect("admitted");
    let completion = h.collect(1).remove(0);
    (completion, buffer.take())
}

fn names(events: &[HistoryEvent]) -> Vec<String> {
    events.iter().map(|e| e.event_type.to_string()).collect()
}

#[test]
fn events_carry_aws_names_ids_and_data() {
    let h = virtual_harness(1);
    let plan = plan(serde_json::json!({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "double", "Next": "Done"},
        "Done": {"Type": "Succeed"}
    }}));
    let (done, events) = run_with_history(&h, plan, json!(21), true);
    assert_eq!(done.result.unwrap(), json!(42));
    assert_eq!(
        names(&events),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
    let ids: Vec<u32> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=9).collect::<Vec<u32>>());
    assert_eq!(events[0].payload, Some(json!(21)));
    assert_eq!(events[4].payload, Some(json!(42)));
    assert_eq!(events[1].state.as_deref(), Some("Call"));
    assert!(
        events.iter().all(|e| e
            .execution_arn
            .ends_with(":execution:StateMachine:recorded")),
        "{events:?}"
    );
    let resources: Vec<Option<&str>> = events.iter().map(|e| e.resource.as_deref()).collect();
    assert_eq!(
        resources,
        [
            None,
            None,
            Some("double"),
            Some("double"),
            Some("double"),
            None,
            None,
            None,
            None
        ]
    );
    h.assert_no_more();
}

/// A task that fails once (caught), then a Fail state.
fn failing_plan() -> Arc<Plan> {
    plan(serde_json::json!({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "boom", "Catch": [
            {"ErrorEquals": ["States.ALL"], "Next": "Give up"}
        ], "End": true},
        "Give up": {"Type": "Fail", "Error": "Custom", "Cause": "why"}
    }}))
}

fn failing_harness() -> Harness {
    let mut resources = Resources::new();
    resources.register(
        "boom",
        Arc::new(|_: TaskCall| TaskReply::Ready(Err(StatesError::new("Boom", "it broke")))),
    );
    Harness::with(RuntimeConfig {
        shards: 1,
        resources,
        ..RuntimeConfig::default()
    })
}

#[test]
fn level_error_keeps_failures_with_their_all_level_ids() {
    let h = failing_harness();
    let (_, all) = run_logged(&h, failing_plan(), json!({}), true, LogLevel::All);
    let (_, errors) = run_logged(&h, failing_plan(), json!({}), true, LogLevel::Error);
    assert_eq!(
        names(&errors),
        ["TaskFailed", "FailStateEntered", "ExecutionFailed"]
    );
    for event in &errors {
        let same = all.iter().find(|e| e.event_type == event.event_type);
        assert_eq!(same.map(|e| e.id), Some(event.id), "{event:?}");
    }
    assert_eq!(errors[0].resource.as_deref(), Some("boom"));
    assert_eq!(
        errors[0].error.as_ref().and_then(|e| e.error()),
        Some("Boom")
    );
    h.assert_no_more();
}

#[test]
fn level_fatal_keeps_the_bad_end_only() {
    let h = failing_harness();
    let (_, events) = run_logged(&h, failing_plan(), json!({}), false, LogLevel::Fatal);
    assert_eq!(names(&events), ["ExecutionFailed"]);
    // started, entered, scheduled, started, failed, exited, Fail entered
    assert_eq!(events[0].id, 8);
    let ok =
        plan(serde_json::json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    for level in [LogLevel::Fatal, LogLevel::Error] {
        let (done, events) = run_logged(&h, Arc::clone(&ok), json!({}), true, level);
        assert_eq!(done.status, Status::Succeeded);
        assert!(events.is_empty(), "{level}: {events:?}");
    }
    h.assert_no_more();
}

#[test]
fn level_off_attaches_no_history() {
    let sink: Arc<dyn crate::interp::HistorySink> = Arc::new(HistoryBuffer::default());
    assert!(History::logging(sink, LogLevel::Off, true).is_none());
}

#[test]
fn without_data_events_keep_names_and_errors_only() {
    let h = virtual_harness(1);
    let plan = plan(serde_json::json!({"StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "Custom", "Cause": "why"}
    }}));
    let (_, events) = run_with_history(&h, plan, json!({"secret": 1}), false);
    assert!(events.iter().all(|e| e.payload.is_none()), "{events:?}");
    let last = events.last().expect("events");
    assert_eq!(last.event_type, EventType::ExecutionFailed);
    assert_eq!(last.error.as_ref().and_then(|e| e.error()), Some("Custom"));
    h.assert_no_more();
}

#[test]
fn a_timeout_is_recorded_and_virtual_time_skips_the_wait() {
    for shards in shapes() {
        let h = virtual_harness(shards);
        let plan = plan(
            serde_json::json!({"TimeoutSeconds": 30, "StartAt": "Sleep", "States": {
                "Sleep": {"Type": "Wait", "Seconds": 3600, "End": true}
            }}),
        );
        let before = std::time::Instant::now();
        let (done, events) = run_with_history(&h, plan, json!({}), true);
        assert_eq!(done.status, Status::TimedOut);
        assert!(
            done.ended_at.since(done.started_at) >= Duration::from_secs(30),
            "the execution's own clock passed its timeout"
        );
        assert!(
            before.elapsed() < Duration::from_secs(25),
            "virtual time does not wait for real"
        );
        assert_eq!(
            names(&events).last().map(String::as_str),
            Some("ExecutionTimedOut")
        );
        h.assert_no_more();
    }
}

#[test]
fn map_iterations_are_recorded_from_every_shard() {
    let h = virtual_harness(4);
    let plan = plan(serde_json::json!({"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "Seconds": 5, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "double", "End": true}
        }}, "End": true}
    }}));
    let items: Vec<i64> = (0..64).collect();
    let (done, events) = run_with_history(&h, plan, json!(items), true);
    let doubled: Vec<i64> = items.iter().map(|i| i * 2).collect();
    assert_eq!(done.result.unwrap(), json!(doubled));
    let count = |name: &str| names(&events).iter().filter(|n| *n == name).count();
    assert_eq!(count("MapStateStarted"), 1);
    assert_eq!(count("MapIterationStarted"), 64);
    assert_eq!(count("MapIterationSucceeded"), 64);
    assert_eq!(count("TaskSucceeded"), 64);
    let mut indexes: Vec<u32> = events
        .iter()
        .filter(|e| e.event_type == EventType::MapIterationSucceeded)
        .filter_map(|e| e.map_index)
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..64).collect::<Vec<u32>>());
    h.assert_no_more();
}

#[test]
fn a_full_channel_drops_and_counts_instead_of_blocking_the_shard() {
    let h = virtual_harness(1);
    let plan = plan(serde_json::json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}
    }}));
    let (sender, receiver) = history_channel(3);
    h.runtime
        .submit(Submission {
            history: Some(History::to(Arc::new(sender))),
            ..Submission::new(plan, "small", json!({}), Arc::clone(&h.sink))
        })
        .expect("admitted");
    assert_eq!(h.collect(1)[0].status, Status::Succeeded);
    let received: Vec<HistoryEvent> = receiver.events().try_iter().collect();
    assert_eq!(received.len(), 3);
    assert_eq!(received[0].event_type, EventType::ExecutionStarted);
    // 6 events in all: started, 2 x (entered, exited), succeeded.
    assert_eq!(receiver.dropped(), 3);
    h.assert_no_more();
}
