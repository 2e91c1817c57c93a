//! Fan-out bookkeeping for Map and Parallel: which child to start next
//! (honouring `MaxConcurrency`), results gathered in order, failures counted
//! against the tolerated threshold. A driver owns one [`Join`] per forked
//! fiber and resumes the parent when [`Join::finish`] says it is complete;
//! there is no polling.

use crate::error::{StatesError, names};
use crate::plan::BranchId;
use crate::value::{Map, Value};

/// Whether the children are Parallel branches or Map iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkKind {
    /// Parallel branches.
    Parallel,
    /// Map iterations.
    Map,
}

/// How many failed Map iterations are tolerated.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tolerance {
    /// `ToleratedFailureCount`.
    pub count: Option<u64>,
    /// `ToleratedFailurePercentage`.
    pub percentage: Option<f64>,
}

impl Tolerance {
    fn is_set(&self) -> bool {
        self.count.is_some() || self.percentage.is_some()
    }

    fn exceeded(&self, failures: u64, total: usize) -> bool {
        if !self.is_set() {
            return failures > 0;
        }
        let over_count = self.count.is_some_and(|c| failures > c);
        let over_percentage = self
            .percentage
            .is_some_and(|p| total > 0 && (failures as f64) * 100.0 / (total as f64) > p);
        over_count || over_percentage
    }
}

/// One child to start.
#[derive(Debug, Clone)]
pub struct ChildStart {
    /// The branch it runs.
    pub branch: BranchId,
    /// Its input.
    pub input: Value,
    /// Its position among the Map's items (Map iterations only).
    pub map_index: Option<u32>,
}

/// What a Map or Parallel state asks its driver to run.
#[derive(Debug, Clone)]
pub struct Fork {
    /// Branches or iterations.
    pub kind: ForkKind,
    /// Every child, in result order.
    pub children: Vec<ChildStart>,
    /// At most this many at once (0: no limit).
    pub max_concurrency: usize,
    /// Tolerated failures (Map only).
    pub tolerance: Tolerance,
}

/// The end of a fan-out.
#[derive(Debug, Clone)]
pub struct JoinOutcome {
    /// The results in order, or the error that failed the fan-out.
    pub result: Result<Value, StatesError>,
    /// History events the children used, to advance the parent's numbering.
    pub events: u32,
    /// State transitions the children made.
    pub transitions: u32,
}

/// Tracks a fan-out as its children finish.
#[derive(Debug)]
pub struct Join {
    kind: ForkKind,
    results: Vec<Option<Value>>,
    max_concurrency: usize,
    tolerance: Tolerance,
    started: usize,
    running: usize,
    finished: usize,
    failures: u64,
    events: u32,
    transitions: u32,
    done: bool,
}

impl Join {
    /// Starts tracking `fork`.
    pub fn new(fork: &Fork) -> Join {
        Join {
            kind: fork.kind,
            results: vec![None; fork.children.len()],
            max_concurrency: fork.max_concurrency,
            tolerance: fork.tolerance,
            started: 0,
            running: 0,
            finished: 0,
            failures: 0,
            events: 0,
            transitions: 0,
            done: false,
        }
    }

    /// `true` when there are no children at all (the outcome is immediate).
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// The outcome of a fan-out with no children: an empty array.
    pub fn empty_outcome() -> JoinOutcome {
        JoinOutcome {
            result: Ok(Value::empty_array()),
            events: 0,
            transitions: 0,
        }
    }

    /// `true` when [`Join::next_to_start`] would start a child now.
    pub fn has_more_to_start(&self) -> bool {
        let limit_reached = self.max_concurrency > 0 && self.running >= self.max_concurrency;
        !self.done && !limit_reached && self.started < self.results.len()
    }

    /// The index of the next child to start now, if `MaxConcurrency` allows.
    pub fn next_to_start(&mut self) -> Option<usize> {
        if !self.has_more_to_start() {
            return None;
        }
        self.started += 1;
        self.running += 1;
        Some(self.started - 1)
    }

