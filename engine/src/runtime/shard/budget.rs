//! An execution's budgets for its fan-outs: live fibers
//! (`max_fibers_per_execution`) and held bytes (`max_bytes_per_execution`).
//! A child fiber counts its input's size while it lives (see `Fiber`);
//! a fan-out counts the results it has collected until it is dropped.

use crate::error::StatesError;
use crate::interp::ExecutionInfo;
use crate::value::{Value, size};
use std::sync::Arc;

/// The results a fan-out has collected, counted in its execution's held
/// bytes until dropped (decided, cancelled, or its execution ended).
pub(super) struct Collected {
    exec: Arc<ExecutionInfo>,
    bytes: u64,
}

impl Collected {
    pub(super) fn new(exec: &Arc<ExecutionInfo>) -> Collected {
        Collected {
            exec: Arc::clone(exec),
            bytes: 0,
        }
    }

    /// Counts a child's result.
    pub(super) fn add(&mut self, result: &Value) {
        let bytes = size::approximate_json_size(result) as u64;
        self.bytes += bytes;
        self.exec.hold(bytes);
    }
}

impl Drop for Collected {
    fn drop(&mut self) {
        self.exec.release(self.bytes);
    }
}

/// Why an execution may not start another child: over one of its budgets.
pub(super) fn over_budget(
    exec: &ExecutionInfo,
    max_fibers: u32,
    max_bytes: u64,
) -> Option<StatesError> {
    if exec.live_fibers() >= max_fibers {
        return Some(StatesError::runtime(format!(
            "The execution needs more than {max_fibers} Map iterations and Parallel branches alive at once (the runtime's max_fibers_per_execution); set MaxConcurrency on its Map states"
        )));
    }
    let held = exec.held_bytes();
    if held > max_bytes {
        return Some(StatesError::runtime(format!(
            "The execution holds {held} bytes in its Map iterations, Parallel branches and their collected results, over the runtime's limit of {max_bytes} bytes ([runtime] max_bytes_per_execution); set MaxConcurrency on its Map states or make their results smaller"
        )));
    }
    None
}
