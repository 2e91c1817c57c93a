//! The sharded runtime: many concurrent executions on a few worker threads.
//!
//! Each of N shards (a thread, by default one per core) owns its executions
//! outright: a slab of fibers, a ready queue and a timer wheel. Other threads
//! only hand it messages through its lock-free inbox (new executions, task
//! results, children that finished elsewhere, cancellations), so the hot path
//! takes no lock. An execution is a [`Fiber`](crate::interp::Fiber) resumed by
//! its shard: CPU-only states run back to back until the fiber waits for a
//! timer, a task or its children.
//!
//! # How an execution flows
//!
//! 1. [`Runtime::submit`] (or [`RuntimeHandle::submit`], from any thread)
//!    admits it (or answers [`SubmitError::Full`] when `max_in_flight`
//!    executions are running, so a source can pause) and sends it to a shard:
//!    the shard its placement key hashes to; without a key, the calling shard
//!    when a completion sink submits from a shard thread, else the next one
//!    round robin.
//! 2. The shard runs its fiber. Wait states, Retry back-off, task timeouts
//!    and heartbeats, and the execution's deadline (its `TimeoutSeconds`,
//!    capped by [`RuntimeConfig::max_duration`]) are timers in the shard's
//!    wheel.
//! 3. A Task's handler answers at once, after a simulated delay (a timer), or
//!    with a future that runs on the runtime's tokio I/O threads; its result
//!    comes back through the shard's inbox. A slow task never blocks a shard.
//! 4. Map and Parallel fork children, started as `MaxConcurrency` allows,
//!    at most 128 per turn of the shard's loop, and within the execution's
//!    budget of live fibers ([`RuntimeConfig::max_fibers_per_execution`])
//!    and of bytes ([`RuntimeConfig::max_bytes_per_execution`]).
//!    While other shards are idle, children are handed to them so one big Map
//!    uses every core; a child that finishes on another shard reports back
//!    through the parent's inbox, and the parent resumes when its join counter
//!    completes (results in order). A loop turn hands back to the timers
//!    every 2 ms of work, so deadlines hold whatever the states cost.
//! 5. A `.waitForTaskToken` task waits for a callback: its token names the
//!    shard and the task, so [`RuntimeHandle::send_task_success`] (and
//!    `_failure`, `_heartbeat`) goes straight to the shard that holds it.
//! 6. The execution ends in exactly one [`Completion`], delivered to the
//!    submitter's [`CompletionSink`] on the shard thread: succeeded, failed,
//!    timed out or aborted. Cancelling an execution (its id names its
//!    shard) drops its fibers on every shard they run on and aborts its
//!    in-flight task futures.
//!
//! A submission may ask for its history ([`History`]): each typed event goes
//! to its subscriber as the shard produces it. The runtime runs on real time
//! or on virtual time ([`RuntimeClock`]), which skips ahead whenever nothing
//! but timers is left.

mod callback;
mod clock;
mod inbox;
mod metrics;
mod shard;
mod timer;
mod token_waits;

pub use callback::CallbackReply;
pub use clock::RuntimeClock;
pub(crate) use metrics::MachineBlock;
pub use metrics::{
    BUCKET_BOUNDS_SECONDS, Buckets, Count, Histogram, MachineLabel, MachineTotals, ResourceTotals,
    RuntimeMetrics, STATE_TYPES, STATUSES, ShardGauges, TASK_OUTCOMES,
};
pub use timer::TimerWheel;

use crate::error::StatesError;
use crate::interp::History;
use crate::plan::Plan;
use crate::task::{CallbackError, Resources, TaskToken};
use crate::time::Timestamp;
use crate::value::{Str, Value};
use clock::SharedClock;
use inbox::{CallbackAction, Inbox, Message};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// It succeeded with an output.
    Succeeded,
    /// It failed with an error.
    Failed,
    /// It ran past its deadline (`States.Timeout`).
    TimedOut,
    /// It was stopped (cancelled, or the runtime shut down), as AWS's
    /// `StopExecution` aborts an execution.
    Aborted,
}

impl Status {
    /// AWS's name for the status (`SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`).
    pub fn aws_name(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }
}

