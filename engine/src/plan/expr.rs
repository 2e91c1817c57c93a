//! JSONata templates: the value of a field of a JSONata state (`Arguments`,
//! `Output`, `Assign`, `Items`, `Condition`, `Seconds`, ...) compiled once.
//!
//! A field is literal JSON in which any string written `{% expression %}`
//! is an expression; every other string is a literal. Compiling keeps each
//! sub-tree without an expression as one ready-made [`Value`] (cloning it is
//! a pointer copy) and compiles each expression once, with the name AWS
//! gives the field in its error messages (`Arguments/FunctionName`,
//! `Output/result`, `Assign/x`, `Items[1]`, ...) worked out in advance, so
//! evaluation does no string work unless it fails.
//!
//! Every failure is `States.QueryEvaluationError` with AWS's wording: an
//! expression that returns nothing, one that returns a function, one that
//! raises a JSONata error, and results of the wrong type for the field.

use crate::error::StatesError;
use crate::jsonata::{Bindings, FUNCTION_RESULT, Jsonata, JsonataError, Limits};
use crate::value::{Map, Str, Value};
use std::sync::LazyLock;

/// The limits every expression of a state machine runs under.
static LIMITS: LazyLock<Limits> = LazyLock::new(Limits::default);

pub use crate::asl::{expression_body, is_expression};

/// One compiled `{% ... %}` expression and the field it sits in.
#[derive(Debug, Clone)]
pub struct Expression {
    jsonata: Jsonata,
    text: Str,
    field: Str,
    /// For a plain path such as `$states.input.order.id`: the variable and
    /// the field names, read without running the evaluator (see
    /// [`Expression::eval_optional`]).
    simple_path: Option<Box<[Str]>>,
}

