//! Types and ranges of plain fields, and fields that exclude each other:
//!
//! * top level: `Version` is "1.0", `TimeoutSeconds` 1..=99999999;
//! * Task: `Resource` required and non-empty; `TimeoutSeconds` and
//!   `HeartbeatSeconds` 1..=99999999, heartbeat below timeout, each
//!   exclusive with its `...Path`;
//! * Wait: exactly one of `Seconds` (0..=99999999), `SecondsPath`,
//!   `Timestamp` (a valid timestamp), `TimestampPath`;
//! * Fail: `Error`/`Cause` strings, each exclusive with its `...Path`;
//! * Map: `MaxConcurrency` >= 0, `ToleratedFailurePercentage` 0..=100,
//!   `ToleratedFailureCount` >= 0, each exclusive with its `...Path`;
//!   `ItemSelector` exclusive with `Parameters`; `ItemBatcher` limits;
//!   `ProcessorConfig` values; `ItemReader`/`ResultWriter` (S3) unsupported;
//! * Parallel: at least one branch.
//!
//! In JSONata states the numeric fields may also be `{% ... %}` expressions.

use super::values::{self, MAX_SECONDS, exclusive};
use super::{Report, jsonata, processor_field};
use crate::asl::{
    FailState, ItemBatcher, Json, MapState, QueryLanguage, State, StateMachine, TaskState,
    WaitState,
};
use crate::diagnostic::Pointer;
use crate::time::{Timestamp, TimestampError};

/// The only ASL version.
const VERSION: &str = "1.0";

/// Checks the top-level fields.
pub(crate) fn check_machine(machine: &StateMachine, report: &mut Report) {
    let root = Pointer::root();
    if let Some(version) = &machine.version
        && version != VERSION
    {
        report.add(
            &root.push("Version"),
            format!(
                "`Version` must be \"1.0\", found {}",
                values::quote(version)
            ),
        );
    }
    if let Some(timeout) = &machine.timeout_seconds {
        values::integer(
            timeout,
            "TimeoutSeconds",
            1,
            MAX_SECONDS,
            QueryLanguage::JsonPath,
            &root.push("TimeoutSeconds"),
            report,
        );
    }
}

/// Checks the plain fields of one state.
pub(crate) fn check_state(state: &State, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    match state {
        State::Task(task) => check_task(task, at, lang, report),
        State::Wait(wait) => check_wait(wait, at, lang, report),
        State::Fail(fail) => check_fail(fail, at, lang, report),
        State::Map(map) => check_map(map, at, lang, report),
        State::Parallel(parallel) if parallel.branches.is_empty() => report.add(
            &at.push("Branches"),
            "`Branches` must contain at least one branch",
        ),
        _ => {}
    }
}

fn check_task(task: &TaskState, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    match &task.resource {
        None => report.add(at, "missing required field `Resource`"),
        Some(resource) if resource.is_empty() => {
            report.add(&at.push("Resource"), "`Resource` must not be empty")
        }
        Some(_) => {}
    }
    let mut seconds = |field: &str, value: &Option<Json>| {
        value
            .as_ref()
            .and_then(|v| values::integer(v, field, 1, MAX_SECONDS, lang, &at.push(field), report))
    };
    let timeout = seconds("TimeoutSeconds", &task.timeout_seconds);
    let heartbeat = seconds("HeartbeatSeconds", &task.heartbeat_seconds);
    if let (Some(heartbeat), Some(timeout)) = (heartbeat, timeout)
        && heartbeat >= timeout
    {
        report.add(
            &at.push("HeartbeatSeconds"),
            format!(
                "`HeartbeatSeconds` ({heartbeat}) must be smaller than `TimeoutSeconds` ({timeout})"
            ),
        );
    }
    if lang == QueryLanguage::JsonPath {
        exclusive(
            ("TimeoutSeconds", task.timeout_seconds.is_some()),
            ("TimeoutSecondsPath", task.timeout_seconds_path.is_some()),
            at,
            report,
        );
        exclusive(
            ("HeartbeatSeconds", task.heartbeat_seconds.is_some()),
            (
                "HeartbeatSecondsPath",
                task.heartbeat_seconds_path.is_some(),
            ),
            at,
            report,
        );
    }
}

