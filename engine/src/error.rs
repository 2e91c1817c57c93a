//! Errors raised while a workflow runs, as ASL sees them: an error name
//! (`States.Timeout`, a task's own `CustomError`, ...) and a cause.
//!
//! These are interpreter values that Retry and Catch match on, not Rust
//! failures. The payload is boxed so `Result<Value, StatesError>` stays small
//! on the hot path.

use crate::value::Str;
use std::fmt;

/// The predefined error names of the States language.
pub mod names {
    /// Matches any error name except `States.Runtime` (wildcard in `ErrorEquals`).
    pub const ALL: &str = "States.ALL";
    /// Matches any error a task can raise except `States.Timeout`.
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// A task or the execution ran past its `TimeoutSeconds`.
    pub const TIMEOUT: &str = "States.Timeout";
    /// A task sent no heartbeat for `HeartbeatSeconds`.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// Insufficient privileges for the task.
    pub const PERMISSIONS: &str = "States.Permissions";
    /// An exception the execution could not process; never retried or caught.
    pub const RUNTIME: &str = "States.Runtime";
    /// A payload above the size limit.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// `ResultPath` cannot be applied to the state's input.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A path in `Parameters` selected nothing.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// A Parallel branch failed.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// No Choice rule matched and there is no `Default`.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// An intrinsic function failed.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// A Map run had more failed items than it tolerates.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    /// A JSONata expression failed or returned an unusable result.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    /// An item reader failed (distributed Map).
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    /// A result writer failed (distributed Map).
    pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    error: Option<Str>,
    cause: Option<String>,
}

/// An ASL error: a name (absent only for a `Fail` state without `Error`)
/// and an optional cause.
#[derive(Clone, PartialEq, Eq)]
pub struct StatesError(Box<Inner>);

impl StatesError {
    /// An error with a name and a cause.
    pub fn new(error: impl Into<Str>, cause: impl Into<String>) -> StatesError {
        StatesError(Box::new(Inner {
            error: Some(error.into()),
            cause: Some(cause.into()),
        }))
    }

    /// An error with any combination of name and cause (as a `Fail` state may raise).
    pub fn from_parts(error: Option<Str>, cause: Option<String>) -> StatesError {
        StatesError(Box::new(Inner { error, cause }))
    }

    /// `States.Runtime` with a cause.
    pub fn runtime(cause: impl Into<String>) -> StatesError {
        StatesError::new(names::RUNTIME, cause)
    }

    /// `States.IntrinsicFailure` with a cause.
    pub fn intrinsic(cause: impl Into<String>) -> StatesError {
        StatesError::new(names::INTRINSIC_FAILURE, cause)
    }

    /// `States.QueryEvaluationError` with a cause.
    pub fn query_evaluation(cause: impl Into<String>) -> StatesError {
        StatesError::new(names::QUERY_EVALUATION_ERROR, cause)
    }

    /// The error name, if any.
    pub fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// The cause, if any.
    pub fn cause(&self) -> Option<&str> {
        self.0.cause.as_deref()
    }

    /// Replaces the cause.
    pub fn with_cause(mut self, cause: impl Into<String>) -> StatesError {
        self.0.cause = Some(cause.into());
        self
    }

    /// `true` for `States.Runtime`, which no Retry or Catch handles.
    pub fn is_runtime(&self) -> bool {
        self.error() == Some(names::RUNTIME)
    }
}

impl fmt::Debug for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.error(), self.cause()) {
            (Some(e), Some(c)) => write!(f, "{e}: {c}"),
            (Some(e), None) => f.write_str(e),
            (None, Some(c)) => write!(f, "(no error name): {c}"),
            (None, None) => f.write_str("(no error name)"),
        }
    }
}

impl std::error::Error for StatesError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_one_pointer_wide() {
        assert_eq!(
            std::mem::size_of::<StatesError>(),
            std::mem::size_of::<usize>()
        );
    }
}
