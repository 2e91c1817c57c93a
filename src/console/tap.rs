//! How executions reach the journal.
//!
//! * [`PipelineTap`], the registry's observer: wraps each pipeline
//!   submission's completion sink so the shard that ends the execution
//!   offers its summary to the journal (after the pipeline got its
//!   completion; never waiting), and gives one submission in
//!   `1 / history_sample_rate` a recorded history (teed to the state
//!   machine's execution log, if it has one).
//! * [`StoreTap`], the API's observer: files executions the API stores.

use super::journal::{Ended, Journal, RecordedHistory, Source};
use crate::api::bridge::{ExecutionObserver, ExecutionRecord};
use spate_engine::interp::{History, HistoryEvent, HistorySink, LogLevel};
use spate_engine::registry::{Observer, StateMachine};
use spate_engine::runtime::{Completion, CompletionSink, Status, Submission};
use spate_engine::value::Str;
use std::cell::Cell;
use std::sync::Arc;

/// Files the executions of a registry's state machines.
pub struct PipelineTap {
    journal: Arc<Journal>,
    /// One submission in this many is recorded with history (0: none).
    every: u64,
}

impl PipelineTap {
    /// A tap recording the history of `rate` (0 to 1) of the executions.
    pub fn new(journal: Arc<Journal>, rate: f64) -> PipelineTap {
        let every = if rate <= 0.0 {
            0
        } else {
            (1.0 / rate).round().max(1.0) as u64
        };
        PipelineTap { journal, every }
    }

    /// Whether this thread's next submission is sampled.
    fn sample(&self) -> bool {
        thread_local! {
            static SEEN: Cell<u64> = const { Cell::new(0) };
        }
        self.every != 0
            && SEEN.with(|seen| {
                let n = seen.get();
                seen.set(n.wrapping_add(1));
                n % self.every == 0
            })
    }
}

impl Observer for PipelineTap {
    fn observe(&self, machine: &StateMachine, submission: &mut Submission, key: Option<&[u8]>) {
        let recorded = self.sample().then(|| {
            let history = Arc::new(RecordedHistory::default());
            let log = submission.history.take();
            submission.history = Some(History {
                sink: Arc::new(Tee {
                    journal: Arc::clone(&history),
                    log,
                }),
                include_data: true,
                level: LogLevel::All,
            });
            (history, Arc::clone(&machine.latest().definition))
        });
        let (history, definition) = recorded.unzip();
        submission.sink = Arc::new(JournalSink {
            inner: Arc::clone(&submission.sink),
            journal: Arc::clone(&self.journal),
            machine: machine.name().clone(),
            key: key.map(|k| String::from_utf8_lossy(k).into_owned()),
            history,
            definition,
        });
    }
}

/// A sampled execution's history: every event to the journal's record,
/// and those its execution log takes to the log.
struct Tee {
    journal: Arc<RecordedHistory>,
    log: Option<History>,
}

impl HistorySink for Tee {
    fn record(&self, event: HistoryEvent) {
        if let Some(log) = &self.log
            && log.admits(event.event_type)
        {
            let mut copy = event.clone();
            if !log.include_data {
                copy.payload = None;
            }
            log.sink.record(copy);
        }
        self.journal.record(event);
    }
}

/// Hands the completion on, then offers the summary to the journal.
struct JournalSink {
    inner: Arc<dyn CompletionSink>,
    journal: Arc<Journal>,
    machine: Str,
    key: Option<String>,
    history: Option<Arc<RecordedHistory>>,
    definition: Option<Arc<str>>,
}

impl CompletionSink for JournalSink {
    fn complete(&self, c: Completion) {
        let (error, cause) = match &c.result {
            Ok(_) => (None, None),
            Err(e) => (
                Some(e.error().unwrap_or(c.status.aws_name()).to_string()),
                e.cause().map(str::to_string),
            ),
        };
        let ended = Ended {
            name: c.name.clone(),
            machine: self.machine.clone(),
            key: self.key.clone(),
            status: match c.status {
                Status::Succeeded => "SUCCEEDED",
                other => other.aws_name(),
            },
            start: c.queued_at,
            stop: c.ended_at,
            error,
            cause,
            history: self.history.clone(),
            definition: self.definition.clone(),
        };
        self.inner.complete(c);
        self.journal.offer(ended);
    }
}

/// Files the executions the API stores, marked as the API's or the
/// console's.
pub struct StoreTap {
    /// The journal.
    pub journal: Arc<Journal>,
}

impl ExecutionObserver for StoreTap {
    fn started(&self, record: &Arc<ExecutionRecord>, console: bool) {
        let source = if console {
            Source::Console
        } else {
            Source::Api
        };
        self.journal.add_stored(record, source);
    }

    fn finished(&self, record: &Arc<ExecutionRecord>) {
        self.journal.offer_stored_end(record);
    }

    fn refused(&self, record: &Arc<ExecutionRecord>) {
        self.journal.remove(&record.arn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::settings::ConsoleSettings;

    #[test]
    fn one_in_every_n_is_sampled() {
        let journal = Journal::start(&ConsoleSettings::default(), "r", "1");
        let tap = PipelineTap::new(Arc::clone(&journal), 0.25);
        let sampled = (0..100).filter(|_| tap.sample()).count();
        assert_eq!(sampled, 25);
        let never = PipelineTap::new(Arc::clone(&journal), 0.0);
        assert_eq!((0..100).filter(|_| never.sample()).count(), 0);
        let always = PipelineTap::new(journal, 1.0);
        assert_eq!((0..100).filter(|_| always.sample()).count(), 100);
    }
}
