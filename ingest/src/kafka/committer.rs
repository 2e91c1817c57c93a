//! Offset commits, off the pipeline thread: the pipeline hands over each
//! partition's commit position as soon as it moves, and one thread commits
//! them synchronously, one commit at a time. Positions that move while a
//! commit is in flight are coalesced into the next one.
//!
//! So a commit follows an acknowledgement within about one commit round
//! trip, and a crash repeats at most the outcomes acknowledged since the
//! last confirmed commit (about two round trips' worth) plus the events
//! whose outcomes were not yet acknowledged, instead of up to a whole
//! commit interval's worth. `commit_interval_ms` (default 0) sets the
//! shortest time between the starts of two commits, to spare a busy group
//! coordinator.

use super::client::Throttle;
use crate::stats::{self, PipelineStats};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A partition's commit position: (topic, partition, next offset to read).
pub type Position = (Arc<str>, i32, i64);

/// How long a failed commit waits before it is tried again.
const RETRY_DELAY: Duration = Duration::from_millis(200);

/// The positions waiting to be committed, shared by the pipeline thread and
/// the committing thread.
#[derive(Default)]
pub struct Commits {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The latest position of each partition not yet committed.
    pending: BTreeMap<(Arc<str>, i32), i64>,
    /// A commit is in flight.
    in_flight: bool,
    /// No commit starts before this (a failed commit's retry delay).
    not_before: Option<Instant>,
    /// The committing thread is to end after the commit in flight.
    stopping: bool,
}

impl Commits {
    /// Nothing to commit yet.
    pub fn new() -> Arc<Commits> {
        Arc::new(Commits::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands over positions that moved; they are committed as soon as the
    /// commit in flight, if any, is done.
    pub fn offer(&self, positions: Vec<Position>) {
        if positions.is_empty() {
            return;
        }
        let mut state = self.lock();
        for (topic, partition, offset) in positions {
            state.pending.insert((topic, partition), offset);
        }
        self.changed.notify_all();
    }

    /// Drops the positions of partitions no longer ours, then waits (up to
    /// `limit`) for the commit in flight, which may hold older positions of
    /// theirs, so that it cannot land after the caller's own commit of them.
    /// `false` if it was still in flight at the limit.
    pub fn forget(&self, topic_partitions: &[(Arc<str>, i32)], limit: Duration) -> bool {
        let mut state = self.lock();
        for key in topic_partitions {
            state.pending.remove(key);
        }
        let deadline = Instant::now() + limit;
        while state.in_flight {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self.wait(state, deadline - now);
        }
        true
    }

    /// Waits (up to `limit`) until every position handed over is committed.
    pub fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut state = self.lock();
        while state.in_flight || !state.pending.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self.wait(state, deadline - now);
        }
        true
    }

    /// Ends the committing thread once the commit in flight is done;
    /// positions not yet committed are dropped.
    pub fn stop(&self) {
        self.lock().stopping = true;
        self.changed.notify_all();
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State>, limit: Duration) -> MutexGuard<'a, State> {
        self.changed
            .wait_timeout(state, limit)
            .unwrap_or_else(|p| p.into_inner())
            .0
    }

    /// The next positions to commit, once there are some and no earlier
    /// than `not_before` (and `min_gap` after the previous commit began);
    /// `None` when stopping.
    fn next(&self, previous: Option<Instant>, min_gap: Duration) -> Option<Vec<Position>> {
        let mut state = self.lock();
        loop {
            if state.stopping {
                return None;
            }
            if state.pending.is_empty() {
                state = self.wait(state, Duration::from_secs(3600));
                continue;
            }
            let start = [state.not_before, previous.map(|p| p + min_gap)]
                .into_iter()
                .flatten()
                .max();
            let now = Instant::now();
            match start {
                Some(start) if start > now => state = self.wait(state, start - now),
                _ => break,
            }
        }
        state.in_flight = true;
        state.not_before = None;
        Some(
            std::mem::take(&mut state.pending)
                .into_iter()
                .map(|((topic, partition), offset)| (topic, partition, offset))
                .collect(),
        )
    }

    /// The commit in flight ended; a failed one's positions are tried
    /// again (unless newer ones arrived meanwhile) after a delay.
    fn done(&self, positions: Vec<Position>, failed: bool) {
        let mut state = self.lock();
        state.in_flight = false;
        if failed {
            for (topic, partition, offset) in positions {
                state.pending.entry((topic, partition)).or_insert(offset);
            }
            state.not_before = Some(Instant::now() + RETRY_DELAY);
        }
        self.changed.notify_all();
    }
}

