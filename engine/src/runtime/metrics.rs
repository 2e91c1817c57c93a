//! Execution metrics, recorded per shard without contention and merged
//! when read.
//!
//! Every shard keeps its own block of counters per state machine and per
//! task resource. Only the shard's thread writes its blocks, with a relaxed
//! load and store (no locked instruction, no shared cache line), and
//! [`Runtime::metrics`](super::Runtime::metrics) sums the blocks of every
//! shard when a scrape asks. A shard registers a block in its shared list
//! (one uncontended lock) the first time it runs that state machine or
//! calls that resource, and never again.
//!
//! State machines are told apart by a [`MachineLabel`]: a small number
//! interned process-wide from the state machine's name, resolved once when
//! the state machine is registered, so recording costs no hashing.
//! Resources are looked up by name in a shard-local map, once per task.

use crate::plan::StateKind;
use crate::value::Str;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

/// State types, in the order of [`MachineTotals::transitions`].
pub const STATE_TYPES: [&str; 8] = [
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

/// Execution statuses as metric labels, in the order of
/// [`MachineTotals::finished`] (the order of [`Status`](super::Status)).
pub const STATUSES: [&str; 4] = ["succeeded", "failed", "timed_out", "aborted"];

/// Task outcomes as metric labels, in the order of
/// [`ResourceTotals::invocations`].
pub const TASK_OUTCOMES: [&str; 3] = ["succeeded", "failed", "timed_out"];

/// Upper bounds of the latency histograms' buckets, in seconds (the last,
/// implicit bucket is `+Inf`): 100 µs to the Express limit of 5 minutes.
pub const BUCKET_BOUNDS_SECONDS: [f64; 20] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

const BUCKETS: usize = BUCKET_BOUNDS_SECONDS.len() + 1;

/// [`BUCKET_BOUNDS_SECONDS`] in nanoseconds, for recording.
const BUCKET_BOUNDS_NANOS: [u64; BUCKETS - 1] = {
    let mut out = [0u64; BUCKETS - 1];
    let micros = [
        100u64,
        250,
        500,
        1_000,
        2_500,
        5_000,
        10_000,
        25_000,
        50_000,
        100_000,
        250_000,
        500_000,
        1_000_000,
        2_500_000,
        5_000_000,
        10_000_000,
        30_000_000,
        60_000_000,
        120_000_000,
        300_000_000,
    ];
    let mut i = 0;
    while i < out.len() {
        out[i] = micros[i] * 1_000;
        i += 1;
    }
    out
};

/// A counter written by one thread only: a relaxed load and store, which
/// compile to plain moves. Readers on other threads see a recent value.
#[derive(Debug, Default)]
pub struct Count(AtomicU64);

impl Count {
    /// Adds `n` (single writer).
    #[inline]
    pub fn bump(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A latency histogram with fixed buckets ([`BUCKET_BOUNDS_SECONDS`]),
/// written by one thread only.
#[derive(Debug, Default)]
pub struct Buckets {
    counts: [Count; BUCKETS],
    sum_nanos: Count,
}

impl Buckets {
    /// Counts one observation of `elapsed` (single writer).
    #[inline]
    pub fn record(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let index = BUCKET_BOUNDS_NANOS.partition_point(|&bound| bound < nanos);
        self.counts[index].bump(1);
        self.sum_nanos.bump(nanos);
    }

    /// The counts now.
    pub fn snapshot(&self) -> Histogram {
        let mut histogram = Histogram::default();
        self.add_to(&mut histogram);
        histogram
    }

    /// Adds this histogram's counts into `totals`.
    pub fn add_to(&self, totals: &mut Histogram) {
        for (total, count) in totals.counts.iter_mut().zip(&self.counts) {
            *total += count.get();
        }
        totals.sum_nanos = totals.sum_nanos.wrapping_add(self.sum_nanos.get());
    }
}

/// A histogram's counts at one moment, summed over its writers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Observations per bucket (not cumulative), the last one `+Inf`.
    pub counts: [u64; BUCKETS],
    /// The sum of the observations, in nanoseconds.
    pub sum_nanos: u64,
}

impl Histogram {
    /// Observations in all.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The sum of the observations, in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_nanos as f64 / 1e9
    }
}

/// A state machine, as the metrics know it: a number interned from its
/// name. The same name always gets the same label, so a state machine
/// deleted and created again keeps counting where it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MachineLabel(std::num::NonZeroU32);

/// The interned names: index by name, and names by index.
type LabelTable = RwLock<(HashMap<Str, u32>, Vec<Str>)>;

/// The interned names.
fn labels() -> &'static LabelTable {
    static LABELS: OnceLock<LabelTable> = OnceLock::new();
    LABELS.get_or_init(Default::default)
}

