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

impl EventType {
    /// Logged at level `FATAL` (and `ERROR` and `ALL`): the execution ended
    /// badly (`ExecutionFailed`, `ExecutionTimedOut`, `ExecutionAborted`).
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            EventType::ExecutionFailed | EventType::ExecutionTimedOut | EventType::ExecutionAborted
        )
    }

    /// Logged at level `ERROR` (and `ALL`): the fatal events, a Fail state
    /// entered, and every failure or timeout of a task, a Map or Parallel
    /// state or a Map iteration (AWS's table of log levels).
    pub fn is_error(self) -> bool {
        self.is_fatal()
            || matches!(
                self,
                EventType::StateEntered("Fail")
                    | EventType::TaskFailed
                    | EventType::TaskTimedOut
                    | EventType::LambdaFunctionFailed
                    | EventType::LambdaFunctionTimedOut
                    | EventType::ParallelStateFailed
                    | EventType::MapStateFailed
                    | EventType::MapIterationFailed
            )
    }

    /// A `Task*` or `LambdaFunction*` event (it names the task's resource).
    pub fn is_task(self) -> bool {
        matches!(
            self,
            EventType::TaskScheduled
                | EventType::TaskStarted
                | EventType::TaskSucceeded
                | EventType::TaskFailed
                | EventType::TaskTimedOut
                | EventType::LambdaFunctionScheduled
                | EventType::LambdaFunctionStarted
                | EventType::LambdaFunctionSucceeded
                | EventType::LambdaFunctionFailed
                | EventType::LambdaFunctionTimedOut
        )
    }
}

/// Which events an execution's log keeps: AWS's `loggingConfiguration`
/// level. `OFF` (the default) records nothing and attaches no history at
/// all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    /// Every event.
    All,
    /// Failures ([`EventType::is_error`]).
    Error,
    /// The execution's bad ends ([`EventType::is_fatal`]).
    Fatal,
    /// Nothing.
    #[default]
    Off,
}

impl LogLevel {
    /// Every level, in AWS's spelling order.
    pub const ALL_LEVELS: [LogLevel; 4] = [
        LogLevel::All,
        LogLevel::Error,
        LogLevel::Fatal,
        LogLevel::Off,
    ];

    /// Whether events of `event_type` are logged at this level.
    #[inline]
    pub fn admits(self, event_type: EventType) -> bool {
        match self {
            LogLevel::All => true,
            LogLevel::Error => event_type.is_error(),
            LogLevel::Fatal => event_type.is_fatal(),
            LogLevel::Off => false,
        }
    }

    /// AWS's name: `ALL`, `ERROR`, `FATAL` or `OFF`.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::All => "ALL",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
            LogLevel::Off => "OFF",
        }
    }

    /// The level AWS names `name` (exactly as AWS spells it).
    pub fn from_name(name: &str) -> Option<LogLevel> {
        LogLevel::ALL_LEVELS.into_iter().find(|l| l.name() == name)
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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
    /// The execution's ARN.
    pub execution_arn: Str,
    /// When it happened.
    pub timestamp: Timestamp,
    /// What happened.
    pub event_type: EventType,
    /// The state it belongs to, if any.
    pub state: Option<Str>,
    /// The Map iteration it belongs to, if any.
    pub map_index: Option<u32>,
    /// The task's `Resource`, for `Task*` and `LambdaFunction*` events.
    pub resource: Option<Str>,
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
    /// Which events are recorded: the others are not even built (their ids
    /// are used all the same).
    pub level: LogLevel,
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("History")
            .field("include_data", &self.include_data)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl History {
    /// Every event, with its data, to `sink`.
    pub fn to(sink: Arc<dyn HistorySink>) -> History {
        History {
            sink,
            include_data: true,
            level: LogLevel::All,
        }
    }

    /// The events `level` keeps, to `sink`; `None` (no history at all) for
    /// [`LogLevel::Off`].
    pub fn logging(
        sink: Arc<dyn HistorySink>,
        level: LogLevel,
        include_data: bool,
    ) -> Option<History> {
        (level != LogLevel::Off).then_some(History {
            sink,
            include_data,
            level,
        })
    }

    /// Whether events of `event_type` are recorded.
    #[inline]
    pub fn admits(&self, event_type: EventType) -> bool {
        self.level.admits(event_type)
    }
}

/// Numbers an execution's events 1, 2, 3, ... in the order they reach it,
/// as AWS numbers an execution's history, then hands them on. The engine's
/// own ids start each Map iteration and Parallel branch from the same
/// number, so they repeat across concurrent branches; the order of arrival
/// is causal (a branch's events come after the fork that started it and
/// before the join that ends it). One per execution.
pub struct ArrivalNumbering {
    inner: Arc<dyn HistorySink>,
    /// The last id given; held while handing the event on, so the events
    /// reach `inner` in the order of their ids.
    last: Mutex<u32>,
}

impl ArrivalNumbering {
    /// Numbers the events of one execution for `inner`.
    pub fn new(inner: Arc<dyn HistorySink>) -> ArrivalNumbering {
        ArrivalNumbering {
            inner,
            last: Mutex::new(0),
        }
    }
}

impl HistorySink for ArrivalNumbering {
    fn record(&self, mut event: HistoryEvent) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = last.saturating_add(1);
        event.id = *last;
        self.inner.record(event);
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
