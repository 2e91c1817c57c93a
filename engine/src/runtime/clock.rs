//! The runtime's clock: real time, or virtual time that skips ahead.
//!
//! Virtual time runs at the speed of real time (so CPU-only loops still run
//! into their deadlines) plus an offset. Whenever every shard is idle, no
//! task future is pending and no inbox holds a message, nothing can happen
//! before the earliest timer of any shard: the offset jumps so that timer is
//! due now, and the shards wake to fire it. Wait states, Retry back-off,
//! simulated task latency and timeouts then cost no wall time, on any number
//! of shards, and their order is kept.

use super::inbox::Inbox;
use crate::time::{Clock, SystemClock, Timestamp};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The clock a runtime runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuntimeClock {
    /// Real time: timers wait.
    #[default]
    Real,
    /// Virtual time: when nothing else can happen, time jumps to the next
    /// timer (for conformance runs, tests and dry runs).
    Virtual,
}

/// The clock as the shards share it.
pub(crate) enum SharedClock {
    Real,
    Virtual(VirtualTime),
}

impl SharedClock {
    pub(crate) fn new(kind: RuntimeClock, shards: usize) -> SharedClock {
        match kind {
            RuntimeClock::Real => SharedClock::Real,
            RuntimeClock::Virtual => SharedClock::Virtual(VirtualTime::new(shards)),
        }
    }

    /// The current time.
    #[inline]
    pub(crate) fn now(&self) -> Timestamp {
        let real = SystemClock.now();
        match self {
            SharedClock::Real => real,
            SharedClock::Virtual(v) => {
                Timestamp::from_unix_nanos(real.unix_nanos() + v.offset.load(Ordering::Acquire))
            }
        }
    }

    pub(crate) fn as_virtual(&self) -> Option<&VirtualTime> {
        match self {
            SharedClock::Real => None,
            SharedClock::Virtual(v) => Some(v),
        }
    }
}

/// The state virtual time needs to know when nothing can happen.
pub(crate) struct VirtualTime {
    /// Nanoseconds added to real time.
    offset: AtomicI64,
    /// Task futures started and not yet finished (their results may arrive
    /// at any moment, so time must not jump while one runs).
    pending_io: AtomicUsize,
    /// Per shard: `None` while busy, else its earliest timer in
    /// milliseconds (`u64::MAX`: no timer).
    idle: Mutex<Vec<Option<u64>>>,
}

impl VirtualTime {
    fn new(shards: usize) -> VirtualTime {
        VirtualTime {
            offset: AtomicI64::new(0),
            pending_io: AtomicUsize::new(0),
            idle: Mutex::new(vec![None; shards]),
        }
    }

    /// A shard has nothing to do until `next_timer_ms` (or a message). If it
    /// was the last busy one, time jumps to the earliest timer of all and
    /// every shard is woken. The shard parks without a timeout afterwards.
    pub(crate) fn shard_idle(
        &self,
        clock: &SharedClock,
        shard: usize,
        next_timer_ms: Option<u64>,
        inboxes: &[Arc<Inbox>],
    ) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle[shard] = Some(next_timer_ms.unwrap_or(u64::MAX));
        self.jump_if_stuck(clock, &mut idle, inboxes);
    }

    /// A shard woke up and has work.
    pub(crate) fn shard_busy(&self, shard: usize) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())[shard] = None;
    }

    /// A task future started.
    pub(crate) fn io_started(&self) {
        self.pending_io.fetch_add(1, Ordering::AcqRel);
    }

    /// A task future ended (its result, if any, is already in an inbox).
    pub(crate) fn io_finished(&self, clock: &SharedClock, inboxes: &[Arc<Inbox>]) {
        if self.pending_io.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            self.jump_if_stuck(clock, &mut idle, inboxes);
        }
    }

    fn jump_if_stuck(&self, clock: &SharedClock, idle: &mut [Option<u64>], inboxes: &[Arc<Inbox>]) {
        if idle.iter().any(Option::is_none)
            || self.pending_io.load(Ordering::Acquire) > 0
            || inboxes.iter().any(|i| !i.is_empty())
        {
            return;
        }
        let Some(earliest) = idle.iter().flatten().copied().min() else {
            return;
        };
        if earliest == u64::MAX {
            return;
        }
        let now_ms = clock.now().unix_millis().max(0) as u64;
        if earliest > now_ms {
            let jump = (earliest - now_ms) as i64 * 1_000_000;
            self.offset.fetch_add(jump, Ordering::AcqRel);
        }
        for (shard, state) in idle.iter_mut().enumerate() {
            *state = None;
            inboxes[shard].wake();
        }
    }
}