impl MachineLabel {
    /// The label of the state machine named `name`.
    pub fn named(name: &str) -> MachineLabel {
        let table = labels();
        if let Some(&id) = table.read().unwrap_or_else(|e| e.into_inner()).0.get(name) {
            return MachineLabel::from_index(id);
        }
        let mut table = table.write().unwrap_or_else(|e| e.into_inner());
        let (ids, names) = &mut *table;
        if let Some(&id) = ids.get(name) {
            return MachineLabel::from_index(id);
        }
        let id = names.len() as u32;
        names.push(Str::from(name));
        ids.insert(Str::from(name), id);
        MachineLabel::from_index(id)
    }

    /// Labels count from 1, so `Option<MachineLabel>` takes four bytes.
    fn from_index(index: u32) -> MachineLabel {
        MachineLabel(std::num::NonZeroU32::MIN.saturating_add(index))
    }

    /// The state machine's name.
    pub fn name(self) -> Str {
        labels().read().unwrap_or_else(|e| e.into_inner()).1[self.index()].clone()
    }

    fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// One shard's counters for one state machine.
#[derive(Debug, Default)]
pub(crate) struct MachineBlock {
    started: Count,
    finished: [Count; 4],
    transitions: [Count; 8],
    map_items: Count,
    parallel_branches: Count,
    duration: Buckets,
}

impl MachineBlock {
    /// Counts a state entered.
    #[inline]
    pub(crate) fn entered(&self, kind: &StateKind) {
        let index = match kind {
            StateKind::Pass { .. } => 0,
            StateKind::Task(_) => 1,
            StateKind::Choice { .. } => 2,
            StateKind::Wait(_) => 3,
            StateKind::Succeed => 4,
            StateKind::Fail(_) => 5,
            StateKind::Parallel { .. } => 6,
            StateKind::Map(_) => 7,
        };
        self.transitions[index].bump(1);
    }
}

/// One shard's counters for one task resource.
#[derive(Debug, Default)]
struct ResourceBlock {
    invocations: [Count; 3],
    retries: Count,
    duration: Buckets,
}

/// How a task attempt ended, for [`TASK_OUTCOMES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskOutcome {
    Succeeded,
    Failed,
    TimedOut,
}

/// The blocks a shard registered, read by scrapes.
#[derive(Debug, Default)]
pub(crate) struct ShardBlocks {
    machines: Mutex<Vec<(MachineLabel, Arc<MachineBlock>)>>,
    resources: Mutex<Vec<(Str, Arc<ResourceBlock>)>>,
    /// Fibers waiting to run or messages waiting in the inbox, at the
    /// shard's last loop turn.
    queue_depth: AtomicU64,
    /// Nanoseconds the shard has spent working, in all.
    busy_nanos: AtomicU64,
}

/// A shard's own handles on its blocks (no lock, no hashing per execution).
#[derive(Debug, Default)]
pub(crate) struct ShardRecorder {
    machines: Vec<Option<Arc<MachineBlock>>>,
    resources: HashMap<Str, Arc<ResourceBlock>, foldhash::fast::FixedState>,
    /// Time spent working, in all.
    busy: Duration,
}

/// The shortest span a busy ratio is measured over: reads closer together
/// get the last ratio again.
const BUSY_WINDOW: Duration = Duration::from_secs(1);

impl ShardRecorder {
    /// The shard's block for state machine `label`, registered in `shared`
    /// on first use.
    #[inline]
    pub(crate) fn machine(&mut self, label: MachineLabel, shared: &ShardBlocks) -> &MachineBlock {
        let index = label.index();
        if self.machines.len() <= index {
            self.machines.resize(index + 1, None);
        }
        self.machines[index].get_or_insert_with(|| {
            let block = Arc::new(MachineBlock::default());
            lock(&shared.machines).push((label, Arc::clone(&block)));
            block
        })
    }

    fn resource(&mut self, resource: &Str, shared: &ShardBlocks) -> &ResourceBlock {
        if !self.resources.contains_key(resource) {
            let block = Arc::new(ResourceBlock::default());
            lock(&shared.resources).push((resource.clone(), Arc::clone(&block)));
            self.resources.insert(resource.clone(), block);
        }
        &self.resources[resource]
    }

    /// Counts an execution started.
    pub(crate) fn started(&mut self, label: MachineLabel, shared: &ShardBlocks) {
        self.machine(label, shared).started.bump(1);
    }