fn check_wait(wait: &WaitState, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    let mut fields = vec![
        ("Seconds", wait.seconds.is_some()),
        ("Timestamp", wait.timestamp.is_some()),
    ];
    if lang == QueryLanguage::JsonPath {
        fields.insert(1, ("SecondsPath", wait.seconds_path.is_some()));
        fields.push(("TimestampPath", wait.timestamp_path.is_some()));
    }
    let all: Vec<&str> = fields.iter().map(|f| f.0).collect();
    let set: Vec<&str> = fields.iter().filter(|f| f.1).map(|f| f.0).collect();
    match set.len() {
        0 => report.add(
            at,
            format!("a Wait state needs one of {}", field_list(&all)),
        ),
        1 => {}
        _ => report.add(
            at,
            format!(
                "a Wait state must have exactly one of {}, found {}",
                field_list(&all),
                field_list(&set)
            ),
        ),
    }
    if let Some(seconds) = &wait.seconds {
        values::integer(
            seconds,
            "Seconds",
            0,
            MAX_SECONDS,
            lang,
            &at.push("Seconds"),
            report,
        );
    }
    if let Some(timestamp) = &wait.timestamp {
        let timestamp_at = at.push("Timestamp");
        if let Some(expr) = values::expression(timestamp, lang) {
            jsonata::check_expression(expr, &timestamp_at, report);
        } else if let Some(Err(TimestampError::OutOfRange)) =
            timestamp.as_str().map(Timestamp::parse_checked)
        {
            report.add(
                &timestamp_at,
                format!(
                    "`Timestamp` {} is {}",
                    values::describe(timestamp),
                    TimestampError::OutOfRange
                ),
            );
        } else if timestamp.as_str().and_then(Timestamp::parse).is_none() {
            let or_expression = match lang {
                QueryLanguage::JsonPath => "",
                QueryLanguage::Jsonata => " or a JSONata expression `{% ... %}`",
            };
            report.add(
                &timestamp_at,
                format!(
                    "`Timestamp` must be a timestamp string such as \"2016-03-14T01:59:00Z\"{or_expression}, found {}",
                    values::describe(timestamp)
                ),
            );
        }
    }
}

/// `A`, `B`, `C` with backquotes, for messages.
fn field_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_fail(fail: &FailState, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    for (field, value, path_field, path_set) in [
        ("Error", &fail.error, "ErrorPath", fail.error_path.is_some()),
        ("Cause", &fail.cause, "CausePath", fail.cause_path.is_some()),
    ] {
        if let Some(value) = value {
            let field_at = at.push(field);
            match value {
                Json::String(_) => {
                    if let Some(expr) = values::expression(value, lang) {
                        jsonata::check_expression(expr, &field_at, report);
                    }
                }
                other => report.add(
                    &field_at,
                    format!(
                        "`{field}` must be a string, found {}",
                        values::describe(other)
                    ),
                ),
            }
        }
        if lang == QueryLanguage::JsonPath {
            exclusive((field, value.is_some()), (path_field, path_set), at, report);
        }
    }
}

