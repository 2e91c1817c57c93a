//! Query languages: a state is in its own `QueryLanguage`, else the
//! machine's, else JSONPath. A machine whose top level says JSONata may not
//! have a state that says JSONPath (the reverse is allowed).
//!
//! Each language has fields of its own; using one in a state of the other
//! language is an error that names the field to use instead.

use super::Report;
use crate::asl::{ChoiceRule, QueryLanguage, State};
use crate::diagnostic::Pointer;

/// The language a state's fields are written in.
pub(crate) fn effective(
    state: Option<QueryLanguage>,
    machine: Option<QueryLanguage>,
) -> QueryLanguage {
    state.or(machine).unwrap_or(QueryLanguage::JsonPath)
}

/// Reports a state that goes back to JSONPath inside a JSONata machine.
pub(crate) fn check_state_language(
    state: &State,
    at: &Pointer,
    machine: Option<QueryLanguage>,
    report: &mut Report,
) {
    if machine == Some(QueryLanguage::Jsonata)
        && state.query_language() == Some(QueryLanguage::JsonPath)
    {
        report.add(
            &at.push("QueryLanguage"),
            "a state cannot use `JSONPath` when the state machine's `QueryLanguage` is `JSONata`",
        );
    }
}

/// A field that belongs to one language: its name, whether it is set, and
/// what to use instead in the other language.
type Field<'a> = (&'a str, bool, &'a str);

/// Reports the fields of `state` (and of its item batcher and catchers) that
/// belong to the other language.
pub(crate) fn check_state_fields(
    state: &State,
    at: &Pointer,
    lang: QueryLanguage,
    report: &mut Report,
) {
    let (jsonpath, jsonata) = state_fields(state);
    match lang {
        QueryLanguage::Jsonata => jsonpath_only(&jsonpath, at, report),
        QueryLanguage::JsonPath => jsonata_only(&jsonata, at, report),
    }
    if let (State::Map(map), QueryLanguage::Jsonata) = (state, lang)
        && let Some(batcher) = &map.fields.item_batcher
    {
        jsonpath_only(
            &[
                (
                    "MaxItemsPerBatchPath",
                    batcher.max_items_per_batch_path.is_some(),
                    "use `MaxItemsPerBatch` with a JSONata expression",
                ),
                (
                    "MaxInputBytesPerBatchPath",
                    batcher.max_input_bytes_per_batch_path.is_some(),
                    "use `MaxInputBytesPerBatch` with a JSONata expression",
                ),
            ],
            &at.push("ItemBatcher"),
            report,
        );
    }
    let catchers = match state {
        State::Task(s) => s.catch.as_deref(),
        State::Parallel(s) => s.fields.catch.as_deref(),
        State::Map(s) => s.fields.catch.as_deref(),
        _ => None,
    };
    for (i, catcher) in catchers.unwrap_or_default().iter().enumerate() {
        let catcher_at = at.push("Catch").push(i);
        match lang {
            QueryLanguage::Jsonata => jsonpath_only(
                &[(
                    "ResultPath",
                    catcher.result_path.is_present(),
                    "use `Output` or `Assign`",
                )],
                &catcher_at,
                report,
            ),
            QueryLanguage::JsonPath => jsonata_only(
                &[("Output", catcher.output.is_some(), "use `ResultPath`")],
                &catcher_at,
                report,
            ),
        }
    }
}

/// Reports the fields of one Choice rule that belong to the other language.
pub(crate) fn check_rule_fields(
    rule: &ChoiceRule,
    at: &Pointer,
    lang: QueryLanguage,
    report: &mut Report,
) {
    match lang {
        QueryLanguage::Jsonata => {
            const INSTEAD: &str = "use `Condition`";
            let mut fields: Vec<Field> = vec![
                ("Variable", rule.variable.is_some(), INSTEAD),
                ("And", rule.and.is_some(), INSTEAD),
                ("Or", rule.or.is_some(), INSTEAD),
                ("Not", rule.not.is_some(), INSTEAD),
            ];
            fields.extend(rule.comparators().iter().map(|c| (c.field, true, INSTEAD)));
            jsonpath_only(&fields, at, report);
        }
        QueryLanguage::JsonPath => jsonata_only(
            &[
                (
                    "Condition",
                    rule.condition.is_some(),
                    "use `Variable` with a comparison operator",
                ),
                (
                    "Output",
                    rule.output.is_some(),
                    "use the state's `OutputPath`",
                ),
            ],
            at,
            report,
        ),
    }
}

