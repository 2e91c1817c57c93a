//! `spate bench`: runs executions in-process through the sharded runtime,
//! as fast as possible or at a fixed rate, and reports throughput, state
//! transitions and latency percentiles (submit to completion).
//!
//! As fast as possible is a closed loop: `--concurrency` executions start,
//! and each completion submits the next one from the shard thread it ran on
//! (through [`RuntimeHandle`], so it stays on that shard). No submitting
//! thread competes with the shards for the cores. With `--rate`, this thread
//! submits on schedule instead (an open loop) and latency includes queueing.

use super::load;
use super::log_args::LogArgs;
use crate::console::journal::Journal;
use crate::console::settings::ConsoleSettings;
use crate::console::tap::PipelineTap;
use anyhow::{Context, bail};
use clap::Args;
use hdrhistogram::Histogram;
use spate_engine::interp::{History, LogLevel};
use spate_engine::plan::Plan;
use spate_engine::registry::{Registry, StateMachine};
use spate_engine::runtime::{
    Completion, CompletionSink, MachineLabel, Runtime, RuntimeConfig, RuntimeHandle, Status,
    Submission, SubmitError,
};
use spate_engine::task::Resources;
use spate_engine::value::{Str, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
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
    /// Executions in flight at once (without --rate, a closed loop keeps
    /// exactly this many running; with --rate, the admission limit).
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
    /// Execution logs, to measure what they cost.
    #[command(flatten)]
    logs: LogArgs,
    /// Count executions, states and tasks as `spate run` does for its
    /// Prometheus metrics (`off` measures what counting costs).
    #[arg(long, value_enum, default_value_t = Toggle::On)]
    metrics: Toggle,
    /// Record executions in a web console's journal as `spate run` does
    /// for its pipelines (every summary offered, 1 in 100 with its
    /// history), to measure what recording costs.
    #[arg(long, value_enum, default_value_t = Toggle::Off)]
    console: Toggle,
}

/// A switch given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Toggle {
    On,
    Off,
}

/// Completions are recorded into per-thread stripes (each shard thread gets
/// its own, on its own cache lines), so shard threads never share a lock or
/// a counter; the stripes are summed at the end.
const STRIPES: usize = 64;

#[repr(align(128))]
struct Stripe {
    histogram: Histogram<u64>,
    completed: u64,
    failed: u64,
    transitions: u64,
}

/// What every lane shares: the stripes that record completions, the limit
/// on executions, and (in a closed loop) the runtime and the lanes.
struct Bench {
    stripes: Vec<Mutex<Stripe>>,
    first_failure: Mutex<Option<String>>,
    limit: Limit,
    /// Executions handed out, with `--executions` (numbered globally, so
    /// exactly that many run).
    tickets: AtomicU64,
    stopped: AtomicBool,
    /// Submissions the runtime refused in the closed loop (should stay 0).
    lost: AtomicU64,
    /// The closed loop's way back into the runtime.
    runtime: Option<RuntimeHandle>,
    lanes: OnceLock<Vec<Weak<Lane>>>,
}

/// What the stripes hold, summed.
#[derive(Default)]
struct Totals {
    completed: u64,
    failed: u64,
    transitions: u64,
}

impl Bench {
    fn record(&self, c: &Completion) {
        let micros = (c.ended_at.unix_nanos() - c.queued_at.unix_nanos()).max(0) as u64 / 1_000;
        let stripe = STRIPE.with(|s| *s);
        let failed = c.status != Status::Succeeded;
        if let Ok(mut s) = self.stripes[stripe].lock() {
            s.histogram.saturating_record(micros.max(1));
            s.transitions += u64::from(c.transitions);
            s.failed += u64::from(failed);
            s.completed += 1;
        }
        if failed
            && let Ok(mut first) = self.first_failure.lock()
            && first.is_none()
        {
            let why = match &c.result {
                Err(e) => e.to_string(),
                Ok(_) => format!("{:?}", c.status),
            };
            *first = Some(why);
        }
    }

    /// The lane of the calling thread.
    fn my_lane(&self) -> Option<Arc<Lane>> {
        let lanes = self.lanes.get()?;
        lanes[STRIPE.with(|s| *s) % lanes.len()].upgrade()
    }

    fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for stripe in &self.stripes {
            if let Ok(s) = stripe.lock() {
                totals.completed += s.completed;
                totals.failed += s.failed;
                totals.transitions += s.transitions;
            }
        }
        totals
    }

    fn merged(&self) -> Histogram<u64> {
        let mut all = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
        for stripe in &self.stripes {
            if let Ok(s) = stripe.lock() {
                let _ = all.add(&s.histogram);
            }
        }
        all
    }
}

/// Hands each thread that records its own stripe (threads beyond
/// [`STRIPES`] share, round robin).
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static STRIPE: usize = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
}

/// One thread's source of executions and their sink: its own compiled plan
/// and copies of the input, so the executions a shard runs bump no
/// reference count that another core also bumps.
struct Lane {
    index: usize,
    bench: Arc<Bench>,
    plan: Arc<Plan>,
    /// The state machine's execution logging, if on.
    history: Option<History>,
    /// What the executions count under, when metrics are on.
    machine: Option<MachineLabel>,
    /// The state machine, whose registry's observer (the console's
    /// journal, with `--console on`) sees each submission.
    observed: Option<Arc<StateMachine>>,
    inputs: Vec<Value>,
    sequence: AtomicU64,
    me: Weak<Lane>,
}

impl Lane {
    /// The next execution, unless the limit is reached.
    fn next(&self) -> Option<Submission> {
        let bench = &self.bench;
        if bench.stopped.load(Ordering::Relaxed) {
            return None;
        }
        if let Limit::Count(n) = bench.limit
            && bench.tickets.fetch_add(1, Ordering::Relaxed) >= n
        {
            bench.stopped.store(true, Ordering::Relaxed);
            return None;
        }
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let mut submission = Submission {
            plan: Arc::clone(&self.plan),
            name: Str::from(format!("bench-{}-{sequence}", self.index)),
            input: self.inputs[(sequence % self.inputs.len() as u64) as usize].clone(),
            key: None,
            tag: sequence,
            sink: self.me.upgrade()?,
            history: self.history.clone(),
            resources: None,
            machine: self.machine,
        };
        if let Some(machine) = &self.observed {
            machine.observe(&mut submission, None);
        }
        Some(submission)
    }
}