    /// Counts an execution ended with `status` after `elapsed`.
    pub(crate) fn finished(
        &mut self,
        label: MachineLabel,
        shared: &ShardBlocks,
        status: super::Status,
        elapsed: Duration,
    ) {
        let block = self.machine(label, shared);
        block.finished[status as usize].bump(1);
        block.duration.record(elapsed);
    }

    /// Counts a fan-out's children.
    pub(crate) fn forked(
        &mut self,
        label: MachineLabel,
        shared: &ShardBlocks,
        map: bool,
        children: usize,
    ) {
        let block = self.machine(label, shared);
        let counter = if map {
            &block.map_items
        } else {
            &block.parallel_branches
        };
        counter.bump(children as u64);
    }

    /// Counts a task attempt started again by its Retry.
    pub(crate) fn retried(&mut self, resource: &Str, shared: &ShardBlocks) {
        self.resource(resource, shared).retries.bump(1);
    }

    /// Counts a task attempt that ended with `outcome` after `elapsed`.
    pub(crate) fn task_ended(
        &mut self,
        resource: &Str,
        shared: &ShardBlocks,
        outcome: TaskOutcome,
        elapsed: Duration,
    ) {
        let block = self.resource(resource, shared);
        block.invocations[outcome as usize].bump(1);
        block.duration.record(elapsed);
    }

    /// Accounts one loop turn: `busy` whether it did work, `depth` the work
    /// waiting after it.
    pub(crate) fn turn(
        &mut self,
        shared: &ShardBlocks,
        busy: bool,
        started: std::time::Instant,
        depth: usize,
    ) {
        if busy {
            self.busy += started.elapsed();
            let nanos = u64::try_from(self.busy.as_nanos()).unwrap_or(u64::MAX);
            shared.busy_nanos.store(nanos, Ordering::Relaxed);
        }
        shared.queue_depth.store(depth as u64, Ordering::Relaxed);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A state machine's counters, summed over the shards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineTotals {
    /// Executions started.
    pub started: u64,
    /// Executions ended, by status ([`STATUSES`]).
    pub finished: [u64; 4],
    /// States entered, by type ([`STATE_TYPES`]).
    pub transitions: [u64; 8],
    /// Map iterations started.
    pub map_items: u64,
    /// Parallel branches started.
    pub parallel_branches: u64,
    /// Execution durations.
    pub duration: Histogram,
}

/// A task resource's counters, summed over the shards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceTotals {
    /// Attempts ended, by outcome ([`TASK_OUTCOMES`]).
    pub invocations: [u64; 3],
    /// Attempts started again by a Retry.
    pub retries: u64,
    /// Attempt durations.
    pub duration: Histogram,
}

/// One shard's gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ShardGauges {
    /// Fibers and messages waiting for the shard.
    pub queue_depth: u64,
    /// Share of the last second it spent working (0 to 1).
    pub busy_ratio: f64,
}

/// Every execution metric of a runtime at one moment.
#[derive(Debug, Clone, Default)]
pub struct RuntimeMetrics {
    /// Per state machine, by name.
    pub machines: Vec<(Str, MachineTotals)>,
    /// Per task resource.
    pub resources: Vec<(Str, ResourceTotals)>,
    /// Per shard, in shard order.
    pub shards: Vec<ShardGauges>,
    /// Executions admitted and not yet ended.
    pub in_flight: u64,
}

/// Turns each shard's total busy time into the share of the last second
/// (at least) it spent working. Reads closer together than
/// [`BUSY_WINDOW`] get the last ratio again, so every reader (a scrape,
/// `/stats`) sees a ratio over a full window, idle shards included.
#[derive(Debug)]
pub(crate) struct BusyRatios(Mutex<Vec<BusySample>>);

#[derive(Debug, Clone, Copy)]
struct BusySample {
    at: std::time::Instant,
    busy_nanos: u64,
    ratio: f64,
}

impl BusyRatios {
    pub(crate) fn new(shards: usize) -> BusyRatios {
        let sample = BusySample {
            at: std::time::Instant::now(),
            busy_nanos: 0,
            ratio: 0.0,
        };
        BusyRatios(Mutex::new(vec![sample; shards]))
    }

    fn read(&self, shards: &[ShardBlocks]) -> Vec<f64> {
        let now = std::time::Instant::now();
        let mut samples = lock(&self.0);
        samples
            .iter_mut()
            .zip(shards)
            .map(|(sample, shard)| {
                let span = now.saturating_duration_since(sample.at);
                if span >= BUSY_WINDOW {
                    let busy = shard.busy_nanos.load(Ordering::Relaxed);
                    let worked = busy.saturating_sub(sample.busy_nanos) as f64 / 1e9;
                    *sample = BusySample {
                        at: now,
                        busy_nanos: busy,
                        ratio: (worked / span.as_secs_f64()).clamp(0.0, 1.0),
                    };
                }
                sample.ratio
            })
            .collect()
    }
}

