//! `spate bench`: runs executions in-process through the sharded runtime,
//! as fast as possible or at a fixed rate, and reports throughput, state
//! transitions and latency percentiles (submit to completion).

use super::load;
use anyhow::{Context, bail};
use clap::Args;
use hdrhistogram::Histogram;
use spate_engine::runtime::{
    Completion, CompletionSink, Runtime, RuntimeConfig, Status, Submission, SubmitError,
};
use spate_engine::task::Resources;
use spate_engine::value::{Str, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Run many executions of a state machine in-process and report executions
/// per second, state transitions per second and latency percentiles.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The state machine definition.
    definition: PathBuf,
    /// The input of every execution (a JSON file).
    #[arg(long)]
    input: PathBuf,
    /// Task handlers (mocks, HTTP, Lambda endpoints), as for `spate exec`.
    #[arg(long)]
    resources: Option<PathBuf>,
    /// Run this many executions (default 100000 unless --duration is given).
    #[arg(long, conflicts_with = "duration")]
    executions: Option<u64>,
    /// Submit for this many seconds, then wait for the last ones.
    #[arg(long)]
    duration: Option<f64>,
    /// Executions in flight at once (the runtime's admission limit).
    #[arg(long, default_value_t = 1024)]
    concurrency: usize,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    shards: Option<usize>,
    /// Submit at this many executions per second instead of as fast as possible.
    #[arg(long)]
    rate: Option<f64>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Latencies are recorded into a few histograms picked by thread, so shard
/// threads rarely meet on a lock; they are merged at the end.
const STRIPES: usize = 16;

struct Recorder {
    histograms: Vec<Mutex<Histogram<u64>>>,
    completed: AtomicU64,
    failed: AtomicU64,
    transitions: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            histograms: (0..STRIPES)
                .map(|_| {
                    Mutex::new(
                        Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
                    )
                })
                .collect(),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            transitions: AtomicU64::new(0),
            first_failure: Mutex::new(None),
        }
    }

    fn merged(&self) -> Histogram<u64> {
        let mut all = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
        for h in &self.histograms {
            if let Ok(h) = h.lock() {
                let _ = all.add(&*h);
            }
        }
        all
    }
}

thread_local! {
    static STRIPE: usize = {
        use std::hash::BuildHasher;
        let hash = std::collections::hash_map::RandomState::new().hash_one(std::thread::current().id());
        (hash as usize) % STRIPES
    };
}

impl CompletionSink for Recorder {
    fn complete(&self, c: Completion) {
        let micros = (c.ended_at.unix_nanos() - c.queued_at.unix_nanos()).max(0) as u64 / 1_000;
        let stripe = STRIPE.with(|s| *s);
        if let Ok(mut h) = self.histograms[stripe].lock() {
            h.saturating_record(micros.max(1));
        }
        self.transitions
            .fetch_add(u64::from(c.transitions), Ordering::Relaxed);
        if c.status != Status::Succeeded {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.first_failure.lock()
                && first.is_none()
            {
                let why = match &c.result {
                    Err(e) => e.to_string(),
                    Ok(_) => format!("{:?}", c.status),
                };
                *first = Some(why);
            }
        }
        self.completed.fetch_add(1, Ordering::Release);
    }
}

