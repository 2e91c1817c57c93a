//! `spate run` with an `[api]` section: the Step Functions-compatible API
//! beside the pipelines, with the pipelines' state machines in its
//! registry.

use crate::common::aws_call;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// An API call whose answer is JSON.
fn call(addr: &str, action: &str, body: &str) -> (u16, serde_json::Value) {
    let (status, body) = aws_call(addr, action, body);
    (status, serde_json::from_str(&body).expect("a JSON body"))
}

#[test]
fn run_serves_the_api_over_its_pipelines_state_machines() {
    let dir = std::env::temp_dir().join(format!("spate-run-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let root = env!("CARGO_MANIFEST_DIR");
    let config = dir.join("spate.toml");
    std::fs::write(
        &config,
        format!(
            "[kafka]\nbootstrap_servers = \"embedded\"\n[embedded]\ngenerate_events_per_sec = 0\n\
             [admin]\naddr = \"off\"\n[api]\naddr = \"127.0.0.1:0\"\nlog_destination = \"file:{api_log}\"\n\
             [[pipeline]]\nname = \"iot\"\nsource_topics = [\"iot-events\"]\n\
             definition = \"{root}/config/workflows/iot-enrich.asl.json\"\n\
             output_topic = \"out\"\ndlq_topic = \"dlq\"\n\
             [pipeline.logging]\nlevel = \"FATAL\"\ndestination = \"file:{}\"\n",
            dir.join("exec.log").display(),
            api_log = dir.join("api.log").display(),
        ),
    )
    .expect("config written");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(["run", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spate starts");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("Step Functions API at http://") {
                let addr: String = line[at + 29..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                let _ = sender.send(addr);
            }
        }
    });
    let addr = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("spate run logs the API's address");

    let (status, listed) = call(&addr, "ListStateMachines", "{}");
    assert_eq!(status, 200, "{listed}");
    let machine = &listed["stateMachines"][0];
    assert_eq!(machine["name"], "iot-enrich", "{listed}");
    let arn = machine["stateMachineArn"]
        .as_str()
        .expect("an ARN")
        .to_string();

    // The API reports the logging the pipeline configured.
    let (status, described) = call(
        &addr,
        "DescribeStateMachine",
        &serde_json::json!({"stateMachineArn": arn}).to_string(),
    );
    assert_eq!(status, 200, "{described}");
    assert_eq!(
        described["loggingConfiguration"]["level"], "FATAL",
        "{described}"
    );
    let update = serde_json::json!({
        "stateMachineArn": arn,
        "loggingConfiguration": {"level": "ALL", "includeExecutionData": true},
    });
    let (status, updated) = call(&addr, "UpdateStateMachine", &update.to_string());
    assert_eq!(status, 200, "{updated}");

    let input = std::fs::read_to_string(format!("{root}/config/workflows/iot-enrich.input.json"))
        .expect("example input");
    let request = serde_json::json!({"stateMachineArn": arn, "input": input}).to_string();
    let (status, run) = call(&addr, "StartSyncExecution", &request);
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let output: serde_json::Value =
        serde_json::from_str(run["output"].as_str().expect("output")).expect("JSON output");
    assert_eq!(output["key"], "plant-7/dev-0042");
    // Set through the API, the logging writes to the API's destination.
    let log = dir.join("api.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let records = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("ExecutionSucceeded") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(records.contains("\"ExecutionSucceeded\""), "{records}");

    let _ = child.kill();
    let _ = child.wait();
}