/// The one event that ends every execution.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The runtime's id for the execution (from [`Runtime::submit`]).
    pub id: ExecutionId,
    /// The execution's name.
    pub name: Str,
    /// The submitter's tag, handed back unchanged.
    pub tag: u64,
    /// How it ended.
    pub status: Status,
    /// The output, or the error and cause.
    pub result: Result<Value, StatesError>,
    /// When it was submitted.
    pub queued_at: Timestamp,
    /// When its shard started it.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Timestamp,
    /// States entered plus retries, across all its branches.
    pub transitions: u32,
}

/// Receives completions. Called on a shard thread: keep it short (hand the
/// completion to a channel or update counters).
pub trait CompletionSink: Send + Sync {
    /// One execution ended.
    fn complete(&self, completion: Completion);
}

impl<F: Fn(Completion) + Send + Sync> CompletionSink for F {
    fn complete(&self, completion: Completion) {
        self(completion)
    }
}

/// An execution to run.
pub struct Submission {
    /// The compiled state machine.
    pub plan: Arc<Plan>,
    /// The execution's name.
    pub name: Str,
    /// Its input.
    pub input: Value,
    /// Placement: executions with the same key run on the same shard.
    pub key: Option<u64>,
    /// Handed back in the completion, for the submitter's bookkeeping.
    pub tag: u64,
    /// Where the completion goes.
    pub sink: Arc<dyn CompletionSink>,
    /// Where its history goes, if anywhere (recording costs nothing when
    /// `None`).
    pub history: Option<History>,
    /// Task handlers for this execution alone (mocked responses of a test
    /// case, for instance) instead of the runtime's.
    pub resources: Option<Arc<Resources>>,
    /// The state machine its metrics count under (`None`: not counted).
    pub machine: Option<MachineLabel>,
}

impl Submission {
    /// A submission with no placement key, tag or history.
    pub fn new(
        plan: Arc<Plan>,
        name: impl Into<Str>,
        input: Value,
        sink: Arc<dyn CompletionSink>,
    ) -> Submission {
        Submission {
            plan,
            name: name.into(),
            input,
            key: None,
            tag: 0,
            sink,
            history: None,
            resources: None,
            machine: None,
        }
    }
}

/// The runtime's id for a submitted execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExecutionId(pub u64);

/// Why a submission was refused; the submission is handed back.
pub enum SubmitError {
    /// `max_in_flight` executions are running: try again when one completes.
    Full(Box<Submission>),
    /// The runtime is shutting down.
    ShuttingDown(Box<Submission>),
}

impl std::fmt::Debug for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::Full(s) => write!(f, "Full({})", s.name),
            SubmitError::ShuttingDown(s) => write!(f, "ShuttingDown({})", s.name),
        }
    }
}

/// The default of [`RuntimeConfig::max_fibers_per_execution`]: far above
/// what AWS runs (40 inline Map iterations at once), low enough that one
/// runaway fan-out (nested Maps with no `MaxConcurrency`) stays within
/// about 100 MB.
pub const DEFAULT_MAX_FIBERS_PER_EXECUTION: u32 = 100_000;

/// The default of [`RuntimeConfig::max_bytes_per_execution`]: 256 MiB, a
/// thousand payloads at AWS's limit, far above what a Map or Parallel whose
/// result fits that limit ever holds.
pub const DEFAULT_MAX_BYTES_PER_EXECUTION: u64 = 256 << 20;

/// The stack of a shard thread. Expressions recurse once per level of their
/// syntax tree (the JSONata parser bounds it), and an unoptimised build
/// takes several times the stack per level a release build takes; only the
/// pages used are ever committed.
const SHARD_STACK: usize = 8 << 20;

