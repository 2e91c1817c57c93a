//! What a JSONata expression of a state sees: the reserved `$states`
//! (`input`, `result` when the state has one, `errorOutput` in a Catch,
//! `context`) and the workflow variables as `$name`.
//!
//! `$states` is built on first use and then shared by every expression of
//! the same evaluation; its `context` part (the one that costs allocations)
//! is only built when some expression of the state may read it (see
//! [`JsonataTemplate::needs_context`](crate::plan::JsonataTemplate::needs_context)).

use super::variables::Variables;
use crate::jsonata::Bindings;
use crate::time::{Clock, SystemClock, Timestamp};
use crate::value::{Map, Value};
use std::cell::OnceCell;
use std::time::Instant;

/// The bindings of one evaluation of a state's JSONata fields.
pub struct StatesBindings<'a> {
    input: &'a Value,
    result: Option<&'a Value>,
    error_output: Option<&'a Value>,
    context: Option<&'a dyn Fn() -> Value>,
    variables: &'a Variables,
    states: OnceCell<Value>,
    deadline: Option<Timestamp>,
}

impl<'a> StatesBindings<'a> {
    /// `$states.input` is `input`; variables come from `variables`.
    pub fn new(input: &'a Value, variables: &'a Variables) -> StatesBindings<'a> {
        StatesBindings {
            input,
            result: None,
            error_output: None,
            context: None,
            variables,
            states: OnceCell::new(),
            deadline: None,
        }
    }

    /// Evaluations stop at `deadline` (the execution's), if any.
    pub fn with_deadline(mut self, deadline: Option<Timestamp>) -> StatesBindings<'a> {
        self.deadline = deadline;
        self
    }

    /// Adds `$states.result`.
    pub fn with_result(mut self, result: &'a Value) -> StatesBindings<'a> {
        self.result = Some(result);
        self
    }

    /// Adds `$states.errorOutput`.
    pub fn with_error_output(mut self, error_output: &'a Value) -> StatesBindings<'a> {
        self.error_output = Some(error_output);
        self
    }

    /// Adds `$states.context`, built by `context` when `$states` is first
    /// read. Without it `$states` has no `context`.
    pub fn with_context(mut self, context: &'a dyn Fn() -> Value) -> StatesBindings<'a> {
        self.context = Some(context);
        self
    }

    fn states(&self) -> Value {
        self.states
            .get_or_init(|| {
                let mut states = Map::with_capacity(4);
                states.push_unique("input".into(), self.input.clone());
                if let Some(result) = self.result {
                    states.push_unique("result".into(), result.clone());
                }
                if let Some(error_output) = self.error_output {
                    states.push_unique("errorOutput".into(), error_output.clone());
                }
                if let Some(context) = self.context {
                    states.push_unique("context".into(), context());
                }
                Value::object(states)
            })
            .clone()
    }
}

impl Bindings for StatesBindings<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        if name == "states" {
            return Some(self.states());
        }
        self.variables.get(name).cloned()
    }

    /// Step Functions has no `$eval` (its documentation points to `$parse`).
    fn hides_function(&self, name: &str) -> bool {
        name == "eval"
    }

    /// The execution's deadline on the monotonic clock, read when an
    /// evaluation starts. On virtual time, which runs ahead of the system
    /// clock, this is later than the execution's own deadline: the
    /// evaluation is never cut short early.
    fn deadline(&self) -> Option<Instant> {
        let left = self.deadline?.since(SystemClock.now());
        Some(Instant::now() + left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::plan::JsonataTemplate;
    use crate::value::Str;

    #[test]
    fn states_and_variables() {
        let input = json!({"a": 1});
        let result = json!([1, 2]);
        let mut vars = Variables::new();
        vars.assign("S", [(Str::new("x"), json!("v"))]).unwrap();
        let context = || json!({"State": {"Name": "S"}});
        let b = StatesBindings::new(&input, &vars)
            .with_result(&result)
            .with_context(&context);
        let t = JsonataTemplate::compile(
            &json!({
                "i": "{% $states.input.a %}",
                "r": "{% $count($states.result) %}",
                "c": "{% $states.context.State.Name %}",
                "v": "{% $x %}",
                "e": "{% $exists($states.errorOutput) %}"
            }),
            "Output",
        )
        .unwrap();
        assert_eq!(
            t.eval(&b).unwrap(),
            json!({"i": 1, "r": 2, "c": "S", "v": "v", "e": false})
        );
    }
}
