//! JSONPath fields of JSONPath states: `InputPath`/`OutputPath` (a path or
//! `null`), `ResultPath` (a reference path or `null`), and the `...Path`
//! variants of other fields (`SecondsPath`, `ItemsPath`, `ErrorPath`, ...).
//!
//! In JSONata states these fields are errors of their own
//! (see [`super::query_language`]), so nothing here runs for them.

use super::Report;
use crate::asl::{Nullable, QueryLanguage, State};
use crate::diagnostic::Pointer;
use crate::intrinsics::Intrinsic;
use crate::path::{Path, ReferencePath};

/// Checks every path field of a JSONPath state.
pub(crate) fn check_state(state: &State, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    if lang != QueryLanguage::JsonPath {
        return;
    }
    let mut path = |name: &str, value: Option<&String>| {
        if let Some(text) = value {
            check_path(text, &at.push(name), report);
        }
    };
    match state {
        State::Task(t) => {
            path("TimeoutSecondsPath", t.timeout_seconds_path.as_ref());
            path("HeartbeatSecondsPath", t.heartbeat_seconds_path.as_ref());
        }
        State::Wait(w) => {
            path("SecondsPath", w.seconds_path.as_ref());
            path("TimestampPath", w.timestamp_path.as_ref());
        }
        State::Map(m) => {
            let f = &m.fields;
            path("ItemsPath", f.items_path.as_ref());
            path("MaxConcurrencyPath", f.max_concurrency_path.as_ref());
            path(
                "ToleratedFailurePercentagePath",
                f.tolerated_failure_percentage_path.as_ref(),
            );
            path(
                "ToleratedFailureCountPath",
                f.tolerated_failure_count_path.as_ref(),
            );
            if let Some(batcher) = &f.item_batcher {
                let batcher_at = at.push("ItemBatcher");
                if let Some(text) = &batcher.max_items_per_batch_path {
                    check_path(text, &batcher_at.push("MaxItemsPerBatchPath"), report);
                }
                if let Some(text) = &batcher.max_input_bytes_per_batch_path {
                    check_path(text, &batcher_at.push("MaxInputBytesPerBatchPath"), report);
                }
            }
        }
        State::Fail(f) => {
            if let Some(text) = &f.error_path {
                check_path_or_intrinsic(text, &at.push("ErrorPath"), report);
            }
            if let Some(text) = &f.cause_path {
                check_path_or_intrinsic(text, &at.push("CausePath"), report);
            }
        }
        _ => {}
    }
    let (input, output, result) = io_paths(state);
    if let Some(p) = input {
        check_nullable_path(p, &at.push("InputPath"), report);
    }
    if let Some(p) = output {
        check_nullable_path(p, &at.push("OutputPath"), report);
    }
    if let Some(p) = result {
        check_result_path(p, &at.push("ResultPath"), report);
    }
}

/// `InputPath`, `OutputPath` and `ResultPath` of the states that have them.
type IoPaths<'a> = (
    Option<&'a Nullable<String>>,
    Option<&'a Nullable<String>>,
    Option<&'a Nullable<String>>,
);

fn io_paths(state: &State) -> IoPaths<'_> {
    match state {
        State::Pass(s) => (
            Some(&s.input_path),
            Some(&s.output_path),
            Some(&s.result_path),
        ),
        State::Task(s) => (
            Some(&s.input_path),
            Some(&s.output_path),
            Some(&s.result_path),
        ),
        State::Parallel(s) => (
            Some(&s.fields.input_path),
            Some(&s.fields.output_path),
            Some(&s.fields.result_path),
        ),
        State::Map(s) => (
            Some(&s.fields.input_path),
            Some(&s.fields.output_path),
            Some(&s.fields.result_path),
        ),
        State::Choice(s) => (Some(&s.input_path), Some(&s.output_path), None),
        State::Wait(s) => (Some(&s.input_path), Some(&s.output_path), None),
        State::Succeed(s) => (Some(&s.input_path), Some(&s.output_path), None),
        State::Fail(_) => (None, None, None),
    }
}

/// Checks a path (`$...`, `$$...`, `$name...`).
pub(crate) fn check_path(text: &str, at: &Pointer, report: &mut Report) {
    if let Err(e) = Path::parse(text) {
        report.add(at, e.to_string());
    }
}

/// Checks `InputPath`/`OutputPath`: a path, or `null`.
pub(crate) fn check_nullable_path(value: &Nullable<String>, at: &Pointer, report: &mut Report) {
    if let Nullable::Set(text) = value {
        check_path(text, at, report);
    }
}

/// Checks a `ResultPath` (of a state or a catcher): a reference path, or `null`.
pub(crate) fn check_result_path(value: &Nullable<String>, at: &Pointer, report: &mut Report) {
    if let Nullable::Set(text) = value
        && let Err(e) = ReferencePath::parse(text)
    {
        report.add(
            at,
            format!("invalid reference path '{}': {}", e.path, e.reason),
        );
    }
}

/// Checks a value that may be a path or an intrinsic function call
/// (`ErrorPath`, `CausePath`, the value of a `.$` key).
pub(crate) fn check_path_or_intrinsic(text: &str, at: &Pointer, report: &mut Report) {
    if Intrinsic::looks_like_call(text) {
        if let Err(e) = Intrinsic::parse(text) {
            report.add(at, e.to_string());
        }
    } else if text.starts_with('$') {
        check_path(text, at, report);
    } else {
        report.add(
            at,
            format!(
                "expected a path (`$...`) or an intrinsic function call (`States.Name(...)`), found {}",
                super::values::quote(text)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::{one_state, problems};

    #[test]
    fn input_and_output_paths_parse_and_may_be_null() {
        assert!(
            problems(&one_state(
                r#"{"Type":"Pass","InputPath":null,"OutputPath":"$$.Execution.Input","ResultPath":null,"End":true}"#
            ))
            .is_empty()
        );
        let found = problems(&one_state(
            r#"{"Type":"Pass","InputPath":"$.a[","OutputPath":"nope","End":true}"#,
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("/States/S/InputPath: invalid JSONPath '$.a['"));
        assert!(found[1].starts_with("/States/S/OutputPath: invalid JSONPath 'nope'"));
    }

    #[test]
    fn result_path_is_a_reference_path() {
        let found = problems(&one_state(
            r#"{"Type":"Pass","ResultPath":"$.items[*]","End":true}"#,
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("/States/S/ResultPath: invalid reference path '$.items[*]': "),
            "{found:?}"
        );
        let found = problems(&one_state(
            r#"{"Type":"Pass","ResultPath":"$$.Execution","End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/ResultPath: invalid reference path '$$.Execution': a reference path must start with '$'"
            ]
        );
    }

    #[test]
    fn other_path_fields_parse() {
        let found = problems(&one_state(
            r#"{"Type":"Wait","SecondsPath":"$.a..","End":true}"#,
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("/States/S/SecondsPath: invalid JSONPath"));
    }

    #[test]
    fn error_and_cause_paths_may_be_intrinsic_calls() {
        assert!(
            problems(&one_state(
                r#"{"Type":"Fail","ErrorPath":"States.Format('{}', $.e)","CausePath":"$$.State.Name"}"#
            ))
            .is_empty()
        );
        let found = problems(&one_state(
            r#"{"Type":"Fail","ErrorPath":"States.Nope($.e)","CausePath":"cause"}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/ErrorPath: invalid intrinsic function call 'States.Nope($.e)': unknown intrinsic function 'States.Nope'",
                "/States/S/CausePath: expected a path (`$...`) or an intrinsic function call (`States.Name(...)`), found \"cause\"",
            ]
        );
    }
}