/// The offsets to commit, as Kafka wants them.
pub fn commit_list(positions: &[Position], who: &str) -> TopicPartitionList {
    let mut list = TopicPartitionList::with_capacity(positions.len());
    for (topic, partition, offset) in positions {
        // The position is already the next offset to read (the last done
        // offset + 1), which is what Kafka stores.
        if let Err(e) = list.add_partition_offset(topic, *partition, Offset::Offset(*offset)) {
            log::warn!("{who}: bad commit position: {e}");
        }
    }
    list
}

/// Starts the thread that commits what `commits` is handed, until
/// [`Commits::stop`].
pub fn spawn<C: ConsumerContext + 'static>(
    commits: Arc<Commits>,
    consumer: Arc<BaseConsumer<C>>,
    who: String,
    min_gap: Duration,
    stats: Arc<PipelineStats>,
    throttle: Arc<Throttle>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("spate-commit".into())
        .spawn(move || {
            let mut previous = None;
            while let Some(positions) = commits.next(previous, min_gap) {
                previous = Some(Instant::now());
                stats::add(&stats.commits, 1);
                let result = consumer.commit(&commit_list(&positions, &who), CommitMode::Sync);
                log::debug!(
                    "{who}: committed {} partition(s) in {:?}: {result:?}",
                    positions.len(),
                    previous.map_or(Duration::ZERO, |p| p.elapsed())
                );
                if let Err(e) = &result {
                    throttle.log(
                        log::Level::Warn,
                        &format!(
                            "{who}: committing {} partition(s) failed: {e}; retrying",
                            positions.len()
                        ),
                    );
                }
                commits.done(positions, result.is_err());
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(partition: i32, offset: i64) -> Position {
        (Arc::from("in"), partition, offset)
    }

    #[test]
    fn positions_that_move_during_a_commit_are_coalesced() {
        let commits = Commits::new();
        commits.offer(vec![position(0, 10), position(1, 5)]);
        let first = commits.next(None, Duration::ZERO).expect("a commit");
        assert_eq!(first, [position(0, 10), position(1, 5)]);
        // In flight: later positions wait and replace each other.
        commits.offer(vec![position(0, 20)]);
        commits.offer(vec![position(0, 30), position(2, 1)]);
        assert!(!commits.wait_idle(Duration::ZERO), "one is in flight");
        commits.done(first, false);
        let second = commits.next(None, Duration::ZERO).expect("a commit");
        assert_eq!(second, [position(0, 30), position(2, 1)]);
        commits.done(second, false);
        assert!(commits.wait_idle(Duration::ZERO));
    }

    #[test]
    fn a_failed_commit_is_retried_unless_newer_positions_came() {
        let commits = Commits::new();
        commits.offer(vec![position(0, 10), position(1, 5)]);
        let first = commits.next(None, Duration::ZERO).expect("a commit");
        commits.offer(vec![position(0, 12)]);
        commits.done(first, true);
        let state = commits.lock();
        let pending: Vec<_> = state.pending.iter().map(|(k, v)| (k.1, *v)).collect();
        assert_eq!(pending, [(0, 12), (1, 5)]);
        assert!(state.not_before.is_some(), "retried after a delay");
    }

    #[test]
    fn forgotten_partitions_are_not_committed_and_stop_ends_the_thread() {
        let commits = Commits::new();
        commits.offer(vec![position(0, 10), position(1, 5)]);
        assert!(commits.forget(&[(Arc::from("in"), 0)], Duration::ZERO));
        let next = commits.next(None, Duration::ZERO).expect("a commit");
        assert_eq!(next, [position(1, 5)]);
        assert!(
            !commits.forget(&[(Arc::from("in"), 1)], Duration::from_millis(1)),
            "the commit in flight is waited for"
        );
        commits.done(next, false);
        commits.offer(vec![position(1, 6)]);
        commits.stop();
        assert_eq!(commits.next(None, Duration::ZERO), None);
    }
}
