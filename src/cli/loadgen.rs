//! `spate loadgen`: end-to-end throughput and latency through Kafka.
//!
//! It creates fresh topics, runs a pipeline in this process (the same code
//! as `spate run`: consume, execute, publish, commit), writes events stamped
//! with their send time, reads the output topic, and reports throughput and
//! latency percentiles (event written to output read).
//!
//! - Without `--rate`, it first writes `--events` events, then starts the
//!   pipeline and measures how fast it drains them (from first to last
//!   output): the sustained throughput.
//! - With `--rate`, it writes at that rate for `--duration` seconds while
//!   the pipeline runs, and reports the latency after `--warmup`.
//! - `--passthrough` runs the same path with no workflow (each event is its
//!   own output): the ceiling to compare a workflow against.
//! - `--external` runs no pipeline: it writes to `--topic` and reads
//!   `--output-topic`, for a `spate run` started elsewhere.

use super::load;
use super::run::init_logging;
use crate::config::{RuntimeSettings, ranges};
use anyhow::{Context, anyhow, bail};
use clap::Args;
use spate_engine::task::Resources;
use spate_ingest::config::{PipelineSettings, in_range};
use spate_ingest::kafka::loadgen::{Generator, GeneratorSpec, Measurer};
use spate_ingest::kafka::{self, EmbeddedCluster, KafkaProduceTask, Shutdown, admin};
use spate_ingest::synth::IotEvents;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Measure end-to-end throughput and latency of a workflow (or of the bare
/// consume-produce-commit path) through Kafka.
#[derive(Debug, Args)]
pub struct LoadgenArgs {
    /// Brokers (`host:port,...`), or `embedded` for an in-process cluster.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap_servers: String,
    /// The state machine to run for every event.
    #[arg(long, required_unless_present_any = ["passthrough", "external"])]
    definition: Option<PathBuf>,
    /// Run no workflow: each event is published as its own output.
    #[arg(long, conflicts_with_all = ["definition", "external"])]
    passthrough: bool,
    /// Run no pipeline: write to --topic, read --output-topic.
    #[arg(long, requires_all = ["topic", "output_topic"])]
    external: bool,
    /// Every event's value (a JSON file); default: synthetic IoT events.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Task handlers (mock behaviours), as for `spate exec`.
    #[arg(long)]
    resources: Option<PathBuf>,
    /// Events per second (default: write all first, then measure draining).
    #[arg(long)]
    rate: Option<f64>,
    /// Seconds to write for at --rate.
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Seconds at the start of a --rate run left out of the latency.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Events to write when measuring throughput (no --rate).
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Partitions of the topics created.
    #[arg(long, default_value_t = 8)]
    partitions: u32,
    /// Executions in flight at once.
    #[arg(long, default_value_t = 1024)]
    max_in_flight: usize,
    /// Runtime worker threads (default: one per core left after the
    /// pipeline's thread, at least one).
    #[arg(long)]
    shards: Option<usize>,
    /// Source topic (default: a fresh one).
    #[arg(long)]
    topic: Option<String>,
    /// Output topic (default: a fresh one).
    #[arg(long)]
    output_topic: Option<String>,
    /// A librdkafka property for every client, `name=value` (repeatable),
    /// e.g. `fetch.wait.max.ms=10`.
    #[arg(long = "property", value_name = "NAME=VALUE")]
    properties: Vec<String>,
    /// Shortest time between two offset commits (the pipeline setting
    /// `commit_interval_ms`).
    #[arg(long, default_value_t = 0)]
    commit_interval_ms: u64,
    /// Run events with the same key one after another (`ordering =
    /// "per-key"`).
    #[arg(long)]
    per_key: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn run(args: LoadgenArgs) -> anyhow::Result<ExitCode> {
    init_logging(log::LevelFilter::Warn);
    let mut properties = BTreeMap::new();
    for p in &args.properties {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("--property {p}: expected NAME=VALUE"))?;
        properties.insert(k.trim().to_string(), v.trim().to_string());
    }
    if let Some(shards) = args.shards {
        in_range("--shards", shards as u64, &ranges::SHARDS).map_err(|p| anyhow!("{p}"))?;
    }
    let registry = spate_engine::registry::Registry::default();
    let machine = match &args.definition {
        Some(path) => Some(load::state_machine(&registry, path)?),
        None => None,
    };
    let template = match &args.input {
        Some(path) => Some(load::json_input(path)?.to_json_bytes()),
        None => None,
    };
    if args.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        bail!("--rate must be a positive number of events per second");
    }

    // Cluster and topics.
    let embedded = if args.bootstrap_servers == "embedded" {
        Some(EmbeddedCluster::start().context("cannot start the embedded cluster")?)
    } else {
        None
    };
    let bootstrap = embedded
        .as_ref()
        .map_or(args.bootstrap_servers.clone(), |c| {
            c.bootstrap_servers().to_string()
        });
    if embedded.is_none() && !admin::reachable(&bootstrap, Duration::from_secs(3)) {
        bail!(
            "no Kafka broker answers at {bootstrap} (start one with scripts/kafka-broker.sh start)"
        );
    }
    let unique = format!(
        "spate-loadgen-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let source = args.topic.clone().unwrap_or_else(|| format!("{unique}-in"));
    let output = args
        .output_topic
        .clone()
        .unwrap_or_else(|| format!("{unique}-out"));
    let dlq = format!("{unique}-dlq");
    if !args.external {
        let topics = [source.as_str(), output.as_str(), dlq.as_str()];
        match &embedded {
            Some(cluster) => {
                for t in topics {
                    cluster.create_topic(t, args.partitions)?;
                }
            }
            None => admin::create_topics(
                &bootstrap,
                &topics,
                args.partitions,
                Duration::from_secs(30),
            )
            .context("cannot create the topics")?,
        }
    }

    let mut events = IotEvents::new(7, 1000, 0);
    let make = move |n: u64| {
        let (key, value) = events.event(n);
        match &template {
            Some(t) => (Some(key), t.clone()),
            None => (Some(key), value),
        }
    };
    let generator_spec =
        |rate: Option<f64>, count: Option<u64>, duration: Option<Duration>| GeneratorSpec {
            topic: source.clone(),
            rate,
            count,
            duration,
            properties: properties.clone(),
        };

    // Throughput mode writes everything before the pipeline starts.
    let cpu_before = cpu_seconds();
    let prefill = args.rate.is_none();
    let mut written = 0;
    if prefill {
        let started = Instant::now();
        let g = Generator::start(
            &bootstrap,
            generator_spec(None, Some(args.events), None),
            Box::new(make.clone()),
        )?;
        let stats = Arc::clone(&g.stats);
        g.join()?;
        written = stats.acked.load(Ordering::Relaxed);
        if !args.json {
            eprintln!(
                "wrote {written} events to {source} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }

    // The pipeline.
    let shutdown = Shutdown::new();
    let mut pipeline_handle = None;
    let mut runtime = None;
    if !args.external {
        let mut kafka_settings = spate_ingest::config::KafkaSettings::new(bootstrap.clone());
        kafka_settings.properties = properties.clone();
        let mut settings = PipelineSettings::new(
            "loadgen",
            source.clone(),
            machine,
            output.clone(),
            dlq.clone(),
        );
        settings.group_id = format!("{unique}-group");
        settings.max_in_flight = args.max_in_flight;
        // The window covers the executions, the ready reserve and the
        // events awaiting acknowledgement (see the default's reasons).
        settings.max_pending_per_partition = settings
            .max_pending_per_partition
            .max(4 * args.max_in_flight);
        settings.commit_interval = Duration::from_millis(args.commit_interval_ms);
        if args.per_key {
            settings.ordering = spate_ingest::config::Ordering::PerKey;
        }
        let mut resources = match &args.resources {
            Some(path) => load::resources(path)?,
            None => Resources::new(),
        };
        KafkaProduceTask::new(&kafka_settings, &bootstrap)?.register(&mut resources);
        let runtime_settings = RuntimeSettings {
            shards: args.shards,
            ..RuntimeSettings::default()
        };
        let rt = Arc::new(runtime_settings.start(1, args.max_in_flight, resources)?);
        pipeline_handle = Some(kafka::start_pipeline(
            &kafka_settings,
            &bootstrap,
            Arc::new(settings),
            Arc::clone(&rt),
            Arc::clone(&shutdown),
        )?);
        runtime = Some(rt);
    }
    let measure_topics = if args.external {
        vec![output]
    } else {
        vec![output, dlq]
    };
    let measurer = Measurer::start(&bootstrap, &measure_topics, &properties)?;

    let started = Instant::now();
    let mut generator = None;
    if !prefill {
        // Wait for the pipeline to own its partitions, so the group join is
        // not counted as latency.
        if let Some(p) = &pipeline_handle {
            let deadline = Instant::now() + Duration::from_secs(30);
            while p.stats.assigned.load(Ordering::Relaxed) < i64::from(args.partitions)
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        generator = Some(Generator::start(
            &bootstrap,
            generator_spec(
                args.rate,
                None,
                Some(Duration::from_secs_f64(args.duration)),
            ),
            Box::new(make),
        )?);
    }
    let warmup = Duration::from_secs_f64(args.warmup);
    let mut warmed = prefill;
    // Wait for every output (or give up after a generous pause in progress).
    let mut last_progress = (0u64, Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(20));
        if !warmed && started.elapsed() >= warmup {
            measurer.stats.reset_total();
            warmed = true;
        }
        let target = match &generator {
            Some(g) if g.is_finished() => g.stats.acked.load(Ordering::Relaxed),
            Some(_) => u64::MAX,
            None => written,
        };
        let received = measurer.stats.received.load(Ordering::Relaxed);
        if received >= target {
            break;
        }
        if received != last_progress.0 {
            last_progress = (received, Instant::now());
        } else if last_progress.1.elapsed() > Duration::from_secs(30) {
            eprintln!("no progress for 30 s: stopping with {received} of {target} outputs");
            break;
        }
    }
    if let Some(g) = generator {
        written = g.stats.acked.load(Ordering::Relaxed);
        g.join()?;
    }
    let span = measurer.stats.span();
    let received = measurer.stats.received.load(Ordering::Relaxed);
    let duplicates = measurer.stats.duplicates.load(Ordering::Relaxed);
    let dead_letters = measurer.stats.dead_letters.load(Ordering::Relaxed);
    let latency = measurer.stats.total();
    let cpu = cpu_seconds().zip(cpu_before).map(|(a, b)| a - b);
    shutdown.request();
    if let Some(p) = pipeline_handle {
        p.join()?;
    }
    if let Some(rt) = runtime.and_then(|rt| Arc::try_unwrap(rt).ok()) {
        rt.shutdown(Duration::ZERO);
    }
    measurer.stop()?;

    let seconds = match (prefill, span) {
        (true, Some((first, last))) => (last - first).as_secs_f64().max(1e-6),
        _ => started.elapsed().as_secs_f64(),
    };
    let throughput = received.saturating_sub(1) as f64 / seconds;
    let mode = if args.external {
        "external"
    } else if args.passthrough {
        "passthrough"
    } else {
        "workflow"
    };
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let report = serde_json::json!({
        "mode": mode,
        "definition": args.definition.as_ref().map(|d| d.display().to_string()),
        "bootstrap_servers": bootstrap,
        "partitions": args.partitions,
        "rate": args.rate,
        "events_written": written,
        "outputs_read": received,
        "dead_letters": dead_letters,
        "duplicates": duplicates,
        "seconds": seconds,
        "events_per_sec": throughput,
        "latency_ms": {
            "p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "p999": ms(0.999),
            "max": latency.max() as f64 / 1000.0, "samples": latency.len(),
        },
        "process_cpu_seconds": cpu,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{mode}: {received} of {written} outputs in {seconds:.2} s: {throughput:.0} events/s ({dead_letters} dead letters, {duplicates} duplicates)"
        );
        println!(
            "  end-to-end latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  ({} samples{})",
            ms(0.5),
            ms(0.9),
            ms(0.99),
            ms(0.999),
            latency.max() as f64 / 1000.0,
            latency.len(),
            if prefill {
                ", queueing included: use --rate for latency"
            } else {
                ""
            }
        );
        if let Some(cpu) = cpu {
            println!("  process CPU {cpu:.1} s");
        }
    }
    drop(embedded);
    Ok(if received >= written {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// User plus system CPU time of this process, from /proc.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
