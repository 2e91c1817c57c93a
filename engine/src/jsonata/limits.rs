//! Evaluation limits against runaway or abusive expressions.

use super::error::{JsonataError, LIMIT_EXCEEDED, Result};
use crate::value::MAX_DEPTH;
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
    /// The instant the evaluation must be done by, whichever of it and
    /// `timeout` comes first. The interpreter sets it from what is left of
    /// the execution's `TimeoutSeconds` (see [`Limits::until`]).
    pub deadline: Option<Instant>,
    /// Native stack the evaluation may use, in bytes, measured from the call
    /// to `evaluate`. Keeps deep recursion from overflowing the thread's
    /// stack whatever `max_depth` is.
    pub max_stack_bytes: usize,
    /// Bytes the values built by one evaluation may take in all, counted as
    /// they are built whether or not they are kept: a string its length, an
    /// array or a sequence 32 bytes per item, an object 64 bytes per entry
    /// plus its keys, a closure 256 bytes.
    pub max_value_bytes: usize,
    /// Deepest nesting of arrays and objects in a value the evaluation
    /// builds: that of parsed JSON, [`MAX_DEPTH`].
    pub max_value_depth: usize,
}

/// What an item of an array counts against [`Limits::max_value_bytes`].
pub(crate) const SLOT_BYTES: usize = 32;
/// What making a closure counts against [`Limits::max_value_bytes`]: about
/// what it keeps alive (the function, the frame it was made in and that
/// frame's bindings), as a loop can chain closures one to the next.
pub(crate) const CLOSURE_BYTES: usize = 256;
/// What an entry of an object counts against [`Limits::max_value_bytes`],
/// besides its key.
pub(crate) const ENTRY_BYTES: usize = 64;

impl Default for Limits {
    /// Depth 1,000, 50 million steps, 10 seconds, no deadline, 1 MiB of
    /// native stack (safe on a 2 MiB thread stack, also in debug builds),
    /// 64 MiB of values, values nested up to [`MAX_DEPTH`].
    fn default() -> Limits {
        Limits {
            max_depth: 1000,
            max_steps: 50_000_000,
            timeout: Some(Duration::from_secs(10)),
            deadline: None,
            max_stack_bytes: 1 << 20,
            max_value_bytes: 64 << 20,
            max_value_depth: MAX_DEPTH,
        }
    }
}

impl Limits {
    /// These limits, with the evaluation also ending by `deadline` (the
    /// earlier of it and any deadline already set).
    pub fn until(&self, deadline: Instant) -> Limits {
        Limits {
            deadline: Some(self.deadline.map_or(deadline, |d| d.min(deadline))),
            ..self.clone()
        }
    }
}

/// Tracks one evaluation against its [`Limits`].
pub(crate) struct Guard {
    max_depth: usize,
    max_steps: u64,
    max_stack: usize,
    timeout: Option<Duration>,
    /// The caller's deadline until the first clock reading, then the
    /// earlier of it and the end of `timeout` counted from that reading
    /// (a few microseconds into the run, which keeps short evaluations from
    /// reading the clock at all).
    deadline: Option<Instant>,
    clock_started: bool,
    stack_base: usize,
    pub depth: usize,
    steps: u64,
    /// Work done outside expression evaluations (loops over items), in
    /// units between clock readings.
    work: u64,
    max_bytes: usize,
    bytes: usize,
    /// Deepest nesting of a value built.
    pub max_value_depth: usize,
}

/// Steps (or units of work) between two clock readings.
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
            deadline: limits.deadline,
            clock_started: false,
            stack_base: stack_address(),
            depth: 0,
            steps: 0,
            work: 0,
            max_bytes: limits.max_value_bytes,
            bytes: 0,
            max_value_depth: limits.max_value_depth,
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
        if self.steps.is_multiple_of(CLOCK_EVERY) {
            self.check_clock()?;
        }
        Ok(())
    }

    /// Leaves one evaluation level.
    #[inline]
    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Counts `units` of work done in a loop that evaluates nothing (one
    /// unit is about an item visited), reading the clock every
    /// [`CLOCK_EVERY`] units, so such loops end at the time limit too.
    #[inline]
    pub fn work(&mut self, units: u64) -> Result<()> {
        let before = self.work;
        self.work += units;
        if before / CLOCK_EVERY != self.work / CLOCK_EVERY {
            self.check_clock()?;
        }
        Ok(())
    }

    /// Counts `bytes` of values built against the budget.
    #[inline]
    pub fn charge(&mut self, bytes: usize) -> Result<()> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > self.max_bytes {
            return Err(out_of_memory(self.max_bytes));
        }
        Ok(())
    }

    /// Checks that `bytes` more would still fit the budget, without
    /// counting them (for a result being built, counted once done).
    #[inline]
    pub fn fits(&self, bytes: usize) -> Result<()> {
        if self.bytes.saturating_add(bytes) > self.max_bytes {
            return Err(out_of_memory(self.max_bytes));
        }
        Ok(())
    }

    /// Bytes left in the budget.
    pub fn bytes_left(&self) -> usize {
        self.max_bytes.saturating_sub(self.bytes)
    }

    /// The error for a value that does not fit what is left of the budget.
    pub fn over_budget(&self) -> Box<JsonataError> {
        out_of_memory(self.max_bytes)
    }

    #[cold]
    fn check_clock(&mut self) -> Result<()> {
        let now = Instant::now();
        if !self.clock_started {
            self.clock_started = true;
            if let Some(limit) = self.timeout {
                let end = now + limit;
                self.deadline = Some(self.deadline.map_or(end, |d| d.min(end)));
            }
        }
        match self.deadline {
            Some(deadline) if now > deadline => Err(timeout()),
            _ => Ok(()),
        }
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

#[cold]
fn out_of_memory(max_bytes: usize) -> Box<JsonataError> {
    JsonataError::with_text(
        LIMIT_EXCEEDED,
        format!(
            "Memory limit exceeded: the values built by the expression take more than {max_bytes} bytes"
        ),
    )
}

/// The error for a value nested deeper than `max_depth`.
#[cold]
pub(crate) fn too_deep(max_depth: usize) -> Box<JsonataError> {
    JsonataError::with_text(
        LIMIT_EXCEEDED,
        format!(
            "Nesting limit exceeded: the expression builds a value nested more than {max_depth} levels deep"
        ),
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
            ..Limits::default()
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

    #[test]
    fn a_past_deadline_ends_loops_that_evaluate_nothing() {
        let limits = Limits::default().until(Instant::now());
        assert!(limits.timeout.is_some(), "the earlier of the two applies");
        let mut g = Guard::new(&limits);
        g.work(CLOCK_EVERY - 1).unwrap();
        let err = g.work(1).unwrap_err();
        assert_eq!(err.code, LIMIT_EXCEEDED);
        assert!(err.message.contains("timeout"), "{}", err.message);
    }

    #[test]
    fn the_byte_budget_is_counted_and_checked() {
        let mut g = Guard::new(&Limits {
            max_value_bytes: 100,
            ..Limits::default()
        });
        g.charge(60).unwrap();
        g.fits(40).unwrap();
        assert!(g.fits(41).is_err());
        assert_eq!(g.bytes_left(), 40);
        let err = g.charge(41).unwrap_err();
        assert_eq!(err.code, LIMIT_EXCEEDED);
        assert!(err.message.contains("100 bytes"), "{}", err.message);
    }
}
