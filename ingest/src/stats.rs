//! Counters a pipeline keeps, read by the status line, the admin server
//! (`/metrics`, `/ready`, `/stats`), `spate demo` and `spate loadgen`.
//!
//! The pipeline thread writes them: relaxed atomics, and per-stage latency
//! histograms with fixed buckets ([`Buckets`], single writer). The
//! hdrhistogram of processing latency behind `/stats` is filled on the
//! pipeline thread without a lock and merged into the shared one every
//! 100 ms ([`PipelineStats::merge_latency`]), so no event takes a lock.

use crate::record::DeadLetter;
use hdrhistogram::Histogram;
use spate_engine::runtime::Buckets;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// The stages of an event's life, as metric labels, in the order of
/// [`PipelineStats::stages`].
pub const STAGES: [&str; 5] = ["fetch", "queue", "execution", "publish", "end_to_end"];

/// A stage of an event's life (see [`STAGES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// From the record's timestamp to its consumption.
    Fetch,
    /// From consumption to the execution's start.
    Queue,
    /// The execution.
    Execution,
    /// From the execution's end (or consumption, for an event that never
    /// ran) to the outcome's acknowledgement.
    Publish,
    /// From the record's timestamp (or its consumption, without one) to the
    /// outcome's acknowledgement.
    EndToEnd,
}

/// Without progress (no event taken, no outcome acknowledged) for this
/// long while work is waiting, a pipeline is not ready.
pub const STALL_AFTER: Duration = Duration::from_secs(30);

/// One partition's lag, as the consumer last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Records between the consumer's position and the end of the partition.
    pub records: i64,
}

/// A pipeline's counters.
#[derive(Debug)]
pub struct PipelineStats {
    /// Events taken from Kafka.
    pub consumed: AtomicU64,
    /// Events taken, per source topic (in the pipeline's order).
    pub consumed_by_topic: Box<[AtomicU64]>,
    /// Executions started.
    pub started: AtomicU64,
    /// Executions that succeeded.
    pub succeeded: AtomicU64,
    /// Executions that failed or timed out.
    pub failed: AtomicU64,
    /// Output records acknowledged.
    pub outputs: AtomicU64,
    /// Dead-letter records acknowledged.
    pub dead_letters: AtomicU64,
    /// Dead-letter records acknowledged, by reason ([`DeadLetter::ALL`]).
    pub dead_letters_by_reason: [AtomicU64; DeadLetter::ALL.len()],
    /// Publications retried after a delivery error.
    pub retries: AtomicU64,
    /// Offset commits sent.
    pub commits: AtomicU64,
    /// Events delivered again by Kafka (offset not above the last seen) and
    /// ignored.
    pub duplicates: AtomicU64,
    /// Executions running now.
    pub executing: AtomicI64,
    /// Events taken and not yet committable.
    pub pending: AtomicI64,
    /// Partitions paused now.
    pub paused: AtomicI64,
    /// Partitions assigned now.
    pub assigned: AtomicI64,
    /// Latency per stage ([`STAGES`]), written by the pipeline thread.
    pub stages: [Buckets; STAGES.len()],
    /// The consumer is in its group with an assignment (possibly empty).
    pub in_group: AtomicBool,
    /// When an event was last taken or an outcome acknowledged
    /// (milliseconds since the epoch; 0: never).
    pub last_progress_ms: AtomicI64,
    /// Microseconds from taking an event to its outcome's acknowledgement,
    /// merged from the pipeline thread every 100 ms.
    latency_us: Mutex<Histogram<u64>>,
    /// Per assigned partition, as the consumer's statistics last said.
    lag: Mutex<Vec<PartitionLag>>,
}

impl PipelineStats {
    /// Counters for a pipeline reading `topics` source topics.
    pub fn new(topics: usize) -> PipelineStats {
        PipelineStats {
            consumed: AtomicU64::new(0),
            consumed_by_topic: (0..topics.max(1)).map(|_| AtomicU64::new(0)).collect(),
            started: AtomicU64::new(0),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            outputs: AtomicU64::new(0),
            dead_letters: AtomicU64::new(0),
            dead_letters_by_reason: Default::default(),
            retries: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            executing: AtomicI64::new(0),
            pending: AtomicI64::new(0),
            paused: AtomicI64::new(0),
            assigned: AtomicI64::new(0),
            stages: Default::default(),
            in_group: AtomicBool::new(false),
            last_progress_ms: AtomicI64::new(0),
            latency_us: Mutex::new(new_histogram()),
            lag: Mutex::new(Vec::new()),
        }
    }
}

/// A histogram of microseconds from 1 µs to an hour, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// See [`PipelineStats::consumed`].
    pub consumed: u64,
    /// See [`PipelineStats::started`].
    pub started: u64,
    /// See [`PipelineStats::succeeded`].
    pub succeeded: u64,
    /// See [`PipelineStats::failed`].
    pub failed: u64,
    /// See [`PipelineStats::outputs`].
    pub outputs: u64,
    /// See [`PipelineStats::dead_letters`].
    pub dead_letters: u64,
    /// See [`PipelineStats::retries`].
    pub retries: u64,
    /// See [`PipelineStats::commits`].
    pub commits: u64,
    /// See [`PipelineStats::duplicates`].
    pub duplicates: u64,
    /// See [`PipelineStats::executing`].
    pub executing: i64,
    /// See [`PipelineStats::pending`].
    pub pending: i64,
    /// See [`PipelineStats::paused`].
    pub paused: i64,
    /// See [`PipelineStats::assigned`].
    pub assigned: i64,
}

