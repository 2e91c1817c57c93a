//! The bounded in-memory store of executions started with StartExecution:
//! what DescribeExecution, ListExecutions, StopExecution,
//! GetExecutionHistory and DescribeStateMachineForExecution read. When it is
//! full the oldest finished execution makes room; when every stored
//! execution still runs, StartExecution is refused (`ExecutionLimitExceeded`).

use super::errors::{ApiError, ApiResult};
use spate_engine::interp::{HistoryEvent, HistorySink};
use spate_engine::registry::Version;
use spate_engine::runtime::{Completion, ExecutionId};
use spate_engine::time::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

/// How an execution stands, as DescribeExecution shows it.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: &'static str,
    /// When it ended.
    pub stop: Option<Timestamp>,
    /// Its output (JSON text), if it succeeded.
    pub output: Option<String>,
    /// Its error, if it failed.
    pub error: Option<String>,
    /// Its cause, if it failed.
    pub cause: Option<String>,
}

/// The most history events kept per execution (AWS's cap for an
/// execution's history).
pub const MAX_EVENTS: usize = 25_000;

/// An execution's history as the runtime records it, kept for reading any
/// number of times (at most [`MAX_EVENTS`]; later ones are dropped), and
/// passed on to the state machine's execution log when it has one.
#[derive(Default)]
pub struct RecordedHistory {
    events: Mutex<Vec<HistoryEvent>>,
    log: Option<Arc<dyn HistorySink>>,
}

impl RecordedHistory {
    /// A history that also passes each event to `log`.
    pub fn logged_to(log: Option<Arc<dyn HistorySink>>) -> RecordedHistory {
        RecordedHistory {
            events: Mutex::default(),
            log,
        }
    }

    /// The events so far, in the order they happened, numbered from 1 as
    /// AWS numbers an execution's history. (The engine's own ids start each
    /// Map iteration and Parallel branch from the same number, so they
    /// repeat across concurrent branches; the order of arrival is causal:
    /// a branch's events are recorded in turn, after the fork that started
    /// it and before the join that ends it.)
    pub fn events(&self) -> Vec<HistoryEvent> {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (i, event) in events.iter_mut().enumerate() {
            event.id = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        events
    }
}

impl HistorySink for RecordedHistory {
    fn record(&self, event: HistoryEvent) {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        // handed on under the lock: the log numbers events in the order
        // they are stored here, so both number them alike
        if let Some(log) = &self.log {
            log.record(event.clone());
        }
        if events.len() < MAX_EVENTS {
            events.push(event);
        }
    }
}

/// One stored execution.
pub struct ExecutionRecord {
    /// Order of arrival (for listing newest first, and paging).
    pub seq: u64,
    /// Its ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The state machine's ARN.
    pub machine_arn: String,
    /// The version's ARN, when it was started through one.
    pub version_arn: Option<String>,
    /// The state machine's name.
    pub machine_name: String,
    /// The state machine's role.
    pub role_arn: String,
    /// The definition it runs.
    pub version: Arc<Version>,
    /// The logging configuration it started with (for
    /// DescribeStateMachineForExecution).
    pub logging: serde_json::Value,
    /// Its input (JSON text).
    pub input: String,
    /// When it started.
    pub start: Timestamp,
    /// The runtime's id, once submitted.
    pub id: OnceLock<ExecutionId>,
    /// Its history, when its state machine logs `ALL`.
    pub history: Option<Arc<RecordedHistory>>,
    /// How it stands.
    pub outcome: Mutex<Outcome>,
    /// The error and cause StopExecution asked for.
    pub stop_reason: Mutex<Option<(String, String)>>,
}

impl ExecutionRecord {
    /// A copy of its outcome.
    pub fn outcome(&self) -> Outcome {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records how it ended.
    pub fn complete(&self, completion: &Completion) {
        let mut outcome = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        outcome.status = completion.status.aws_name();
        outcome.stop = Some(completion.ended_at);
        match &completion.result {
            Ok(output) => outcome.output = Some(output.to_json()),
            Err(error) => {
                let requested = self
                    .stop_reason
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                match requested {
                    Some((e, c)) if outcome.status == "ABORTED" => {
                        outcome.error = Some(e);
                        outcome.cause = Some(c);
                    }
                    _ => {
                        outcome.error = error.error().map(str::to_string);
                        outcome.cause = error.cause().map(str::to_string);
                    }
                }
            }
        }
    }

    /// Whether it still runs.
    pub fn running(&self) -> bool {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .status
            == "RUNNING"
    }
}

struct Inner {
    by_arn: HashMap<String, Arc<ExecutionRecord>>,
    order: VecDeque<Arc<ExecutionRecord>>,
    next_seq: u64,
}

/// The store.
pub struct ExecutionStore {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl ExecutionStore {
    /// A store of at most `capacity` executions.
    pub fn new(capacity: usize) -> ExecutionStore {
        ExecutionStore {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                by_arn: HashMap::new(),
                order: VecDeque::new(),
                next_seq: 1,
            }),
        }
    }

