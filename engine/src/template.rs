//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`,
//! `Assign` in JSONPath states): JSON whose keys ending in `.$` take their
//! value from a path or an intrinsic call. Compiled once; sub-trees without
//! any dynamic key are kept as ready-made values and cloned (a pointer copy).

use crate::error::{StatesError, names};
use crate::intrinsics::{Intrinsic, PathResolver};
use crate::path::{Path, Root, SelectError, Selection};
use crate::value::{Key, Map, Value};

/// The values paths start from while a field is evaluated.
pub trait Roots {
    /// `$`: the input of the field being evaluated.
    fn input(&self) -> &Value;
    /// `$$`: the context object.
    fn context(&self) -> Value;
    /// The value of a context path without building the whole context
    /// object, for the common ones (`$$.Map.Item.Value`, `$$.State.Name`,
    /// ...); `None` to fall back to [`Roots::context`].
    fn context_fast(&self, _path: &Path) -> Option<Value> {
        None
    }
    /// `$name`: a workflow variable, if it is set.
    fn variable(&self, name: &str) -> Option<Value>;
}

/// Roots made of a document alone: `$` is the document, `$$` is `null` and
/// no variable is set. For tools, tests and benchmarks that evaluate a
/// template, a Choice rule or an intrinsic call on a document.
#[derive(Debug, Clone, Copy)]
pub struct InputOnly<'a>(pub &'a Value);

impl Roots for InputOnly<'_> {
    fn input(&self) -> &Value {
        self.0
    }

    fn context(&self) -> Value {
        Value::Null
    }

    fn variable(&self, _name: &str) -> Option<Value> {
        None
    }
}

impl PathResolver for InputOnly<'_> {
    fn resolve(&self, path: &Path) -> Result<Value, StatesError> {
        select(path, self)
    }
}

/// Evaluates `path` against the right root. A definite path that selects
/// nothing is an error with Jayway's wording; a missing variable too.
pub fn select(path: &Path, roots: &dyn Roots) -> Result<Value, StatesError> {
    if path.is_simple()
        && *path.root() == Root::Input
        && let Some(value) = path.get(roots.input())
    {
        return Ok(value.clone());
    }
    let selection = match path.root() {
        Root::Input => path.select(roots.input()),
        Root::Context => match roots.context_fast(path) {
            Some(value) => return Ok(value),
            None => path.select(&roots.context()),
        },
        Root::Variable(name) => match roots.variable(name) {
            Some(value) => path.select(&value),
            None => {
                return Err(StatesError::runtime(format!(
                    "Invalid path '{}': the variable '${name}' is not defined",
                    path.source()
                )));
            }
        },
    };
    selection.map(Selection::into_value).map_err(|e| match e {
        SelectError::Miss(miss) => StatesError::runtime(format!(
            "Invalid path '{}' : {}",
            path.source(),
            miss.message
        )),
        SelectError::TooMany => StatesError::new(
            names::DATA_LIMIT_EXCEEDED,
            format!("The JSONPath '{}' {e}", path.source()),
        ),
    })
}

/// A compiled payload template.
#[derive(Debug, Clone)]
pub enum Template {
    /// No dynamic part anywhere below: the value itself.
    Literal(Value),
    /// An object with at least one dynamic field somewhere below.
    Object(Vec<(Key, Field)>),
    /// An array with at least one dynamic element somewhere below.
    Array(Vec<Template>),
}

/// One field of an object template.
#[derive(Debug, Clone)]
pub enum Field {
    /// A nested template (or literal).
    Nested(Template),
    /// `"key.$": "$.path"`
    Path(Path),
    /// `"key.$": "States.Fn(...)"`
    Call(Box<Intrinsic>),
}

/// A template that does not compile: the key at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct TemplateError {
    /// The key as written (with its `.$`), or the array index.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl Template {
    /// Compiles a template from the definition's JSON.
    pub fn compile(json: &Value) -> Result<Template, TemplateError> {
        match json {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                let mut dynamic = false;
                for (key, value) in map.iter() {
                    if let Some(name) = key.strip_suffix(".$") {
                        let text = value.as_str().ok_or_else(|| TemplateError {
                            key: key.to_string(),
                            reason: format!(
                                "the value of a key ending in '.$' must be a path or an intrinsic function call, found {}",
                                value.json_type()
                            ),
                        })?;
                        let field = compile_expression(text).map_err(|reason| TemplateError {
                            key: key.to_string(),
                            reason,
                        })?;
                        dynamic = true;
                        fields.push((Key::new(name), field));
                    } else {
                        let nested = Template::compile(value).map_err(|e| TemplateError {
                            key: format!("{key}/{}", e.key),
                            reason: e.reason,
                        })?;
                        dynamic |= !matches!(nested, Template::Literal(_));
                        fields.push((Key::new(key.clone()), Field::Nested(nested)));
                    }
                }
                if let Some(duplicate) = first_duplicate(&fields) {
                    return Err(TemplateError {
                        key: duplicate.to_string(),
                        reason: "the key appears twice (once with '.$' and once without)"
                            .to_string(),
                    });
                }
                if dynamic {
                    Ok(Template::Object(fields))
                } else {
                    Ok(Template::Literal(json.clone()))
                }
            }
            Value::Array(items) => {
                let mut compiled = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    compiled.push(Template::compile(item).map_err(|e| TemplateError {
                        key: format!("{i}/{}", e.key),
                        reason: e.reason,
                    })?);
                }
                if compiled.iter().all(|t| matches!(t, Template::Literal(_))) {
                    Ok(Template::Literal(json.clone()))
                } else {
                    Ok(Template::Array(compiled))
                }
            }
            other => Ok(Template::Literal(other.clone())),
        }
    }

    /// Builds the payload. `field` names the template in error messages.
    pub fn eval(&self, roots: &dyn Roots) -> Result<Value, StatesError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Array(items) => items
                .iter()
                .map(|t| t.eval(roots))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::array),
            Template::Object(fields) => {
                let mut map = Map::with_capacity(fields.len());
                for (key, field) in fields {
                    let value = match field {
                        Field::Nested(t) => t.eval(roots)?,
                        Field::Path(path) => select_for_field(path, key, roots)?,
                        Field::Call(call) => call.eval(&FieldResolver { roots, key })?,
                    };
                    map.push_unique_key(key, value);
                }
                Ok(Value::object(map))
            }
        }
    }

    /// Every path used by the template (intrinsic arguments included).
    pub fn paths(&self) -> Vec<&Path> {
        match self {
            Template::Literal(_) => Vec::new(),
            Template::Array(items) => items.iter().flat_map(Template::paths).collect(),
            Template::Object(fields) => fields
                .iter()
                .flat_map(|(_, f)| match f {
                    Field::Nested(t) => t.paths(),
                    Field::Path(p) => vec![p],
                    Field::Call(c) => c.paths(),
                })
                .collect(),
        }
    }
}

