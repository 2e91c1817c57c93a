//! Execution logs end to end: a runtime runs executions of a registry
//! state machine whose logging is attached, and the file destination holds
//! exactly the records the level keeps, as AWS writes them.

use super::record::Record;
use super::*;
use spate_engine::error::StatesError;
use spate_engine::interp::{EventType, HistoryEvent};
use spate_engine::json;
use spate_engine::registry::Registry;
use spate_engine::runtime::{Completion, CompletionSink, Runtime, RuntimeConfig};
use spate_engine::task::{Resources, TaskCall, TaskReply};
use spate_engine::time::Timestamp;
use spate_engine::value::Value;
use std::path::Path;

const FAILING: &str = r#"{"StartAt": "Call", "States": {
    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Give up"}], "End": true},
    "Give up": {"Type": "Fail", "Error": "Custom", "Cause": "why"}
}}"#;

fn temp_file(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "spate-exec-log-{}-{nanos}-{name}",
        std::process::id()
    ))
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("the log file exists")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Runs one execution of FAILING logged at `level` into a new file; the
/// file's records.
fn run_failing(level: LogLevel, include_execution_data: bool) -> Vec<serde_json::Value> {
    let (result, records) = run_logged(FAILING, 1, level, include_execution_data);
    assert!(result.is_err());
    records
}

/// Runs one execution of `definition` on `shards` shards, logged at
/// `level` into a new file; its result and the file's records.
fn run_logged(
    definition: &str,
    shards: usize,
    level: LogLevel,
    include_execution_data: bool,
) -> (Result<Value, StatesError>, Vec<serde_json::Value>) {
    let registry = Registry::default();
    let machine = registry.create("orders", definition).unwrap();
    let path = temp_file(level.name());
    let mut logs = ExecutionLogs::new();
    logs.attach(
        &machine,
        &LogSettings {
            level,
            include_execution_data,
            destination: LogDestination::File(path.clone()),
        },
    )
    .unwrap();
    let mut resources = Resources::new();
    resources.register(
        "arn:aws:states:::lambda:invoke",
        Arc::new(|_: TaskCall| TaskReply::Ready(Err(StatesError::new("Boom", "it broke")))),
    );
    let runtime = Runtime::start(RuntimeConfig {
        shards,
        resources,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let sink: Arc<dyn CompletionSink> = Arc::new(|_: Completion| {});
    let done = runtime
        .handle()
        .run_to_end(machine.submission("in-0-7", json!({"order": 7}), sink))
        .unwrap();
    runtime.shutdown(std::time::Duration::ZERO);
    let (totals, errors) = logs.shutdown();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(totals.dropped, 0);
    let records = lines(&path);
    assert_eq!(totals.written, records.len() as u64);
    let _ = std::fs::remove_file(&path);
    (done.result, records)
}

fn types(records: &[serde_json::Value]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect()
}

#[test]
fn level_all_writes_every_event_with_its_data() {
    let records = run_failing(LogLevel::All, true);
    assert_eq!(
        types(&records),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskStateExited",
            "FailStateEntered",
            "ExecutionFailed"
        ]
    );
    let ids: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6", "7", "8"]);
    let started = &records[0];
    assert_eq!(started["details"]["input"], "{\"order\":7}");
    assert_eq!(started["previous_event_id"], "0");
    assert_eq!(
        started["execution_arn"],
        "arn:aws:states:us-east-1:123456789012:execution:orders:in-0-7"
    );
    assert_eq!(records[4]["details"]["resourceType"], "lambda");
    assert_eq!(records[4]["details"]["error"], "Boom");
}

/// At `ALL`, ids run 1..n in the file's order, as AWS numbers a history,
/// even when Map iterations and Parallel branches run at once on several
/// shards (the engine's own ids repeat across them).
#[test]
fn level_all_numbers_concurrent_branches_once_each_in_order() {
    let definition = r#"{"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true,
        "Branches": [
            {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Nap", "States": {
                    "Nap": {"Type": "Wait", "Seconds": 0, "Next": "Done"},
                    "Done": {"Type": "Pass", "End": true}}}, "End": true}}},
            {"StartAt": "Other", "States": {"Other": {"Type": "Pass", "End": true}}}],
        "Parameters": {"items": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}}}}"#;
    let (result, records) = run_logged(definition, 4, LogLevel::All, false);
    assert!(result.is_ok(), "{result:?}");
    let ids: Vec<u64> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=records.len() as u64).collect::<Vec<_>>());
    let previous: Vec<u64> = records
        .iter()
        .map(|r| r["previous_event_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(previous, (0..records.len() as u64).collect::<Vec<_>>());
    let types = types(&records);
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "MapIterationSucceeded")
            .count(),
        12
    );
}

