//! `spate demo`: the whole path with nothing installed. Starts an embedded
//! Kafka cluster, writes synthetic IoT events into it at a target rate,
//! runs them through the shipped `iot-enrich` workflow with the shipped
//! `config/spate.toml` (built into the binary), and prints throughput,
//! executions in flight and end-to-end latency once a second, then a
//! summary.

use super::run::{Generate, Session, handle_signals, init_logging};
use crate::config::{Config, admin_addr};
use anyhow::{anyhow, bail};
use clap::Args;
use spate_ingest::kafka::loadgen::Measurer;
use spate_ingest::kafka::{PARTITION_BYTES, Shutdown};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The shipped configuration and the files it names, built in so the demo
/// runs from anywhere.
const CONFIG: &str = include_str!("../../config/spate.toml");
const WORKFLOW_PATH: &str = "workflows/iot-enrich.asl.json";
const WORKFLOW: &str = include_str!("../../config/workflows/iot-enrich.asl.json");

/// A generous upper bound on one synthetic event (and on its output), for
/// sizing partitions under the embedded cluster's per-partition cap.
const EVENT_BYTES: f64 = 400.0;

/// Run synthetic IoT events through the example workflow on an embedded
/// Kafka cluster and print live throughput and latency.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Events per second.
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    /// Seconds to write events for.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Partitions per topic (default: enough for the data to fit the
    /// embedded cluster's 5 MiB per partition twice over).
    #[arg(long)]
    partitions: Option<u32>,
    /// One event in this many is malformed, to show the dead-letter topic
    /// (0: none).
    #[arg(long, default_value_t = 1000)]
    poison_every: u64,
    /// Serve /metrics, /health, /ready and /stats here while the demo runs
    /// (`host:port`, port 0 for any free one, or `off`).
    #[arg(long, default_value = crate::admin::DEFAULT_ADDR)]
    admin_addr: String,
}

/// Runs the subcommand.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        bail!("--rate must be a positive number of events per second");
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        bail!("--duration must be a positive number of seconds");
    }
    init_logging(log::LevelFilter::Warn);
    let mut config = Config::parse(CONFIG, "config/spate.toml (built in)", &|p: &Path, _| {
        if p == Path::new(WORKFLOW_PATH) {
            Ok((PathBuf::from("config").join(p), WORKFLOW.to_string()))
        } else {
            Err("not built into the demo".to_string())
        }
    })
    .map_err(|e| anyhow!("{e}"))?;
    if !config.ingest.kafka.is_embedded() {
        bail!("the built-in configuration must use the embedded cluster");
    }
    let bytes = args.rate * args.duration * EVENT_BYTES;
    let needed = (bytes / (PARTITION_BYTES as f64 / 2.0)).ceil() as u32;
    let partitions = args
        .partitions
        .unwrap_or_else(|| needed.max(config.ingest.embedded.partitions));
    if partitions < needed {
        eprintln!(
            "note: {partitions} partitions may overflow the embedded cluster's 5 MiB per partition; try --partitions {needed}"
        );
    }
    config.ingest.embedded.partitions = partitions.max(1);
    config.admin_addr = admin_addr(&args.admin_addr).map_err(|e| anyhow!("--admin-addr: {e}"))?;
    let pipeline = config.ingest.pipelines[0].clone();

    let shutdown = Shutdown::new();
    handle_signals(Arc::clone(&shutdown))?;
    let duration = Duration::from_secs_f64(args.duration);
    let session = Session::start(
        &config,
        Arc::clone(&shutdown),
        Some(Generate {
            rate: args.rate,
            duration,
            poison_every: args.poison_every,
        }),
    )?;
    let measurer = Measurer::start(
        &session.bootstrap,
        &[pipeline.output_topic.clone(), pipeline.dlq_topic.clone()],
        &config.ingest.kafka.consumer,
    )?;
    println!(
        "spate demo: {} IoT events/s for {} s through {} ({} partitions, embedded Kafka at {})",
        args.rate,
        args.duration,
        pipeline.definition_path.display(),
        partitions,
        session.bootstrap
    );
    if let Some(admin) = &session.admin {
        println!(
            "metrics for Prometheus at http://{0}/metrics (also /stats, /ready, /health)",
            admin.addr()
        );
        if session.console.is_some() {
            println!(
                "web console at http://{0}/console/ (GraphQL at http://{0}/graphql)",
                admin.addr()
            );
        }
    }
    println!(
        "{:>5}  {:>9}  {:>9}  {:>9}  {:>8}  {:>8}  {:>8}  {:>8}  {:>6}",
        "sec", "sent/s", "done/s", "in flight", "p50 ms", "p90 ms", "p99 ms", "max ms", "dlq"
    );
    let started = Instant::now();
    let stats = Arc::clone(&session.pipelines[0].stats);
    let generated = || {
        session
            .generators
            .iter()
            .map(|g| g.stats.acked.load(Ordering::Relaxed))
            .sum::<u64>()
    };
    let (mut last_sent, mut last_done) = (0u64, 0u64);
    let mut second = 0u64;
    // Runs for the duration, then until every event's outcome has arrived
    // (or 15 s more).
    let give_up = started + duration + Duration::from_secs(15);
    loop {
        second += 1;
        let tick = started + Duration::from_secs(second);
        std::thread::sleep(tick.saturating_duration_since(Instant::now()));
        let sent = generated();
        let done = measurer.stats.received.load(Ordering::Relaxed);
        let latency = measurer.stats.take_interval();
        let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{:>5}  {:>9}  {:>9}  {:>9}  {:>8.1}  {:>8.1}  {:>8.1}  {:>8.1}  {:>6}",
            second,
            sent - last_sent,
            done - last_done,
            stats.executing.load(Ordering::Relaxed),
            ms(0.5),
            ms(0.9),
            ms(0.99),
            latency.max() as f64 / 1000.0,
            measurer.stats.dead_letters.load(Ordering::Relaxed),
        );
        (last_sent, last_done) = (sent, done);
        if second == 1 {
            // The first second includes connecting and the first fetches.
            measurer.stats.reset_total();
        }
        let generators_done = session.generators.iter().all(|g| g.is_finished());
        if shutdown.requested()
            || (generators_done && done >= sent)
            || Instant::now() >= give_up
            || session.finished()
        {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent = generated();
    let done = measurer.stats.received.load(Ordering::Relaxed);
    let dead = measurer.stats.dead_letters.load(Ordering::Relaxed);
    let duplicates = measurer.stats.duplicates.load(Ordering::Relaxed);
    let total = measurer.stats.total();
    measurer.stop()?;
    session.finish()?;
    let snapshot = stats.snapshot();
    println!();
    println!(
        "{sent} events in {elapsed:.1} s: {} outputs, {dead} dead letters (malformed events), {duplicates} duplicates; {} executions ({} failed), {} commits",
        done - dead,
        snapshot.started,
        snapshot.failed,
        snapshot.commits,
    );
    println!(
        "end-to-end latency after the first second (event written to outcome read), ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
        total.value_at_quantile(0.5) as f64 / 1000.0,
        total.value_at_quantile(0.9) as f64 / 1000.0,
        total.value_at_quantile(0.99) as f64 / 1000.0,
        total.value_at_quantile(0.999) as f64 / 1000.0,
        total.max() as f64 / 1000.0,
    );
    println!(
        "next: `spate run --config config/spate.toml` runs the same pipeline; point [kafka] bootstrap_servers at your cluster"
    );
    if done < sent {
        eprintln!(
            "{} events had no outcome yet when the demo ended",
            sent - done
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
