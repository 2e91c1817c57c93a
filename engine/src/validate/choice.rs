//! Choice rules.
//!
//! * `Choices` is a non-empty array; every top-level rule has `Next`; rules
//!   nested in `And`/`Or`/`Not` have no `Next`, `Assign` or `Output`.
//! * JSONPath rules: exactly one comparison operator (with `Variable`) or
//!   exactly one of `And` (non-empty), `Or` (non-empty), `Not`; operands of
//!   the type the operator compares (`...Path` operands are paths);
//!   `Variable` is a path.
//! * JSONata rules: `Condition`, a JSONata expression or a boolean.
//!
//! (That `Next` and `Default` name existing states is checked in
//! [`super::graph`].)

use super::{Report, jsonata, paths, query_language, templates, values};
use crate::asl::{ChoiceRule, ChoiceState, Comparator, ComparatorField, Json, QueryLanguage};
use crate::diagnostic::Pointer;
use crate::time::{Timestamp, TimestampError};

/// Checks the rules of a Choice state.
pub(crate) fn check_state(
    choice: &ChoiceState,
    at: &Pointer,
    lang: QueryLanguage,
    report: &mut Report,
) {
    match &choice.choices {
        None => report.add(at, "missing required field `Choices`"),
        Some(rules) if rules.is_empty() => report.add(
            &at.push("Choices"),
            "`Choices` must contain at least one rule",
        ),
        Some(rules) => {
            for (i, rule) in rules.iter().enumerate() {
                check_rule(rule, &at.push("Choices").push(i), lang, Level::Top, report);
            }
        }
    }
}

/// Where a rule sits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Directly in `Choices`.
    Top,
    /// Inside `And`, `Or` or `Not`.
    Nested,
}

fn check_rule(
    rule: &ChoiceRule,
    at: &Pointer,
    lang: QueryLanguage,
    level: Level,
    report: &mut Report,
) {
    query_language::check_rule_fields(rule, at, lang, report);
    match level {
        Level::Top => {
            if rule.next.is_none() {
                report.add(at, "missing required field `Next`");
            }
            if let Some(assign) = &rule.assign {
                templates::check_assign(assign, &at.push("Assign"), lang, report);
            }
            if let (Some(output), QueryLanguage::Jsonata) = (&rule.output, lang) {
                jsonata::check_value(output, &at.push("Output"), report);
            }
        }
        Level::Nested => {
            for (name, present) in [
                ("Next", rule.next.is_some()),
                ("Assign", rule.assign.is_some()),
                ("Output", rule.output.is_some()),
            ] {
                if present {
                    report.add(
                        &at.push(name),
                        format!(
                            "`{name}` is only allowed on a top-level Choice rule, not inside `And`, `Or` or `Not`"
                        ),
                    );
                }
            }
        }
    }
    match lang {
        QueryLanguage::JsonPath => check_jsonpath_rule(rule, at, report),
        QueryLanguage::Jsonata => check_condition(rule.condition.as_ref(), at, report),
    }
}

/// A JSONata rule's `Condition`: an expression, or a literal boolean.
fn check_condition(condition: Option<&Json>, at: &Pointer, report: &mut Report) {
    let Some(condition) = condition else {
        report.add(at, "missing required field `Condition`");
        return;
    };
    let condition_at = at.push("Condition");
    match condition {
        Json::Bool(_) => {}
        Json::String(text) if jsonata::is_expression(text) => {
            jsonata::check_expression(text, &condition_at, report)
        }
        other => report.add(
            &condition_at,
            format!(
                "`Condition` must be a JSONata expression `{{% ... %}}` or a boolean, found {}",
                values::describe(other)
            ),
        ),
    }
}

