//! `Retry` and `Catch` of Task, Parallel and Map states.
//!
//! * `ErrorEquals` is required and non-empty, error names are non-empty, and
//!   `States.ALL` stands alone in the last retrier or catcher.
//! * Retriers: `IntervalSeconds` 1..=99999999, `MaxAttempts` 0..=99999999,
//!   `BackoffRate` >= 1.0, `MaxDelaySeconds` 1..=31622400, `JitterStrategy`
//!   `FULL` or `NONE`.
//! * Catchers: `Next` is required (its target is checked in
//!   [`super::graph`]); `ResultPath` is a reference path; `Assign` and
//!   `Output` are checked like a state's.

use super::{Report, jsonata, paths, templates, values};
use crate::asl::{Catcher, QueryLanguage, Retrier, State};
use crate::diagnostic::Pointer;

/// The error name that matches every error.
const STATES_ALL: &str = "States.ALL";

/// AWS's limit on `MaxDelaySeconds` (one year and a day, exclusive).
const MAX_DELAY_SECONDS: i64 = 31_622_400;

/// Checks the retriers and catchers of a state.
pub(crate) fn check_state(state: &State, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    let (retry, catch) = match state {
        State::Task(s) => (&s.retry, &s.catch),
        State::Parallel(s) => (&s.fields.retry, &s.fields.catch),
        State::Map(s) => (&s.fields.retry, &s.fields.catch),
        _ => return,
    };
    if let Some(retriers) = retry {
        let retry_at = at.push("Retry");
        for (i, retrier) in retriers.iter().enumerate() {
            let last = i + 1 == retriers.len();
            check_retrier(retrier, &retry_at.push(i), last, report);
        }
    }
    if let Some(catchers) = catch {
        let catch_at = at.push("Catch");
        for (i, catcher) in catchers.iter().enumerate() {
            let last = i + 1 == catchers.len();
            check_catcher(catcher, &catch_at.push(i), last, lang, report);
        }
    }
}

fn check_retrier(retrier: &Retrier, at: &Pointer, last: bool, report: &mut Report) {
    check_error_equals(retrier.error_equals.as_deref(), at, last, "retrier", report);
    // Retrier fields are literals in both query languages.
    let lang = QueryLanguage::JsonPath;
    if let Some(v) = &retrier.interval_seconds {
        let field_at = at.push("IntervalSeconds");
        values::integer(
            v,
            "IntervalSeconds",
            1,
            values::MAX_SECONDS,
            lang,
            &field_at,
            report,
        );
    }
    if let Some(v) = &retrier.max_attempts {
        let field_at = at.push("MaxAttempts");
        values::integer(
            v,
            "MaxAttempts",
            0,
            values::MAX_SECONDS,
            lang,
            &field_at,
            report,
        );
    }
    if let Some(v) = &retrier.backoff_rate {
        let field_at = at.push("BackoffRate");
        values::number(
            v,
            "BackoffRate",
            1.0,
            f64::INFINITY,
            lang,
            &field_at,
            report,
        );
    }
    if let Some(v) = &retrier.max_delay_seconds {
        let field_at = at.push("MaxDelaySeconds");
        values::integer(
            v,
            "MaxDelaySeconds",
            1,
            MAX_DELAY_SECONDS,
            lang,
            &field_at,
            report,
        );
    }
    if let Some(jitter) = &retrier.jitter_strategy
        && jitter != "FULL"
        && jitter != "NONE"
    {
        report.add(
            &at.push("JitterStrategy"),
            format!(
                "`JitterStrategy` must be \"FULL\" or \"NONE\", found {}",
                values::quote(jitter)
            ),
        );
    }
}

fn check_catcher(
    catcher: &Catcher,
    at: &Pointer,
    last: bool,
    lang: QueryLanguage,
    report: &mut Report,
) {
    check_error_equals(catcher.error_equals.as_deref(), at, last, "catcher", report);
    if catcher.next.is_none() {
        report.add(at, "missing required field `Next`");
    }
    if lang == QueryLanguage::JsonPath {
        paths::check_result_path(&catcher.result_path, &at.push("ResultPath"), report);
    }
    if let Some(assign) = &catcher.assign {
        templates::check_assign(assign, &at.push("Assign"), lang, report);
    }
    if let (Some(output), QueryLanguage::Jsonata) = (&catcher.output, lang) {
        jsonata::check_value(output, &at.push("Output"), report);
    }
}