/// Compiles the value of a `.$` key: an intrinsic call or a path.
pub fn compile_expression(text: &str) -> Result<Field, String> {
    if Intrinsic::looks_like_call(text) {
        Intrinsic::parse(text)
            .map(|c| Field::Call(Box::new(c)))
            .map_err(|e| e.to_string())
    } else {
        Path::parse(text)
            .map(Field::Path)
            .map_err(|e| e.to_string())
    }
}

fn first_duplicate(fields: &[(Key, Field)]) -> Option<&Key> {
    fields
        .iter()
        .enumerate()
        .find(|(i, (k, _))| fields[..*i].iter().any(|(other, _)| other == k))
        .map(|(_, (k, _))| k)
}

/// AWS's wording when a template path selects nothing (a selection too
/// large keeps its own error).
fn select_for_field(path: &Path, key: &str, roots: &dyn Roots) -> Result<Value, StatesError> {
    select(path, roots).map_err(|e| {
        if e.error() == Some(names::DATA_LIMIT_EXCEEDED) {
            return e;
        }
        let source = match path.root() {
            Root::Input => roots.input().to_json(),
            Root::Context => roots.context().to_json(),
            Root::Variable(name) => roots.variable(name).map(|v| v.to_json()).unwrap_or_default(),
        };
        StatesError::runtime(format!(
            "The JSONPath '{}' specified for the field '{key}.$' could not be found in the input '{source}'",
            path.source()
        ))
    })
}

/// Resolves intrinsic arguments with the template field's error wording.
struct FieldResolver<'a> {
    roots: &'a dyn Roots,
    key: &'a str,
}

impl PathResolver for FieldResolver<'_> {
    fn resolve(&self, path: &Path) -> Result<Value, StatesError> {
        select_for_field(path, self.key, self.roots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    struct Doc {
        input: Value,
        context: Value,
    }

    impl Roots for Doc {
        fn input(&self) -> &Value {
            &self.input
        }
        fn context(&self) -> Value {
            self.context.clone()
        }
        fn variable(&self, name: &str) -> Option<Value> {
            (name == "x").then(|| json!(42))
        }
    }

    fn eval(template: Value, input: Value) -> Result<Value, StatesError> {
        let doc = Doc {
            input,
            context: json!({"Execution": {"Name": "run-1"}}),
        };
        Template::compile(&template).unwrap().eval(&doc)
    }

    #[test]
    fn builds_payloads_from_paths_calls_context_and_variables() {
        let out = eval(
            json!({
                "static": {"keep": [1, 2]},
                "name.$": "$.user.name",
                "nested": {"ids.$": "$.items[*].id", "n": 1},
                "greeting.$": "States.Format('hi {}', $.user.name)",
                "run.$": "$$.Execution.Name",
                "var.$": "$x",
                "list": [{"first.$": "$.items[0].id"}, "plain"]
            }),
            json!({"user": {"name": "Ada"}, "items": [{"id": 1}, {"id": 2}]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "static": {"keep": [1, 2]},
                "name": "Ada",
                "nested": {"ids": [1, 2], "n": 1},
                "greeting": "hi Ada",
                "run": "run-1",
                "var": 42,
                "list": [{"first": 1}, "plain"]
            })
        );
    }

    #[test]
    fn keeps_literal_subtrees_shared() {
        let template = Template::compile(&json!({"a": {"b": [1, 2]}, "c.$": "$"})).unwrap();
        let Template::Object(fields) = &template else {
            panic!()
        };
        assert!(matches!(fields[0].1, Field::Nested(Template::Literal(_))));
        assert!(matches!(
            Template::compile(&json!({"a": [1, {"b": 2}]})).unwrap(),
            Template::Literal(_)
        ));
    }

    #[test]
    fn missing_paths_use_aws_wording() {
        let err = eval(json!({"value.$": "$.no_such"}), json!({"int-literal": 0})).unwrap_err();
        assert_eq!(err.error(), Some("States.Runtime"));
        assert_eq!(
            err.cause().unwrap(),
            "The JSONPath '$.no_such' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'"
        );
    }

    #[test]
    fn compile_errors_name_the_key() {
        let err = Template::compile(&json!({"a": {"b.$": 3}})).unwrap_err();
        assert_eq!(err.key, "a/b.$");
        let err = Template::compile(&json!({"a.$": "not a path"})).unwrap_err();
        assert!(err.reason.contains("must start with '$'"), "{err}");
        let err = Template::compile(&json!({"a": 1, "a.$": "$"})).unwrap_err();
        assert_eq!(err.key, "a");
    }
}
