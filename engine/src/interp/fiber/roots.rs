//! What paths and templates see while a fiber evaluates a field, and small
//! helpers every state type uses.

use super::*;

/// The roots paths see while one of the fiber's fields is evaluated.
pub(super) struct FieldRoots<'a> {
    pub(super) exec: &'a ExecutionInfo,
    pub(super) core: &'a Core,
    pub(super) input: &'a Value,
    pub(super) map_item: Option<(u32, &'a Value)>,
}

impl Roots for FieldRoots<'_> {
    fn input(&self) -> &Value {
        self.input
    }

    fn context(&self) -> Value {
        self.core.context(self.exec, self.map_item)
    }

    fn context_fast(&self, path: &crate::path::Path) -> Option<Value> {
        use crate::path::ContextField;
        match path.context_field()? {
            ContextField::MapItemIndex => self.map_item.map(|(index, _)| Value::from(index)),
            ContextField::MapItemValue => path.get_from(3, self.map_item?.1).cloned(),
            ContextField::StateName => Some(Value::String(
                self.exec
                    .plan
                    .state(self.core.branch, self.core.state)
                    .name
                    .clone(),
            )),
            ContextField::StateRetryCount => Some(Value::from(self.core.retry_count)),
            // Without building the context object, which an execution then
            // keeps: a million tasks waiting for callbacks would hold a
            // million copies of it.
            ContextField::TaskToken => self
                .core
                .task_token
                .as_deref()
                .map(|token| Value::String(token.clone())),
        }
    }

    fn variable(&self, name: &str) -> Option<Value> {
        self.core.vars.get(name).cloned()
    }
}

/// Resolves intrinsic path arguments against a fiber's roots.
pub(super) struct PathsOf<'a>(pub(super) &'a FieldRoots<'a>);

impl crate::intrinsics::PathResolver for PathsOf<'_> {
    fn resolve(&self, path: &crate::path::Path) -> Result<Value, StatesError> {
        select(path, self.0)
    }
}

/// Builds a payload: a JSONPath template from `roots`, a JSONata one from
/// `bindings`.
pub(super) fn eval_payload(
    payload: &Payload,
    roots: Option<&FieldRoots<'_>>,
    bindings: Option<&StatesBindings<'_>>,
) -> Result<Value, StatesError> {
    match payload {
        Payload::Template(t) => match roots {
            Some(roots) => t.eval(roots),
            None => Err(StatesError::runtime(
                "a JSONPath template was evaluated in a JSONata state",
            )),
        },
        Payload::Jsonata(t) => t.eval(bindings.ok_or_else(not_jsonata)?),
    }
}

/// The error for a JSONata field met outside a JSONata state (the compiler
/// never produces one).
pub(super) fn not_jsonata() -> StatesError {
    StatesError::runtime("a JSONata expression was evaluated in a JSONPath state")
}

pub(super) fn no_choice_matched(state: &State) -> StatesError {
    StatesError::new(
        names::NO_CHOICE_MATCHED,
        format!(
            "No Choice rule of the state '{}' matched its input and it has no Default",
            state.name
        ),
    )
}

/// A whole number given as a number or as a string holding one (AWS
/// accepts `"1"` from a path, as a variable typically holds it).
pub(super) fn integer_of(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.parse().ok(),
        other => other.as_i64(),
    }
}

/// A value as AWS quotes it in messages: strings raw, the rest as JSON.
pub(super) fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    }
}

/// Writes a state's result (or error output) into its raw input.
pub(super) fn write_result(
    path: &ResultPath,
    target: &mut Value,
    result: Value,
) -> Result<(), String> {
    match path {
        ResultPath::Replace => {
            *target = result;
            Ok(())
        }
        ResultPath::Discard => Ok(()),
        ResultPath::Path(p) => p.set(target, result).map_err(|m| m.message),
    }
}
