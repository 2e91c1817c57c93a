//! The interpreter: [`Fiber`]s run the states of one branch as a step
//! function (no I/O, time passed in), [`Variables`] hold the workflow
//! variables of each scope, [`StatesBindings`] give JSONata expressions
//! `$states` and the variables, [`Join`] tracks fan-outs, and history
//! events are typed and numbered as on AWS. The sharded
//! [`runtime`](crate::runtime) hosts every execution.

mod execution;
mod fiber;
mod history;
mod join;
mod jsonata_io;
mod variables;

pub use execution::{ExecutionInfo, Hosting, role_arn_in};
pub use fiber::{Fiber, Poll, StepEnv};
pub use history::{
    ArrivalNumbering, EventType, History, HistoryBuffer, HistoryEvent, HistoryReceiver,
    HistorySender, HistorySink, LogLevel, history_channel,
};
pub use join::{ChildStart, Fork, ForkKind, Join, JoinOutcome, Tolerance, error_output};
pub use jsonata_io::StatesBindings;
pub use variables::{PendingAssign, Variables};
