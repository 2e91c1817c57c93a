//! JSONata expressions in JSONata states: a string is an expression when
//! the whole string is `{% ... %}`; any other string is a literal.
//!
//! [`check_expression`] is the single place an expression is checked. Today
//! it checks what can be checked without a JSONata parser (the delimiters
//! and a non-empty body); the parse check belongs there too.

use super::Report;
use crate::asl::Json;
use crate::diagnostic::Pointer;

const OPEN: &str = "{%";
const CLOSE: &str = "%}";

/// `true` when `text` is written as a JSONata expression: it starts with
/// `{%` and ends with `%}` (no surrounding whitespace).
pub fn is_expression(text: &str) -> bool {
    text.len() >= OPEN.len() + CLOSE.len() && text.starts_with(OPEN) && text.ends_with(CLOSE)
}

/// Checks one JSONata expression string (`{% ... %}`) found at `at`: the
/// delimiters and a non-empty body.
pub(crate) fn check_expression(text: &str, at: &Pointer, report: &mut Report) {
    if !is_expression(text) {
        report.add(
            at,
            format!(
                "a JSONata expression must be written as `{{% expression %}}`, found {}",
                super::values::quote(text)
            ),
        );
        return;
    }
    let body = &text[OPEN.len()..text.len() - CLOSE.len()];
    if body.trim().is_empty() {
        report.add(at, "empty JSONata expression `{% %}`");
    }
}

/// Checks every JSONata expression inside a JSONata-state value (`Output`,
/// `Arguments`, `Assign` values, `Items`, ...): objects and arrays are walked,
/// strings written as `{% ... %}` are checked, other strings are literals.
pub(crate) fn check_value(value: &Json, at: &Pointer, report: &mut Report) {
    match value {
        Json::String(s) if is_expression(s) => check_expression(s, at, report),
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_value(item, &at.push(i), report);
            }
        }
        Json::Object(map) => {
            for (key, item) in map {
                check_value(item, &at.push(key), report);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::test_support::{one_jsonata_state, problems};

    #[test]
    fn the_whole_string_must_be_delimited() {
        assert!(is_expression("{% $x %}"));
        assert!(is_expression("{%$x%}"));
        assert!(!is_expression(" {% $x %}"));
        assert!(!is_expression("{% $x %} "));
        assert!(!is_expression("{%}"));
        assert!(!is_expression("$x"));
    }

    #[test]
    fn empty_expressions_are_reported_where_they_sit() {
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Pass","Output":{"a":[1,"{%  %}"],"b":"{% x"},"End":true}"#,
        ));
        assert_eq!(
            found,
            ["/States/S/Output/a/1: empty JSONata expression `{% %}`"]
        );
    }
}
