//! The metric families issue 12 fixes, checked against one scrape of
//! `/metrics` (Prometheus text format): each present with its type and
//! exactly its labels, and the labels with a closed set of values within it.

use std::collections::{BTreeMap, BTreeSet};

/// A family the dashboards and alerts rely on: name, type, label names.
pub struct Family {
    pub name: &'static str,
    pub kind: &'static str,
    pub labels: &'static [&'static str],
}

const fn family(name: &'static str, kind: &'static str, labels: &'static [&'static str]) -> Family {
    Family { name, kind, labels }
}

/// Every family named in issue 12 (the process collector's by the ones the
/// dashboards read).
pub const FAMILIES: &[Family] = &[
    family(
        "spate_executions_started_total",
        "counter",
        &["state_machine"],
    ),
    family(
        "spate_executions_finished_total",
        "counter",
        &["state_machine", "status"],
    ),
    family(
        "spate_execution_duration_seconds",
        "histogram",
        &["state_machine"],
    ),
    family(
        "spate_state_transitions_total",
        "counter",
        &["state_machine", "state_type"],
    ),
    family(
        "spate_task_invocations_total",
        "counter",
        &["resource", "outcome"],
    ),
    family("spate_task_duration_seconds", "histogram", &["resource"]),
    family("spate_task_retries_total", "counter", &["resource"]),
    family("spate_map_items_total", "counter", &["state_machine"]),
    family(
        "spate_parallel_branches_total",
        "counter",
        &["state_machine"],
    ),
    family("spate_executions_in_flight", "gauge", &[]),
    family("spate_shard_queue_depth", "gauge", &["shard"]),
    family("spate_shard_busy_ratio", "gauge", &["shard"]),
    family(
        "spate_kafka_records_consumed_total",
        "counter",
        &["pipeline", "topic"],
    ),
    family(
        "spate_kafka_records_produced_total",
        "counter",
        &["pipeline", "topic", "kind"],
    ),
    family(
        "spate_kafka_offsets_committed_total",
        "counter",
        &["pipeline"],
    ),
    family(
        "spate_kafka_consumer_lag_records",
        "gauge",
        &["pipeline", "topic", "partition"],
    ),
    family("spate_kafka_partitions_paused", "gauge", &["pipeline"]),
    family(
        "spate_dead_letters_total",
        "counter",
        &["pipeline", "reason"],
    ),
    family(
        "spate_event_latency_seconds",
        "histogram",
        &["pipeline", "stage"],
    ),
    family("spate_ready", "gauge", &["pipeline"]),
    family("process_cpu_seconds_total", "counter", &[]),
    family("process_resident_memory_bytes", "gauge", &[]),
    family("process_open_fds", "gauge", &[]),
    family("process_start_time_seconds", "gauge", &[]),
];

/// Labels whose values form a closed set: (family, label, allowed values,
/// whether every value must be there). Statuses and stages are known up
/// front, so their series exist at zero before anything happens.
const CLOSED: &[(&str, &str, &[&str], bool)] = &[
    (
        "spate_executions_finished_total",
        "status",
        &["succeeded", "failed", "timed_out", "aborted"],
        true,
    ),
    (
        "spate_event_latency_seconds",
        "stage",
        &["fetch", "queue", "execution", "publish", "end_to_end"],
        true,
    ),
    (
        "spate_kafka_records_produced_total",
        "kind",
        &["output", "dead_letter"],
        true,
    ),
    (
        "spate_state_transitions_total",
        "state_type",
        &[
            "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
        ],
        false,
    ),
    (
        "spate_task_invocations_total",
        "outcome",
        &["succeeded", "failed", "timed_out"],
        false,
    ),
];