fn check_map(map: &MapState, at: &Pointer, lang: QueryLanguage, report: &mut Report) {
    let f = &map.fields;
    if let Some(v) = &f.max_concurrency {
        let field_at = at.push("MaxConcurrency");
        values::integer(v, "MaxConcurrency", 0, i64::MAX, lang, &field_at, report);
    }
    if let Some(v) = &f.tolerated_failure_percentage {
        let field_at = at.push("ToleratedFailurePercentage");
        let field = "ToleratedFailurePercentage";
        values::number(v, field, 0.0, 100.0, lang, &field_at, report);
    }
    if let Some(v) = &f.tolerated_failure_count {
        let field_at = at.push("ToleratedFailureCount");
        values::integer(
            v,
            "ToleratedFailureCount",
            0,
            i64::MAX,
            lang,
            &field_at,
            report,
        );
    }
    if lang == QueryLanguage::JsonPath {
        for (field, set, path_field, path_set) in [
            (
                "MaxConcurrency",
                f.max_concurrency.is_some(),
                "MaxConcurrencyPath",
                f.max_concurrency_path.is_some(),
            ),
            (
                "ToleratedFailurePercentage",
                f.tolerated_failure_percentage.is_some(),
                "ToleratedFailurePercentagePath",
                f.tolerated_failure_percentage_path.is_some(),
            ),
            (
                "ToleratedFailureCount",
                f.tolerated_failure_count.is_some(),
                "ToleratedFailureCountPath",
                f.tolerated_failure_count_path.is_some(),
            ),
            (
                "ItemSelector",
                f.item_selector.is_some(),
                "Parameters",
                f.parameters.is_some(),
            ),
        ] {
            exclusive((field, set), (path_field, path_set), at, report);
        }
    }
    if f.item_reader.is_some() {
        report.add(
            &at.push("ItemReader"),
            "`ItemReader` is not supported by Spate: it reads the items from Amazon S3, which the engine cannot reach (pass the items in the state input and use `ItemsPath` or `Items`)",
        );
    }
    if f.result_writer.is_some() {
        report.add(
            &at.push("ResultWriter"),
            "`ResultWriter` is not supported by Spate: it writes the results to Amazon S3, which the engine cannot reach (leave it out to get the results as the state's output)",
        );
    }
    if let Some(batcher) = &f.item_batcher {
        check_item_batcher(batcher, &at.push("ItemBatcher"), lang, report);
    }
    if let Some(config) = map
        .processor
        .as_ref()
        .and_then(|p| p.processor_config.as_ref())
    {
        let config_at = at.push(processor_field(map)).push("ProcessorConfig");
        let mode = config.mode.as_deref().unwrap_or("INLINE");
        if !matches!(mode, "INLINE" | "DISTRIBUTED") {
            report.add(
                &config_at.push("Mode"),
                format!(
                    "`Mode` must be \"INLINE\" or \"DISTRIBUTED\", found {}",
                    values::quote(mode)
                ),
            );
        }
        match config.execution_type.as_deref() {
            None if mode == "DISTRIBUTED" => report.add(
                &config_at,
                "missing `ExecutionType` (\"STANDARD\" or \"EXPRESS\"), required when `Mode` is \"DISTRIBUTED\"",
            ),
            Some(kind) if !matches!(kind, "STANDARD" | "EXPRESS") => report.add(
                &config_at.push("ExecutionType"),
                format!(
                    "`ExecutionType` must be \"STANDARD\" or \"EXPRESS\", found {}",
                    values::quote(kind)
                ),
            ),
            _ => {}
        }
    }
}