fn check_jsonpath_rule(rule: &ChoiceRule, at: &Pointer, report: &mut Report) {
    let comparators = rule.comparators();
    let mut kinds: Vec<&str> = comparators.iter().map(|c| c.field).collect();
    for (name, present) in [
        ("And", rule.and.is_some()),
        ("Or", rule.or.is_some()),
        ("Not", rule.not.is_some()),
    ] {
        if present {
            kinds.push(name);
        }
    }
    match kinds.len() {
        0 => report.add(
            at,
            "a Choice rule needs a comparison operator (such as `StringEquals`) with `Variable`, or one of `And`, `Or`, `Not`",
        ),
        1 => {}
        _ => report.add(
            at,
            format!(
                "a Choice rule must have exactly one comparison operator or one of `And`, `Or`, `Not`, found {}",
                kinds
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
    if comparators.is_empty() {
        if rule.variable.is_some() && kinds.len() == 1 {
            report.add(
                &at.push("Variable"),
                "`Variable` is only used with a comparison operator, not with `And`, `Or` or `Not`",
            );
        }
    } else {
        match &rule.variable {
            None => report.add(
                at,
                format!(
                    "missing required field `Variable` (the path `{}` compares)",
                    comparators[0].field
                ),
            ),
            Some(variable) => paths::check_path(variable, &at.push("Variable"), report),
        }
        for comparator in &comparators {
            check_operand(comparator, &at.push(comparator.field), report);
        }
    }
    for (name, rules) in [("And", &rule.and), ("Or", &rule.or)] {
        let Some(rules) = rules else { continue };
        let list_at = at.push(name);
        if rules.is_empty() {
            report.add(&list_at, format!("`{name}` must contain at least one rule"));
        }
        for (i, nested) in rules.iter().enumerate() {
            check_rule(
                nested,
                &list_at.push(i),
                QueryLanguage::JsonPath,
                Level::Nested,
                report,
            );
        }
    }
    if let Some(nested) = &rule.not {
        check_rule(
            nested,
            &at.push("Not"),
            QueryLanguage::JsonPath,
            Level::Nested,
            report,
        );
    }
}

/// What an operator compares against.
enum Operand {
    String,
    Number,
    Boolean,
    Timestamp,
}

fn operand_kind(comparator: Comparator) -> Operand {
    use Comparator::*;
    match comparator {
        StringEquals
        | StringLessThan
        | StringGreaterThan
        | StringLessThanEquals
        | StringGreaterThanEquals
        | StringMatches => Operand::String,
        NumericEquals
        | NumericLessThan
        | NumericGreaterThan
        | NumericLessThanEquals
        | NumericGreaterThanEquals => Operand::Number,
        TimestampEquals
        | TimestampLessThan
        | TimestampGreaterThan
        | TimestampLessThanEquals
        | TimestampGreaterThanEquals => Operand::Timestamp,
        BooleanEquals | IsNull | IsPresent | IsNumeric | IsString | IsBoolean | IsTimestamp => {
            Operand::Boolean
        }
    }
}

fn check_operand(comparator: &ComparatorField, at: &Pointer, report: &mut Report) {
    let field = comparator.field;
    let operand = comparator.operand;
    if comparator.path_form {
        match operand {
            Json::String(text) => paths::check_path(text, at, report),
            other => report.add(
                at,
                format!(
                    "`{field}` must be a path string, found {}",
                    values::describe(other)
                ),
            ),
        }
        return;
    }
    if matches!(operand_kind(comparator.comparator), Operand::Timestamp)
        && let Some(Err(TimestampError::OutOfRange)) =
            operand.as_str().map(Timestamp::parse_checked)
    {
        report.add(
            at,
            format!(
                "`{field}` {} is {}",
                values::describe(operand),
                TimestampError::OutOfRange
            ),
        );
        return;
    }
    let expected = match operand_kind(comparator.comparator) {
        Operand::String if operand.is_string() => return,
        Operand::Number if operand.is_number() => return,
        Operand::Boolean if operand.is_boolean() => return,
        Operand::Timestamp if operand.as_str().and_then(Timestamp::parse).is_some() => return,
        Operand::String => "a string",
        Operand::Number => "a number",
        Operand::Boolean => "a boolean",
        Operand::Timestamp => "a timestamp string such as \"2016-08-18T17:33:00Z\"",
    };
    report.add(
        at,
        format!(
            "`{field}` must be {expected}, found {}",
            values::describe(operand)
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::problems;

    fn choice(rules: &str) -> String {
        format!(
            r#"{{"StartAt":"C","States":{{"C":{{"Type":"Choice","Choices":{rules},"Default":"D"}},"D":{{"Type":"Succeed"}}}}}}"#
        )
    }

    #[test]
    fn choices_must_be_a_non_empty_array() {
        let found = problems(&choice("[]"));
        assert_eq!(
            found,
            ["/States/C/Choices: `Choices` must contain at least one rule"]
        );
        let found = problems(
            r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Default":"D"},"D":{"Type":"Succeed"}}}"#,
        );
        assert_eq!(found, ["/States/C: missing required field `Choices`"]);
    }

    #[test]
    fn top_level_rules_need_next_and_nested_rules_must_not_have_it() {
        let found = problems(&choice(
            r#"[{"Variable":"$.a","IsNull":true},
                {"And":[{"Variable":"$.a","IsNull":true,"Next":"D","Assign":{"x":1}}],"Next":"D"}]"#,
        ));
        assert_eq!(
            found,
            [
                "/States/C/Choices/0: missing required field `Next`",
                "/States/C/Choices/1/And/0/Next: `Next` is only allowed on a top-level Choice rule, not inside `And`, `Or` or `Not`",
                "/States/C/Choices/1/And/0/Assign: `Assign` is only allowed on a top-level Choice rule, not inside `And`, `Or` or `Not`",
            ]
        );
    }

    #[test]
    fn a_rule_has_exactly_one_operator_or_combinator() {
        let found = problems(&choice(
            r#"[{"Next":"D"},
                {"Variable":"$.a","StringEquals":"x","NumericEquals":1,"Next":"D"},
                {"Or":[],"Not":{"Variable":"$.b","IsNull":true},"Next":"D"},
                {"StringEquals":"x","Next":"D"},
                {"Variable":"$.a","Not":{"Variable":"$.b","IsNull":true},"Next":"D"}]"#,
        ));
        assert_eq!(
            found,
            [
                "/States/C/Choices/0: a Choice rule needs a comparison operator (such as `StringEquals`) with `Variable`, or one of `And`, `Or`, `Not`",
                "/States/C/Choices/1: a Choice rule must have exactly one comparison operator or one of `And`, `Or`, `Not`, found `StringEquals`, `NumericEquals`",
                "/States/C/Choices/2: a Choice rule must have exactly one comparison operator or one of `And`, `Or`, `Not`, found `Or`, `Not`",
                "/States/C/Choices/2/Or: `Or` must contain at least one rule",
                "/States/C/Choices/3: missing required field `Variable` (the path `StringEquals` compares)",
                "/States/C/Choices/4/Variable: `Variable` is only used with a comparison operator, not with `And`, `Or` or `Not`",
            ]
        );
    }

    #[test]
    fn operands_have_the_compared_type() {
        let found = problems(&choice(
            r#"[{"Variable":"$.a","StringEquals":1,"Next":"D"},
                {"Variable":"$.a","NumericLessThan":"1","Next":"D"},
                {"Variable":"$.a","BooleanEquals":"true","Next":"D"},
                {"Variable":"$.a","IsPresent":1,"Next":"D"},
                {"Variable":"$.a","TimestampEquals":"2016-13-01T00:00:00Z","Next":"D"},
                {"Variable":"$.a","TimestampEquals":"2016-08-18T17:33:00Z","Next":"D"},
                {"Variable":"$.a","TimestampLessThan":"2300-01-01T00:00:00Z","Next":"D"},
                {"Variable":"$.a","StringMatches":"log-*.txt","Next":"D"},
                {"Variable":"$.a","NumericEqualsPath":5,"Next":"D"},
                {"Variable":"$.a","StringEqualsPath":"$.b[","Next":"D"},
                {"Variable":"a","NumericEqualsPath":"$$.x","Next":"D"}]"#,
        ));
        assert_eq!(found.len(), 9, "{found:#?}");
        assert_eq!(
            found[..7],
            [
                "/States/C/Choices/0/StringEquals: `StringEquals` must be a string, found 1",
                "/States/C/Choices/1/NumericLessThan: `NumericLessThan` must be a number, found \"1\"",
                "/States/C/Choices/2/BooleanEquals: `BooleanEquals` must be a boolean, found \"true\"",
                "/States/C/Choices/3/IsPresent: `IsPresent` must be a boolean, found 1",
                "/States/C/Choices/4/TimestampEquals: `TimestampEquals` must be a timestamp string such as \"2016-08-18T17:33:00Z\", found \"2016-13-01T00:00:00Z\"",
                "/States/C/Choices/6/TimestampLessThan: `TimestampLessThan` \"2300-01-01T00:00:00Z\" is out of range: timestamps must lie between 1677-09-21T00:12:43.145Z and 2262-04-11T23:47:16.854Z",
                "/States/C/Choices/8/NumericEqualsPath: `NumericEqualsPath` must be a path string, found 5",
            ]
        );
        assert!(found[7].starts_with("/States/C/Choices/9/StringEqualsPath: invalid JSONPath"));
        assert!(found[8].starts_with("/States/C/Choices/10/Variable: invalid JSONPath 'a'"));
    }

    #[test]
    fn jsonata_rules_use_condition() {
        let found = problems(
            &choice(
                r#"[{"Condition":"{% $states.input.ok %}","Next":"D","Output":{"a":"{%%}"}},
                {"Condition":true,"Next":"D"},
                {"Condition":"yes","Next":"D"},
                {"Next":"D"},
                {"Variable":"$.a","IsNull":true,"Condition":false,"Next":"D"}]"#,
            )
            .replacen('{', r#"{"QueryLanguage":"JSONata","#, 1),
        );
        assert_eq!(
            found,
            [
                "/States/C/Choices/0/Output/a: empty JSONata expression `{% %}`",
                "/States/C/Choices/2/Condition: `Condition` must be a JSONata expression `{% ... %}` or a boolean, found \"yes\"",
                "/States/C/Choices/3: missing required field `Condition`",
                "/States/C/Choices/4/Variable: `Variable` is a JSONPath field and cannot be used in a JSONata state (use `Condition` instead)",
                "/States/C/Choices/4/IsNull: `IsNull` is a JSONPath field and cannot be used in a JSONata state (use `Condition` instead)",
            ]
        );
    }

    #[test]
    fn jsonpath_rules_cannot_use_condition() {
        let found = problems(&choice(
            r#"[{"Variable":"$.a","IsNull":true,"Condition":true,"Next":"D"}]"#,
        ));
        assert_eq!(
            found,
            [
                "/States/C/Choices/0/Condition: `Condition` is a JSONata field and cannot be used in a JSONPath state (use `Variable` with a comparison operator instead, or set `\"QueryLanguage\": \"JSONata\"`)"
            ]
        );
    }
}
