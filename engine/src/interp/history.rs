//! Typed history events, with AWS's event type names and numbering.
//!
//! Every execution numbers its events as AWS does (`ExecutionStarted` is 1,
//! then each state's `...StateEntered`, its task or fan-out events, and its
//! `...StateExited`), whether or not anyone records them: AWS quotes the id of
//! a state's entered event in runtime error causes ("... 'Wait' (entered at
//! the event id #2) ..."). Recording is optional ([`HistorySink`]) and costs
//! nothing when off.
//!
//! Children of a Map or Parallel state number their events from the parent's
//! next id, and the parent moves on by the children's total once they join,
//! so ids are exact outside fan-outs and deterministic inside them (on AWS the
//! interleaving inside a fan-out is not deterministic either).

use crate::error::StatesError;
use crate::time::Timestamp;
use crate::value::{Str, Value};
use std::fmt;

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

/// Receives history events as they happen.
pub trait HistorySink {
    /// Records one event.
    fn record(&mut self, event: HistoryEvent);
}

impl HistorySink for Vec<HistoryEvent> {
    fn record(&mut self, event: HistoryEvent) {
        self.push(event);
    }
}
