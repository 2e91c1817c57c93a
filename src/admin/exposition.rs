//! `/metrics`: the Prometheus text exposition.
//!
//! The shards and the pipeline threads count in their own memory (see
//! `spate_engine::runtime::Runtime::metrics` and
//! `spate_ingest::stats`). A scrape merges those counters and hands them
//! to a `metrics` recorder (metrics-exporter-prometheus), which renders
//! the counters and gauges, and the process collector's `process_*`
//! metrics. The latency histograms are kept with fixed buckets by their
//! writers, so they are written out here, beside the recorder's output.
//!
//! Every series whose labels are known is there from the start, at zero:
//! each state machine in the registry with every status and state type,
//! each Task resource of its definition with every outcome, each dead-letter
//! reason, so dashboards and alerts see series before the first failure.
//! The metric names are a contract (`docs/metrics.md` lists them).

use super::Sources;
use metrics::{Label, Unit, counter, describe_counter, describe_gauge, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use metrics_util::MetricKindMask;
use spate_engine::runtime::{
    BUCKET_BOUNDS_SECONDS, Histogram, MachineTotals, ResourceTotals, RuntimeMetrics, STATE_TYPES,
    STATUSES, TASK_OUTCOMES,
};
use spate_engine::value::Str;
use spate_ingest::record::DeadLetter;
use spate_ingest::stats::STAGES;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A gauge not set for this long is dropped from the exposition (the lag
/// of a partition this instance no longer owns).
const STALE_GAUGE: Duration = Duration::from_secs(5);

/// Renders the exposition; owns the recorder the scrapes feed.
pub struct Exposition {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

impl Default for Exposition {
    fn default() -> Exposition {
        let recorder = PrometheusBuilder::new()
            .idle_timeout(MetricKindMask::GAUGE, Some(STALE_GAUGE))
            .build_recorder();
        let handle = recorder.handle();
        let process = metrics_process::Collector::default();
        metrics::with_local_recorder(&recorder, || {
            describe(&process);
        });
        Exposition {
            recorder,
            handle,
            process,
        }
    }
}

impl Exposition {
    /// The exposition of everything `sources` counts, now.
    pub fn render(&self, sources: &Sources) -> String {
        let runtime = sources.runtime.metrics();
        metrics::with_local_recorder(&self.recorder, || {
            self.process.collect();
            record_runtime(sources, &runtime);
            record_pipelines(sources);
        });
        let mut out = self.handle.render();
        write_histograms(&mut out, sources, &runtime);
        out
    }
}

/// The help text of every family the recorder renders.
fn describe(process: &metrics_process::Collector) {
    process.describe();
    for (name, help) in [
        (
            "spate_executions_started_total",
            "Executions started, by state machine.",
        ),
        (
            "spate_executions_finished_total",
            "Executions ended, by state machine and status (succeeded, failed, timed_out, aborted).",
        ),
        (
            "spate_state_transitions_total",
            "States entered, by state machine and state type.",
        ),
        (
            "spate_task_invocations_total",
            "Task attempts ended, by resource and outcome (succeeded, failed, timed_out).",
        ),
        (
            "spate_task_retries_total",
            "Task attempts started again by a Retry, by resource.",
        ),
        (
            "spate_map_items_total",
            "Map iterations started, by state machine.",
        ),
        (
            "spate_parallel_branches_total",
            "Parallel branches started, by state machine.",
        ),
        (
            "spate_kafka_records_consumed_total",
            "Records taken from a source topic, by pipeline and topic.",
        ),
        (
            "spate_kafka_records_produced_total",
            "Records acknowledged by the cluster, by pipeline, topic and kind (output, dead_letter).",
        ),
        (
            "spate_kafka_offsets_committed_total",
            "Offset commits sent, by pipeline.",
        ),
        (
            "spate_dead_letters_total",
            "Dead letters acknowledged, by pipeline and reason.",
        ),
    ] {
        describe_counter!(name, Unit::Count, help);
    }
    for (name, unit, help) in [
        (
            "spate_executions_in_flight",
            Unit::Count,
            "Executions admitted and not yet ended.",
        ),
        (
            "spate_shard_queue_depth",
            Unit::Count,
            "Fibers and messages waiting for a shard.",
        ),
        (
            "spate_kafka_consumer_lag_records",
            Unit::Count,
            "Records between the consumer's position and the end of the partition.",
        ),
        (
            "spate_kafka_partitions_paused",
            Unit::Count,
            "Partitions paused by backpressure, by pipeline.",
        ),
        (
            "spate_ready",
            Unit::Count,
            "1 while the pipeline holds its assignment and consumes without stalling, else 0.",
        ),
    ] {
        describe_gauge!(name, unit, help);
    }
    // A ratio from 0 to 1: no unit.
    describe_gauge!(
        "spate_shard_busy_ratio",
        "Share of the last second (at least) a shard spent working, from 0 to 1."
    );
}

/// State machines: every registered one (at zero until it runs), and any
/// other the runtime counted.
fn machines(sources: &Sources, counted: &[(Str, MachineTotals)]) -> BTreeMap<Str, MachineTotals> {
    let mut all: BTreeMap<Str, MachineTotals> = sources
        .registry
        .list()
        .iter()
        .map(|m| (m.name().clone(), MachineTotals::default()))
        .collect();
    for (name, totals) in counted {
        all.insert(name.clone(), totals.clone());
    }
    all
}

/// Task resources: every one a registered definition names, and any other
/// the runtime counted.
fn resources(
    sources: &Sources,
    counted: &[(Str, ResourceTotals)],
) -> BTreeMap<Str, ResourceTotals> {
    let mut all: BTreeMap<Str, ResourceTotals> = BTreeMap::new();
    for machine in sources.registry.list() {
        for resource in machine.latest().plan.task_resources() {
            all.entry(resource).or_default();
        }
    }
    for (name, totals) in counted {
        all.insert(name.clone(), totals.clone());
    }
    all
}

fn label(key: &'static str, value: &str) -> Label {
    Label::new(key, value.to_string())
}

fn record_runtime(sources: &Sources, metrics: &RuntimeMetrics) {
    for (name, totals) in machines(sources, &metrics.machines) {
        let machine = label("state_machine", &name);
        counter!("spate_executions_started_total", vec![machine.clone()]).absolute(totals.started);
        for (status, n) in STATUSES.iter().zip(totals.finished) {
            counter!(
                "spate_executions_finished_total",
                vec![machine.clone(), label("status", status)]
            )
            .absolute(n);
        }
        for (state_type, n) in STATE_TYPES.iter().zip(totals.transitions) {
            counter!(
                "spate_state_transitions_total",
                vec![machine.clone(), label("state_type", state_type)]
            )
            .absolute(n);
        }
        counter!("spate_map_items_total", vec![machine.clone()]).absolute(totals.map_items);
        counter!("spate_parallel_branches_total", vec![machine]).absolute(totals.parallel_branches);
    }
    for (name, totals) in resources(sources, &metrics.resources) {
        let resource = label("resource", &name);
        for (outcome, n) in TASK_OUTCOMES.iter().zip(totals.invocations) {
            counter!(
                "spate_task_invocations_total",
                vec![resource.clone(), label("outcome", outcome)]
            )
            .absolute(n);
        }
        counter!("spate_task_retries_total", vec![resource]).absolute(totals.retries);
    }
    gauge!("spate_executions_in_flight").set(metrics.in_flight as f64);
    for (shard, gauges) in metrics.shards.iter().enumerate() {
        let shard = vec![label("shard", &shard.to_string())];
        gauge!("spate_shard_queue_depth", shard.clone()).set(gauges.queue_depth as f64);
        gauge!("spate_shard_busy_ratio", shard).set(gauges.busy_ratio);
    }
}

fn record_pipelines(sources: &Sources) {
    let now_ms = spate_engine::time::Clock::now(&spate_engine::time::SystemClock).unix_millis();
    for p in &sources.pipelines {
        let settings = &p.settings;
        let stats = &p.stats;
        let pipeline = label("pipeline", &settings.name);
        for (topic, n) in settings.source_topics.iter().zip(&*stats.consumed_by_topic) {
            counter!(
                "spate_kafka_records_consumed_total",
                vec![pipeline.clone(), label("topic", topic)]
            )
            .absolute(n.load(Ordering::Relaxed));
        }
        for (topic, kind, n) in [
            (&settings.output_topic, "output", &stats.outputs),
            (&settings.dlq_topic, "dead_letter", &stats.dead_letters),
        ] {
            counter!(
                "spate_kafka_records_produced_total",
                vec![pipeline.clone(), label("topic", topic), label("kind", kind)]
            )
            .absolute(n.load(Ordering::Relaxed));
        }
        counter!(
            "spate_kafka_offsets_committed_total",
            vec![pipeline.clone()]
        )
        .absolute(stats.commits.load(Ordering::Relaxed));
        for (reason, n) in DeadLetter::ALL.iter().zip(&stats.dead_letters_by_reason) {
            counter!(
                "spate_dead_letters_total",
                vec![pipeline.clone(), label("reason", reason.name())]
            )
            .absolute(n.load(Ordering::Relaxed));
        }
        for lag in stats.lag() {
            gauge!(
                "spate_kafka_consumer_lag_records",
                vec![
                    pipeline.clone(),
                    label("topic", &lag.topic),
                    label("partition", &lag.partition.to_string()),
                ]
            )
            .set(lag.records as f64);
        }
        gauge!("spate_kafka_partitions_paused", vec![pipeline.clone()])
            .set(stats.paused.load(Ordering::Relaxed) as f64);
        let ready = stats.readiness(now_ms).is_ok();
        gauge!("spate_ready", vec![pipeline]).set(if ready { 1.0 } else { 0.0 });
    }
}

/// One histogram family: its help, then each series' buckets, sum and count.
struct Family<'a> {
    name: &'a str,
    help: &'a str,
    series: Vec<(Vec<(&'a str, &'a str)>, Histogram)>,
}

fn write_histograms(out: &mut String, sources: &Sources, metrics: &RuntimeMetrics) {
    let machines = machines(sources, &metrics.machines);
    let resources = resources(sources, &metrics.resources);
    let mut stages = Vec::new();
    for p in &sources.pipelines {
        for (stage, buckets) in STAGES.iter().zip(&p.stats.stages) {
            stages.push((
                vec![("pipeline", p.settings.name.as_str()), ("stage", *stage)],
                buckets.snapshot(),
            ));
        }
    }
    let families = [
        Family {
            name: "spate_execution_duration_seconds",
            help: "Execution durations, from start to end, by state machine.",
            series: machines
                .iter()
                .map(|(name, t)| (vec![("state_machine", &**name)], t.duration.clone()))
                .collect(),
        },
        Family {
            name: "spate_task_duration_seconds",
            help: "Task attempt durations, by resource.",
            series: resources
                .iter()
                .map(|(name, t)| (vec![("resource", &**name)], t.duration.clone()))
                .collect(),
        },
        Family {
            name: "spate_event_latency_seconds",
            help: "Kafka event latency by pipeline and stage (fetch: record timestamp to consumption; queue: consumption to execution start; execution; publish: to the outcome's acknowledgement; end_to_end: record timestamp to acknowledgement).",
            series: stages,
        },
    ];
    for family in families {
        write_family(out, &family);
    }
}

fn write_family(out: &mut String, family: &Family<'_>) {
    let name = family.name;
    let _ = writeln!(out, "# HELP {name} {}", family.help);
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (labels, histogram) in &family.series {
        let mut cumulative = 0;
        let bounds = BUCKET_BOUNDS_SECONDS
            .iter()
            .map(|b| b.to_string())
            .chain(["+Inf".to_string()]);
        for (bound, count) in bounds.zip(histogram.counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{name}_bucket{{{}le=\"{bound}\"}} {cumulative}",
                label_pairs(labels, true)
            );
        }
        let labels = label_pairs(labels, false);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", histogram.sum_seconds());
        let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
    }
}

/// `key="value",...` with Prometheus's escapes; a trailing comma when more
/// labels follow.
fn label_pairs(labels: &[(&str, &str)], trailing_comma: bool) -> String {
    let mut out = String::new();
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{key}=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    if trailing_comma && !labels.is_empty() {
        out.push(',');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let mut histogram = Histogram::default();
        histogram.counts[0] = 2;
        histogram.counts[3] = 1;
        *histogram.counts.last_mut().expect("buckets") = 1;
        histogram.sum_nanos = 1_500_000_000;
        let mut out = String::new();
        write_family(
            &mut out,
            &Family {
                name: "x_seconds",
                help: "h",
                series: vec![(vec![("a", "q\"\\\n")], histogram)],
            },
        );
        assert!(out.starts_with("# HELP x_seconds h\n# TYPE x_seconds histogram\n"));
        assert!(out.contains("x_seconds_bucket{a=\"q\\\"\\\\\\n\",le=\"0.0001\"} 2\n"));
        assert!(out.contains("x_seconds_bucket{a=\"q\\\"\\\\\\n\",le=\"0.001\"} 3\n"));
        assert!(out.contains("x_seconds_bucket{a=\"q\\\"\\\\\\n\",le=\"300\"} 3\n"));
        assert!(out.contains("x_seconds_bucket{a=\"q\\\"\\\\\\n\",le=\"+Inf\"} 4\n"));
        assert!(out.contains("x_seconds_sum{a=\"q\\\"\\\\\\n\"} 1.5\n"));
        assert!(out.contains("x_seconds_count{a=\"q\\\"\\\\\\n\"} 4\n"));
    }
}
