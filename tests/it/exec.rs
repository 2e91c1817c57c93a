//! `spate exec`: one execution on the sharded runtime, with its history
//! (`--trace`) recorded by the runtime as the shard produces it, and every
//! execution bounded by its `TimeoutSeconds` whether or not it ever waits.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `spate exec` on `definition` (written to a temporary file) and
/// returns its output; kills it and fails the test after `limit`.
fn exec(definition: &str, extra: &[&str], limit: Duration) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "spate-exec-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let file = dir.join("definition.asl.json");
    std::fs::File::create(&file)
        .and_then(|mut f| f.write_all(definition.as_bytes()))
        .expect("definition written");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spate"))
        .arg("exec")
        .arg(&file)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spate runs");
    let start = Instant::now();
    while child.try_wait().expect("waitable").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("spate exec still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let _ = std::fs::remove_dir_all(&dir);
    output
}

#[test]
fn trace_prints_the_runtime_history_including_a_timeout() {
    let output = exec(
        r#"{"TimeoutSeconds": 1, "StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "Seconds": 30, "End": true}}}"#,
        &["--trace"],
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let events: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with('['))
        .filter_map(|l| {
            // `[ id] +elapsed ms EventType ...`
            l.split_whitespace()
                .skip_while(|w| !w.ends_with("ms"))
                .nth(1)
        })
        .collect();
    assert_eq!(
        events,
        ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"],
        "{stderr}"
    );
    assert!(stderr.contains("execution TIMED_OUT"), "{stderr}");
    assert!(stderr.contains("error: States.Timeout"), "{stderr}");
}

#[test]
fn a_loop_that_never_waits_still_times_out() {
    // Pass -> Choice -> Pass ... forever: CPU-only, never a wait point.
    let output = exec(
        r#"{"TimeoutSeconds": 2, "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.never", "IsPresent": true, "Next": "E"}], "Default": "A"},
            "E": {"Type": "Succeed"}}}"#,
        &[],
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("execution TIMED_OUT"), "{stderr}");
}

#[test]
fn re_entering_a_failed_parallel_is_bounded_by_the_timeout() {
    let output = exec(
        r#"{"TimeoutSeconds": 2, "StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "P"}], "End": true}}}"#,
        &[],
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("execution TIMED_OUT"), "{stderr}");
}

#[test]
fn an_execution_succeeds_and_prints_its_output() {
    let output = exec(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": true}, "End": true}}}"#,
        &[],
        Duration::from_secs(60),
    );
    assert!(output.status.success());
    let stdout: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(stdout, serde_json::json!({"ok": true}));
}

#[test]
fn a_runaway_nested_fan_out_fails_with_a_clear_error() {
    // Three nested Maps over 1,000 items and no MaxConcurrency: a billion
    // branches. The execution fails once it needs more live branches, or
    // more bytes, than the runtime's budget, instead of exhausting memory.
    // Each leaf waits, so the branches stay alive.
    let inner =
        r#"{"StartAt": "Leaf", "States": {"Leaf": {"Type": "Wait", "Seconds": 10, "End": true}}}"#;
    let level = |name: &str, processor: &str| {
        format!(
            r#"{{"StartAt": "{name}", "States": {{"{name}": {{"Type": "Map", "ItemsPath": "$.xs",
                "ItemSelector": {{"xs.$": "$.xs"}}, "ItemProcessor": {processor}, "End": true}}}}}}"#
        )
    };
    let definition = level("Outer", &level("Middle", &level("Inner", inner)));
    let dir = std::env::temp_dir().join(format!("spate-fanout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let input = dir.join("input.json");
    let xs: Vec<u32> = (0..1000).collect();
    std::fs::write(&input, serde_json::json!({ "xs": xs }).to_string()).expect("input written");
    let output = exec(
        &definition,
        &["--input", input.to_str().expect("UTF-8 path")],
        Duration::from_secs(120),
    );
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: States.Runtime"), "{stderr}");
    // Whichever budget it meets first: live branches, or the bytes their
    // inputs hold (each carries the 1,000 items down a level).
    assert!(
        stderr.contains("max_fibers_per_execution") || stderr.contains("max_bytes_per_execution"),
        "{stderr}"
    );
}

#[test]
fn a_long_cpu_only_map_ends_by_its_timeout() {
    // 120,000 iterations of real work, none of which ever waits: the
    // execution's deadline is still checked every few milliseconds.
    let started = Instant::now();
    let output = exec(
        r#"{"QueryLanguage": "JSONata", "TimeoutSeconds": 2, "StartAt": "M", "States": {
            "M": {"Type": "Map", "Items": "{% [1..120000] %}", "ItemProcessor": {"StartAt": "Sum", "States": {
                "Sum": {"Type": "Pass", "Output": "{% $reduce([1..2000], function($a, $v) { $a + $v }) %}", "End": true}}},
                "End": true}}}"#,
        &[],
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("execution TIMED_OUT"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "ended {:?} after its 2 s timeout",
        started.elapsed()
    );
}