/// Sums the blocks of every shard.
pub(crate) fn collect(shards: &[ShardBlocks], busy: &BusyRatios, in_flight: u64) -> RuntimeMetrics {
    let mut machines: HashMap<MachineLabel, MachineTotals> = HashMap::new();
    let mut resources: HashMap<Str, ResourceTotals> = HashMap::new();
    for shard in shards {
        for (label, block) in lock(&shard.machines).iter() {
            let totals = machines.entry(*label).or_default();
            totals.started += block.started.get();
            for (total, count) in totals.finished.iter_mut().zip(&block.finished) {
                *total += count.get();
            }
            for (total, count) in totals.transitions.iter_mut().zip(&block.transitions) {
                *total += count.get();
            }
            totals.map_items += block.map_items.get();
            totals.parallel_branches += block.parallel_branches.get();
            block.duration.add_to(&mut totals.duration);
        }
        for (resource, block) in lock(&shard.resources).iter() {
            let totals = resources.entry(resource.clone()).or_default();
            for (total, count) in totals.invocations.iter_mut().zip(&block.invocations) {
                *total += count.get();
            }
            totals.retries += block.retries.get();
            block.duration.add_to(&mut totals.duration);
        }
    }
    let mut machines: Vec<(Str, MachineTotals)> = machines
        .into_iter()
        .map(|(label, totals)| (label.name(), totals))
        .collect();
    machines.sort_by(|a, b| a.0.cmp(&b.0));
    let mut resources: Vec<(Str, ResourceTotals)> = resources.into_iter().collect();
    resources.sort_by(|a, b| a.0.cmp(&b.0));
    RuntimeMetrics {
        machines,
        resources,
        shards: shards
            .iter()
            .zip(busy.read(shards))
            .map(|(s, busy_ratio)| ShardGauges {
                queue_depth: s.queue_depth.load(Ordering::Relaxed),
                busy_ratio,
            })
            .collect(),
        in_flight,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_observations_up_to_their_bound() {
        let buckets = Buckets::default();
        buckets.record(Duration::from_micros(100)); // exactly the first bound
        buckets.record(Duration::from_micros(101));
        buckets.record(Duration::from_secs(301));
        let mut h = Histogram::default();
        buckets.add_to(&mut h);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[1], 1);
        assert_eq!(h.counts[BUCKETS - 1], 1);
        assert_eq!(h.count(), 3);
        assert_eq!(h.sum_nanos, 100_000 + 101_000 + 301_000_000_000);
    }

    #[test]
    fn bounds_in_nanos_match_the_bounds_in_seconds() {
        for (nanos, seconds) in BUCKET_BOUNDS_NANOS.iter().zip(BUCKET_BOUNDS_SECONDS) {
            assert_eq!(*nanos, (seconds * 1e9).round() as u64);
        }
    }

    #[test]
    fn labels_are_interned_by_name() {
        let a = MachineLabel::named("metrics-test-a");
        let b = MachineLabel::named("metrics-test-b");
        assert_ne!(a, b);
        assert_eq!(a, MachineLabel::named("metrics-test-a"));
        assert_eq!(&*b.name(), "metrics-test-b");
    }

    #[test]
    fn shards_are_summed() {
        let shards = [ShardBlocks::default(), ShardBlocks::default()];
        let label = MachineLabel::named("metrics-test-sum");
        let mut recorders = [ShardRecorder::default(), ShardRecorder::default()];
        for (recorder, shard) in recorders.iter_mut().zip(&shards) {
            recorder.started(label, shard);
            recorder.finished(
                label,
                shard,
                super::super::Status::Failed,
                Duration::from_millis(3),
            );
            recorder.task_ended(
                &Str::from("arn:x"),
                shard,
                TaskOutcome::TimedOut,
                Duration::from_millis(1),
            );
        }
        recorders[0].retried(&Str::from("arn:x"), &shards[0]);
        let metrics = collect(&shards, &BusyRatios::new(2), 7);
        let (name, totals) = &metrics.machines[0];
        assert_eq!(&**name, "metrics-test-sum");
        assert_eq!(totals.started, 2);
        assert_eq!(totals.finished, [0, 2, 0, 0]);
        assert_eq!(totals.duration.count(), 2);
        let (resource, r) = &metrics.resources[0];
        assert_eq!(&**resource, "arn:x");
        assert_eq!(r.invocations, [0, 0, 2]);
        assert_eq!(r.retries, 1);
        assert_eq!(metrics.in_flight, 7);
        assert_eq!(metrics.shards.len(), 2);
    }
}