impl CompletionSink for Lane {
    fn complete(&self, c: Completion) {
        let bench = &self.bench;
        bench.record(&c);
        if let Some(runtime) = &bench.runtime
            && let Some(lane) = bench.my_lane()
            && let Some(next) = lane.next()
        {
            // The runtime admits one execution per shard beyond the
            // concurrency, so the completing one can hand over its place.
            if runtime.submit(next).is_err() {
                bench.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Runs the subcommand.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let registry = Registry::default();
    let machine = load::state_machine(&registry, &args.definition)?;
    let input = load::json_input(&args.input)?;
    let resources = match &args.resources {
        Some(path) => load::resources(path)?,
        None => Resources::new(),
    };
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let logs = args.logs.attach(&machine)?;
    let journal = (args.console == Toggle::On).then(|| {
        let settings = ConsoleSettings::default();
        let journal = Journal::start(&settings, "us-east-1", "123456789012");
        registry.set_observer(Some(Arc::new(PipelineTap::new(
            Arc::clone(&journal),
            settings.history_sample_rate,
        ))));
        journal
    });
    let shards = args
        .shards
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let closed = args.rate.is_none();
    let runtime = Runtime::start(RuntimeConfig {
        shards,
        // In a closed loop a completing execution still counts while its
        // sink submits the next one: one extra place per shard.
        max_in_flight: args.concurrency + if closed { shards } else { 0 },
        resources,
        metrics: args.metrics == Toggle::On,
        ..RuntimeConfig::default()
    })
    .context("cannot start the runtime")?;
    let limit = match (args.executions, args.duration) {
        (Some(n), _) => Limit::Count(n),
        (None, Some(secs)) => Limit::Time(Duration::from_secs_f64(secs)),
        (None, None) => Limit::Count(100_000),
    };
    let bench = Arc::new(Bench {
        stripes: (0..STRIPES)
            .map(|_| {
                Mutex::new(Stripe {
                    histogram: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                        .expect("valid bounds"),
                    completed: 0,
                    failed: 0,
                    transitions: 0,
                })
            })
            .collect(),
        first_failure: Mutex::new(None),
        limit,
        tickets: AtomicU64::new(0),
        stopped: AtomicBool::new(false),
        lost: AtomicU64::new(0),
        runtime: closed.then(|| runtime.handle()),
        lanes: OnceLock::new(),
    });
    // A lane per shard thread (picked by the thread's stripe), and one more.
    let mut lanes = Vec::with_capacity(shards + 1);
    for index in 0..=shards {
        let plan = registry.plan_copy(&machine);
        lanes.push(Arc::new_cyclic(|me| Lane {
            index,
            bench: Arc::clone(&bench),
            plan,
            history: machine.history(),
            machine: (args.metrics == Toggle::On).then(|| machine.label()),
            observed: journal.is_some().then(|| Arc::clone(&machine)),
            inputs: (0..64).map(|_| deep_copy(&input)).collect(),
            sequence: AtomicU64::new(0),
            me: me.clone(),
        }));
    }
    let _ = bench.lanes.set(lanes.iter().map(Arc::downgrade).collect());
    let started = Instant::now();
    match args.rate {
        Some(rate) => open_loop(&runtime, &bench, &lanes[0], rate, started)?,
        None => closed_loop(&runtime, &bench, &lanes, args.concurrency, started)?,
    }
    while runtime.in_flight() > 0 {
        std::thread::sleep(Duration::from_micros(200));
    }
    let seconds = started.elapsed().as_secs_f64();
    runtime.shutdown(Duration::ZERO);
    let (logged, log_errors) = logs.shutdown();
    if let Some(e) = log_errors.first() {
        bail!("{e}");
    }
    let histogram = bench.merged();
    let Totals {
        completed,
        failed,
        transitions,
    } = bench.totals();
    let report = serde_json::json!({
        "definition": args.definition.display().to_string(),
        "executions": completed,
        "metrics": args.metrics == Toggle::On,
        "console": args.console == Toggle::On,
        "console_dropped": journal.as_ref().map_or(0, |j| j.dropped()),
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
        "log_level": args.logs.log_level.name(),
        "log_records": logged.written,
        "log_records_dropped": logged.dropped,
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
        if let Some(journal) = &journal {
            println!(
                "  console journal: every execution offered, {} dropped",
                journal.dropped()
            );
        }
        if args.logs.log_level != LogLevel::Off {
            println!(
                "  execution logs {} to {}: {} records, {} dropped",
                args.logs.log_level, args.logs.log_destination, logged.written, logged.dropped
            );
        }
    }
    let lost = bench.lost.load(Ordering::Relaxed);
    if lost > 0 {
        bail!("the runtime refused {lost} executions the closed loop submitted");
    }
    if let Some(why) = bench.first_failure.lock().ok().and_then(|f| f.clone()) {
        eprintln!("first failure: {why}");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy)]
enum Limit {
    Count(u64),
    Time(Duration),
}

/// Submits at `rate` executions per second from this thread until the
/// limit is reached.
fn open_loop(
    runtime: &Runtime,
    bench: &Bench,
    lane: &Lane,
    rate: f64,
    started: Instant,
) -> anyhow::Result<()> {
    let mut submitted: u64 = 0;
    loop {
        if let Limit::Time(d) = bench.limit
            && started.elapsed() >= d
        {
            return Ok(());
        }
        let due = Duration::from_secs_f64(submitted as f64 / rate);
        let elapsed = started.elapsed();
        if due > elapsed {
            std::thread::sleep(due - elapsed);
        }
        let Some(mut submission) = lane.next() else {
            return Ok(());
        };
        loop {
            match runtime.submit(submission) {
                Ok(_) => break,
                Err(SubmitError::Full(back)) => {
                    // Full: let the shards drain rather than spin against them.
                    submission = *back;
                    std::thread::sleep(Duration::from_micros(50));
                }
                Err(SubmitError::ShuttingDown(_)) => bail!("the runtime stopped"),
            }
        }
        submitted += 1;
    }
}

/// Starts `concurrency` executions; each completion submits the next (from
/// its shard thread, so it stays on that shard) until the limit is reached.
fn closed_loop(
    runtime: &Runtime,
    bench: &Bench,
    lanes: &[Arc<Lane>],
    concurrency: usize,
    started: Instant,
) -> anyhow::Result<()> {
    for i in 0..concurrency {
        let Some(submission) = lanes[i % lanes.len()].next() else {
            break;
        };
        if runtime.submit(submission).is_err() {
            bail!("the runtime refused the first executions");
        }
    }
    if let Limit::Time(d) = bench.limit {
        std::thread::sleep(d.saturating_sub(started.elapsed()));
        bench.stopped.store(true, Ordering::Relaxed);
    }
    Ok(())
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
