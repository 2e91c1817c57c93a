//! Payload templates and variable assignments.
//!
//! * JSONPath states: `Parameters`, `ResultSelector`, `ItemSelector`, Task
//!   `Credentials` and `ItemBatcher.BatchInput` are payload templates: in any
//!   object at any depth, a key ending in `.$` takes a path or an intrinsic
//!   call, and must not collide with a plain key of the same name. Pass
//!   `Result` is a literal and is not walked.
//! * `Assign` (both languages): keys are variable names; in JSONPath states
//!   the values are templates, in JSONata states they may hold expressions.
//! * JSONata states: `Output`, `Arguments`, `Items`, `ItemSelector`, ... are
//!   walked for `{% ... %}` expressions.

use super::{Report, jsonata, paths, values};
use crate::asl::{Json, QueryLanguage, State};
use crate::diagnostic::Pointer;
use std::collections::HashMap;

/// AWS's limit on the length of a variable name.
pub(crate) const MAX_VARIABLE_NAME: usize = 80;

/// The variable JSONata states get for free; it cannot be assigned.
const RESERVED_VARIABLE: &str = "states";

/// Checks the templates, JSONata values and `Assign` of a state. (Choice
/// rules and catchers are checked by their own modules.)
pub(crate) fn check_state(state: &State, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    let mut fields: Vec<(&str, Option<&Json>)> = Vec::new();
    let mut assign = None;
    match state {
        State::Pass(s) => {
            fields.extend([
                ("Parameters", s.parameters.as_ref()),
                ("Output", s.output.as_ref()),
            ]);
            assign = s.assign.as_ref();
        }
        State::Task(s) => {
            fields.extend([
                ("Parameters", s.parameters.as_ref()),
                ("ResultSelector", s.result_selector.as_ref()),
                ("Credentials", s.credentials.as_ref()),
                ("Arguments", s.arguments.as_ref()),
                ("Output", s.output.as_ref()),
            ]);
            assign = s.assign.as_ref();
        }
        State::Choice(s) => {
            fields.push(("Output", s.output.as_ref()));
            assign = s.assign.as_ref();
        }
        State::Wait(s) => {
            fields.push(("Output", s.output.as_ref()));
            assign = s.assign.as_ref();
        }
        State::Succeed(s) => fields.push(("Output", s.output.as_ref())),
        State::Fail(_) => {}
        State::Parallel(s) => {
            let f = &s.fields;
            fields.extend([
                ("Parameters", f.parameters.as_ref()),
                ("ResultSelector", f.result_selector.as_ref()),
                ("Arguments", f.arguments.as_ref()),
                ("Output", f.output.as_ref()),
            ]);
            assign = f.assign.as_ref();
        }
        State::Map(s) => {
            let f = &s.fields;
            fields.extend([
                ("Parameters", f.parameters.as_ref()),
                ("ItemSelector", f.item_selector.as_ref()),
                ("ResultSelector", f.result_selector.as_ref()),
                ("Items", f.items.as_ref()),
                ("Output", f.output.as_ref()),
            ]);
            if let Some(batcher) = &f.item_batcher
                && let Some(input) = &batcher.batch_input
            {
                check_value(
                    input,
                    &at.push("ItemBatcher").push("BatchInput"),
                    lang,
                    report,
                );
            }
            assign = f.assign.as_ref();
        }
    }
    for (name, value) in fields {
        if let Some(value) = value {
            check_value(value, &at.push(name), lang, report);
        }
    }
    if let Some(assign) = assign {
        check_assign(assign, &at.push("Assign"), lang, report);
    }
}

/// Checks a template-or-expression value in the state's language: a payload
/// template in JSONPath states, JSONata expressions in JSONata states.
/// (Fields of the other language are reported by
/// [`super::query_language`] and still checked here for their content.)
fn check_value(value: &Json, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    match lang {
        QueryLanguage::JsonPath => check_payload_template(value, at, report),
        QueryLanguage::Jsonata => jsonata::check_value(value, at, report),
    }
}

/// Checks a JSONPath payload template: every `.$` key at any depth holds a
/// path or an intrinsic call, and no key collides with another once `.$` is
/// stripped.
pub(crate) fn check_payload_template(value: &Json, at: &Pointer, report: &mut Report) {
    match value {
        Json::Object(map) => {
            let mut produced: HashMap<&str, &str> = HashMap::new();
            for (key, item) in map {
                let item_at = at.push(key);
                let name = match key.strip_suffix(".$") {
                    Some(name) => {
                        check_dynamic_value(key, item, &item_at, report);
                        name
                    }
                    None => {
                        check_payload_template(item, &item_at, report);
                        key.as_str()
                    }
                };
                if let Some(other) = produced.insert(name, key) {
                    report.add(
                        &item_at,
                        format!("`{other}` and `{key}` both produce the field `{name}`"),
                    );
                }
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_payload_template(item, &at.push(i), report);
            }
        }
        _ => {}
    }
}

/// The value of a `.$` key: a string holding a path or an intrinsic call.
fn check_dynamic_value(key: &str, value: &Json, at: &Pointer, report: &mut Report) {
    match value {
        Json::String(text) => paths::check_path_or_intrinsic(text, at, report),
        other => report.add(
            at,
            format!(
                "`{key}` ends in `.$`, so its value must be a string holding a path or an intrinsic function call, found {}",
                values::describe(other)
            ),
        ),
    }
}

