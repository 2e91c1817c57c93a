//! `spate bench`: the JSON report counts exactly the executions asked for,
//! in both loops (closed, and open with `--rate`), over every shipped
//! benchmark workflow. Only counts and shapes are checked, never speed.

use crate::common::spate;

const BENCH: &str = "config/workflows/bench";

fn report(args: &[&str]) -> serde_json::Value {
    let out = spate(args);
    assert!(
        out.status.success(),
        "spate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "spate {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn check(report: &serde_json::Value, executions: u64, transitions_each: u64) {
    assert_eq!(report["executions"], executions, "{report}");
    assert_eq!(
        report["transitions"],
        executions * transitions_each,
        "{report}"
    );
    assert_eq!(report["failed"], 0, "{report}");
    let latency = &report["latency_us"];
    let p50 = latency["p50"].as_u64().expect("p50");
    let p99 = latency["p99"].as_u64().expect("p99");
    let p999 = latency["p999"].as_u64().expect("p999");
    let max = latency["max"].as_u64().expect("max");
    assert!(p50 <= p99 && p99 <= p999 && p999 <= max, "{report}");
    for field in ["seconds", "executions_per_sec", "transitions_per_sec"] {
        assert!(
            report[field].as_f64().is_some_and(|v| v > 0.0),
            "{field}: {report}"
        );
    }
}

#[test]
fn the_closed_loop_runs_exactly_the_executions_asked_for() {
    // (workflow, input, transitions per execution: states entered + retries)
    let workflows = [
        ("pass-chain", "iot-event", 10),
        ("choice-router", "iot-event", 3),
        ("map-100", "map-100.input", 101),
        ("parallel-4x3", "iot-event", 13),
    ];
    for (workflow, input, transitions) in workflows {
        for shards in ["1", "2"] {
            let definition = format!("{BENCH}/{workflow}.asl.json");
            let input = format!("{BENCH}/{input}.json");
            let r = report(&[
                "bench",
                &definition,
                "--input",
                &input,
                "--executions",
                "3000",
                "--concurrency",
                "64",
                "--shards",
                shards,
                "--json",
            ]);
            check(&r, 3000, transitions);
            assert_eq!(r["shards"], shards.parse::<u64>().unwrap());
        }
    }
}

#[test]
fn the_open_loop_submits_at_the_rate_and_counts_retries() {
    let definition = format!("{BENCH}/retry-catch.asl.json");
    let resources = format!("{BENCH}/retry-catch.resources.json");
    let input = format!("{BENCH}/iot-event.json");
    let r = report(&[
        "bench",
        &definition,
        "--input",
        &input,
        "--resources",
        &resources,
        "--executions",
        "200",
        "--rate",
        "2000",
        "--json",
    ]);
    // A Task that fails twice then succeeds: Call, two retries, Done.
    assert_eq!(r["executions"], 200, "{r}");
    assert_eq!(r["transitions"], 200 * 4, "{r}");
    assert_eq!(r["failed"], 0, "{r}");
}
