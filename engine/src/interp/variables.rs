//! Workflow variables (`Assign`, read as `$name`), scoped as on AWS.
//!
//! The top-level states of an execution share one scope. Every Parallel
//! branch and Map iteration runs in a scope of its own: it reads the
//! variables of the enclosing scopes as they were when the Parallel or Map
//! state started its children, and what it assigns stays in its own scope
//! (gone when the branch or iteration ends). A distributed Map's iterations
//! see no outer variables at all.
//!
//! The store is built for the hot path:
//!
//! * an execution that assigns nothing never allocates (`own` stays `None`)
//!   and a state without `Assign` never touches the store;
//! * a fork costs one `Arc` for all its children together (see
//!   [`Variables::fork`]), and each child starts from a pointer copy of it;
//! * a scope's own variables are a small vector searched linearly (a
//!   workflow has a handful of variables; a vector beats a hash map there),
//!   shared copy-on-write: assigning after a fork copies the vector only if
//!   a child still holds it.
//!
//! Sizes: AWS limits one variable to 256 KiB, the values of one `Assign` to
//! 256 KiB together and all the variables of an execution to 10 MiB. The
//! first two are checked exactly; the third is checked against what one
//! scope can see (its own variables and the enclosing scopes'), which is
//! what a sequential execution holds.

use crate::error::{StatesError, names};
use crate::value::{MAX_DEPTH, Str, Value, size};
use std::sync::Arc;

use crate::limits::{
    ASSIGN_BYTES as MAX_ASSIGN_BYTES, EXECUTION_VARIABLE_BYTES as MAX_TOTAL_BYTES,
    VARIABLE_BYTES as MAX_VARIABLE_BYTES,
};

/// The variables one fiber sees: its own scope and, behind it, the
/// enclosing scopes as they were at the fork. Cloning is two pointer copies.
#[derive(Clone, Debug, Default)]
pub struct Variables {
    own: Option<Arc<Own>>,
    outer: Option<Arc<Variables>>,
}

/// The variables assigned in one scope, with their sizes.
#[derive(Clone, Debug, Default)]
struct Own {
    entries: Vec<Entry>,
    bytes: usize,
}

#[derive(Clone, Debug)]
struct Entry {
    name: Str,
    value: Value,
    bytes: usize,
}

impl Variables {
    /// An empty top-level scope.
    pub fn new() -> Variables {
        Variables::default()
    }

    /// A new scope for a branch or iteration that reads `outer` (from
    /// [`Variables::fork`]).
    pub fn child_of(outer: Option<Arc<Variables>>) -> Variables {
        Variables { own: None, outer }
    }

    /// `true` when no variable is visible at all.
    pub fn is_empty(&self) -> bool {
        self.own.is_none() && self.outer.is_none()
    }

    /// What the children of a fork starting now read: a snapshot of every
    /// variable visible here, shared by all of them (`None` when there is
    /// none, so forks of variable-free executions cost nothing).
    pub fn fork(&self) -> Option<Arc<Variables>> {
        if self.is_empty() {
            None
        } else {
            Some(Arc::new(self.clone()))
        }
    }

    /// The value of variable `name`, from the innermost scope that has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let mut scope = self;
        loop {
            if let Some(own) = &scope.own
                && let Some(entry) = own.entries.iter().find(|e| e.name == name)
            {
                return Some(&entry.value);
            }
            scope = scope.outer.as_deref()?;
        }
    }

    /// Every visible variable, innermost scope first, shadowed ones left out.
    pub fn visible(&self) -> Vec<(Str, Value)> {
        let mut out: Vec<(Str, Value)> = Vec::new();
        let mut scope = Some(self);
        while let Some(s) = scope {
            if let Some(own) = &s.own {
                for e in &own.entries {
                    if !out.iter().any(|(n, _)| *n == e.name) {
                        out.push((e.name.clone(), e.value.clone()));
                    }
                }
            }
            scope = s.outer.as_deref();
        }
        out
    }

    /// Bytes held by every visible scope.
    fn total_bytes(&self) -> usize {
        let mut total = 0;
        let mut scope = Some(self);
        while let Some(s) = scope {
            total += s.own.as_ref().map_or(0, |o| o.bytes);
            scope = s.outer.as_deref();
        }
        total
    }

    /// Sets the variables of one `Assign` (all evaluated beforehand, so they
    /// saw the values from before the state) in this scope, after checking
    /// AWS's size limits. On error nothing is assigned.
    pub fn assign(
        &mut self,
        state: &str,
        values: impl IntoIterator<Item = (Str, Value)>,
    ) -> Result<(), StatesError> {
        let pending = self.prepare(state, values)?;
        self.apply(pending);
        Ok(())
    }

    /// Checks one `Assign` against AWS's size limits without changing
    /// anything; [`Variables::apply`] then sets it and cannot fail. A state
    /// checks before it commits to its output and assigns after.
    pub fn prepare(
        &self,
        state: &str,
        values: impl IntoIterator<Item = (Str, Value)>,
    ) -> Result<PendingAssign, StatesError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut assign_bytes = 0usize;
        for (name, value) in values {
            let Ok(bytes) = size::json_size_within(&value, MAX_DEPTH) else {
                return Err(StatesError::runtime(format!(
                    "The state '{state}' assigned the variable '{name}' a value nested more than {MAX_DEPTH} levels deep (arrays and objects), over the nesting limit for JSON values."
                )));
            };
            if bytes > MAX_VARIABLE_BYTES {
                return Err(too_large(format!(
                    "The state '{state}' assigned the variable '{name}' a value of {bytes} bytes, over the limit of {MAX_VARIABLE_BYTES} bytes for one variable."
                )));
            }
            assign_bytes += bytes;
            entries.push(Entry { name, value, bytes });
        }
        if assign_bytes > MAX_ASSIGN_BYTES {
            return Err(too_large(format!(
                "The state '{state}' assigned {assign_bytes} bytes of variables, over the limit of {MAX_ASSIGN_BYTES} bytes for one Assign."
            )));
        }
        if !entries.is_empty() {
            let replaced: usize = self.own.as_ref().map_or(0, |own| {
                entries
                    .iter()
                    .filter_map(|new| own.entries.iter().find(|e| e.name == new.name))
                    .map(|e| e.bytes)
                    .sum()
            });
            let after = self.total_bytes() - replaced + assign_bytes;
            if after > MAX_TOTAL_BYTES {
                return Err(too_large(format!(
                    "The state '{state}' would bring the workflow variables to {after} bytes, over the limit of {MAX_TOTAL_BYTES} bytes for an execution."
                )));
            }
        }
        Ok(PendingAssign { entries })
    }

    /// Sets the variables of a checked `Assign` in this scope.
    pub fn apply(&mut self, pending: PendingAssign) {
        if pending.entries.is_empty() {
            return;
        }
        let own = Arc::make_mut(self.own.get_or_insert_with(Default::default));
        for entry in pending.entries {
            match own.entries.iter_mut().find(|e| e.name == entry.name) {
                Some(slot) => {
                    own.bytes -= slot.bytes;
                    own.bytes += entry.bytes;
                    *slot = entry;
                }
                None => {
                    own.bytes += entry.bytes;
                    own.entries.push(entry);
                }
            }
        }
    }
}

