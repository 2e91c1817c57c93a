//! Evaluation limits against runaway or abusive expressions.

use super::error::{JsonataError, LIMIT_EXCEEDED, Result};
use std::time::{Duration, Instant};

/// Bounds on one evaluation. Exceeding any of them fails the evaluation
/// with code `U1001`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of expression evaluations (each operator, path and
    /// function call nests one level; a recursive non-tail call costs about
    /// three). jsonata-js counts the same way.
    pub max_depth: usize,
    /// Maximum number of expression evaluations in total.
    pub max_steps: u64,
    /// Wall-clock budget for one evaluation.
    pub timeout: Option<Duration>,
    /// Native stack the evaluation may use, in bytes, measured from the call
    /// to `evaluate`. Keeps deep recursion from overflowing the thread's
    /// stack whatever `max_depth` is.
    pub max_stack_bytes: usize,
}

impl Default for Limits {
    /// Depth 1,000, 50 million steps, 10 seconds, 1 MiB of native stack
    /// (safe on a 2 MiB thread stack, also in debug builds).
    fn default() -> Limits {
        Limits {
            max_depth: 1000,
            max_steps: 50_000_000,
            timeout: Some(Duration::from_secs(10)),
            max_stack_bytes: 1 << 20,
        }
    }
}

/// Tracks one evaluation against its [`Limits`].
pub(crate) struct Guard {
    max_depth: usize,
    max_steps: u64,
    max_stack: usize,
    timeout: Option<Duration>,
    /// Set at the first clock reading (a few microseconds into the run,
    /// which keeps short evaluations from reading the clock at all).
    deadline: Option<Instant>,
    stack_base: usize,
    pub depth: usize,
    steps: u64,
}

/// Steps between two clock readings.
const CLOCK_EVERY: u64 = 1024;

fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

impl Guard {
    pub fn new(limits: &Limits) -> Guard {
        Guard {
            max_depth: limits.max_depth,
            max_steps: limits.max_steps,
            max_stack: limits.max_stack_bytes,
            timeout: limits.timeout,
            deadline: None,
            stack_base: stack_address(),
            depth: 0,
            steps: 0,
        }
    }

    /// Enters one evaluation level.
    #[inline]
    pub fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        self.steps += 1;
        if self.depth > self.max_depth {
            return Err(stack_overflow());
        }
        if self.steps > self.max_steps {
            return Err(timeout());
        }
        if self.stack_base.abs_diff(stack_address()) > self.max_stack {
            return Err(stack_overflow());
        }
        if self.steps.is_multiple_of(CLOCK_EVERY)
            && let Some(limit) = self.timeout
        {
            let now = Instant::now();
            let deadline = *self.deadline.get_or_insert(now + limit);
            if now > deadline {
                return Err(timeout());
            }
        }
        Ok(())
    }

    /// Leaves one evaluation level.
    #[inline]
    pub fn leave(&mut self) {
        self.depth -= 1;
    }
}

fn stack_overflow() -> Box<JsonataError> {
    JsonataError::with_text(
        LIMIT_EXCEEDED,
        "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
    )
}

fn timeout() -> Box<JsonataError> {
    JsonataError::with_text(
        LIMIT_EXCEEDED,
        "Expression evaluation timeout: Check for infinite loop",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_steps_are_bounded() {
        let mut g = Guard::new(&Limits {
            max_depth: 2,
            max_steps: 5,
            timeout: None,
            max_stack_bytes: 1 << 20,
        });
        g.enter().unwrap();
        g.enter().unwrap();
        assert!(g.enter().unwrap_err().message.starts_with("Stack overflow"));
        g.leave();
        g.leave();
        g.leave();
        g.enter().unwrap();
        g.leave();
        g.enter().unwrap();
        g.leave();
        let err = g.enter().unwrap_err();
        assert_eq!(err.code, "U1001");
        assert!(err.message.contains("timeout"));
    }
}