#[test]
fn level_error_writes_failures_only_and_without_data_no_payloads() {
    let records = run_failing(LogLevel::Error, false);
    assert_eq!(
        types(&records),
        ["TaskFailed", "FailStateEntered", "ExecutionFailed"]
    );
    assert_eq!(
        records[0]["details"],
        serde_json::json!({"resourceType": "lambda", "resource": "invoke", "error": "Boom", "cause": "it broke"})
    );
    assert_eq!(records[0]["id"], "5");
    assert_eq!(records[0]["previous_event_id"], "4");
    assert_eq!(
        records[1]["details"],
        serde_json::json!({"name": "Give up"})
    );
    assert_eq!(
        records[2]["details"],
        serde_json::json!({"error": "Custom", "cause": "why"})
    );
}

#[test]
fn level_fatal_writes_the_bad_end_only() {
    let records = run_failing(LogLevel::Fatal, true);
    assert_eq!(types(&records), ["ExecutionFailed"]);
    assert_eq!(records[0]["id"], "8");
}

#[test]
fn level_off_starts_no_writer_and_attaches_nothing() {
    let registry = Registry::default();
    let machine = registry.create("orders", FAILING).unwrap();
    let mut logs = ExecutionLogs::new();
    logs.attach(&machine, &LogSettings::default()).unwrap();
    assert!(logs.writers.is_empty());
    let sink: Arc<dyn CompletionSink> = Arc::new(|_: Completion| {});
    assert!(machine.submission("x", json!({}), sink).history.is_none());
}

#[test]
fn the_tracing_layer_writes_the_record_as_aws_has_it() {
    let path = temp_file("layer");
    let writer =
        writer::Writer::start("test", LogDestination::File(path.clone()).open().unwrap()).unwrap();
    let event = HistoryEvent {
        id: 3,
        execution_arn: "arn:aws:states:us-east-1:1:execution:m:e".into(),
        timestamp: Timestamp::from_unix_nanos(1_700_000_000_000_000_000),
        event_type: EventType::StateExited("Pass"),
        state: Some("Quote \" me".into()),
        map_index: None,
        resource: None,
        payload: Some(json!({"a": "b\nc"})),
        error: None,
    };
    writer.sender().record(event.clone());
    let (totals, error) = writer.stop();
    assert!(error.is_none());
    assert_eq!(totals.written, 1);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(text.lines().count(), 1);
    let written: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(written, Record::of(&event).to_json());
    let keys: Vec<&String> = written.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "details",
            "previous_event_id",
            "event_timestamp",
            "execution_arn",
            "redrive_count"
        ]
    );
}

#[test]
fn destinations_parse_with_clear_errors() {
    assert_eq!(LogDestination::parse("stdout"), Ok(LogDestination::Stdout));
    assert_eq!(
        LogDestination::parse("file:/var/log/x.log"),
        Ok(LogDestination::File("/var/log/x.log".into()))
    );
    assert!(
        LogDestination::parse("file:")
            .unwrap_err()
            .contains("names no file")
    );
    assert!(
        LogDestination::parse("kafka")
            .unwrap_err()
            .contains("\"stdout\", \"stderr\" or \"file:PATH\"")
    );
}