#[test]
fn a_long_jsonata_evaluation_ends_by_the_execution_timeout() {
    // Millions of calls in one expression, little memory, well within
    // JSONata's own limits: the execution's TimeoutSeconds stops it.
    let started = Instant::now();
    let output = exec(
        r#"{"QueryLanguage": "JSONata", "TimeoutSeconds": 1, "StartAt": "Work", "States": {
            "Work": {"Type": "Pass",
                "Output": "{% ( $fib := function($n) { $n <= 1 ? $n : $fib($n - 1) + $fib($n - 2) }; $fib(40) ) %}", "End": true}}}"#,
        &[],
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("execution TIMED_OUT"), "{stderr}");
    assert!(stderr.contains("error: States.Timeout"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "ended {:?} after its 1 s timeout (JSONata's own limit is 10 s)",
        started.elapsed()
    );
}

/// A task that fails (caught) and a Fail state, with the failing mock.
const FAILING: &str = r#"{"StartAt": "Call", "States": {
    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Give up"}], "End": true},
    "Give up": {"Type": "Fail", "Error": "Custom", "Cause": "why"}}}"#;

/// `spate exec FAILING --log-level LEVEL ...`: the JSON records it wrote to
/// standard error.
fn logged(extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = std::env::temp_dir().join(format!("spate-exec-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let resources = dir.join(format!("{}.json", extra.join("_")));
    std::fs::write(
        &resources,
        r#"{"arn:aws:states:::lambda:invoke": {"kind": "fail", "error": "Boom", "cause": "it broke"}}"#,
    )
    .expect("resources written");
    let mut args = vec!["--resources", resources.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    let output = exec(FAILING, &args, Duration::from_secs(60));
    let _ = std::fs::remove_file(&resources);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: Custom"), "{stderr}");
    stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn types(records: &[serde_json::Value]) -> Vec<&str> {
    records.iter().filter_map(|r| r["type"].as_str()).collect()
}

#[test]
fn log_level_all_prints_aws_express_log_records() {
    let records = logged(&["--log-level", "ALL", "--include-execution-data"]);
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
    let started = &records[0];
    let keys: Vec<&String> = started.as_object().expect("object").keys().collect();
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
    assert_eq!(started["id"], "1");
    assert_eq!(started["previous_event_id"], "0");
    assert_eq!(started["redrive_count"], "0");
    assert_eq!(started["details"]["input"], "{}");
    assert_eq!(
        started["details"]["inputDetails"],
        serde_json::json!({"truncated": false})
    );
    assert!(
        started["event_timestamp"]
            .as_str()
            .is_some_and(|t| t.len() == 13 && t.bytes().all(|b| b.is_ascii_digit())),
        "{started}"
    );
    assert!(
        started["execution_arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:states:") && a.ends_with(":exec")),
        "{started}"
    );
    assert_eq!(
        records[4]["details"],
        serde_json::json!({"resourceType": "lambda", "resource": "invoke", "error": "Boom", "cause": "it broke"})
    );
}

#[test]
fn log_levels_error_and_fatal_keep_only_failures() {
    let errors = logged(&["--log-level", "ERROR"]);
    assert_eq!(
        types(&errors),
        ["TaskFailed", "FailStateEntered", "ExecutionFailed"]
    );
    assert_eq!(
        errors[2]["details"],
        serde_json::json!({"error": "Custom", "cause": "why"})
    );
    assert_eq!(errors[2]["id"], "8");
    let fatal = logged(&["--log-level", "FATAL"]);
    assert_eq!(types(&fatal), ["ExecutionFailed"]);
    assert!(logged(&["--log-level", "OFF"]).is_empty());
}
