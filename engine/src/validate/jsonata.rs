//! JSONata expressions in JSONata states: a string is an expression when
//! the whole string is `{% ... %}`; any other string is a literal.
//!
//! [`check_expression`] is the single place an expression is checked: the
//! delimiters, a non-empty body, and a full parse with the engine's JSONata
//! compiler (the same one the plan uses), whose error is reported with its
//! code, message and position in the expression.

use super::Report;
use crate::asl::Json;
use crate::diagnostic::Pointer;
use crate::jsonata::Jsonata;

const OPEN: &str = "{%";
const CLOSE: &str = "%}";

/// `true` when `text` is written as a JSONata expression: it starts with
/// `{%` and ends with `%}` (no surrounding whitespace).
pub fn is_expression(text: &str) -> bool {
    crate::plan::is_expression(text)
}

/// Checks one JSONata expression string (`{% ... %}`) found at `at`: the
/// delimiters, a non-empty body, and that the body parses.
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
        return;
    }
    if let Err(e) = Jsonata::compile(body) {
        let position = match e.position {
            Some(p) => format!(" at position {p} of the expression"),
            None => String::new(),
        };
        report.add(
            at,
            format!(
                "invalid JSONata expression {}: {}: {}{position}",
                super::values::quote(text),
                e.code,
                e.message
            ),
        );
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
    fn expressions_are_parsed() {
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Pass","Output":{"ok":"{% $sum([1,2]) %}","bad":["{% a[1,2) %}"]},"Assign":{"x":"{% 1 + %}"},"End":true}"#,
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with(
                "/States/S/Output/bad/0: invalid JSONata expression \"{% a[1,2) %}\": S0202: "
            ),
            "{found:?}"
        );
        assert!(found[0].contains("at position"), "{found:?}");
        assert!(
            found[1].starts_with(
                "/States/S/Assign/x: invalid JSONata expression \"{% 1 + %}\": S0207: "
            ),
            "{found:?}"
        );
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
