//! JSONPath Choice rules, compiled once and evaluated against a state's input.
//!
//! Semantics follow AWS: a comparison whose operand has the wrong type is
//! simply false (`NumericEquals` on a string); a `Variable` (or `...Path`
//! operand) that selects nothing fails the execution with `States.Runtime`,
//! except under `IsPresent`. Strings compare by UTF-16 code units, as Java does.

use crate::asl::{ChoiceRule, Comparator};
use crate::error::StatesError;
use crate::path::Path;
use crate::template::{Roots, select};
use crate::time::Timestamp;
use crate::value::{Number, Str, Value};
use std::cmp::Ordering;

/// A compiled Choice rule (without its `Next`).
#[derive(Debug, Clone)]
pub enum Condition {
    /// `And`: every rule holds.
    And(Vec<Condition>),
    /// `Or`: some rule holds.
    Or(Vec<Condition>),
    /// `Not`: the rule does not hold.
    Not(Box<Condition>),
    /// `Variable` compared with a comparator.
    Test {
        /// The value under test.
        variable: Path,
        /// How it is tested.
        test: Test,
    },
}

/// The right-hand side of a comparison: a literal or another path.
#[derive(Debug, Clone)]
pub enum Operand<T> {
    /// A literal from the definition.
    Literal(T),
    /// A `...Path` comparator: compare with the value at this path.
    Path(Path),
}

/// A comparator with its operand.
#[derive(Debug, Clone)]
pub enum Test {
    /// `String*` comparators (ordering in UTF-16 code units).
    String(Ordered, Operand<Str>),
    /// `StringMatches` with a compiled `*` pattern.
    StringMatches(Glob),
    /// `Numeric*` comparators.
    Numeric(Ordered, Operand<Number>),
    /// `BooleanEquals(Path)`.
    Boolean(Operand<bool>),
    /// `Timestamp*` comparators.
    Timestamp(Ordered, Operand<Timestamp>),
    /// `IsNull`, `IsNumeric`, ... (`expected` false negates the test).
    Is(TypeTest, bool),
    /// `IsPresent` (`expected` false negates the test).
    IsPresent(bool),
}

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordered {
    /// `...Equals`
    Equals,
    /// `...LessThan`
    LessThan,
    /// `...GreaterThan`
    GreaterThan,
    /// `...LessThanEquals`
    LessThanEquals,
    /// `...GreaterThanEquals`
    GreaterThanEquals,
}

impl Ordered {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Ordered::Equals => ordering.is_eq(),
            Ordered::LessThan => ordering.is_lt(),
            Ordered::GreaterThan => ordering.is_gt(),
            Ordered::LessThanEquals => ordering.is_le(),
            Ordered::GreaterThanEquals => ordering.is_ge(),
        }
    }
}

/// The type tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    /// `IsNull`
    Null,
    /// `IsNumeric`
    Numeric,
    /// `IsString`
    String,
    /// `IsBoolean`
    Boolean,
    /// `IsTimestamp`
    Timestamp,
}

/// A `StringMatches` pattern: `*` matches any run of characters; `\*` and
/// `\\` stand for the characters themselves.
#[derive(Debug, Clone)]
pub struct Glob {
    /// Literal pieces between wildcards (the first and last may be empty).
    pieces: Vec<String>,
}

impl Glob {
    /// Compiles a pattern.
    pub fn new(pattern: &str) -> Glob {
        let mut pieces = vec![String::new()];
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(next) => pieces.last_mut().map(|p| p.push(next)).unwrap_or(()),
                    None => pieces.last_mut().map(|p| p.push('\\')).unwrap_or(()),
                },
                '*' => pieces.push(String::new()),
                other => pieces.last_mut().map(|p| p.push(other)).unwrap_or(()),
            }
        }
        Glob { pieces }
    }

    /// `true` when `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return remaining.is_empty();
        };
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.len() >= last.len() && remaining.ends_with(last.as_str())
    }
}

/// Compiles a rule (validation has already checked its shape and operand types).
pub fn compile(rule: &ChoiceRule) -> Result<Condition, String> {
    if let Some(rules) = &rule.and {
        return rules
            .iter()
            .map(compile)
            .collect::<Result<_, _>>()
            .map(Condition::And);
    }
    if let Some(rules) = &rule.or {
        return rules
            .iter()
            .map(compile)
            .collect::<Result<_, _>>()
            .map(Condition::Or);
    }
    if let Some(inner) = &rule.not {
        return Ok(Condition::Not(Box::new(compile(inner)?)));
    }
    let variable = rule
        .variable
        .as_deref()
        .ok_or("a comparison rule needs a Variable")?;
    let variable = Path::parse(variable).map_err(|e| e.to_string())?;
    let comparators = rule.comparators();
    let [field] = comparators.as_slice() else {
        return Err(format!(
            "a rule needs exactly one comparator, found {}",
            comparators.len()
        ));
    };
    let operand = Value::from(field.operand);
    let test = compile_test(field.comparator, field.path_form, &operand)
        .map_err(|e| format!("{}: {e}", field.field))?;
    Ok(Condition::Test { variable, test })
}