impl Expression {
    /// Compiles the body of an expression string (without `{%`/`%}`).
    // The error is jsonata-js's, returned once per compile.
    #[allow(clippy::result_large_err)]
    pub fn compile(body: &str, field: &str) -> Result<Expression, JsonataError> {
        Ok(Expression {
            jsonata: Jsonata::compile(body)?,
            text: Str::new(body),
            field: Str::new(field),
            simple_path: simple_path(body),
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The field, as AWS names it in messages.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Evaluates; `Ok(None)` when the result is nothing (undefined).
    ///
    /// A plain path (`$name.field.field`) whose steps all land on objects
    /// is read directly, which gives what JSONata gives (a missing field or
    /// a field of a non-object is nothing; the last value, arrays included,
    /// is returned as it is). Anything else, an array met on the way (where
    /// JSONata maps the rest of the path over the items) or an unbound
    /// variable (which may name a built-in function), runs the evaluator.
    pub fn eval_optional(&self, bindings: &dyn Bindings) -> Result<Option<Value>, StatesError> {
        if let Some(path) = &self.simple_path
            && let Some(value) = read_simple_path(path, bindings)
        {
            return Ok(value);
        }
        let result = match bindings.deadline() {
            Some(deadline) => self
                .jsonata
                .evaluate(None, bindings, &LIMITS.until(deadline)),
            None => self.jsonata.evaluate(None, bindings, &LIMITS),
        };
        result.map_err(|e| self.failure(&e))
    }

    /// Evaluates; nothing (undefined) is an error.
    pub fn eval(&self, bindings: &dyn Bindings) -> Result<Value, StatesError> {
        self.eval_optional(bindings)?
            .ok_or_else(|| self.error("returned nothing (undefined)."))
    }

    fn error(&self, what: &str) -> StatesError {
        StatesError::query_evaluation(format!(
            "The JSONata expression '{}' specified for the field '{}' {what}",
            self.text, self.field
        ))
    }

    fn failure(&self, e: &JsonataError) -> StatesError {
        if e.code == FUNCTION_RESULT {
            self.error("returned an unsupported result type.")
        } else {
            self.error(&format!(
                "threw an error during evaluation. {}: {}",
                e.code, e.message
            ))
        }
    }

    /// The error for a result of the wrong JSON type (`expected` as AWS
    /// names it: `array`, `boolean`, `string`, `number`, `integer`, ...).
    pub fn type_error(&self, expected: &str, value: &Value) -> StatesError {
        self.error(&format!(
            "returned an unexpected result type. Expected '{expected}', but was '{}' for value: {}",
            value.json_type(),
            value.to_json()
        ))
    }
}

/// The variable and field names of an expression that is nothing but a
/// path of plain names from a variable (`$states.input.order.id`).
fn simple_path(body: &str) -> Option<Box<[Str]>> {
    let rest = body.strip_prefix('$')?;
    let mut names = Vec::new();
    for name in rest.split('.') {
        let mut chars = name.chars();
        let plain = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain || matches!(name, "true" | "false" | "null" | "function") {
            return None;
        }
        names.push(Str::new(name));
    }
    Some(names.into_boxed_slice())
}

/// Reads a simple path; `None` when the evaluator must decide.
fn read_simple_path(path: &[Str], bindings: &dyn Bindings) -> Option<Option<Value>> {
    let (variable, fields) = path.split_first()?;
    let mut value = bindings.lookup(variable)?;
    for field in fields {
        let next = match &value {
            Value::Object(map) => match map.get(field) {
                Some(v) => v.clone(),
                None => return Some(None),
            },
            Value::Array(_) => return None,
            _ => return Some(None),
        };
        value = next;
    }
    Some(Some(value))
}

/// A compiled JSONata field.
#[derive(Debug, Clone)]
pub struct JsonataTemplate {
    node: Node,
    needs_context: bool,
}

#[derive(Debug, Clone)]
enum Node {
    /// No expression anywhere below.
    Literal(Value),
    /// An expression string.
    Expr(Box<Expression>),
    /// An object with an expression somewhere below.
    Object(Vec<(Str, Node)>),
    /// An array with an expression somewhere below.
    Array(Vec<Node>),
}

/// An expression that does not compile: where it sits and the JSONata error.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    /// The path inside the field, as JSON pointer tokens.
    pub tokens: Vec<String>,
    /// The JSONata error.
    pub error: JsonataError,
}

impl JsonataTemplate {
    /// Compiles a field's JSON. `field` is the name AWS uses for it in
    /// messages (`Output`, `Choices[0]/Condition`, ...).
    pub fn compile(json: &Value, field: &str) -> Result<JsonataTemplate, Box<TemplateError>> {
        let mut tokens = Vec::new();
        let node = compile_node(json, field, &mut tokens)?;
        let needs_context = node_needs_context(&node);
        Ok(JsonataTemplate {
            node,
            needs_context,
        })
    }

    /// `true` when some expression may read `$states.context` (decided
    /// conservatively from the source text), so `$states` must carry it.
    pub fn needs_context(&self) -> bool {
        self.needs_context
    }

    /// The value, when the field holds no expression at all.
    pub fn as_literal(&self) -> Option<&Value> {
        match &self.node {
            Node::Literal(v) => Some(v),
            _ => None,
        }
    }

    /// The expression, when the whole field is one expression string.
    pub fn as_expression(&self) -> Option<&Expression> {
        match &self.node {
            Node::Expr(e) => Some(e),
            _ => None,
        }
    }

    /// Builds the field's value.
    pub fn eval(&self, bindings: &dyn Bindings) -> Result<Value, StatesError> {
        eval_node(&self.node, bindings)
    }

    /// The error for a value of the wrong type in this field.
    pub fn type_error(&self, field: &str, expected: &str, value: &Value) -> StatesError {
        match &self.node {
            Node::Expr(e) => e.type_error(expected, value),
            _ => StatesError::query_evaluation(format!(
                "The value specified for the field '{field}' has an unexpected type. Expected '{expected}', but was '{}' for value: {}",
                value.json_type(),
                value.to_json()
            )),
        }
    }

    /// Evaluates a field that must give a boolean (`Condition`).
    pub fn eval_bool(&self, field: &str, bindings: &dyn Bindings) -> Result<bool, StatesError> {
        let value = self.eval(bindings)?;
        value
            .as_bool()
            .ok_or_else(|| self.type_error(field, "boolean", &value))
    }

    /// Evaluates a field that must give a string (`Error`, `Cause`).
    pub fn eval_string(&self, field: &str, bindings: &dyn Bindings) -> Result<Str, StatesError> {
        self.eval(bindings)?
            .into_string()
            .map_err(|other| self.type_error(field, "string", &other))
    }

    /// Evaluates a field that must give an array (`Items`).
    pub fn eval_array(
        &self,
        field: &str,
        bindings: &dyn Bindings,
    ) -> Result<crate::value::Arc<Vec<Value>>, StatesError> {
        self.eval(bindings)?
            .into_array()
            .map_err(|other| self.type_error(field, "array", &other))
    }

    /// Evaluates a field that must give a whole number from `min` up
    /// (`TimeoutSeconds`, `MaxConcurrency`, ...).
    pub fn eval_integer(
        &self,
        field: &str,
        min: i64,
        bindings: &dyn Bindings,
    ) -> Result<i64, StatesError> {
        let value = self.eval(bindings)?;
        match value.as_i64() {
            Some(n) if n >= min => Ok(n),
            Some(_) => Err(self.range_error(field, &value)),
            None => Err(self.type_error(field, "integer", &value)),
        }
    }

    /// Evaluates a field that must give a number from `min` to `max`
    /// (`ToleratedFailurePercentage`).
    pub fn eval_number(
        &self,
        field: &str,
        min: f64,
        max: f64,
        bindings: &dyn Bindings,
    ) -> Result<f64, StatesError> {
        let value = self.eval(bindings)?;
        match value.as_f64() {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            Some(_) => Err(self.range_error(field, &value)),
            None => Err(self.type_error(field, "number", &value)),
        }
    }

    fn range_error(&self, field: &str, value: &Value) -> StatesError {
        let text = match &self.node {
            Node::Expr(e) => format!(
                "The JSONata expression '{}' specified for the field '{}' returned a value out of range: {}",
                e.text,
                e.field,
                value.to_json()
            ),
            _ => format!(
                "The value specified for the field '{field}' is out of range: {}",
                value.to_json()
            ),
        };
        StatesError::query_evaluation(text)
    }
}

fn compile_node(
    json: &Value,
    field: &str,
    tokens: &mut Vec<String>,
) -> Result<Node, Box<TemplateError>> {
    match json {
        Value::String(s) if is_expression(s) => {
            let body = expression_body(s);
            Expression::compile(body, field)
                .map(|e| Node::Expr(Box::new(e)))
                .map_err(|error| {
                    Box::new(TemplateError {
                        tokens: tokens.clone(),
                        error,
                    })
                })
        }
        Value::Object(map) => {
            let mut fields = Vec::with_capacity(map.len());
            let mut dynamic = false;
            for (key, value) in map.iter() {
                tokens.push(key.to_string());
                let node = compile_node(value, &format!("{field}/{key}"), tokens)?;
                tokens.pop();
                dynamic |= !matches!(node, Node::Literal(_));
                fields.push((key.clone(), node));
            }
            Ok(if dynamic {
                Node::Object(fields)
            } else {
                Node::Literal(json.clone())
            })
        }
        Value::Array(items) => {
            let mut nodes = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                tokens.push(i.to_string());
                nodes.push(compile_node(item, &format!("{field}[{i}]"), tokens)?);
                tokens.pop();
            }
            Ok(if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(json.clone())
            } else {
                Node::Array(nodes)
            })
        }
        other => Ok(Node::Literal(other.clone())),
    }
}