/// Checks an `Assign` object (of a state, a Choice rule or a catcher).
pub(crate) fn check_assign(value: &Json, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    let Json::Object(map) = value else {
        report.add(
            at,
            format!(
                "`Assign` must be an object of variable names and values, found {}",
                values::describe(value)
            ),
        );
        return;
    };
    let mut assigned: HashMap<&str, &str> = HashMap::new();
    for (key, item) in map {
        let item_at = at.push(key);
        let name = match (lang, key.strip_suffix(".$")) {
            (QueryLanguage::JsonPath, Some(name)) => {
                check_dynamic_value(key, item, &item_at, report);
                name
            }
            _ => {
                check_value(item, &item_at, lang, report);
                key.as_str()
            }
        };
        check_variable_name(name, &item_at, report);
        if let Some(other) = assigned.insert(name, key) {
            report.add(
                &item_at,
                format!("`{other}` and `{key}` both assign the variable `{name}`"),
            );
        }
    }
}

/// Checks a variable name: an identifier (a letter or `_`, then letters,
/// digits or `_`), at most 80 characters, and not the reserved `states`.
fn check_variable_name(name: &str, at: &Pointer, report: &mut Report) {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_');
    let length = name.chars().count();
    if !valid {
        report.add(
            at,
            format!(
                "{} is not a valid variable name (a letter or `_`, then letters, digits or `_`)",
                values::quote(name)
            ),
        );
    } else if length > MAX_VARIABLE_NAME {
        report.add(
            at,
            format!(
                "variable name is {length} characters long, above the limit of {MAX_VARIABLE_NAME}"
            ),
        );
    } else if name == RESERVED_VARIABLE {
        report.add(
            at,
            "`states` is a reserved variable name (`$states` holds the input, result and context in JSONata)",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::{one_jsonata_state, one_state, problems};

    #[test]
    fn dollar_keys_take_paths_or_intrinsic_calls_at_any_depth() {
        assert!(
            problems(&one_state(
                r#"{"Type":"Task","Resource":"r","Parameters":{"a.$":"$.x","b":[{"c.$":"States.UUID()"}],"d":"$.literal","e.$":"$$.Execution.Id","f.$":"$v"},"End":true}"#
            ))
            .is_empty()
        );
        let found = problems(&one_state(
            r#"{"Type":"Task","Resource":"r","Parameters":{"a.$":"x","b":[{"c.$":5}]},"End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/Parameters/a.$: expected a path (`$...`) or an intrinsic function call (`States.Name(...)`), found \"x\"",
                "/States/S/Parameters/b/0/c.$: `c.$` ends in `.$`, so its value must be a string holding a path or an intrinsic function call, found 5",
            ]
        );
    }

    #[test]
    fn every_template_field_is_walked() {
        let found = problems(&one_state(
            r#"{"Type":"Map","ItemSelector":{"a.$":1},"ResultSelector":{"b.$":2},"ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"c.$":3}},
                "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"X","States":{"X":{"Type":"Succeed"}}},"End":true}"#,
        ));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("/States/S/ItemBatcher/BatchInput/c.$: "));
        assert!(found[1].starts_with("/States/S/ItemSelector/a.$: "));
        assert!(found[2].starts_with("/States/S/ResultSelector/b.$: "));
    }

    #[test]
    fn pass_result_is_a_literal() {
        assert!(
            problems(&one_state(
                r#"{"Type":"Pass","Result":{"a.$":5},"End":true}"#
            ))
            .is_empty()
        );
    }

    #[test]
    fn stripped_keys_must_be_unique() {
        let found = problems(&one_state(
            r#"{"Type":"Pass","Parameters":{"a":1,"a.$":"$.a"},"End":true}"#,
        ));
        assert_eq!(
            found,
            ["/States/S/Parameters/a.$: `a` and `a.$` both produce the field `a`"]
        );
    }

    #[test]
    fn assign_names_must_be_identifiers() {
        let found = problems(&one_state(
            r#"{"Type":"Pass","Assign":{"ok":1,"_ok2.$":"$.a","2bad":1,"bad-name":2,"states":3,"x":1,"x.$":"$.x"},"End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/Assign/2bad: \"2bad\" is not a valid variable name (a letter or `_`, then letters, digits or `_`)",
                "/States/S/Assign/bad-name: \"bad-name\" is not a valid variable name (a letter or `_`, then letters, digits or `_`)",
                "/States/S/Assign/states: `states` is a reserved variable name (`$states` holds the input, result and context in JSONata)",
                "/States/S/Assign/x.$: `x` and `x.$` both assign the variable `x`",
            ]
        );
        let long = "v".repeat(81);
        let found = problems(&one_state(&format!(
            r#"{{"Type":"Pass","Assign":{{"{long}":1}},"End":true}}"#
        )));
        assert_eq!(
            found,
            [format!(
                "/States/S/Assign/{long}: variable name is 81 characters long, above the limit of 80"
            )]
        );
    }

    #[test]
    fn assign_must_be_an_object() {
        let found = problems(&one_state(r#"{"Type":"Pass","Assign":[1],"End":true}"#));
        assert_eq!(
            found,
            [
                "/States/S/Assign: `Assign` must be an object of variable names and values, found an array"
            ]
        );
    }

    #[test]
    fn jsonata_assign_keeps_dollar_keys_as_names() {
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Pass","Assign":{"a":"{% $states.input %}","b.$":"$.x","c":"{%%}"},"End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/Assign/b.$: \"b.$\" is not a valid variable name (a letter or `_`, then letters, digits or `_`)",
                "/States/S/Assign/c: empty JSONata expression `{% %}`",
            ]
        );
    }
}