fn operand<T>(
    path_form: bool,
    value: &Value,
    literal: impl Fn(&Value) -> Option<T>,
    kind: &str,
) -> Result<Operand<T>, String> {
    if path_form {
        let text = value
            .as_str()
            .ok_or("the operand of a ...Path comparator must be a path string")?;
        return Path::parse(text)
            .map(Operand::Path)
            .map_err(|e| e.to_string());
    }
    literal(value)
        .map(Operand::Literal)
        .ok_or_else(|| format!("the operand must be {kind}, found {value}"))
}

fn compile_test(comparator: Comparator, path_form: bool, value: &Value) -> Result<Test, String> {
    use Comparator::*;
    let string = |v: &Value| v.as_str().map(Str::new);
    let number = Value::as_number;
    let boolean = Value::as_bool;
    let timestamp = |v: &Value| v.as_str().and_then(Timestamp::parse);
    let flag = || {
        value
            .as_bool()
            .ok_or_else(|| format!("the operand must be a boolean, found {value}"))
    };
    Ok(match comparator {
        StringEquals => Test::String(
            Ordered::Equals,
            operand(path_form, value, string, "a string")?,
        ),
        StringLessThan => Test::String(
            Ordered::LessThan,
            operand(path_form, value, string, "a string")?,
        ),
        StringGreaterThan => Test::String(
            Ordered::GreaterThan,
            operand(path_form, value, string, "a string")?,
        ),
        StringLessThanEquals => Test::String(
            Ordered::LessThanEquals,
            operand(path_form, value, string, "a string")?,
        ),
        StringGreaterThanEquals => Test::String(
            Ordered::GreaterThanEquals,
            operand(path_form, value, string, "a string")?,
        ),
        StringMatches => Test::StringMatches(Glob::new(
            value.as_str().ok_or("the pattern must be a string")?,
        )),
        NumericEquals => Test::Numeric(
            Ordered::Equals,
            operand(path_form, value, number, "a number")?,
        ),
        NumericLessThan => Test::Numeric(
            Ordered::LessThan,
            operand(path_form, value, number, "a number")?,
        ),
        NumericGreaterThan => Test::Numeric(
            Ordered::GreaterThan,
            operand(path_form, value, number, "a number")?,
        ),
        NumericLessThanEquals => Test::Numeric(
            Ordered::LessThanEquals,
            operand(path_form, value, number, "a number")?,
        ),
        NumericGreaterThanEquals => Test::Numeric(
            Ordered::GreaterThanEquals,
            operand(path_form, value, number, "a number")?,
        ),
        BooleanEquals => Test::Boolean(operand(path_form, value, boolean, "a boolean")?),
        TimestampEquals => Test::Timestamp(
            Ordered::Equals,
            operand(path_form, value, timestamp, "a timestamp")?,
        ),
        TimestampLessThan => Test::Timestamp(
            Ordered::LessThan,
            operand(path_form, value, timestamp, "a timestamp")?,
        ),
        TimestampGreaterThan => Test::Timestamp(
            Ordered::GreaterThan,
            operand(path_form, value, timestamp, "a timestamp")?,
        ),
        TimestampLessThanEquals => Test::Timestamp(
            Ordered::LessThanEquals,
            operand(path_form, value, timestamp, "a timestamp")?,
        ),
        TimestampGreaterThanEquals => Test::Timestamp(
            Ordered::GreaterThanEquals,
            operand(path_form, value, timestamp, "a timestamp")?,
        ),
        IsNull => Test::Is(TypeTest::Null, flag()?),
        IsPresent => Test::IsPresent(flag()?),
        IsNumeric => Test::Is(TypeTest::Numeric, flag()?),
        IsString => Test::Is(TypeTest::String, flag()?),
        IsBoolean => Test::Is(TypeTest::Boolean, flag()?),
        IsTimestamp => Test::Is(TypeTest::Timestamp, flag()?),
    })
}

