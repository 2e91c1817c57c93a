//! The journal: a bounded record of recent executions, what the console
//! lists, searches and opens.
//!
//! Executions started through the API or the console are stored by the
//! API (with their history) and the journal points at them. A pipeline's
//! executions reach it when they end: the shard that ran one offers its
//! summary over a bounded channel without waiting (a full channel drops it
//! and counts the drop), and the journal's thread files it. A sampled share
//! of them also carry their history ([`super::tap`]).
//!
//! When the ring is full the oldest succeeded (or still running) entry
//! makes room; failed, timed-out and aborted ones are kept preferentially:
//! they may fill nine tenths of the ring before the oldest of them goes.

use super::settings::ConsoleSettings;
use crate::api::bridge::ExecutionRecord;
use crossbeam::channel::{Receiver, Sender, TrySendError};
use spate_engine::interp::HistoryEvent;
use spate_engine::time::Timestamp;
use spate_engine::value::Str;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub use crate::api::bridge::RecordedHistory;

/// Where an execution came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// StartExecution through the AWS API.
    Api,
    /// The console's startExecution.
    Console,
    /// A Kafka pipeline.
    Pipeline,
}

/// A pipeline execution that ended, as its shard offers it.
pub struct Ended {
    /// Its name (`topic-partition-offset`).
    pub name: Str,
    /// Its state machine.
    pub machine: Str,
    /// The record's key, as text.
    pub key: Option<String>,
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: &'static str,
    /// When it was submitted.
    pub start: Timestamp,
    /// When it ended.
    pub stop: Timestamp,
    /// Its error, unless it succeeded.
    pub error: Option<String>,
    /// Its cause, unless it succeeded.
    pub cause: Option<String>,
    /// Its history, when it was sampled.
    pub history: Option<Arc<RecordedHistory>>,
    /// The definition it ran, when it was sampled.
    pub definition: Option<Arc<str>>,
}

/// What an entry knows.
pub enum Run {
    /// Stored by the API (started through it or the console).
    Stored(Arc<ExecutionRecord>, Source),
    /// A pipeline's, ended.
    Pipeline(Ended),
}

/// One execution in the journal.
pub struct Entry {
    /// Order of arrival, the cursor of pagination.
    pub seq: u64,
    /// Its ARN.
    pub arn: String,
    /// What it knows.
    pub run: Run,
}

/// An execution's summary, as listed.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Its ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// Its state machine.
    pub machine: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: &'static str,
    /// Where it came from.
    pub source: Source,
    /// The Kafka key, for a pipeline's.
    pub key: Option<String>,
    /// When it started.
    pub start: Timestamp,
    /// When it ended.
    pub stop: Option<Timestamp>,
    /// Its error.
    pub error: Option<String>,
    /// Its cause.
    pub cause: Option<String>,
}

impl Entry {
    /// Its summary now.
    pub fn summary(&self) -> Summary {
        match &self.run {
            Run::Stored(record, source) => {
                let outcome = record.outcome();
                Summary {
                    arn: self.arn.clone(),
                    name: record.name.clone(),
                    machine: record.machine_name.clone(),
                    status: outcome.status,
                    source: *source,
                    key: None,
                    start: record.start,
                    stop: outcome.stop,
                    error: outcome.error,
                    cause: outcome.cause,
                }
            }
            Run::Pipeline(ended) => Summary {
                arn: self.arn.clone(),
                name: ended.name.to_string(),
                machine: ended.machine.to_string(),
                status: ended.status,
                source: Source::Pipeline,
                key: ended.key.clone(),
                start: ended.start,
                stop: Some(ended.stop),
                error: ended.error.clone(),
                cause: ended.cause.clone(),
            },
        }
    }

    /// Its history events so far, when recorded.
    pub fn history(&self) -> Option<Vec<HistoryEvent>> {
        match &self.run {
            Run::Stored(record, _) => record.history.as_ref().map(|h| h.events()),
            Run::Pipeline(ended) => ended.history.as_ref().map(|h| h.events()),
        }
    }

    /// The definition it runs, when known.
    pub fn definition(&self) -> Option<Arc<str>> {
        match &self.run {
            Run::Stored(record, _) => Some(Arc::clone(&record.version.definition)),
            Run::Pipeline(ended) => ended.definition.clone(),
        }
    }

    /// Its input (JSON text), when known.
    pub fn input(&self) -> Option<String> {
        match &self.run {
            Run::Stored(record, _) => Some(record.input.clone()),
            Run::Pipeline(_) => None,
        }
    }

    /// Its output (JSON text), when known.
    pub fn output(&self) -> Option<String> {
        match &self.run {
            Run::Stored(record, _) => record.outcome().output,
            Run::Pipeline(_) => None,
        }
    }
}

