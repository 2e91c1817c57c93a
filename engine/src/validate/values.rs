//! Checks on raw JSON values shared by the other modules: integers and
//! numbers in a range (or a JSONata expression in JSONata states), and how a
//! value is shown in a message.

use super::{Report, jsonata};
use crate::asl::{Json, QueryLanguage};
use crate::diagnostic::Pointer;

/// AWS's largest value for second counts (`TimeoutSeconds`, `IntervalSeconds`, ...).
pub(crate) const MAX_SECONDS: i64 = 99_999_999;

/// Shows a value in a message: literals as written, strings quoted (and cut
/// when long), arrays and objects by kind.
pub(crate) fn describe(json: &Json) -> String {
    match json {
        Json::String(s) => quote(s),
        Json::Array(_) => "an array".to_string(),
        Json::Object(_) => "an object".to_string(),
        other => other.to_string(),
    }
}

/// A string in JSON quotes, cut to 60 characters.
pub(crate) fn quote(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        Json::String(text.to_string()).to_string()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{}…", Json::String(cut))
    }
}

/// How an allowed range of integers reads in a message.
fn integer_range(min: i64, max: i64) -> String {
    match (min, max) {
        (0, i64::MAX) => "a non-negative integer".to_string(),
        (1, i64::MAX) => "a positive integer".to_string(),
        (min, i64::MAX) => format!("an integer of at least {min}"),
        (min, max) => format!("an integer from {min} to {max}"),
    }
}

/// What JSONata states accept besides the literal.
fn or_expression(lang: QueryLanguage) -> &'static str {
    match lang {
        QueryLanguage::JsonPath => "",
        QueryLanguage::Jsonata => " or a JSONata expression `{% ... %}`",
    }
}

/// Checks that `value` (the field `field` at `at`) is an integer in
/// `min..=max`, or in a JSONata state a JSONata expression. Returns the
/// integer when it is a literal in range.
pub(crate) fn integer(
    value: &Json,
    field: &str,
    min: i64,
    max: i64,
    lang: QueryLanguage,
    at: &Pointer,
    report: &mut Report,
) -> Option<i64> {
    if let Some(expr) = expression(value, lang) {
        jsonata::check_expression(expr, at, report);
        return None;
    }
    match value.as_i64() {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            report.add(
                at,
                format!(
                    "`{field}` must be {}{}, found {}",
                    integer_range(min, max),
                    or_expression(lang),
                    describe(value)
                ),
            );
            None
        }
    }
}

/// Checks that `value` is a number in `min..=max` (either bound may be
/// infinite), or in a JSONata state a JSONata expression.
pub(crate) fn number(
    value: &Json,
    field: &str,
    min: f64,
    max: f64,
    lang: QueryLanguage,
    at: &Pointer,
    report: &mut Report,
) {
    if let Some(expr) = expression(value, lang) {
        jsonata::check_expression(expr, at, report);
        return;
    }
    let in_range = value.as_f64().is_some_and(|n| n >= min && n <= max);
    if !in_range {
        let range = if max.is_infinite() {
            format!("a number of at least {min:?}")
        } else {
            format!("a number from {min} to {max}")
        };
        report.add(
            at,
            format!(
                "`{field}` must be {range}{}, found {}",
                or_expression(lang),
                describe(value)
            ),
        );
    }
}

/// The expression text when `value` is a JSONata expression string in a
/// JSONata state.
pub(crate) fn expression(value: &Json, lang: QueryLanguage) -> Option<&str> {
    match (value, lang) {
        (Json::String(s), QueryLanguage::Jsonata) if jsonata::is_expression(s) => Some(s),
        _ => None,
    }
}

/// Reports `second` when both fields of a mutually exclusive pair are set.
pub(crate) fn exclusive(
    first: (&str, bool),
    second: (&str, bool),
    at: &Pointer,
    report: &mut Report,
) {
    if first.1 && second.1 {
        report.add(
            &at.push(second.0),
            format!("set only one of `{}` and `{}`", first.0, second.0),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_integer(value: Json, lang: QueryLanguage) -> Vec<String> {
        let mut report = Report::default();
        integer(
            &value,
            "X",
            1,
            MAX_SECONDS,
            lang,
            &Pointer::root().push("X"),
            &mut report,
        );
        report.0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn integers_must_be_integer_literals_in_range() {
        assert!(check_integer(json!(5), QueryLanguage::JsonPath).is_empty());
        assert_eq!(
            check_integer(json!(5.0), QueryLanguage::JsonPath),
            ["/X: `X` must be an integer from 1 to 99999999, found 5.0"]
        );
        assert_eq!(
            check_integer(json!("5"), QueryLanguage::JsonPath),
            ["/X: `X` must be an integer from 1 to 99999999, found \"5\""]
        );
        assert_eq!(
            check_integer(json!("{% 5 %}"), QueryLanguage::JsonPath),
            ["/X: `X` must be an integer from 1 to 99999999, found \"{% 5 %}\""]
        );
    }

    #[test]
    fn jsonata_states_accept_expressions_for_numbers() {
        assert!(check_integer(json!("{% $x %}"), QueryLanguage::Jsonata).is_empty());
        assert_eq!(
            check_integer(json!("x"), QueryLanguage::Jsonata),
            [
                "/X: `X` must be an integer from 1 to 99999999 or a JSONata expression `{% ... %}`, found \"x\""
            ]
        );
    }

    #[test]
    fn long_strings_are_cut_in_messages() {
        let long = "a".repeat(100);
        assert_eq!(quote(&long), format!("\"{}\"…", "a".repeat(60)));
    }
}