fn jsonpath_only(fields: &[Field], at: &Pointer, report: &mut Report) {
    for &(name, present, instead) in fields {
        if present {
            report.add(
                &at.push(name),
                format!(
                    "`{name}` is a JSONPath field and cannot be used in a JSONata state ({instead} instead)"
                ),
            );
        }
    }
}

fn jsonata_only(fields: &[Field], at: &Pointer, report: &mut Report) {
    for &(name, present, instead) in fields {
        if present {
            report.add(
                &at.push(name),
                format!(
                    "`{name}` is a JSONata field and cannot be used in a JSONPath state ({instead} instead, or set `\"QueryLanguage\": \"JSONata\"`)"
                ),
            );
        }
    }
}

/// The JSONPath-only and the JSONata-only fields of a state (not counting
/// catchers and Choice rules).
fn state_fields(state: &State) -> (Vec<Field<'static>>, Vec<Field<'static>>) {
    const INPUT: &str = "use `$states.input` in expressions";
    const OUTPUT: &str = "use `Output`";
    let mut jsonpath: Vec<Field> = Vec::new();
    let mut jsonata: Vec<Field> = Vec::new();
    match state {
        State::Pass(s) => {
            jsonpath.extend([
                ("InputPath", s.input_path.is_present(), INPUT),
                ("Parameters", s.parameters.is_some(), OUTPUT),
                ("Result", s.result.is_some(), OUTPUT),
                (
                    "ResultPath",
                    s.result_path.is_present(),
                    "use `Output` or `Assign`",
                ),
                ("OutputPath", s.output_path.is_present(), OUTPUT),
            ]);
            jsonata.push((
                "Output",
                s.output.is_some(),
                "use `Result`, `Parameters` or `OutputPath`",
            ));
        }
        State::Task(s) => {
            jsonpath.extend([
                ("InputPath", s.input_path.is_present(), INPUT),
                ("Parameters", s.parameters.is_some(), "use `Arguments`"),
                ("ResultSelector", s.result_selector.is_some(), OUTPUT),
                (
                    "ResultPath",
                    s.result_path.is_present(),
                    "use `Output` or `Assign`",
                ),
                ("OutputPath", s.output_path.is_present(), OUTPUT),
                (
                    "TimeoutSecondsPath",
                    s.timeout_seconds_path.is_some(),
                    "use `TimeoutSeconds` with a JSONata expression",
                ),
                (
                    "HeartbeatSecondsPath",
                    s.heartbeat_seconds_path.is_some(),
                    "use `HeartbeatSeconds` with a JSONata expression",
                ),
            ]);
            jsonata.extend([
                ("Arguments", s.arguments.is_some(), "use `Parameters`"),
                (
                    "Output",
                    s.output.is_some(),
                    "use `ResultSelector`, `ResultPath` or `OutputPath`",
                ),
            ]);
        }
        State::Choice(s) => {
            jsonpath.extend([
                ("InputPath", s.input_path.is_present(), INPUT),
                ("OutputPath", s.output_path.is_present(), OUTPUT),
            ]);
            jsonata.push(("Output", s.output.is_some(), "use `OutputPath`"));
        }
        State::Wait(s) => {
            jsonpath.extend([
                ("InputPath", s.input_path.is_present(), INPUT),
                ("OutputPath", s.output_path.is_present(), OUTPUT),
                (
                    "SecondsPath",
                    s.seconds_path.is_some(),
                    "use `Seconds` with a JSONata expression",
                ),
                (
                    "TimestampPath",
                    s.timestamp_path.is_some(),
                    "use `Timestamp` with a JSONata expression",
                ),
            ]);
            jsonata.push(("Output", s.output.is_some(), "use `OutputPath`"));
        }
        State::Succeed(s) => {
            jsonpath.extend([
                ("InputPath", s.input_path.is_present(), INPUT),
                ("OutputPath", s.output_path.is_present(), OUTPUT),
            ]);
            jsonata.push(("Output", s.output.is_some(), "use `OutputPath`"));
        }
        State::Fail(s) => jsonpath.extend([
            (
                "ErrorPath",
                s.error_path.is_some(),
                "use `Error` with a JSONata expression",
            ),
            (
                "CausePath",
                s.cause_path.is_some(),
                "use `Cause` with a JSONata expression",
            ),
        ]),
        State::Parallel(s) => {
            let f = &s.fields;
            jsonpath.extend([
                ("InputPath", f.input_path.is_present(), INPUT),
                ("Parameters", f.parameters.is_some(), "use `Arguments`"),
                ("ResultSelector", f.result_selector.is_some(), OUTPUT),
                (
                    "ResultPath",
                    f.result_path.is_present(),
                    "use `Output` or `Assign`",
                ),
                ("OutputPath", f.output_path.is_present(), OUTPUT),
            ]);
            jsonata.extend([
                ("Arguments", f.arguments.is_some(), "use `Parameters`"),
                (
                    "Output",
                    f.output.is_some(),
                    "use `ResultSelector`, `ResultPath` or `OutputPath`",
                ),
            ]);
        }
        State::Map(s) => {
            let f = &s.fields;
            jsonpath.extend([
                ("InputPath", f.input_path.is_present(), INPUT),
                ("ItemsPath", f.items_path.is_some(), "use `Items`"),
                ("Parameters", f.parameters.is_some(), "use `ItemSelector`"),
                (
                    "MaxConcurrencyPath",
                    f.max_concurrency_path.is_some(),
                    "use `MaxConcurrency` with a JSONata expression",
                ),
                (
                    "ToleratedFailurePercentagePath",
                    f.tolerated_failure_percentage_path.is_some(),
                    "use `ToleratedFailurePercentage` with a JSONata expression",
                ),
                (
                    "ToleratedFailureCountPath",
                    f.tolerated_failure_count_path.is_some(),
                    "use `ToleratedFailureCount` with a JSONata expression",
                ),
                ("ResultSelector", f.result_selector.is_some(), OUTPUT),
                (
                    "ResultPath",
                    f.result_path.is_present(),
                    "use `Output` or `Assign`",
                ),
                ("OutputPath", f.output_path.is_present(), OUTPUT),
            ]);
            jsonata.extend([
                ("Items", f.items.is_some(), "use `ItemsPath`"),
                (
                    "Output",
                    f.output.is_some(),
                    "use `ResultSelector`, `ResultPath` or `OutputPath`",
                ),
            ]);
        }
    }
    (jsonpath, jsonata)
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::{one_jsonata_state, one_state, problems};

    #[test]
    fn a_jsonata_machine_cannot_switch_a_state_back_to_jsonpath() {
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Pass","QueryLanguage":"JSONPath","End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/QueryLanguage: a state cannot use `JSONPath` when the state machine's `QueryLanguage` is `JSONata`"
            ]
        );
    }

    #[test]
    fn a_jsonpath_machine_may_have_jsonata_states() {
        assert!(
            problems(&one_state(
                r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input %}","End":true}"#
            ))
            .is_empty()
        );
    }

    #[test]
    fn jsonpath_fields_are_errors_in_jsonata_states() {
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Task","Resource":"r","InputPath":"$","Parameters":{},"TimeoutSecondsPath":"$.t","Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"S"}],"End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/InputPath: `InputPath` is a JSONPath field and cannot be used in a JSONata state (use `$states.input` in expressions instead)",
                "/States/S/Parameters: `Parameters` is a JSONPath field and cannot be used in a JSONata state (use `Arguments` instead)",
                "/States/S/TimeoutSecondsPath: `TimeoutSecondsPath` is a JSONPath field and cannot be used in a JSONata state (use `TimeoutSeconds` with a JSONata expression instead)",
                "/States/S/Catch/0/ResultPath: `ResultPath` is a JSONPath field and cannot be used in a JSONata state (use `Output` or `Assign` instead)",
            ]
        );
    }

    #[test]
    fn jsonata_fields_are_errors_in_jsonpath_states() {
        let found = problems(&one_state(
            r#"{"Type":"Map","Items":[1],"Output":{},"ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Succeed"}}},"End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/Items: `Items` is a JSONata field and cannot be used in a JSONPath state (use `ItemsPath` instead, or set `\"QueryLanguage\": \"JSONata\"`)",
                "/States/S/Output: `Output` is a JSONata field and cannot be used in a JSONPath state (use `ResultSelector`, `ResultPath` or `OutputPath` instead, or set `\"QueryLanguage\": \"JSONata\"`)",
            ]
        );
    }

    #[test]
    fn item_batcher_paths_point_inside_the_batcher() {
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Map","ItemBatcher":{"MaxItemsPerBatchPath":"$.n"},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"X","States":{"X":{"Type":"Succeed"}}},"End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/ItemBatcher/MaxItemsPerBatchPath: `MaxItemsPerBatchPath` is a JSONPath field and cannot be used in a JSONata state (use `MaxItemsPerBatch` with a JSONata expression instead)"
            ]
        );
    }
}