/// Which entries a listing keeps.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Of this state machine.
    pub machine: Option<String>,
    /// In this status.
    pub status: Option<String>,
    /// That failed with this error.
    pub error: Option<String>,
    /// Started at or after.
    pub started_after: Option<Timestamp>,
    /// Started before.
    pub started_before: Option<Timestamp>,
    /// With this Kafka key.
    pub key: Option<String>,
}

impl Filter {
    /// Whether `s` passes.
    pub fn admits(&self, s: &Summary) -> bool {
        self.machine.as_deref().is_none_or(|m| s.machine == m)
            && self.status.as_deref().is_none_or(|st| s.status == st)
            && self
                .error
                .as_deref()
                .is_none_or(|e| s.error.as_deref() == Some(e))
            && self.started_after.is_none_or(|t| s.start >= t)
            && self.started_before.is_none_or(|t| s.start < t)
            && self
                .key
                .as_deref()
                .is_none_or(|k| s.key.as_deref() == Some(k))
    }
}

/// The ring itself.
struct Ring {
    capacity: usize,
    next_seq: u64,
    ok: BTreeMap<u64, Arc<Entry>>,
    failed: BTreeMap<u64, Arc<Entry>>,
    by_arn: HashMap<String, Arc<Entry>, foldhash::fast::RandomState>,
}

fn is_failure(status: &str) -> bool {
    matches!(status, "FAILED" | "TIMED_OUT" | "ABORTED")
}

impl Ring {
    fn len(&self) -> usize {
        self.ok.len() + self.failed.len()
    }

    /// Files a new entry made by `make` (given its sequence number).
    fn insert(&mut self, failed: bool, make: impl FnOnce(u64) -> Entry) -> Arc<Entry> {
        let entry = Arc::new(make(self.next_seq));
        self.next_seq += 1;
        while self.len() >= self.capacity {
            self.evict();
        }
        if let Some(old) = self.by_arn.insert(entry.arn.clone(), Arc::clone(&entry)) {
            self.ok.remove(&old.seq);
            self.failed.remove(&old.seq);
        }
        let side = if failed {
            &mut self.failed
        } else {
            &mut self.ok
        };
        side.insert(entry.seq, Arc::clone(&entry));
        entry
    }

    /// Drops the oldest succeeded or running entry, unless failures hold
    /// no more than nine tenths of the ring.
    fn evict(&mut self) {
        let keep_failed = self.failed.len() < self.capacity - self.capacity / 10;
        let side = if (keep_failed && !self.ok.is_empty()) || self.failed.is_empty() {
            &mut self.ok
        } else {
            &mut self.failed
        };
        if let Some((_, gone)) = side.pop_first() {
            self.by_arn.remove(&gone.arn);
        }
    }

    /// Drops the entry of `arn`.
    fn remove(&mut self, arn: &str) {
        if let Some(gone) = self.by_arn.remove(arn) {
            self.ok.remove(&gone.seq);
            self.failed.remove(&gone.seq);
        }
    }

    /// Moves a stored entry that ended badly to the failed side.
    fn settle(&mut self, entry: &Arc<Entry>) {
        if is_failure(entry.summary().status) && self.ok.remove(&entry.seq).is_some() {
            self.failed.insert(entry.seq, Arc::clone(entry));
        }
    }

    /// Entries `filter` admits with a sequence number below `below`,
    /// newest first, at most `limit`.
    fn newest(&self, below: u64, limit: usize, filter: &Filter) -> Vec<Arc<Entry>> {
        let mut ok = self.ok.range(..below).rev().peekable();
        let mut failed = self.failed.range(..below).rev().peekable();
        let mut out = Vec::new();
        while out.len() < limit {
            let next = match (ok.peek(), failed.peek()) {
                (Some(a), Some(b)) if a.0 > b.0 => ok.next(),
                (Some(_), Some(_)) | (None, Some(_)) => failed.next(),
                (Some(_), None) => ok.next(),
                (None, None) => break,
            };
            if let Some((_, entry)) = next
                && filter.admits(&entry.summary())
            {
                out.push(Arc::clone(entry));
            }
        }
        out
    }
}

/// What shards hand the journal's thread.
enum Message {
    Pipeline(Ended),
    StoredEnded(Arc<ExecutionRecord>),
}

/// The journal of a console.
pub struct Journal {
    ring: Mutex<Ring>,
    queue: Sender<Message>,
    dropped: AtomicU64,
    updates: tokio::sync::broadcast::Sender<Summary>,
    /// `arn:aws:states:<region>:<account>:express:`, for pipeline executions.
    arn_prefix: String,
}