    /// Records the outcome of child `index`, which used `events` history
    /// events and made `transitions` state transitions. Returns the fan-out's
    /// outcome once it is decided: every child finished, or one failure too
    /// many (then the remaining children should be cancelled).
    pub fn finish(
        &mut self,
        index: usize,
        result: Result<Value, StatesError>,
        events: u32,
        transitions: u32,
    ) -> Option<JoinOutcome> {
        if self.done {
            return None;
        }
        debug_assert!(
            self.results[index].is_none(),
            "child {index} finished twice"
        );
        self.running -= 1;
        self.finished += 1;
        self.events += events;
        self.transitions += transitions;
        match result {
            Ok(value) => self.results[index] = Some(value),
            Err(error) => {
                self.failures += 1;
                if self.kind == ForkKind::Parallel
                    || self.tolerance.exceeded(self.failures, self.results.len())
                {
                    self.done = true;
                    let error = if self.kind == ForkKind::Map && self.tolerance.is_set() {
                        StatesError::new(
                            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold for the Map run has been exceeded",
                        )
                    } else {
                        error
                    };
                    return Some(JoinOutcome {
                        result: Err(error),
                        events: self.events,
                        transitions: self.transitions,
                    });
                }
                self.results[index] = Some(error_output(&error));
            }
        }
        if self.finished == self.results.len() {
            self.done = true;
            let values = std::mem::take(&mut self.results)
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
            return Some(JoinOutcome {
                result: Ok(Value::array(values)),
                events: self.events,
                transitions: self.transitions,
            });
        }
        None
    }
}

/// `{"Error": ..., "Cause": ...}`: how an error is handed on as data.
pub fn error_output(error: &StatesError) -> Value {
    let mut map = Map::with_capacity(2);
    if let Some(e) = error.error() {
        map.push_unique("Error".into(), Value::from(e));
    }
    if let Some(c) = error.cause() {
        map.push_unique("Cause".into(), Value::from(c));
    }
    Value::object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn fork(kind: ForkKind, n: usize, max: usize, tolerance: Tolerance) -> Fork {
        Fork {
            kind,
            children: (0..n)
                .map(|i| ChildStart {
                    branch: BranchId(1),
                    input: Value::from(i),
                    map_index: Some(i as u32),
                })
                .collect(),
            max_concurrency: max,
            tolerance,
        }
    }

    #[test]
    fn gathers_results_in_order_whatever_the_finish_order() {
        let mut join = Join::new(&fork(ForkKind::Map, 3, 0, Tolerance::default()));
        let started: Vec<_> = std::iter::from_fn(|| join.next_to_start()).collect();
        assert_eq!(started, [0, 1, 2]);
        assert!(join.finish(2, Ok(json!("c")), 3, 1).is_none());
        assert!(join.finish(0, Ok(json!("a")), 3, 1).is_none());
        let outcome = join.finish(1, Ok(json!("b")), 3, 1).unwrap();
        assert_eq!(outcome.result.unwrap(), json!(["a", "b", "c"]));
        assert_eq!(outcome.events, 9);
    }

    #[test]
    fn honours_max_concurrency() {
        let mut join = Join::new(&fork(ForkKind::Map, 3, 1, Tolerance::default()));
        assert_eq!(join.next_to_start(), Some(0));
        assert_eq!(join.next_to_start(), None);
        join.finish(0, Ok(json!(0)), 1, 1);
        assert_eq!(join.next_to_start(), Some(1));
    }

    #[test]
    fn first_failure_fails_without_tolerance() {
        let mut join = Join::new(&fork(ForkKind::Parallel, 2, 0, Tolerance::default()));
        join.next_to_start();
        join.next_to_start();
        let outcome = join
            .finish(1, Err(StatesError::new("Boom", "why")), 2, 1)
            .unwrap();
        assert_eq!(outcome.result.unwrap_err().error(), Some("Boom"));
        assert!(
            join.finish(0, Ok(json!(1)), 2, 1).is_none(),
            "a decided join ignores stragglers"
        );
    }

    #[test]
    fn tolerated_failures_leave_error_outputs() {
        let tolerance = Tolerance {
            count: Some(1),
            percentage: None,
        };
        let mut join = Join::new(&fork(ForkKind::Map, 3, 0, tolerance));
        while join.next_to_start().is_some() {}
        assert!(
            join.finish(0, Err(StatesError::new("E", "c")), 1, 1)
                .is_none()
        );
        join.finish(1, Ok(json!(1)), 1, 1);
        let outcome = join.finish(2, Ok(json!(2)), 1, 1).unwrap();
        assert_eq!(
            outcome.result.unwrap(),
            json!([{"Error": "E", "Cause": "c"}, 1, 2])
        );

        let mut join = Join::new(&fork(ForkKind::Map, 3, 0, tolerance));
        while join.next_to_start().is_some() {}
        join.finish(0, Err(StatesError::new("E", "c")), 1, 1);
        let outcome = join
            .finish(1, Err(StatesError::new("E", "c")), 1, 1)
            .unwrap();
        assert_eq!(
            outcome.result.unwrap_err().error(),
            Some("States.ExceedToleratedFailureThreshold")
        );
    }

    #[test]
    fn percentage_threshold() {
        let tolerance = Tolerance {
            count: None,
            percentage: Some(50.0),
        };
        assert!(!tolerance.exceeded(2, 4));
        assert!(tolerance.exceeded(3, 4));
    }
}