/// Runtime settings.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Worker threads (default: the number of cores).
    pub shards: usize,
    /// Most executions in flight at once; `submit` answers `Full` above it.
    pub max_in_flight: usize,
    /// Longest an execution may run whatever its `TimeoutSeconds` (Express: 5 minutes).
    pub max_duration: Duration,
    /// Threads of the tokio runtime that runs asynchronous task I/O.
    pub io_threads: usize,
    /// Task handlers.
    pub resources: Resources,
    /// Real or virtual time.
    pub clock: RuntimeClock,
    /// Most Map iterations and Parallel branches (nested ones included)
    /// one execution may have alive at once; an execution that needs more
    /// fails with `States.Runtime`, and its neighbours are unaffected.
    pub max_fibers_per_execution: u32,
    /// Most bytes (of compact JSON, strings counted without escapes) one
    /// execution's Map iterations and Parallel branches may hold at once:
    /// the inputs of those alive plus the results their Maps and Parallels
    /// have collected so far. An execution over it fails with
    /// `States.Runtime`; its neighbours are unaffected.
    pub max_bytes_per_execution: u64,
    /// Whether the shards count executions, states and tasks for
    /// [`Runtime::metrics`] (the counters are per shard and cost a few
    /// plain stores per state).
    pub metrics: bool,
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig {
            shards: std::thread::available_parallelism().map_or(1, usize::from),
            max_in_flight: 100_000,
            max_duration: crate::limits::EXPRESS_MAX_DURATION,
            io_threads: 1,
            resources: Resources::new(),
            clock: RuntimeClock::Real,
            max_fibers_per_execution: DEFAULT_MAX_FIBERS_PER_EXECUTION,
            max_bytes_per_execution: DEFAULT_MAX_BYTES_PER_EXECUTION,
            metrics: true,
        }
    }
}

/// Could not start the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A thread or the I/O runtime could not be created.
    #[error("cannot start the runtime: {0}")]
    Start(#[from] std::io::Error),
}

/// Counters the shards keep, for benchmarks and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Executions completed.
    pub completed: u64,
    /// State transitions made by completed executions.
    pub transitions: u64,
}

/// What the runtime's threads share.
pub(crate) struct Shared {
    pub(crate) inboxes: Vec<Arc<Inbox>>,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: usize,
    pub(crate) max_duration: Duration,
    pub(crate) max_fibers: u32,
    pub(crate) max_bytes: u64,
    /// Per shard: executions placed on it so far, for ids (`seq * shards +
    /// shard`, unique without a counter every submitter shares).
    pub(crate) placed: Vec<CacheLine<AtomicU64>>,
    pub(crate) round_robin: AtomicUsize,
    pub(crate) stopping: AtomicBool,
    pub(crate) resources: Resources,
    pub(crate) io: tokio::runtime::Handle,
    pub(crate) completed: Vec<CacheLine<AtomicU64>>,
    pub(crate) transitions: Vec<CacheLine<AtomicU64>>,
    pub(crate) clock: SharedClock,
    /// Random per runtime: task tokens carry it, so a token of another
    /// process is told apart from one this runtime issued.
    pub(crate) epoch: u64,
    /// Whether the shards record metrics.
    pub(crate) metrics_on: bool,
    /// Each shard's metric blocks, in shard order.
    pub(crate) metrics: Vec<metrics::ShardBlocks>,
    /// The shards' busy ratios, as last read.
    pub(crate) busy: metrics::BusyRatios,
}

/// Keeps a per-shard counter on its own cache line.
#[repr(align(64))]
#[derive(Default)]
pub(crate) struct CacheLine<T>(pub(crate) T);

/// A running runtime. Dropping it stops the shards (see [`Runtime::shutdown`]).
pub struct Runtime {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    io: Option<tokio::runtime::Runtime>,
}