impl PipelineStats {
    /// Records how long `stage` took for one event (pipeline thread only).
    pub fn record_stage(&self, stage: Stage, elapsed: Duration) {
        self.stages[stage as usize].record(elapsed);
    }

    /// Adds what the pipeline thread collected into the shared latency
    /// histogram, and empties `local`.
    pub fn merge_latency(&self, local: &mut Histogram<u64>) {
        if local.is_empty() {
            return;
        }
        if let Ok(mut shared) = self.latency_us.lock() {
            let _ = shared.add(&*local);
        }
        local.reset();
    }

    /// Takes the latency histogram collected since the last call.
    pub fn take_latency(&self) -> Histogram<u64> {
        match self.latency_us.lock() {
            Ok(mut h) => std::mem::replace(&mut *h, new_histogram()),
            Err(_) => new_histogram(),
        }
    }

    /// Replaces the lag of the assigned partitions.
    pub fn set_lag(&self, lag: Vec<PartitionLag>) {
        if let Ok(mut shared) = self.lag.lock() {
            *shared = lag;
        }
    }

    /// The lag of each assigned partition, as last reported.
    pub fn lag(&self) -> Vec<PartitionLag> {
        self.lag.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Notes progress (an event taken or an outcome acknowledged) at
    /// `now_ms`, milliseconds since the epoch.
    pub fn progressed(&self, now_ms: i64) {
        self.last_progress_ms.store(now_ms, Ordering::Relaxed);
    }

    /// Whether the pipeline holds its assignment and consumes without
    /// stalling, at `now_ms`; if not, why not.
    pub fn readiness(&self, now_ms: i64) -> Result<(), String> {
        if !self.in_group.load(Ordering::Relaxed) {
            return Err("has no partition assignment from its consumer group".into());
        }
        let pending = self.pending.load(Ordering::Relaxed);
        let lag: i64 = self.lag().iter().map(|l| l.records.max(0)).sum();
        let last = self.last_progress_ms.load(Ordering::Relaxed);
        let idle_ms = now_ms.saturating_sub(last);
        if (pending > 0 || lag > 0) && idle_ms >= STALL_AFTER.as_millis() as i64 {
            return Err(format!(
                "stalled: nothing consumed or acknowledged for {} s while {pending} event(s) are pending and {lag} record(s) lag",
                idle_ms / 1000
            ));
        }
        Ok(())
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> Snapshot {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let g = |a: &AtomicI64| a.load(Ordering::Relaxed);
        Snapshot {
            consumed: r(&self.consumed),
            started: r(&self.started),
            succeeded: r(&self.succeeded),
            failed: r(&self.failed),
            outputs: r(&self.outputs),
            dead_letters: r(&self.dead_letters),
            retries: r(&self.retries),
            commits: r(&self.commits),
            duplicates: r(&self.duplicates),
            executing: g(&self.executing),
            pending: g(&self.pending),
            paused: g(&self.paused),
            assigned: g(&self.assigned),
        }
    }
}

pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

pub(crate) fn set(gauge: &AtomicI64, value: i64) {
    gauge.store(value, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipeline_is_ready_once_in_its_group_until_it_stalls() {
        let stats = PipelineStats::new(1);
        assert!(stats.readiness(1_000).unwrap_err().contains("assignment"));
        stats.in_group.store(true, Ordering::Relaxed);
        stats.progressed(1_000);
        assert_eq!(stats.readiness(1_000), Ok(()));
        // Idle with nothing to do is fine, however long.
        assert_eq!(stats.readiness(1_000_000), Ok(()));
        stats.pending.store(5, Ordering::Relaxed);
        assert_eq!(stats.readiness(1_000 + 29_999), Ok(()));
        let why = stats.readiness(1_000 + 30_000).unwrap_err();
        assert!(why.contains("stalled") && why.contains("5 event"), "{why}");
        stats.pending.store(0, Ordering::Relaxed);
        stats.set_lag(vec![PartitionLag {
            topic: "t".into(),
            partition: 0,
            records: 7,
        }]);
        assert!(
            stats
                .readiness(1_000 + 30_000)
                .unwrap_err()
                .contains("7 record")
        );
        stats.progressed(1_000 + 30_000);
        assert_eq!(stats.readiness(1_000 + 30_000), Ok(()));
    }

    #[test]
    fn latency_merges_without_losing_observations() {
        let stats = PipelineStats::new(1);
        let mut local = new_histogram();
        local.record(10).expect("in range");
        local.record(20).expect("in range");
        stats.merge_latency(&mut local);
        assert!(local.is_empty());
        local.record(30).expect("in range");
        stats.merge_latency(&mut local);
        let merged = stats.take_latency();
        assert_eq!(merged.len(), 3);
        assert_eq!(stats.take_latency().len(), 0);
    }
}