impl Journal {
    /// A journal of `settings.journal_size` executions whose thread files
    /// what shards offer.
    pub fn start(settings: &ConsoleSettings, region: &str, account: &str) -> Arc<Journal> {
        let (queue, offered) = crossbeam::channel::bounded(settings.queue_size);
        let (updates, _) = tokio::sync::broadcast::channel(1024);
        let journal = Arc::new(Journal {
            ring: Mutex::new(Ring {
                capacity: settings.journal_size.max(1),
                next_seq: 1,
                ok: BTreeMap::new(),
                failed: BTreeMap::new(),
                by_arn: HashMap::default(),
            }),
            queue,
            dropped: AtomicU64::new(0),
            updates,
            arn_prefix: format!("arn:aws:states:{region}:{account}:express:"),
        });
        let weak = Arc::downgrade(&journal);
        let spawned = std::thread::Builder::new()
            .name("spate-journal".into())
            .spawn(move || file_offers(&weak, &offered));
        if let Err(e) = spawned {
            log::error!("cannot start the console's journal thread: {e}");
        }
        journal
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Offers a pipeline execution's end: never waits (a full queue drops
    /// it, counted in [`Journal::dropped`]).
    pub fn offer(&self, ended: Ended) {
        self.try_send(Message::Pipeline(ended));
    }

    /// Offers the end of a stored execution (called on its shard).
    pub fn offer_stored_end(&self, record: &Arc<ExecutionRecord>) {
        self.try_send(Message::StoredEnded(Arc::clone(record)));
    }

    fn try_send(&self, message: Message) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.queue.try_send(message)
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Executions offered and dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Files a stored execution (started through the API or the console)
    /// before it is submitted; a second call for the same one changes
    /// nothing.
    pub fn add_stored(&self, record: &Arc<ExecutionRecord>, source: Source) -> Arc<Entry> {
        let entry = {
            let mut ring = self.ring();
            if let Some(entry) = ring.by_arn.get(&record.arn) {
                return Arc::clone(entry);
            }
            let failed = is_failure(record.outcome().status);
            ring.insert(failed, |seq| Entry {
                seq,
                arn: record.arn.clone(),
                run: Run::Stored(Arc::clone(record), source),
            })
        };
        self.announce(&entry);
        entry
    }

    fn file(&self, message: Message) {
        let entry = match message {
            Message::Pipeline(ended) => {
                let mut arn = String::with_capacity(
                    self.arn_prefix.len() + ended.machine.len() + ended.name.len() + 1,
                );
                arn.push_str(&self.arn_prefix);
                arn.push_str(&ended.machine);
                arn.push(':');
                arn.push_str(&ended.name);
                let failed = is_failure(ended.status);
                self.ring().insert(failed, |seq| Entry {
                    seq,
                    arn,
                    run: Run::Pipeline(ended),
                })
            }
            Message::StoredEnded(record) => {
                // Filed before it was submitted; gone if the ring dropped it.
                let Some(entry) = self.ring().by_arn.get(&record.arn).cloned() else {
                    return;
                };
                self.ring().settle(&entry);
                entry
            }
        };
        self.announce(&entry);
    }

    /// Sends `entry`'s summary to the subscribers, if there are any.
    fn announce(&self, entry: &Entry) {
        if self.updates.receiver_count() > 0 {
            let _ = self.updates.send(entry.summary());
        }
    }

    /// Drops the entry of `arn` (an execution the runtime refused).
    pub fn remove(&self, arn: &str) {
        self.ring().remove(arn);
    }

    /// The entry of `arn`.
    pub fn get(&self, arn: &str) -> Option<Arc<Entry>> {
        self.ring().by_arn.get(arn).cloned()
    }

    /// Entries `filter` admits below sequence number `below`, newest
    /// first, at most `limit`.
    pub fn newest(&self, below: u64, limit: usize, filter: &Filter) -> Vec<Arc<Entry>> {
        self.ring().newest(below, limit, filter)
    }

    /// Entries held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.ring().len()
    }

    /// Summaries as executions start and end.
    pub fn updates(&self) -> tokio::sync::broadcast::Receiver<Summary> {
        self.updates.subscribe()
    }
}

/// The journal's thread: files what shards offer until the journal is
/// dropped.
fn file_offers(journal: &Weak<Journal>, offered: &Receiver<Message>) {
    loop {
        match offered.recv_timeout(Duration::from_millis(200)) {
            Ok(message) => match journal.upgrade() {
                Some(journal) => journal.file(message),
                None => return,
            },
            Err(crossbeam::channel::RecvTimeoutError::Timeout) => {
                if journal.strong_count() == 0 {
                    return;
                }
            }
            Err(crossbeam::channel::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests;
