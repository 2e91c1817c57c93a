//! The interpreter: [`Fiber`]s run the states of one branch as a step
//! function (no I/O, time passed in), [`Variables`] hold the workflow
//! variables of each scope, [`StatesBindings`] give JSONata expressions
//! `$states` and the variables, [`Join`] tracks fan-outs, history
//! events are typed and numbered as on AWS, and [`run_execution`] drives one
//! execution to completion on a real or virtual clock.

mod driver;
mod execution;
mod fiber;
mod history;
mod join;
mod jsonata_io;
mod variables;

pub use driver::{EXPRESS_MAX_DURATION, Outcome, RunOptions, Status, TimeSource, run_execution};
pub use execution::ExecutionInfo;
pub use fiber::{Fiber, Poll, StepEnv};
pub use history::{EventType, HistoryEvent, HistorySink};
pub use join::{ChildStart, Fork, ForkKind, Join, JoinOutcome, Tolerance, error_output};
pub use jsonata_io::StatesBindings;
pub use variables::{
    MAX_ASSIGN_BYTES, MAX_TOTAL_BYTES, MAX_VARIABLE_BYTES, PendingAssign, Variables,
};