/// Java's `String.compareTo`: UTF-16 code unit order.
fn compare_utf16(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

fn resolve_operand<T>(
    operand: &Operand<T>,
    roots: &dyn Roots,
    from_value: impl Fn(&Value) -> Option<T>,
) -> Result<Option<T>, StatesError>
where
    T: Clone,
{
    match operand {
        Operand::Literal(v) => Ok(Some(v.clone())),
        Operand::Path(path) => Ok(from_value(&select(path, roots)?)),
    }
}

impl Condition {
    /// Evaluates the rule.
    pub fn eval(&self, roots: &dyn Roots) -> Result<bool, StatesError> {
        match self {
            Condition::And(rules) => {
                for rule in rules {
                    if !rule.eval(roots)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Or(rules) => {
                for rule in rules {
                    if rule.eval(roots)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Not(rule) => Ok(!rule.eval(roots)?),
            Condition::Test { variable, test } => eval_test(variable, test, roots),
        }
    }
}

fn eval_test(variable: &Path, test: &Test, roots: &dyn Roots) -> Result<bool, StatesError> {
    if let Test::IsPresent(expected) = test {
        let present = select(variable, roots).is_ok();
        return Ok(present == *expected);
    }
    let value = select(variable, roots)?;
    Ok(match test {
        Test::String(op, operand) => match (
            value.as_str(),
            resolve_operand(operand, roots, |v| v.as_str().map(Str::new))?,
        ) {
            (Some(s), Some(other)) => op.holds(compare_utf16(s, &other)),
            _ => false,
        },
        Test::StringMatches(glob) => value.as_str().is_some_and(|s| glob.matches(s)),
        Test::Numeric(op, operand) => match (
            value.as_number(),
            resolve_operand(operand, roots, Value::as_number)?,
        ) {
            (Some(n), Some(other)) => n.partial_cmp(&other).is_some_and(|o| op.holds(o)),
            _ => false,
        },
        Test::Boolean(operand) => match (
            value.as_bool(),
            resolve_operand(operand, roots, Value::as_bool)?,
        ) {
            (Some(b), Some(other)) => b == other,
            _ => false,
        },
        Test::Timestamp(op, operand) => {
            let parse = |v: &Value| v.as_str().and_then(Timestamp::parse);
            match (parse(&value), resolve_operand(operand, roots, parse)?) {
                (Some(t), Some(other)) => op.holds(t.cmp(&other)),
                _ => false,
            }
        }
        Test::Is(kind, expected) => {
            let is = match kind {
                TypeTest::Null => value.is_null(),
                TypeTest::Numeric => value.as_number().is_some(),
                TypeTest::String => value.as_str().is_some(),
                TypeTest::Boolean => value.as_bool().is_some(),
                TypeTest::Timestamp => value.as_str().and_then(Timestamp::parse).is_some(),
            };
            is == *expected
        }
        Test::IsPresent(_) => unreachable!("handled above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::template::InputOnly;

    fn check(rule: serde_json::Value, input: Value) -> Result<bool, StatesError> {
        let rule: ChoiceRule = serde_json::from_value(rule).unwrap();
        compile(&rule).unwrap().eval(&InputOnly(&input))
    }

    #[test]
    fn comparators() {
        let input = json!({"s": "b", "n": 3, "f": 3.0, "t": "2020-01-01T00:00:00Z", "yes": true, "nul": null, "other": 2});
        let cases = [
            (
                serde_json::json!({"Variable": "$.s", "StringEquals": "b"}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.s", "StringLessThan": "c"}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.s", "StringGreaterThanEquals": "c"}),
                false,
            ),
            (
                serde_json::json!({"Variable": "$.n", "NumericEquals": 3.0}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.f", "NumericLessThanEquals": 3}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.n", "NumericGreaterThanPath": "$.other"}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.s", "NumericEquals": 1}),
                false,
            ),
            (
                serde_json::json!({"Variable": "$.yes", "BooleanEquals": true}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.t", "TimestampLessThan": "2020-01-01T00:00:01Z"}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.s", "TimestampEquals": "2020-01-01T00:00:00Z"}),
                false,
            ),
            (
                serde_json::json!({"Variable": "$.nul", "IsNull": true}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.n", "IsNumeric": false}),
                false,
            ),
            (
                serde_json::json!({"Variable": "$.t", "IsTimestamp": true}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.missing", "IsPresent": false}),
                true,
            ),
            (
                serde_json::json!({"Variable": "$.nul", "IsPresent": true}),
                true,
            ),
        ];
        for (rule, expected) in cases {
            assert_eq!(
                check(rule.clone(), input.clone()).unwrap(),
                expected,
                "{rule}"
            );
        }
    }

    #[test]
    fn composition() {
        let input = json!({"type": "Private", "value": 22});
        let rule = serde_json::json!({"And": [
            {"Not": {"Variable": "$.type", "StringEquals": "Public"}},
            {"Or": [{"Variable": "$.value", "NumericLessThan": 0}, {"Variable": "$.value", "NumericGreaterThanEquals": 20}]}
        ]});
        assert!(check(rule, input).unwrap());
    }

    #[test]
    fn missing_variable_is_a_runtime_error() {
        let err = check(
            serde_json::json!({"Variable": "$.missing", "StringEquals": "x"}),
            json!({}),
        )
        .unwrap_err();
        assert_eq!(err.error(), Some("States.Runtime"));
    }

    #[test]
    fn string_matches_globs() {
        let glob = Glob::new("log-*.txt");
        assert!(glob.matches("log-2020.txt"));
        assert!(glob.matches("log-.txt"));
        assert!(!glob.matches("log-2020.txt.gz"));
        assert!(Glob::new("*").matches(""));
        assert!(Glob::new(r"a\*b").matches("a*b"));
        assert!(!Glob::new(r"a\*b").matches("axb"));
        assert!(Glob::new("*a*a*").matches("banana"));
        assert!(!Glob::new("a*a").matches("a"));
        assert!(Glob::new(r"back\\slash*").matches(r"back\slash!"));
    }

    #[test]
    fn strings_compare_like_java() {
        // U+FF61 sorts after U+1F600 by code point, before it in UTF-16.
        assert_eq!(compare_utf16("\u{FF61}", "\u{1F600}"), Ordering::Greater);
        assert_eq!("\u{FF61}".cmp("\u{1F600}"), Ordering::Less);
    }
}