/// An `Assign` checked by [`Variables::prepare`], ready to be applied.
#[derive(Debug)]
pub struct PendingAssign {
    entries: Vec<Entry>,
}

fn too_large(cause: String) -> StatesError {
    StatesError::new(names::DATA_LIMIT_EXCEEDED, cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn set(vars: &mut Variables, pairs: &[(&str, Value)]) {
        vars.assign("S", pairs.iter().map(|(n, v)| (Str::new(n), v.clone())))
            .unwrap();
    }

    #[test]
    fn an_empty_store_costs_nothing_to_fork() {
        let vars = Variables::new();
        assert!(vars.is_empty());
        assert!(vars.fork().is_none());
        assert_eq!(vars.get("x"), None);
    }

    #[test]
    fn assignment_replaces_and_adds() {
        let mut vars = Variables::new();
        set(&mut vars, &[("x", json!(1)), ("y", json!("a"))]);
        set(&mut vars, &[("x", json!(2))]);
        assert_eq!(vars.get("x"), Some(&json!(2)));
        assert_eq!(vars.get("y"), Some(&json!("a")));
        assert_eq!(vars.visible().len(), 2);
    }

    #[test]
    fn children_read_the_snapshot_and_keep_their_own_assignments() {
        let mut top = Variables::new();
        set(&mut top, &[("x", json!(42))]);
        let snapshot = top.fork();
        let mut child = Variables::child_of(snapshot.clone());
        let mut sibling = Variables::child_of(snapshot);
        set(&mut child, &[("inner", json!(true)), ("x", json!(7))]);
        assert_eq!(child.get("x"), Some(&json!(7)), "the child shadows");
        assert_eq!(sibling.get("x"), Some(&json!(42)));
        assert_eq!(sibling.get("inner"), None, "siblings do not see each other");
        set(&mut sibling, &[("s", json!(1))]);
        // The parent assigns after the fork; children keep the snapshot.
        set(&mut top, &[("x", json!(43))]);
        assert_eq!(top.get("x"), Some(&json!(43)));
        assert_eq!(top.get("inner"), None, "inner variables do not leak out");
        assert_eq!(sibling.get("x"), Some(&json!(42)));
        // Nested forks see every enclosing scope.
        let grandchild = Variables::child_of(child.fork());
        assert_eq!(grandchild.get("inner"), Some(&json!(true)));
        assert_eq!(grandchild.get("x"), Some(&json!(7)));
    }

    #[test]
    fn size_limits() {
        let big = Value::from("x".repeat(MAX_VARIABLE_BYTES));
        let mut vars = Variables::new();
        let err = vars.assign("S", [(Str::new("a"), big)]).unwrap_err();
        assert_eq!(err.error(), Some("States.DataLimitExceeded"));
        assert!(vars.is_empty(), "nothing is assigned on error");
        let half = Value::from("x".repeat(MAX_ASSIGN_BYTES / 2));
        let err = vars
            .assign(
                "S",
                [(Str::new("a"), half.clone()), (Str::new("b"), half.clone())],
            )
            .unwrap_err();
        assert!(err.cause().unwrap().contains("one Assign"), "{err}");
        // 79 variables of 128 KiB fit one by one under 10 MiB, an 80th not.
        for i in 0..79 {
            vars.assign("S", [(Str::from(format!("v{i}")), half.clone())])
                .unwrap();
        }
        let err = vars
            .assign("S", [(Str::new("one_more"), half.clone())])
            .unwrap_err();
        assert!(err.cause().unwrap().contains("for an execution"), "{err}");
        // Replacing a variable frees its old size.
        vars.assign("S", [(Str::new("v0"), half)]).unwrap();
    }
}