fn check_item_batcher(
    batcher: &ItemBatcher,
    at: &Pointer,
    lang: QueryLanguage,
    report: &mut Report,
) {
    for (field, value) in [
        ("MaxItemsPerBatch", &batcher.max_items_per_batch),
        ("MaxInputBytesPerBatch", &batcher.max_input_bytes_per_batch),
    ] {
        if let Some(v) = value {
            values::integer(v, field, 1, i64::MAX, lang, &at.push(field), report);
        }
    }
    if lang == QueryLanguage::JsonPath {
        exclusive(
            ("MaxItemsPerBatch", batcher.max_items_per_batch.is_some()),
            (
                "MaxItemsPerBatchPath",
                batcher.max_items_per_batch_path.is_some(),
            ),
            at,
            report,
        );
        exclusive(
            (
                "MaxInputBytesPerBatch",
                batcher.max_input_bytes_per_batch.is_some(),
            ),
            (
                "MaxInputBytesPerBatchPath",
                batcher.max_input_bytes_per_batch_path.is_some(),
            ),
            at,
            report,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::{one_jsonata_state, one_state, problems};

    fn map(fields: &str, config: &str) -> String {
        one_state(&format!(
            r#"{{"Type":"Map",{fields}"ItemProcessor":{{{config}"StartAt":"X","States":{{"X":{{"Type":"Succeed"}}}}}},"End":true}}"#
        ))
    }

    #[test]
    fn top_level_version_and_timeout() {
        let found = problems(
            r#"{"Version":"2.0","TimeoutSeconds":0,"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#,
        );
        assert_eq!(
            found,
            [
                "/Version: `Version` must be \"1.0\", found \"2.0\"",
                "/TimeoutSeconds: `TimeoutSeconds` must be an integer from 1 to 99999999, found 0",
            ]
        );
        assert!(
            problems(
                r#"{"Version":"1.0","TimeoutSeconds":99999999,"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#
            )
            .is_empty()
        );
    }

    #[test]
    fn task_resource_and_timeouts() {
        let found = problems(&one_state(
            r#"{"Type":"Task","TimeoutSeconds":0,"HeartbeatSeconds":"5","End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S: missing required field `Resource`",
                "/States/S/TimeoutSeconds: `TimeoutSeconds` must be an integer from 1 to 99999999, found 0",
                "/States/S/HeartbeatSeconds: `HeartbeatSeconds` must be an integer from 1 to 99999999, found \"5\"",
            ]
        );
        let found = problems(&one_state(
            r#"{"Type":"Task","Resource":"","TimeoutSeconds":10,"HeartbeatSeconds":10,"TimeoutSecondsPath":"$.t","End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/Resource: `Resource` must not be empty",
                "/States/S/HeartbeatSeconds: `HeartbeatSeconds` (10) must be smaller than `TimeoutSeconds` (10)",
                "/States/S/TimeoutSecondsPath: set only one of `TimeoutSeconds` and `TimeoutSecondsPath`",
            ]
        );
        assert!(
            problems(&one_jsonata_state(
                r#"{"Type":"Task","Resource":"r","TimeoutSeconds":"{% $t %}","HeartbeatSeconds":3,"End":true}"#
            ))
            .is_empty()
        );
    }

    #[test]
    fn wait_has_exactly_one_duration() {
        let found = problems(&one_state(r#"{"Type":"Wait","End":true}"#));
        assert_eq!(
            found,
            [
                "/States/S: a Wait state needs one of `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`"
            ]
        );
        let found = problems(&one_state(
            r#"{"Type":"Wait","Seconds":-5,"Timestamp":"yesterday","End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S: a Wait state must have exactly one of `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`, found `Seconds`, `Timestamp`",
                "/States/S/Seconds: `Seconds` must be an integer from 0 to 99999999, found -5",
                "/States/S/Timestamp: `Timestamp` must be a timestamp string such as \"2016-03-14T01:59:00Z\", found \"yesterday\"",
            ]
        );
        assert!(problems(&one_state(r#"{"Type":"Wait","Seconds":0,"End":true}"#)).is_empty());
        let found = problems(&one_state(
            r#"{"Type":"Wait","Timestamp":"2300-01-01T00:00:00Z","End":true}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/Timestamp: `Timestamp` \"2300-01-01T00:00:00Z\" is out of range: timestamps must lie between 1677-09-21T00:12:43.145Z and 2262-04-11T23:47:16.854Z"
            ]
        );
        assert!(
            problems(&one_jsonata_state(
                r#"{"Type":"Wait","Timestamp":"{% $t %}","End":true}"#
            ))
            .is_empty()
        );
    }

    #[test]
    fn fail_error_and_cause() {
        let found = problems(&one_state(
            r#"{"Type":"Fail","Error":5,"ErrorPath":"$.e","Cause":"c","CausePath":"$.c"}"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/Error: `Error` must be a string, found 5",
                "/States/S/ErrorPath: set only one of `Error` and `ErrorPath`",
                "/States/S/CausePath: set only one of `Cause` and `CausePath`",
            ]
        );
        let found = problems(&one_jsonata_state(
            r#"{"Type":"Fail","Error":"{% %}","Cause":"{% $states.input.c %}"}"#,
        ));
        assert_eq!(found, ["/States/S/Error: empty JSONata expression `{% %}`"]);
    }

    #[test]
    fn map_limits() {
        let found = problems(&map(
            r#""MaxConcurrency":-1,"ToleratedFailurePercentage":101,"ToleratedFailureCount":1.5,"ToleratedFailureCountPath":"$.n","ItemSelector":{},"Parameters":{},"#,
            "",
        ));
        assert_eq!(
            found,
            [
                "/States/S/MaxConcurrency: `MaxConcurrency` must be a non-negative integer, found -1",
                "/States/S/ToleratedFailurePercentage: `ToleratedFailurePercentage` must be a number from 0 to 100, found 101",
                "/States/S/ToleratedFailureCount: `ToleratedFailureCount` must be a non-negative integer, found 1.5",
                "/States/S/ToleratedFailureCountPath: set only one of `ToleratedFailureCount` and `ToleratedFailureCountPath`",
                "/States/S/Parameters: set only one of `ItemSelector` and `Parameters`",
            ]
        );
        assert!(
            problems(&map(
                r#""MaxConcurrency":0,"ToleratedFailurePercentage":0.5,"ToleratedFailureCount":0,"#,
                ""
            ))
            .is_empty()
        );
    }

    #[test]
    fn map_processor_config_and_s3_fields() {
        let found = problems(&map(
            r#""ItemReader":{"Resource":"arn:aws:states:::s3:getObject"},"ResultWriter":{},"ItemBatcher":{"MaxItemsPerBatch":0,"MaxInputBytesPerBatch":10,"MaxInputBytesPerBatchPath":"$.b"},"#,
            r#""ProcessorConfig":{"Mode":"DISTRIBUTED"},"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/ItemReader: `ItemReader` is not supported by Spate: it reads the items from Amazon S3, which the engine cannot reach (pass the items in the state input and use `ItemsPath` or `Items`)",
                "/States/S/ResultWriter: `ResultWriter` is not supported by Spate: it writes the results to Amazon S3, which the engine cannot reach (leave it out to get the results as the state's output)",
                "/States/S/ItemBatcher/MaxItemsPerBatch: `MaxItemsPerBatch` must be a positive integer, found 0",
                "/States/S/ItemBatcher/MaxInputBytesPerBatchPath: set only one of `MaxInputBytesPerBatch` and `MaxInputBytesPerBatchPath`",
                "/States/S/ItemProcessor/ProcessorConfig: missing `ExecutionType` (\"STANDARD\" or \"EXPRESS\"), required when `Mode` is \"DISTRIBUTED\"",
            ]
        );
        let found = problems(&map(
            "",
            r#""ProcessorConfig":{"Mode":"PARALLEL","ExecutionType":"FAST"},"#,
        ));
        assert_eq!(
            found,
            [
                "/States/S/ItemProcessor/ProcessorConfig/Mode: `Mode` must be \"INLINE\" or \"DISTRIBUTED\", found \"PARALLEL\"",
                "/States/S/ItemProcessor/ProcessorConfig/ExecutionType: `ExecutionType` must be \"STANDARD\" or \"EXPRESS\", found \"FAST\"",
            ]
        );
    }

    #[test]
    fn parallel_needs_a_branch() {
        let found = problems(&one_state(
            r#"{"Type":"Parallel","Branches":[],"End":true}"#,
        ));
        assert_eq!(
            found,
            ["/States/S/Branches: `Branches` must contain at least one branch"]
        );
    }
}
