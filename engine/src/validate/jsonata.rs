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

pub use crate::asl::is_expression;

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
    if let Some(name) = top_level_reference(body) {
        report.add(
            at,
            format!(
                "Reference to '{name}' at the top level is not supported: JSONata expressions in Step Functions have no context value (use `$states.input`, or a variable)"
            ),
        );
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

/// The name an expression reads from the (absent) context value right at
/// its start: a bare field name (`phone.number`), `$` or `$$`. The States
/// Language forbids these at the top level of an expression, and AWS
/// refuses such definitions. Only the start of the expression is looked at,
/// so this never rejects an expression AWS accepts.
fn top_level_reference(body: &str) -> Option<String> {
    let body = body.trim_start();
    if let Some(rest) = body.strip_prefix('$') {
        if rest.starts_with('$') {
            return Some("$$".to_string());
        }
        let next = rest.chars().next();
        if next.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$')) {
            return Some("$".to_string());
        }
        return None;
    }
    if let Some(rest) = body.strip_prefix('`') {
        return rest.split_once('`').map(|(name, _)| name.to_string());
    }
    let name: String = body
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let starts_like_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    let keyword = matches!(
        name.as_str(),
        "true" | "false" | "null" | "function" | "and" | "or" | "in"
    );
    (starts_like_name && !keyword).then_some(name)
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
            r#"{"Type":"Pass","Output":{"ok":"{% $sum([1,2]) %}","bad":["{% $x[1,2) %}"]},"Assign":{"x":"{% 1 + %}"},"End":true}"#,
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with(
                "/States/S/Output/bad/0: invalid JSONata expression \"{% $x[1,2) %}\": S0202: "
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
    fn top_level_references_are_refused() {
        for (body, name) in [
            ("phone.number", Some("phone")),
            (" `first name` & 'x'", Some("first name")),
            ("$.x", Some("$")),
            ("$", Some("$")),
            ("$$.a", Some("$$")),
            ("$states.input.a", None),
            ("$x.y", None),
            ("$count($states.input.items[price > 5])", None),
            ("true", None),
            ("null", None),
            ("function($v){$v}", None),
            ("'text'", None),
            ("42", None),
            ("[1, 2]", None),
            ("{'a': 1}", None),
        ] {
            assert_eq!(top_level_reference(body).as_deref(), name, "{body}");
        }
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Pass","Output":{"v":"{% phone %}"},"End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/Output/v: Reference to 'phone' at the top level is not supported: JSONata expressions in Step Functions have no context value (use `$states.input`, or a variable)"
            ]
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
