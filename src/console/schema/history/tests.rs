use super::*;
use spate_engine::error::StatesError;
use spate_engine::time::Timestamp;
use spate_engine::value::Str;

fn event(id: u32, event_type: EventType, state: &str, failed: bool) -> HistoryEvent {
    HistoryEvent {
        id,
        execution_arn: Str::from("arn"),
        timestamp: Timestamp::from_unix_nanos(i64::from(id) * 1_000_000),
        event_type,
        state: Some(Str::from(state)),
        map_index: None,
        resource: None,
        payload: None,
        error: failed.then(|| StatesError::new("Boom", "it broke")),
    }
}

#[test]
fn the_path_shows_retries_catches_and_the_failing_state() {
    use EventType as E;
    let graph = GraphModel::of_text(
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","Next":"U"},
            "U":{"Type":"Task","Resource":"x","End":true}}}"#,
    )
    .unwrap();
    let events = [
        // T fails twice, is retried, then succeeds.
        event(1, E::StateEntered("Task"), "T", false),
        event(2, E::TaskFailed, "T", true),
        event(3, E::TaskScheduled, "T", false),
        event(4, E::TaskFailed, "T", true),
        event(5, E::TaskScheduled, "T", false),
        event(6, E::TaskSucceeded, "T", false),
        event(7, E::StateExited("Task"), "T", false),
        // U fails and a Catch takes over.
        event(8, E::StateEntered("Task"), "U", false),
        event(9, E::TaskFailed, "U", true),
        event(10, E::StateExited("Task"), "U", false),
        // T again, failing for good.
        event(11, E::StateEntered("Task"), "T", false),
        event(12, E::TaskFailed, "T", true),
    ];
    let runs = state_runs(&events, &graph, true);
    let shown: Vec<(&str, &str, i32, Option<&str>)> = runs
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.status.as_str(),
                r.retries,
                r.error.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("T", "SUCCEEDED", 2, Some("Boom")),
            ("U", "CAUGHT", 0, Some("Boom")),
            ("T", "FAILED", 0, Some("Boom")),
        ]
    );
    assert_eq!(runs[1].node.as_str(), "/States/U");
    let running = state_runs(&events[..3], &graph, false);
    assert_eq!(running[0].status, "RUNNING");
}