/// One sample line taken apart: metric name and labels.
fn sample(line: &str) -> Option<(&str, BTreeMap<String, String>)> {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..name_end];
    let mut labels = BTreeMap::new();
    if line[name_end..].starts_with('{') {
        let mut rest = &line[name_end + 1..];
        loop {
            rest = rest.trim_start_matches([',', ' ']);
            if rest.starts_with('}') || rest.is_empty() {
                break;
            }
            let (label, after) = rest.split_once("=\"")?;
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (at, '"') => break at,
                    (_, c) => value.push(c),
                }
            };
            labels.insert(label.trim().to_string(), value);
            rest = &after[end + 1..];
        }
    }
    Some((name, labels))
}

/// What is wrong with `text` (a scrape) against [`FAMILIES`] and the
/// closed label sets; empty when nothing is.
pub fn problems(text: &str) -> Vec<String> {
    let mut types: BTreeMap<&str, &str> = BTreeMap::new();
    let mut samples: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for line in text.lines() {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let mut words = declared.split_whitespace();
            if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                types.insert(name, kind);
            }
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            match sample(line) {
                Some((name, labels)) => samples.entry(name.to_string()).or_default().push(labels),
                None => return vec![format!("cannot read the sample line {line:?}")],
            }
        }
    }
    let mut out = Vec::new();
    for f in FAMILIES {
        match types.get(f.name) {
            None => {
                out.push(format!("{}: no # TYPE line (family missing)", f.name));
                continue;
            }
            Some(kind) if *kind != f.kind => {
                out.push(format!("{}: type {kind}, expected {}", f.name, f.kind));
            }
            Some(_) => {}
        }
        let expected: BTreeSet<&str> = f.labels.iter().copied().collect();
        let series: &[&str] = if f.kind == "histogram" {
            &["_bucket", "_sum", "_count"]
        } else {
            &[""]
        };
        for suffix in series {
            let name = format!("{}{suffix}", f.name);
            let Some(found) = samples.get(&name) else {
                out.push(format!("{name}: no samples"));
                continue;
            };
            for labels in found {
                let names: BTreeSet<&str> = labels
                    .keys()
                    .map(String::as_str)
                    .filter(|l| !(*suffix == "_bucket" && *l == "le"))
                    .collect();
                if names != expected {
                    out.push(format!("{name}: labels {names:?}, expected {expected:?}"));
                    break;
                }
            }
        }
    }
    for (name, label, allowed, all) in CLOSED {
        let Some(found) = samples
            .get(*name)
            .or_else(|| samples.get(&format!("{name}_count")))
        else {
            continue;
        };
        let values: BTreeSet<&str> = found
            .iter()
            .filter_map(|labels| labels.get(*label).map(String::as_str))
            .collect();
        for value in &values {
            if !allowed.contains(value) {
                out.push(format!(
                    "{name}: {label}=\"{value}\" is not one of {allowed:?}"
                ));
            }
        }
        if *all {
            for value in *allowed {
                if !values.contains(value) {
                    out.push(format!("{name}: no series with {label}=\"{value}\""));
                }
            }
        }
    }
    out
}

#[test]
fn a_scrape_missing_a_family_or_label_is_told_apart() {
    let text = "# TYPE spate_ready gauge\nspate_ready{pipeline=\"iot\",extra=\"x\"} 1\n\
                # TYPE spate_executions_finished_total counter\n\
                spate_executions_finished_total{state_machine=\"a\",status=\"odd\"} 0\n";
    let found = problems(text);
    assert!(
        found.iter().any(|p| p.starts_with("spate_ready: labels")),
        "{found:?}"
    );
    assert!(
        found.contains(&"spate_executions_finished_total: status=\"odd\" is not one of [\"succeeded\", \"failed\", \"timed_out\", \"aborted\"]".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"spate_map_items_total: no # TYPE line (family missing)".to_string()),
        "{found:?}"
    );
}

#[test]
fn label_values_with_escapes_are_read() {
    let (name, labels) = sample(r#"x_total{a="b\"c,d",e="f"} 1"#).unwrap();
    assert_eq!(name, "x_total");
    assert_eq!(labels["a"], "b\"c,d");
    assert_eq!(labels["e"], "f");
}