impl Runtime {
    /// Starts the shards and the I/O threads.
    pub fn start(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let shards = config.shards.clamp(1, usize::from(u16::MAX));
        let io = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.io_threads.max(1))
            .thread_name("spate-io")
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared {
            inboxes: (0..shards).map(|_| Arc::new(Inbox::new())).collect(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: config.max_in_flight.max(1),
            max_duration: config.max_duration,
            max_fibers: config.max_fibers_per_execution.max(1),
            max_bytes: config.max_bytes_per_execution,
            placed: (0..shards).map(|_| CacheLine::default()).collect(),
            round_robin: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            resources: config.resources,
            io: io.handle().clone(),
            completed: (0..shards).map(|_| CacheLine::default()).collect(),
            transitions: (0..shards).map(|_| CacheLine::default()).collect(),
            clock: SharedClock::new(config.clock, shards),
            epoch: rand::random(),
            metrics_on: config.metrics,
            metrics: (0..shards).map(|_| Default::default()).collect(),
            busy: metrics::BusyRatios::new(shards),
        });
        let mut threads = Vec::with_capacity(shards);
        for index in 0..shards {
            let shared = Arc::clone(&shared);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("spate-shard-{index}"))
                    .stack_size(SHARD_STACK)
                    .spawn(move || shard::Shard::new(index, shared).run())?,
            );
        }
        Ok(Runtime {
            shared,
            threads,
            io: Some(io),
        })
    }

    /// Starts a runtime with `config`, runs one execution of `plan` on
    /// `input` to its end and stops the runtime: the shortest way to run a
    /// state machine once (examples, tests, tools).
    pub fn run_once(
        config: RuntimeConfig,
        plan: Arc<Plan>,
        input: Value,
    ) -> Result<Completion, RuntimeError> {
        let runtime = Runtime::start(config)?;
        let sink: Arc<dyn CompletionSink> = Arc::new(|_: Completion| {});
        let completion = runtime
            .handle()
            .run_to_end(Submission::new(plan, "run-once", input, sink))
            .expect("a runtime just started admits its first execution");
        runtime.shutdown(Duration::ZERO);
        Ok(completion)
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.shared.inboxes.len()
    }

    /// Executions admitted and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Acquire)
    }

    /// The admission limit.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight
    }

    /// Completed executions and their transitions, summed over the shards.
    pub fn stats(&self) -> Stats {
        Stats {
            completed: self
                .shared
                .completed
                .iter()
                .map(|c| c.0.load(Ordering::Relaxed))
                .sum(),
            transitions: self
                .shared
                .transitions
                .iter()
                .map(|c| c.0.load(Ordering::Relaxed))
                .sum(),
        }
    }

    /// Every execution metric, summed over the shards (see
    /// [`RuntimeHandle::metrics`]).
    pub fn metrics(&self) -> RuntimeMetrics {
        collect_metrics(&self.shared)
    }

    /// Starts an execution, or refuses it when the runtime is full or
    /// stopping (handing the submission back). See [`RuntimeHandle::submit`].
    pub fn submit(&self, submission: Submission) -> Result<ExecutionId, SubmitError> {
        submit(&self.shared, submission)
    }

    /// Cancels an execution: it completes with [`Status::Aborted`] (unless
    /// it already ended), its children stop and its task futures are aborted.
    pub fn cancel(&self, id: ExecutionId) {
        cancel(&self.shared, id)
    }

    /// A cloneable handle that submits to this runtime, for completion
    /// sinks and front ends that start executions from other threads.
    pub fn handle(&self) -> RuntimeHandle {
        RuntimeHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops accepting work, lets in-flight executions finish for up to
    /// `grace`, cancels what is left, and stops the threads. Returns how many
    /// executions were cancelled.
    pub fn shutdown(mut self, grace: Duration) -> usize {
        self.stop(grace)
    }

    fn stop(&mut self, grace: Duration) -> usize {
        self.shared.stopping.store(true, Ordering::Release);
        let deadline = std::time::Instant::now() + grace;
        while self.in_flight() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        let left = self.in_flight();
        for inbox in &self.shared.inboxes {
            inbox.push(Message::Stop);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        if let Some(io) = self.io.take() {
            io.shutdown_background();
        }
        left
    }
}

/// Submits to a running [`Runtime`] from anywhere, including a completion
/// sink on a shard thread. Submissions after the runtime stopped are refused
/// with [`SubmitError::ShuttingDown`].
#[derive(Clone)]
pub struct RuntimeHandle {
    shared: Arc<Shared>,
}

impl RuntimeHandle {
    /// Starts an execution, or refuses it when the runtime is full or
    /// stopping (handing the submission back).
    ///
    /// Placement: a keyed submission goes to the shard its key hashes to. An
    /// unkeyed one submitted from one of this runtime's shard threads (a
    /// completion sink chaining work) stays on that shard; from any other
    /// thread it goes to the next shard round robin.
    pub fn submit(&self, submission: Submission) -> Result<ExecutionId, SubmitError> {
        submit(&self.shared, submission)
    }

    /// Cancels an execution (see [`Runtime::cancel`]).
    pub fn cancel(&self, id: ExecutionId) {
        cancel(&self.shared, id)
    }

    /// Every execution metric, summed over the shards: per state machine
    /// (submissions with a [`Submission::machine`]), per task resource,
    /// per shard. Each shard writes only its own counters; this reads them
    /// all, so a scrape costs the shards nothing.
    pub fn metrics(&self) -> RuntimeMetrics {
        collect_metrics(&self.shared)
    }

    /// Completes the `.waitForTaskToken` task that was given `token` with
    /// `output`, as AWS's `SendTaskSuccess`. Callable from any thread; the
    /// reply says whether a task took it.
    pub fn send_task_success(&self, token: &str, output: Value) -> CallbackReply {
        self.callback(token, CallbackAction::Success(output))
    }

    /// Fails the `.waitForTaskToken` task that was given `token` with
    /// `error` and `cause`, as AWS's `SendTaskFailure` (Retry and Catch see
    /// that error).
    pub fn send_task_failure(&self, token: &str, error: &str, cause: &str) -> CallbackReply {
        self.callback(
            token,
            CallbackAction::Failure(StatesError::new(error, cause)),
        )
    }

    /// Restarts the heartbeat timer of the task that was given `token`, as
    /// AWS's `SendTaskHeartbeat`.
    pub fn send_task_heartbeat(&self, token: &str) -> CallbackReply {
        self.callback(token, CallbackAction::Heartbeat)
    }

    fn callback(&self, token: &str, action: CallbackAction) -> CallbackReply {
        let Some(token) = TaskToken::decode(token) else {
            return CallbackReply::ready(Err(CallbackError::InvalidToken));
        };
        let shard = usize::from(token.shard);
        if token.epoch != self.shared.epoch || shard >= self.shared.inboxes.len() {
            return CallbackReply::ready(Err(CallbackError::TaskDoesNotExist));
        }
        if self.shared.stopping.load(Ordering::Acquire) {
            return CallbackReply::ready(Err(CallbackError::ShuttingDown));
        }
        let (reply, receiver) = tokio::sync::oneshot::channel();
        self.shared.inboxes[shard].push(Message::Callback(Box::new(inbox::Callback {
            token,
            action,
            reply,
        })));
        CallbackReply::pending(receiver)
    }

    /// Runs one execution and waits for its end, blocking the calling
    /// thread (not for a shard thread or an async task: submit with a sink
    /// there).
    pub fn run_to_end(&self, mut submission: Submission) -> Result<Completion, SubmitError> {
        let (sender, receiver) = crossbeam::channel::bounded(1);
        submission.sink = Arc::new(move |c: Completion| {
            let _ = sender.send(c);
        });
        self.submit(submission)?;
        Ok(receiver
            .recv()
            .expect("the runtime delivers every admitted execution's completion"))
    }
}

fn submit(shared: &Arc<Shared>, submission: Submission) -> Result<ExecutionId, SubmitError> {
    if shared.stopping.load(Ordering::Acquire) {
        return Err(SubmitError::ShuttingDown(Box::new(submission)));
    }
    let admitted = shared
        .in_flight
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < shared.max_in_flight).then_some(n + 1)
        });
    if admitted.is_err() {
        return Err(SubmitError::Full(Box::new(submission)));
    }
    let shards = shared.inboxes.len();
    let shard = match submission.key {
        Some(key) => (shard::mix(key) % shards as u64) as usize,
        None => shard::current_shard_of(shared)
            .unwrap_or_else(|| shared.round_robin.fetch_add(1, Ordering::Relaxed) % shards),
    };
    let seq = shared.placed[shard].0.fetch_add(1, Ordering::Relaxed);
    let id = ExecutionId(seq * shards as u64 + shard as u64 + 1);
    let queued_at = shared.clock.now();
    shared.inboxes[shard].push(Message::Start(Box::new(inbox::Start {
        id,
        submission,
        queued_at,
    })));
    Ok(id)
}

fn collect_metrics(shared: &Shared) -> RuntimeMetrics {
    metrics::collect(
        &shared.metrics,
        &shared.busy,
        shared.in_flight.load(Ordering::Relaxed) as u64,
    )
}

fn cancel(shared: &Shared, id: ExecutionId) {
    // Ids are `seq * shards + shard + 1`: the id names the owning shard.
    let shards = shared.inboxes.len() as u64;
    if let Some(shard) = id.0.checked_sub(1).map(|n| (n % shards) as usize) {
        let error = StatesError::new("ExecutionAborted", "the execution was cancelled");
        shared.inboxes[shard].push(Message::End(Box::new((id, Status::Aborted, error))));
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop(Duration::ZERO);
        }
    }
}

#[cfg(test)]
mod tests;
