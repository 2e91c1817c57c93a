//! The admin server of `spate demo` and `spate run`: `/metrics` with every
//! metric family the dashboards rely on (and valid for `promtool check
//! metrics` when Prometheus is installed), `/health`, `/ready`, `/stats`.

use crate::common::{http_exchange, start_spate};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every family `docs/metrics.md` promises, histograms by their base name.
pub const FAMILIES: [&str; 21] = [
    "spate_executions_started_total",
    "spate_executions_finished_total",
    "spate_execution_duration_seconds",
    "spate_state_transitions_total",
    "spate_task_invocations_total",
    "spate_task_duration_seconds",
    "spate_task_retries_total",
    "spate_map_items_total",
    "spate_parallel_branches_total",
    "spate_executions_in_flight",
    "spate_shard_queue_depth",
    "spate_shard_busy_ratio",
    "spate_kafka_records_consumed_total",
    "spate_kafka_records_produced_total",
    "spate_kafka_offsets_committed_total",
    "spate_kafka_consumer_lag_records",
    "spate_kafka_partitions_paused",
    "spate_dead_letters_total",
    "spate_event_latency_seconds",
    "spate_ready",
    "process_cpu_seconds_total",
];

/// A `spate` process, killed when dropped, with the admin address it printed.
pub(crate) struct Running {
    child: Child,
    /// The admin server's `host:port`.
    pub(crate) addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `spate args` and waits for the admin address in its output
/// (stdout for the demo, the log on stderr for `run`).
pub(crate) fn start(args: &[&str]) -> Running {
    let (child, url) = start_spate(args, "http://");
    let addr = url.split('/').next().unwrap_or_default().to_string();
    Running { child, addr }
}

/// `GET path` over HTTP/1.1: the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    http_exchange(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// Polls `path` until `done` holds for its response (or a minute passes).
fn wait_for(addr: &str, path: &str, done: impl Fn(u16, &str) -> bool) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get(addr, path);
        if done(status, &body) || Instant::now() > deadline {
            return (status, body);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The value of the first sample of `series` (name and labels as written).
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_demo_serves_metrics_readiness_and_stats() {
    let demo = start(&[
        "demo",
        "--duration",
        "60",
        "--rate",
        "300",
        "--poison-every",
        "50",
        "--admin-addr",
        "127.0.0.1:0",
    ]);
    let addr = demo.addr.as_str();
    assert_eq!(get(addr, "/health").0, 200);
    let (status, body) = wait_for(addr, "/ready", |s, _| s == 200);
    assert_eq!(status, 200, "{body}");

    // Wait until a critical reading has raised an alert (the Task), a
    // poison event has become a dead letter and the lag is known.
    let (_, metrics) = wait_for(addr, "/metrics", |_, m| {
        sample(m, "spate_task_invocations_total{resource=\"arn:spate:::kafka:produce\",outcome=\"succeeded\"}")
            .is_some_and(|n| n > 0.0)
            && sample(m, "spate_dead_letters_total{pipeline=\"iot\",reason=\"execution-failed\"}")
                .is_some_and(|n| n > 0.0)
            // The consumer reports its lag every 2 s.
            && m.contains("spate_kafka_consumer_lag_records{")
    });
    assert!(
        sample(
            &metrics,
            "spate_task_duration_seconds_count{resource=\"arn:spate:::kafka:produce\"}"
        )
        .is_some_and(|n| n > 0.0),
        "an alert was raised and a poison event failed its execution:\n{metrics}"
    );
    for family in FAMILIES {
        assert!(
            metrics.contains(&format!("# TYPE {family} ")),
            "{family} missing from\n{metrics}"
        );
    }
    let started = sample(
        &metrics,
        "spate_executions_started_total{state_machine=\"iot-enrich\"}",
    )
    .expect("executions counted under the state machine's name");
    assert!(started > 0.0);
    assert!(
        sample(
            &metrics,
            "spate_map_items_total{state_machine=\"iot-enrich\"}"
        )
        .is_some_and(|n| n > started),
        "every event has several readings"
    );
    assert!(metrics.contains(
        "spate_event_latency_seconds_bucket{pipeline=\"iot\",stage=\"end_to_end\",le=\"+Inf\"}"
    ));
    assert_eq!(sample(&metrics, "spate_ready{pipeline=\"iot\"}"), Some(1.0));
    assert!(!metrics.contains("execution=\""), "no per-execution label");
    promtool_check(&metrics);

    let (status, stats) = get(addr, "/stats");
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("/stats is JSON");
    let pipeline = &stats["pipelines"][0];
    assert_eq!(pipeline["name"], "iot");
    assert_eq!(pipeline["ready"], true);
    assert!(
        pipeline["per_second"]["consumed"].as_f64().unwrap_or(0.0) > 0.0,
        "{stats}"
    );
    for p in ["p50", "p90", "p99", "p99.9", "max"] {
        assert!(
            pipeline["latency_ms"]["total"][p].as_f64().is_some(),
            "{p} in {stats}"
        );
    }
    assert_eq!(stats["state_machines"][0]["name"], "iot-enrich");
}

/// `promtool check metrics` on a scrape, when Prometheus is installed
/// (required with `SPATE_PROMETHEUS_REQUIRED=1`).
fn promtool_check(exposition: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        assert!(
            std::env::var("SPATE_PROMETHEUS_REQUIRED").as_deref() != Ok("1"),
            "promtool is required but not installed"
        );
        eprintln!("promtool not installed: skipping `promtool check metrics`");
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("scrape written");
    let out = child.wait_with_output().expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn run_is_not_ready_while_its_pipeline_has_no_assignment() {
    let dir = std::env::temp_dir().join(format!("spate-admin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let root = env!("CARGO_MANIFEST_DIR");
    let config = dir.join("unreachable.toml");
    std::fs::write(
        &config,
        format!(
            "[kafka]\nbootstrap_servers = \"127.0.0.1:1\"\nconnect_timeout_ms = 600000\n\
             [admin]\naddr = \"127.0.0.1:0\"\n\
             [[pipeline]]\nname = \"orders\"\nsource_topics = [\"in\"]\n\
             definition = \"{root}/config/workflows/iot-enrich.asl.json\"\n\
             output_topic = \"out\"\ndlq_topic = \"dlq\"\n"
        ),
    )
    .expect("config written");
    let run = start(&["run", "--config", config.to_str().expect("utf-8 path")]);
    assert_eq!(get(&run.addr, "/health"), (200, "ok\n".to_string()));
    let (status, body) = get(&run.addr, "/ready");
    assert_eq!(status, 503);
    assert!(
        body.contains("pipeline orders: has no partition assignment"),
        "{body}"
    );
    let (_, metrics) = get(&run.addr, "/metrics");
    assert_eq!(
        sample(&metrics, "spate_ready{pipeline=\"orders\"}"),
        Some(0.0)
    );
    // Known labels are there at zero before anything ran.
    assert_eq!(
        sample(
            &metrics,
            "spate_executions_finished_total{state_machine=\"iot-enrich\",status=\"failed\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "spate_dead_letters_total{pipeline=\"orders\",reason=\"execution-failed\"}"
        ),
        Some(0.0)
    );
}
