//! Mock task behaviours, in the format of the conformance corpus
//! (`{"kind": "echo"}`, `{"kind": "return", "value": ...}`, `{"kind": "fail",
//! ...}`, `{"kind": "fail_then", ...}`, `{"kind": "sleep", ...}`), usable from
//! a resources file for dry runs and benchmarks.

use super::{TaskCall, TaskHandler, TaskReply, TaskResult};
use crate::error::StatesError;
use crate::value::Value;
use serde::Deserialize;
use std::time::Duration;

/// One mock behaviour.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MockBehaviour {
    /// Returns the task's input.
    Echo,
    /// Returns a fixed value.
    Return {
        /// The result.
        value: Value,
    },
    /// Fails with an error and cause.
    Fail {
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
    },
    /// Fails the first `times` attempts, then behaves as `then`.
    FailThen {
        /// How many attempts fail.
        times: u32,
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
        /// The behaviour afterwards.
        then: Box<MockBehaviour>,
    },
    /// Waits, then behaves as `then`.
    Sleep {
        /// Milliseconds to wait (on the execution's clock).
        ms: u64,
        /// The behaviour afterwards.
        then: Box<MockBehaviour>,
    },
}

impl MockBehaviour {
    /// The outcome for invocation number `attempt` (counting from 0) with
    /// `input`, and the simulated delay before it.
    pub fn outcome(&self, attempt: u32, input: &Value) -> (Duration, TaskResult) {
        match self {
            MockBehaviour::Echo => (Duration::ZERO, Ok(input.clone())),
            MockBehaviour::Return { value } => (Duration::ZERO, Ok(value.clone())),
            MockBehaviour::Fail { error, cause } => (
                Duration::ZERO,
                Err(StatesError::new(error.as_str(), cause.as_str())),
            ),
            MockBehaviour::FailThen {
                times,
                error,
                cause,
                then,
            } => {
                if attempt < *times {
                    (
                        Duration::ZERO,
                        Err(StatesError::new(error.as_str(), cause.as_str())),
                    )
                } else {
                    then.outcome(attempt - times, input)
                }
            }
            MockBehaviour::Sleep { ms, then } => {
                let (delay, result) = then.outcome(attempt, input);
                (delay + Duration::from_millis(*ms), result)
            }
        }
    }
}

/// A handler that plays a [`MockBehaviour`]. Invocations are counted per
/// resource across the whole execution (every branch, retry and loop), as
/// the conformance corpus defines `fail_then` and as Step Functions Local
/// counts mocked responses: `fail_then` with `times: 2` fails the first two
/// invocations of its resource in each execution, wherever they come from.
#[derive(Debug, Clone)]
pub struct MockHandler {
    behaviour: MockBehaviour,
}

impl MockHandler {
    /// A handler playing `behaviour`.
    pub fn new(behaviour: MockBehaviour) -> MockHandler {
        MockHandler { behaviour }
    }
}

impl TaskHandler for MockHandler {
    fn invoke(&self, call: TaskCall) -> TaskReply {
        match self.behaviour.outcome(call.invocation, &call.input) {
            (delay, result) if delay.is_zero() => TaskReply::Ready(result),
            (delay, result) => TaskReply::After(delay, result),
        }
    }

    fn counts_invocations(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn behaviour(json: serde_json::Value) -> MockBehaviour {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn fail_then_chains_by_attempt() {
        let b = behaviour(serde_json::json!({
            "kind": "fail_then", "times": 1, "error": "A", "cause": "first",
            "then": {"kind": "fail_then", "times": 1, "error": "B", "cause": "second", "then": {"kind": "echo"}}
        }));
        let input = json!({"x": 1});
        assert_eq!(b.outcome(0, &input).1.unwrap_err().cause(), Some("first"));
        assert_eq!(b.outcome(1, &input).1.unwrap_err().error(), Some("B"));
        assert_eq!(b.outcome(2, &input).1.unwrap(), input);
    }

    #[test]
    fn sleep_adds_delay() {
        let b = behaviour(
            serde_json::json!({"kind": "sleep", "ms": 1500, "then": {"kind": "return", "value": 7}}),
        );
        let (delay, result) = b.outcome(0, &Value::Null);
        assert_eq!(delay, Duration::from_millis(1500));
        assert_eq!(result.unwrap(), json!(7));
    }

    #[test]
    fn rejects_unknown_kinds() {
        assert!(
            serde_json::from_value::<MockBehaviour>(serde_json::json!({"kind": "explode"}))
                .is_err()
        );
    }
}