fn eval_node(node: &Node, bindings: &dyn Bindings) -> Result<Value, StatesError> {
    match node {
        Node::Literal(v) => Ok(v.clone()),
        Node::Expr(e) => e.eval(bindings),
        Node::Object(fields) => {
            let mut map = Map::with_capacity(fields.len());
            for (key, node) in fields {
                map.push_unique(key.clone(), eval_node(node, bindings)?);
            }
            Ok(Value::object(map))
        }
        Node::Array(items) => items
            .iter()
            .map(|n| eval_node(n, bindings))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::array),
    }
}

fn node_needs_context(node: &Node) -> bool {
    match node {
        Node::Literal(_) => false,
        Node::Expr(e) => source_needs_context(&e.text),
        Node::Object(fields) => fields.iter().any(|(_, n)| node_needs_context(n)),
        Node::Array(items) => items.iter().any(node_needs_context),
    }
}

/// Whether an expression might read `$states.context`. Conservative: it
/// may unless the word `context` never appears, no parent step (`%`) could
/// climb from a field of `$states` back to `$states` itself, and every use
/// of `$states` goes straight on to `.input`, `.result` or `.errorOutput`.
fn source_needs_context(source: &str) -> bool {
    if source.contains("context") || source.contains('%') {
        return true;
    }
    const NAME: &str = "$states";
    let mut rest = source;
    while let Some(at) = rest.find(NAME) {
        let after = &rest[at + NAME.len()..];
        let named_field = [".input", ".result", ".errorOutput"]
            .iter()
            .find(|f| after.starts_with(**f));
        match named_field {
            Some(field) => rest = &after[field.len()..],
            None => {
                // `$statesX` is another variable; anything else reads `$states` whole.
                let other_variable = after
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                if !other_variable {
                    return true;
                }
                rest = after;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn states(input: Value) -> Map {
        let mut states = Map::new();
        states.insert("input".into(), input);
        let mut bindings = Map::new();
        bindings.insert("states".into(), Value::object(states));
        bindings
    }

    fn compile(json: Value, field: &str) -> JsonataTemplate {
        JsonataTemplate::compile(&json, field).unwrap()
    }

    #[test]
    fn literal_subtrees_stay_literal() {
        let t = compile(json!({"a": [1, {"b": "x"}], "c": "{% 1 %}"}), "Output");
        let Node::Object(fields) = &t.node else {
            panic!("{t:?}")
        };
        assert!(matches!(fields[0].1, Node::Literal(_)));
        assert!(matches!(fields[1].1, Node::Expr(_)));
        assert!(
            compile(json!({"a": " {% 1 %}"}), "Output")
                .as_literal()
                .is_some()
        );
    }

    #[test]
    fn builds_values_and_names_fields_in_errors() {
        let b = states(json!({"n": 2}));
        let t = compile(
            json!({"x": "{% $states.input.n * 2 %}", "l": [1, "{% 'two' %}"]}),
            "Arguments",
        );
        assert_eq!(t.eval(&b).unwrap(), json!({"x": 4, "l": [1, "two"]}));
        let t = compile(json!({"r": "{%  $nope  %}"}), "Output");
        assert_eq!(
            t.eval(&b).unwrap_err().cause().unwrap(),
            "The JSONata expression '$nope' specified for the field 'Output/r' returned nothing (undefined)."
        );
        let t = compile(json!([0, "{% $nope %}"]), "Items");
        assert!(
            t.eval(&b)
                .unwrap_err()
                .cause()
                .unwrap()
                .contains("'Items[1]'")
        );
    }

    #[test]
    fn type_checks_use_aws_wording() {
        let b = states(json!({}));
        let err = compile(json!("{% {'foo': 'bar'} %}"), "Items")
            .eval_array("Items", &b)
            .unwrap_err();
        assert_eq!(err.error(), Some("States.QueryEvaluationError"));
        assert_eq!(
            err.cause().unwrap(),
            "The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}"
        );
        let err = compile(json!("{% $f := function($x){$x} %}"), "Items")
            .eval(&b)
            .unwrap_err();
        assert_eq!(
            err.cause().unwrap(),
            "The JSONata expression '$f := function($x){$x}' specified for the field 'Items' returned an unsupported result type."
        );
        let err = compile(json!("{% $number('x') %}"), "Output")
            .eval(&b)
            .unwrap_err();
        assert!(
            err.cause()
                .unwrap()
                .starts_with("The JSONata expression '$number('x')' specified for the field 'Output' threw an error during evaluation. D3030: "),
            "{err}"
        );
        assert_eq!(
            compile(json!("{% 3 %}"), "MaxConcurrency")
                .eval_integer("MaxConcurrency", 0, &b)
                .unwrap(),
            3
        );
        assert!(
            compile(json!(true), "Condition")
                .eval_bool("Condition", &b)
                .unwrap()
        );
    }

    #[test]
    fn simple_paths_read_like_jsonata() {
        let mut b = states(json!({
            "o": {"a": [1], "b": {"c": null}, "and": 1},
            "list": [{"v": 1}, {"v": 2}],
            "s": "text"
        }));
        b.insert("v".into(), json!([1]));
        for (src, simple) in [
            ("$states.input.o.a", true),
            ("$states.input.o.b.c", true),
            ("$states.input.o.b.c.d", true),
            ("$states.input.o.and", true),
            ("$states.input.s.x", true),
            ("$states.input.list.v", true),
            ("$states.input.nope", true),
            ("$v", true),
            ("$sum", true),
            ("$states.input.o['a']", false),
            ("$states.input.list[0]", false),
            ("$", false),
            ("$states.input.`o`", false),
        ] {
            assert_eq!(simple_path(src).is_some(), simple, "{src}");
            let e = Expression::compile(src, "Output").unwrap();
            let direct = e.eval_optional(&b).map_err(|e| e.to_string());
            let evaluator = e
                .jsonata
                .evaluate(None, &b, &LIMITS)
                .map_err(|err| e.failure(&err).to_string());
            assert_eq!(direct, evaluator, "{src}");
        }
    }

    #[test]
    fn context_need_is_conservative() {
        for (src, needs) in [
            ("$states.input.a", false),
            ("$states.result.Payload & $states.errorOutput.Error", false),
            ("$x + $statesCount", false),
            ("$states.context.Execution.Id", true),
            ("$states", true),
            ("$keys($states)", true),
            ("$states.input.%", true),
            ("$states.*", true),
            ("$lookup($states, 'con' & 'text')", true),
        ] {
            assert_eq!(source_needs_context(src), needs, "{src}");
        }
    }
}
