//! Typed history events, with AWS's event type names and numbering.
//!
//! Every execution numbers its events as AWS does (`ExecutionStarted` is 1,
//! then each state's `...StateEntered`, its task or fan-out events, and its
//! `...StateExited`), whether or not anyone records them: AWS quotes the id of
//! a state's entered event in runtime error causes ("... 'Wait' (entered at
//! the event id #2) ..."). Recording is asked for per execution ([`History`]:
//! a bounded [`HistorySink`] and whether events carry data), follows the
//! execution's branches onto whichever shard runs them, and costs nothing
//! when off.
//!
//! Children of a Map or Parallel state number their events from the parent's
//! next id, and the parent moves on by the children's total once they join,
//! so ids are exact outside fan-outs and deterministic inside them (on AWS the
//! interleaving inside a fan-out is not deterministic either).

use crate::error::StatesError;
use crate::time::Timestamp;
use crate::value::{Str, Value};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The type of a history event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `ExecutionStarted`
    ExecutionStarted,
    /// `ExecutionSucceeded`
    ExecutionSucceeded,
    /// `ExecutionFailed`
    ExecutionFailed,
    /// `ExecutionTimedOut`
    ExecutionTimedOut,
    /// `ExecutionAborted`
    ExecutionAborted,
    /// `<Type>StateEntered` (the state's type name)
    StateEntered(&'static str),
    /// `<Type>StateExited`
    StateExited(&'static str),
    /// `TaskScheduled`
    TaskScheduled,
    /// `TaskStarted`
    TaskStarted,
    /// `TaskSucceeded`
    TaskSucceeded,
    /// `TaskFailed`
    TaskFailed,
    /// `TaskTimedOut`
    TaskTimedOut,
    /// `LambdaFunctionScheduled`
    LambdaFunctionScheduled,
    /// `LambdaFunctionStarted`
    LambdaFunctionStarted,
    /// `LambdaFunctionSucceeded`
    LambdaFunctionSucceeded,
    /// `LambdaFunctionFailed`
    LambdaFunctionFailed,
    /// `LambdaFunctionTimedOut`
    LambdaFunctionTimedOut,
    /// `ParallelStateStarted`
    ParallelStateStarted,
    /// `ParallelStateSucceeded`
    ParallelStateSucceeded,
    /// `ParallelStateFailed`
    ParallelStateFailed,
    /// `MapStateStarted`
    MapStateStarted,
    /// `MapStateSucceeded`
    MapStateSucceeded,
    /// `MapStateFailed`
    MapStateFailed,
    /// `MapIterationStarted`
    MapIterationStarted,
    /// `MapIterationSucceeded`
    MapIterationSucceeded,
    /// `MapIterationFailed`
    MapIterationFailed,
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventType::StateEntered(t) => write!(f, "{t}StateEntered"),
            EventType::StateExited(t) => write!(f, "{t}StateExited"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One history event.
#[derive(Debug, Clone)]
pub struct HistoryEvent {
    /// Its number in the execution (from 1).
    pub id: u32,
    /// When it happened.
    pub timestamp: Timestamp,
    /// What happened.
    pub event_type: EventType,
    /// The state it belongs to, if any.
    pub state: Option<Str>,
    /// The Map iteration it belongs to, if any.
    pub map_index: Option<u32>,
    /// Input, output or result carried by the event.
    pub payload: Option<Value>,
    /// The error of a failure event.
    pub error: Option<StatesError>,
}

/// Receives history events as the shards produce them, from whichever shard
/// thread runs the branch. Must not block: a shard calls it in its loop.
pub trait HistorySink: Send + Sync {
    /// Records one event.
    fn record(&self, event: HistoryEvent);
}

/// Where an execution's history goes, as asked for by its submitter.
#[derive(Clone)]
pub struct History {
    /// The subscriber.
    pub sink: Arc<dyn HistorySink>,
    /// Whether events carry inputs, outputs and results (AWS's
    /// `includeExecutionData`); without it they carry names, ids and errors.
    pub include_data: bool,
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("History")
            .field("include_data", &self.include_data)
            .finish_non_exhaustive()
    }
}

impl History {
    /// Every event, with its data, to `sink`.
    pub fn to(sink: Arc<dyn HistorySink>) -> History {
        History {
            sink,
            include_data: true,
        }
    }
}

/// A bounded subscriber: events queue up to `capacity`, and past that are
/// dropped and counted (a slow reader never holds a shard up). Make one with
/// [`history_channel`].
pub struct HistorySender {
    sender: crossbeam::channel::Sender<HistoryEvent>,
    dropped: Arc<AtomicU64>,
}

/// The reading end of [`history_channel`].
pub struct HistoryReceiver {
    receiver: crossbeam::channel::Receiver<HistoryEvent>,
    dropped: Arc<AtomicU64>,
}

/// A bounded history subscriber and its reader.
pub fn history_channel(capacity: usize) -> (HistorySender, HistoryReceiver) {
    let (sender, receiver) = crossbeam::channel::bounded(capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    (
        HistorySender {
            sender,
            dropped: Arc::clone(&dropped),
        },
        HistoryReceiver { receiver, dropped },
    )
}

impl HistorySink for HistorySender {
    fn record(&self, event: HistoryEvent) {
        if self.sender.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl HistoryReceiver {
    /// The channel's receiving end (blocking and non-blocking reads,
    /// `select!`).
    pub fn events(&self) -> &crossbeam::channel::Receiver<HistoryEvent> {
        &self.receiver
    }

    /// Events dropped because the channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// An unbounded in-memory subscriber, for tests and tools that read the
/// history once the execution ended.
#[derive(Default)]
pub struct HistoryBuffer {
    events: Mutex<Vec<HistoryEvent>>,
}

impl HistoryBuffer {
    /// The events recorded so far, in the order they arrived.
    pub fn take(&self) -> Vec<HistoryEvent> {
        std::mem::take(&mut self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl HistorySink for HistoryBuffer {
    fn record(&self, event: HistoryEvent) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}