/// Runs the subcommand.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let plan = load::plan(&args.definition)?;
    let input = load::json_input(&args.input)?;
    let resources = match &args.resources {
        Some(path) => load::resources(path)?,
        None => Resources::new(),
    };
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let shards = args
        .shards
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let runtime = Runtime::start(RuntimeConfig {
        shards,
        max_in_flight: args.concurrency,
        resources,
        ..RuntimeConfig::default()
    })
    .context("cannot start the runtime")?;
    let recorder = Arc::new(Recorder::new());
    let sink: Arc<dyn CompletionSink> = recorder.clone();
    // Distinct copies of the input, so executions do not all bump one shared
    // reference count from every core.
    let inputs: Vec<Value> = (0..256).map(|_| deep_copy(&input)).collect();
    let limit = match (args.executions, args.duration) {
        (Some(n), _) => Limit::Count(n),
        (None, Some(secs)) => Limit::Time(Duration::from_secs_f64(secs)),
        (None, None) => Limit::Count(100_000),
    };
    let started = Instant::now();
    let mut submitted: u64 = 0;
    let mut pending: Option<Submission> = None;
    loop {
        let more = match limit {
            Limit::Count(n) => submitted < n,
            Limit::Time(d) => started.elapsed() < d,
        };
        if !more {
            break;
        }
        if let Some(rate) = args.rate {
            let due = Duration::from_secs_f64(submitted as f64 / rate);
            let elapsed = started.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
        let submission = pending.take().unwrap_or_else(|| Submission {
            plan: Arc::clone(&plan),
            name: Str::from(format!("bench-{submitted}")),
            input: inputs[(submitted % inputs.len() as u64) as usize].clone(),
            key: None,
            tag: submitted,
            sink: Arc::clone(&sink),
        });
        match runtime.submit(submission) {
            Ok(_) => submitted += 1,
            Err(SubmitError::Full(back)) => {
                // Full: let the shards drain rather than spin against them.
                pending = Some(*back);
                std::thread::sleep(Duration::from_micros(50));
            }
            Err(SubmitError::ShuttingDown(_)) => bail!("the runtime stopped"),
        }
    }
    while recorder.completed.load(Ordering::Acquire) < submitted {
        std::thread::sleep(Duration::from_micros(200));
    }
    let seconds = started.elapsed().as_secs_f64();
    runtime.shutdown(Duration::ZERO);
    let histogram = recorder.merged();
    let completed = recorder.completed.load(Ordering::Acquire);
    let failed = recorder.failed.load(Ordering::Relaxed);
    let transitions = recorder.transitions.load(Ordering::Relaxed);
    let report = serde_json::json!({
        "definition": args.definition.display().to_string(),
        "executions": completed,
        "seconds": seconds,
        "executions_per_sec": completed as f64 / seconds,
        "transitions": transitions,
        "transitions_per_sec": transitions as f64 / seconds,
        "latency_us": {
            "p50": histogram.value_at_quantile(0.50),
            "p90": histogram.value_at_quantile(0.90),
            "p99": histogram.value_at_quantile(0.99),
            "p999": histogram.value_at_quantile(0.999),
            "max": histogram.max(),
        },
        "failed": failed,
        "shards": shards,
        "concurrency": args.concurrency,
        "peak_rss_bytes": peak_rss_bytes(),
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{} executions in {seconds:.2} s ({failed} failed)",
            completed
        );
        println!("  executions/s   {:>14.0}", completed as f64 / seconds);
        println!("  transitions/s  {:>14.0}", transitions as f64 / seconds);
        println!(
            "  latency µs     p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            report["latency_us"]["p50"],
            report["latency_us"]["p90"],
            report["latency_us"]["p99"],
            report["latency_us"]["p999"],
            report["latency_us"]["max"]
        );
        if let Some(rss) = peak_rss_bytes() {
            println!(
                "  peak RSS       {:>11.1} MiB",
                rss as f64 / (1024.0 * 1024.0)
            );
        }
        println!("  shards {shards}, concurrency {}", args.concurrency);
    }
    if let Some(why) = recorder.first_failure.lock().ok().and_then(|f| f.clone()) {
        eprintln!("first failure: {why}");
    }
    Ok(ExitCode::SUCCESS)
}

enum Limit {
    Count(u64),
    Time(Duration),
}

/// A copy sharing nothing with `value`.
fn deep_copy(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::array(items.iter().map(deep_copy).collect()),
        Value::Object(map) => Value::object(
            map.iter()
                .map(|(k, v)| (Str::new(k), deep_copy(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The process's peak resident set (Linux `VmHWM`), if known.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
