//! Counters a pipeline keeps, read by the status line, `spate demo` and
//! `spate loadgen`. The pipeline thread writes them (relaxed atomics, one
//! uncontended lock per acknowledged event for the latency histogram);
//! readers take a [`Snapshot`].

use hdrhistogram::Histogram;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A pipeline's counters.
#[derive(Debug)]
pub struct PipelineStats {
    /// Events taken from Kafka.
    pub consumed: AtomicU64,
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
    /// Microseconds from taking an event to its outcome's acknowledgement.
    latency_us: Mutex<Histogram<u64>>,
}

impl Default for PipelineStats {
    fn default() -> PipelineStats {
        PipelineStats {
            consumed: AtomicU64::new(0),
            started: AtomicU64::new(0),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            outputs: AtomicU64::new(0),
            dead_letters: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            executing: AtomicI64::new(0),
            pending: AtomicI64::new(0),
            paused: AtomicI64::new(0),
            assigned: AtomicI64::new(0),
            latency_us: Mutex::new(new_histogram()),
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
    /// Counts one acknowledged outcome that took `micros`.
    pub fn record_latency(&self, micros: u64) {
        if let Ok(mut h) = self.latency_us.lock() {
            h.saturating_record(micros.max(1));
        }
    }

    /// Takes the latency histogram collected since the last call.
    pub fn take_latency(&self) -> Histogram<u64> {
        match self.latency_us.lock() {
            Ok(mut h) => std::mem::replace(&mut *h, new_histogram()),
            Err(_) => new_histogram(),
        }
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