    /// Stores the execution `make` builds (given its sequence number),
    /// unless one of that ARN is stored (`ExecutionAlreadyExists`) or the
    /// store is full of running executions (`ExecutionLimitExceeded`).
    pub fn insert(
        &self,
        arn: &str,
        make: impl FnOnce(u64) -> ExecutionRecord,
    ) -> ApiResult<Arc<ExecutionRecord>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.by_arn.contains_key(arn) {
            return Err(ApiError::new(
                "ExecutionAlreadyExists",
                format!("Execution Already Exists: '{arn}'"),
            ));
        }
        while inner.order.len() >= self.capacity {
            let Some(oldest_done) = inner.order.iter().position(|r| !r.running()) else {
                return Err(ApiError::new(
                    "ExecutionLimitExceeded",
                    format!(
                        "Execution Limit Exceeded: the store holds {} running executions (api.max_executions)",
                        self.capacity
                    ),
                ));
            };
            if let Some(gone) = inner.order.remove(oldest_done) {
                inner.by_arn.remove(&gone.arn);
            }
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let record = Arc::new(make(seq));
        inner.by_arn.insert(arn.to_string(), Arc::clone(&record));
        inner.order.push_back(Arc::clone(&record));
        Ok(record)
    }

    /// Removes an execution the runtime refused.
    pub fn remove(&self, arn: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.by_arn.remove(arn).is_some() {
            inner.order.retain(|r| r.arn != arn);
        }
    }

    /// The execution of `arn`, if stored.
    pub fn get(&self, arn: &str) -> Option<Arc<ExecutionRecord>> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_arn
            .get(arn)
            .cloned()
    }

    /// Stored executions for which `keep` holds, newest first, with
    /// sequence numbers below `below`; at most `limit`.
    pub fn newest(
        &self,
        below: u64,
        limit: usize,
        keep: impl Fn(&ExecutionRecord) -> bool,
    ) -> Vec<Arc<ExecutionRecord>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .order
            .iter()
            .rev()
            .filter(|r| r.seq < below && keep(r))
            .take(limit)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spate_engine::registry::Registry;

    fn record(seq: u64, arn: &str, version: &Arc<Version>) -> ExecutionRecord {
        ExecutionRecord {
            seq,
            arn: arn.to_string(),
            name: arn.to_string(),
            machine_arn: String::new(),
            version_arn: None,
            machine_name: "m".to_string(),
            role_arn: String::new(),
            version: Arc::clone(version),
            logging: serde_json::Value::Null,
            input: "{}".to_string(),
            start: Timestamp::default(),
            id: OnceLock::new(),
            history: None,
            outcome: Mutex::new(Outcome {
                status: "RUNNING",
                ..Outcome::default()
            }),
            stop_reason: Mutex::new(None),
        }
    }

    #[test]
    fn the_oldest_finished_execution_makes_room() {
        let registry = Registry::default();
        let version = registry
            .create(
                "m",
                r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
            )
            .unwrap()
            .latest();
        let store = ExecutionStore::new(2);
        let a = store.insert("a", |s| record(s, "a", &version)).unwrap();
        store.insert("b", |s| record(s, "b", &version)).unwrap();
        assert_eq!(
            store
                .insert("a", |s| record(s, "a", &version))
                .err()
                .unwrap()
                .code,
            "ExecutionAlreadyExists"
        );
        assert_eq!(
            store
                .insert("c", |s| record(s, "c", &version))
                .err()
                .unwrap()
                .code,
            "ExecutionLimitExceeded",
            "every stored execution still runs"
        );
        a.outcome.lock().unwrap().status = "SUCCEEDED";
        store.insert("c", |s| record(s, "c", &version)).unwrap();
        assert!(store.get("a").is_none(), "the finished one made room");
        let newest: Vec<String> = store
            .newest(u64::MAX, 10, |_| true)
            .iter()
            .map(|r| r.arn.clone())
            .collect();
        assert_eq!(newest, ["c", "b"]);
        assert_eq!(
            store.newest(3, 10, |_| true).len(),
            1,
            "paging below a sequence number"
        );
    }
}
