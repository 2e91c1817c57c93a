//! Execution logs under `spate run`: two pipelines on the embedded cluster,
//! fed by its event generator, each logging its state machine at its own
//! level to its own file (a relative one next to the configuration); the
//! files hold AWS Express log records, exactly the events each level keeps.

use crate::kafka::{signal, wait_for};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OK: &str = r#"{"StartAt": "Shape", "States": {
    "Shape": {"Type": "Pass", "Parameters": {"device.$": "$.device_id"}, "Next": "Done"},
    "Done": {"Type": "Succeed"}}}"#;
const BAD: &str = r#"{"StartAt": "Check", "States": {
    "Check": {"Type": "Pass", "Next": "Reject"},
    "Reject": {"Type": "Fail", "Error": "Rejected", "Cause": "every event is"}}}"#;

fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Records by execution ARN, in the order written.
fn by_execution(records: &[serde_json::Value]) -> BTreeMap<String, Vec<&serde_json::Value>> {
    let mut executions: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
    for r in records {
        let arn = r["execution_arn"].as_str().expect("an ARN").to_string();
        executions.entry(arn).or_default().push(r);
    }
    executions
}

fn types<'a>(records: &[&'a serde_json::Value]) -> Vec<&'a str> {
    records.iter().filter_map(|r| r["type"].as_str()).collect()
}

#[test]
fn spate_run_writes_each_pipelines_records_at_its_level() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("spate-exec-log-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    std::fs::write(dir.join("ok.asl.json"), OK).expect("definition");
    std::fs::write(dir.join("bad.asl.json"), BAD).expect("definition");
    let all_log = dir.join("all.log");
    let error_log = dir.join("error.log");
    let config = dir.join("spate.toml");
    std::fs::write(
        &config,
        format!(
            r#"[kafka]
bootstrap_servers = "embedded"
[embedded]
partitions = 2
generate_events_per_sec = 200

[[pipeline]]
name = "ok"
source_topics = ["in-ok"]
definition = "ok.asl.json"
output_topic = "out-ok"
dlq_topic = "dlq-ok"
[pipeline.logging]
level = "ALL"
include_execution_data = true
destination = "file:all.log"

[[pipeline]]
name = "bad"
source_topics = ["in-bad"]
definition = "bad.asl.json"
output_topic = "out-bad"
dlq_topic = "dlq-bad"
[pipeline.logging]
level = "ERROR"
destination = "file:{error}"
"#,
            error = error_log.display()
        ),
    )
    .expect("config");
    let check = Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(["run", "--check", "--config"])
        .arg(&config)
        .output()
        .expect("spate runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(!all_log.exists(), "--check opens no log");
    let broken = dir.join("broken.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &broken,
        text.replace("file:all.log", "file:nowhere/all.log"),
    )
    .expect("config");
    let check = Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(["run", "--check", "--config"])
        .arg(&broken)
        .output()
        .expect("spate runs");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "pipeline[0].logging.destination: {}: the folder does not exist",
            dir.join("nowhere").display()
        )),
        "{stderr}"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(["run", "--status-interval-secs", "0", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spate starts");
    let enough =
        |path: &Path, end: &str| records(path).iter().filter(|r| r["type"] == end).count() >= 20;
    wait_for(
        "20 executions logged by each pipeline",
        Duration::from_secs(60),
        || enough(&all_log, "ExecutionSucceeded") && enough(&error_log, "ExecutionFailed"),
        || {
            format!(
                "{} ALL records, {} ERROR records",
                records(&all_log).len(),
                records(&error_log).len()
            )
        },
    );
    signal(child.id(), "TERM");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("waitable").is_none() {
        assert!(
            Instant::now() < deadline,
            "spate run did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(child.wait().expect("exit").success());

    let all = records(&all_log);
    let executions = by_execution(&all);
    let mut complete = 0;
    for (arn, events) in &executions {
        assert!(
            arn.starts_with("arn:aws:states:us-east-1:123456789012:execution:ok:in-ok-"),
            "{arn}"
        );
        let ids: Vec<&str> = events.iter().filter_map(|r| r["id"].as_str()).collect();
        let expected: Vec<String> = (1..=ids.len()).map(|i| i.to_string()).collect();
        assert_eq!(ids, expected, "{arn}");
        for r in events {
            let id: u32 = r["id"].as_str().unwrap().parse().unwrap();
            assert_eq!(r["previous_event_id"], (id - 1).to_string());
        }
        if types(events).last() == Some(&"ExecutionSucceeded") {
            complete += 1;
            assert_eq!(
                types(events),
                [
                    "ExecutionStarted",
                    "PassStateEntered",
                    "PassStateExited",
                    "SucceedStateEntered",
                    "SucceedStateExited",
                    "ExecutionSucceeded"
                ]
            );
            let input: serde_json::Value =
                serde_json::from_str(events[0]["details"]["input"].as_str().expect("input"))
                    .expect("the input is JSON text");
            let output: serde_json::Value =
                serde_json::from_str(events[5]["details"]["output"].as_str().expect("output"))
                    .expect("the output is JSON text");
            assert_eq!(output, serde_json::json!({"device": input["device_id"]}));
            assert_eq!(events[1]["details"]["name"], "Shape");
        }
    }
    assert!(complete >= 20, "{complete} complete executions");

    let errors = records(&error_log);
    assert!(
        errors
            .iter()
            .all(|r| r["details"].get("input").is_none() && r["details"].get("output").is_none()),
        "no execution data without include_execution_data"
    );
    for (arn, events) in by_execution(&errors) {
        assert!(arn.contains(":execution:bad:in-bad-"), "{arn}");
        assert_eq!(
            types(&events),
            ["FailStateEntered", "ExecutionFailed"],
            "{arn}"
        );
        assert_eq!(events[0]["id"], "4");
        assert_eq!(events[0]["details"], serde_json::json!({"name": "Reject"}));
        assert_eq!(
            events[1]["details"],
            serde_json::json!({"error": "Rejected", "cause": "every event is"})
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
