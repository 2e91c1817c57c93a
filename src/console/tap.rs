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
            // the journal records every event and hands the log those its
            // level keeps, in the order it records them (so both number
            // them alike)
            let log = submission
                .history
                .take()
                .map(|log| Arc::new(LevelFilter(log)) as Arc<dyn HistorySink>);
            let history = Arc::new(RecordedHistory::logged_to(log));
            submission.history = Some(History {
                sink: Arc::clone(&history) as Arc<dyn HistorySink>,
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

/// An execution log as a sampled execution's recorded history feeds it:
/// only the events its level keeps, with data only if it includes it.
struct LevelFilter(History);

impl HistorySink for LevelFilter {
    fn record(&self, mut event: HistoryEvent) {
        let log = &self.0;
        if log.admits(event.event_type) {
            if !log.include_data {
                event.payload = None;
            }
            log.sink.record(event);
        }
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
    use spate_engine::interp::HistoryBuffer;
    use spate_engine::json;
    use spate_engine::registry::{Logging, Registry};
    use spate_engine::runtime::{Runtime, RuntimeConfig};
    use std::time::{Duration, Instant};

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

    /// A sampled pipeline execution logged at `ALL`: the console's record
    /// and the execution log hold the same events under the same ids, even
    /// with Map iterations running at once on several shards.
    #[test]
    fn the_journal_and_the_log_number_a_sampled_execution_alike() {
        let journal = Journal::start(&ConsoleSettings::default(), "us-east-1", "123456789012");
        let registry = Registry::default();
        registry.set_observer(Some(Arc::new(PipelineTap::new(Arc::clone(&journal), 1.0))));
        let machine = registry
            .create(
                "fan",
                r#"{"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items",
                    "ItemProcessor": {"StartAt": "Nap", "States": {
                        "Nap": {"Type": "Wait", "Seconds": 0, "Next": "Done"},
                        "Done": {"Type": "Pass", "End": true}}}, "End": true}}}"#,
            )
            .unwrap();
        let log = Arc::new(HistoryBuffer::default());
        machine.set_logging(Some(Logging {
            level: LogLevel::All,
            include_execution_data: false,
            sink: Arc::clone(&log) as Arc<dyn HistorySink>,
        }));
        let runtime = Runtime::start(RuntimeConfig {
            shards: 4,
            ..RuntimeConfig::default()
        })
        .unwrap();
        // a sink of our own (run_to_end would replace the tap's wrapper)
        let (sender, completions) = crossbeam::channel::bounded(1);
        let sink: Arc<dyn CompletionSink> = Arc::new(move |c: Completion| {
            let _ = sender.send(c);
        });
        let items: Vec<u32> = (0..16).collect();
        runtime
            .handle()
            .submit(machine.submission("e-1", json!({ "items": items }), sink))
            .unwrap();
        let done = completions.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(done.result.is_ok(), "{:?}", done.result);
        runtime.shutdown(Duration::ZERO);
        let deadline = Instant::now() + Duration::from_secs(30);
        let recorded = loop {
            let filed = journal.newest(u64::MAX, 1, &Default::default());
            if let Some(events) = filed.first().and_then(|entry| entry.history()) {
                break events;
            }
            assert!(Instant::now() < deadline, "the journal never filed e-1");
            std::thread::sleep(Duration::from_millis(10));
        };
        let logged = log.take();
        let of = |events: &[HistoryEvent]| -> Vec<(u32, String)> {
            events
                .iter()
                .map(|e| (e.id, e.event_type.to_string()))
                .collect()
        };
        assert_eq!(of(&recorded), of(&logged));
        let ids: Vec<u32> = logged.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=logged.len() as u32).collect::<Vec<_>>());
        assert!(logged.iter().all(|e| e.payload.is_none()), "no data logged");
        assert!(recorded[0].payload.is_some(), "the journal keeps the data");
    }
}