/// `what` is "retrier" or "catcher", for messages.
fn check_error_equals(
    names: Option<&[String]>,
    at: &Pointer,
    last: bool,
    what: &str,
    report: &mut Report,
) {
    let Some(names) = names else {
        report.add(at, "missing required field `ErrorEquals`");
        return;
    };
    let list_at = at.push("ErrorEquals");
    if names.is_empty() {
        report.add(
            &list_at,
            "`ErrorEquals` must contain at least one error name",
        );
    }
    for (i, name) in names.iter().enumerate() {
        let name_at = list_at.push(i);
        if name.is_empty() {
            report.add(&name_at, "an error name must not be empty");
        } else if name == STATES_ALL {
            if names.len() > 1 {
                report.add(&name_at, "`States.ALL` must appear alone in `ErrorEquals`");
            }
            if !last {
                report.add(&name_at, format!("`States.ALL` must be in the last {what}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::{one_jsonata_state, problems};

    fn task(extra: &str) -> String {
        format!(
            r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"r",{extra},"Next":"F"}},"F":{{"Type":"Fail"}}}}}}"#
        )
    }

    #[test]
    fn error_equals_is_required_and_non_empty() {
        let found = problems(&task(
            r#""Retry":[{"IntervalSeconds":1},{"ErrorEquals":[]},{"ErrorEquals":["A",""]}],"Catch":[{"Next":"F"}]"#,
        ));
        assert_eq!(
            found,
            [
                "/States/T/Retry/0: missing required field `ErrorEquals`",
                "/States/T/Retry/1/ErrorEquals: `ErrorEquals` must contain at least one error name",
                "/States/T/Retry/2/ErrorEquals/1: an error name must not be empty",
                "/States/T/Catch/0: missing required field `ErrorEquals`",
            ]
        );
    }

    #[test]
    fn states_all_is_alone_and_last() {
        let found = problems(&task(
            r#""Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["A","States.ALL"]}],
               "Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"},{"ErrorEquals":["B"],"Next":"F"}]"#,
        ));
        assert_eq!(
            found,
            [
                "/States/T/Retry/0/ErrorEquals/0: `States.ALL` must be in the last retrier",
                "/States/T/Retry/1/ErrorEquals/1: `States.ALL` must appear alone in `ErrorEquals`",
                "/States/T/Catch/0/ErrorEquals/0: `States.ALL` must be in the last catcher",
            ]
        );
    }

    #[test]
    fn retrier_fields_have_aws_ranges() {
        let found = problems(&task(
            r#""Retry":[{"ErrorEquals":["A"],"IntervalSeconds":0,"MaxAttempts":-1,"BackoffRate":0.5,"MaxDelaySeconds":31622401,"JitterStrategy":"SOME"},
                        {"ErrorEquals":["B"],"IntervalSeconds":99999999,"MaxAttempts":0,"BackoffRate":1,"MaxDelaySeconds":31622400,"JitterStrategy":"FULL"},
                        {"ErrorEquals":["C"],"IntervalSeconds":1.5,"MaxAttempts":100000000,"BackoffRate":"2"}]"#,
        ));
        assert_eq!(
            found,
            [
                "/States/T/Retry/0/IntervalSeconds: `IntervalSeconds` must be an integer from 1 to 99999999, found 0",
                "/States/T/Retry/0/MaxAttempts: `MaxAttempts` must be an integer from 0 to 99999999, found -1",
                "/States/T/Retry/0/BackoffRate: `BackoffRate` must be a number of at least 1.0, found 0.5",
                "/States/T/Retry/0/MaxDelaySeconds: `MaxDelaySeconds` must be an integer from 1 to 31622400, found 31622401",
                "/States/T/Retry/0/JitterStrategy: `JitterStrategy` must be \"FULL\" or \"NONE\", found \"SOME\"",
                "/States/T/Retry/2/IntervalSeconds: `IntervalSeconds` must be an integer from 1 to 99999999, found 1.5",
                "/States/T/Retry/2/MaxAttempts: `MaxAttempts` must be an integer from 0 to 99999999, found 100000000",
                "/States/T/Retry/2/BackoffRate: `BackoffRate` must be a number of at least 1.0, found \"2\"",
            ]
        );
    }

    #[test]
    fn catchers_need_next_and_a_reference_result_path() {
        let found = problems(&task(
            r#""Catch":[{"ErrorEquals":["A"],"ResultPath":"$.x[*]"},{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Assign":{"1x":1},"Next":"F"}]"#,
        ));
        assert_eq!(found.len(), 3, "{found:#?}");
        assert_eq!(found[0], "/States/T/Catch/0: missing required field `Next`");
        assert!(
            found[1].starts_with("/States/T/Catch/0/ResultPath: invalid reference path '$.x[*]'")
        );
        assert!(
            found[2]
                .starts_with("/States/T/Catch/1/Assign/1x: \"1x\" is not a valid variable name")
        );
    }

    #[test]
    fn jsonata_catchers_check_their_output() {
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Output":"{% %}","Next":"S"}],"End":true}"#,
        ));
        assert_eq!(
            found,
            ["/States/S/Catch/0/Output: empty JSONata expression `{% %}`"]
        );
    }
}
