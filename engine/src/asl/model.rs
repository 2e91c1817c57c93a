//! Serde types for the Amazon States Language document: what the user wrote,
//! field for field, with AWS's names. Unknown fields are rejected, as on AWS.
//!
//! Fields whose JSON type depends on the query language (a number in JSONPath
//! states, a `{% ... %}` string in JSONata states) or that validation must
//! type-check with a precise message are kept as raw [`Json`] here; the
//! validator checks them and the compiler turns them into plan types.
//!
//! Nested state maps (`Branches`, `ItemProcessor`/`Iterator`) are not
//! deserialized by serde: the loader (`super::load`) walks them itself so that
//! a problem in one state does not hide the problems in others.

use serde::Deserialize;

/// Raw JSON as written in the definition.
pub type Json = serde_json::Value;

/// A field that may be absent, explicitly `null`, or set.
///
/// `InputPath`, `OutputPath` and `ResultPath` give `null` a meaning of its
/// own (discard the input / output / result), distinct from leaving them out.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Nullable<T> {
    /// The field is not in the document.
    #[default]
    Absent,
    /// The field is `null`.
    Null,
    /// The field has a value.
    Set(T),
}

impl<T> Nullable<T> {
    /// `true` unless the field is absent.
    pub fn is_present(&self) -> bool {
        !matches!(self, Nullable::Absent)
    }

    /// The value, if set.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Nullable::Set(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Nullable::Null,
            Some(v) => Nullable::Set(v),
        })
    }
}

/// `"JSONPath"` (the default) or `"JSONata"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum QueryLanguage {
    /// Paths, payload templates and intrinsic functions.
    #[serde(rename = "JSONPath")]
    JsonPath,
    /// `{% ... %}` JSONata expressions, `Arguments`, `Output`, `Assign`.
    #[serde(rename = "JSONata")]
    Jsonata,
}

/// The whole document.
#[derive(Debug, Clone)]
pub struct StateMachine {
    /// `Comment`.
    pub comment: Option<String>,
    /// `StartAt`: the first state.
    pub start_at: String,
    /// `States`, in document order.
    pub states: Vec<NamedState>,
    /// `Version` (only `"1.0"` exists).
    pub version: Option<String>,
    /// `TimeoutSeconds`: the execution deadline.
    pub timeout_seconds: Option<Json>,
    /// `QueryLanguage` for every state that does not set its own.
    pub query_language: Option<QueryLanguage>,
}

/// A state map nested in a Parallel branch or a Map's item processor.
#[derive(Debug, Clone)]
pub struct Branch {
    /// `Comment`.
    pub comment: Option<String>,
    /// `StartAt`.
    pub start_at: String,
    /// `States`, in document order.
    pub states: Vec<NamedState>,
    /// `ProcessorConfig` (Map item processors only).
    pub processor_config: Option<ProcessorConfig>,
}

/// A state and its name.
#[derive(Debug, Clone)]
pub struct NamedState {
    /// The key in `States`.
    pub name: String,
    /// The state.
    pub state: State,
}

/// One state, by `Type`.
// The model is built once per definition; boxing variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum State {
    /// `"Type": "Pass"`
    Pass(PassState),
    /// `"Type": "Task"`
    Task(TaskState),
    /// `"Type": "Choice"`
    Choice(ChoiceState),
    /// `"Type": "Wait"`
    Wait(WaitState),
    /// `"Type": "Succeed"`
    Succeed(SucceedState),
    /// `"Type": "Fail"`
    Fail(FailState),
    /// `"Type": "Parallel"`
    Parallel(ParallelState),
    /// `"Type": "Map"`
    Map(MapState),
}

impl State {
    /// AWS's name for the type (`"Pass"`, `"Task"`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            State::Pass(_) => "Pass",
            State::Task(_) => "Task",
            State::Choice(_) => "Choice",
            State::Wait(_) => "Wait",
            State::Succeed(_) => "Succeed",
            State::Fail(_) => "Fail",
            State::Parallel(_) => "Parallel",
            State::Map(_) => "Map",
        }
    }

    /// The state's own `QueryLanguage`, if it sets one.
    pub fn query_language(&self) -> Option<QueryLanguage> {
        match self {
            State::Pass(s) => s.query_language,
            State::Task(s) => s.query_language,
            State::Choice(s) => s.query_language,
            State::Wait(s) => s.query_language,
            State::Succeed(s) => s.query_language,
            State::Fail(s) => s.query_language,
            State::Parallel(s) => s.query_language,
            State::Map(s) => s.query_language,
        }
    }
}

/// Pass: shapes its input into its output.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct PassState {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// `Next`.
    pub next: Option<String>,
    /// `End`.
    pub end: Option<bool>,
    /// `InputPath` (JSONPath).
    #[serde(default)]
    pub input_path: Nullable<String>,
    /// `OutputPath` (JSONPath).
    #[serde(default)]
    pub output_path: Nullable<String>,
    /// `Parameters` payload template (JSONPath).
    pub parameters: Option<Json>,
    /// `Result`: a literal result.
    pub result: Option<Json>,
    /// `ResultPath` (JSONPath).
    #[serde(default)]
    pub result_path: Nullable<String>,
    /// `Output` (JSONata).
    pub output: Option<Json>,
    /// `Assign`: workflow variables.
    pub assign: Option<Json>,
}

/// Task: calls a resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct TaskState {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// `Resource`: the ARN or URI of the work.
    pub resource: Option<String>,
    /// `Next`.
    pub next: Option<String>,
    /// `End`.
    pub end: Option<bool>,
    /// `InputPath` (JSONPath).
    #[serde(default)]
    pub input_path: Nullable<String>,
    /// `OutputPath` (JSONPath).
    #[serde(default)]
    pub output_path: Nullable<String>,
    /// `Parameters` payload template (JSONPath).
    pub parameters: Option<Json>,
    /// `ResultSelector` payload template (JSONPath).
    pub result_selector: Option<Json>,
    /// `ResultPath` (JSONPath).
    #[serde(default)]
    pub result_path: Nullable<String>,
    /// `Retry`.
    pub retry: Option<Vec<Retrier>>,
    /// `Catch`.
    pub catch: Option<Vec<Catcher>>,
    /// `TimeoutSeconds` (a number, or a JSONata expression).
    pub timeout_seconds: Option<Json>,
    /// `TimeoutSecondsPath` (JSONPath).
    pub timeout_seconds_path: Option<String>,
    /// `HeartbeatSeconds` (a number, or a JSONata expression).
    pub heartbeat_seconds: Option<Json>,
    /// `HeartbeatSecondsPath` (JSONPath).
    pub heartbeat_seconds_path: Option<String>,
    /// `Credentials` (role to assume; passed to the handler).
    pub credentials: Option<Json>,
    /// `Arguments` (JSONata).
    pub arguments: Option<Json>,
    /// `Output` (JSONata).
    pub output: Option<Json>,
    /// `Assign`.
    pub assign: Option<Json>,
}

/// Choice: picks the next state by rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ChoiceState {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// `Choices`: the rules, tried in order.
    pub choices: Option<Vec<ChoiceRule>>,
    /// `Default`: the state when no rule matches.
    pub default: Option<String>,
    /// `InputPath` (JSONPath).
    #[serde(default)]
    pub input_path: Nullable<String>,
    /// `OutputPath` (JSONPath).
    #[serde(default)]
    pub output_path: Nullable<String>,
    /// `Output` (JSONata).
    pub output: Option<Json>,
    /// `Assign` (used when `Default` is taken).
    pub assign: Option<Json>,
}

/// One Choice rule (top-level, or nested in `And`/`Or`/`Not`).
///
/// Comparison operators are kept raw: validation checks that exactly one is
/// set and that its operand has the right type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ChoiceRule {
    /// `Comment`.
    pub comment: Option<String>,
    /// `Next` (top-level rules only).
    pub next: Option<String>,
    /// `Variable` (JSONPath rules).
    pub variable: Option<String>,
    /// `Condition` (JSONata rules).
    pub condition: Option<Json>,
    /// `Assign` (top-level rules).
    pub assign: Option<Json>,
    /// `Output` (top-level JSONata rules).
    pub output: Option<Json>,
    /// `And`.
    pub and: Option<Vec<ChoiceRule>>,
    /// `Or`.
    pub or: Option<Vec<ChoiceRule>>,
    /// `Not`.
    pub not: Option<Box<ChoiceRule>>,
    pub string_equals: Option<Json>,
    pub string_equals_path: Option<Json>,
    pub string_less_than: Option<Json>,
    pub string_less_than_path: Option<Json>,
    pub string_greater_than: Option<Json>,
    pub string_greater_than_path: Option<Json>,
    pub string_less_than_equals: Option<Json>,
    pub string_less_than_equals_path: Option<Json>,
    pub string_greater_than_equals: Option<Json>,
    pub string_greater_than_equals_path: Option<Json>,
    pub string_matches: Option<Json>,
    pub numeric_equals: Option<Json>,
    pub numeric_equals_path: Option<Json>,
    pub numeric_less_than: Option<Json>,
    pub numeric_less_than_path: Option<Json>,
    pub numeric_greater_than: Option<Json>,
    pub numeric_greater_than_path: Option<Json>,
    pub numeric_less_than_equals: Option<Json>,
    pub numeric_less_than_equals_path: Option<Json>,
    pub numeric_greater_than_equals: Option<Json>,
    pub numeric_greater_than_equals_path: Option<Json>,
    pub boolean_equals: Option<Json>,
    pub boolean_equals_path: Option<Json>,
    pub timestamp_equals: Option<Json>,
    pub timestamp_equals_path: Option<Json>,
    pub timestamp_less_than: Option<Json>,
    pub timestamp_less_than_path: Option<Json>,
    pub timestamp_greater_than: Option<Json>,
    pub timestamp_greater_than_path: Option<Json>,
    pub timestamp_less_than_equals: Option<Json>,
    pub timestamp_less_than_equals_path: Option<Json>,
    pub timestamp_greater_than_equals: Option<Json>,
    pub timestamp_greater_than_equals_path: Option<Json>,
    pub is_null: Option<Json>,
    pub is_present: Option<Json>,
    pub is_numeric: Option<Json>,
    pub is_string: Option<Json>,
    pub is_boolean: Option<Json>,
    pub is_timestamp: Option<Json>,
}

/// The comparison operators of a JSONPath Choice rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// `StringEquals`
    StringEquals,
    /// `StringLessThan`
    StringLessThan,
    /// `StringGreaterThan`
    StringGreaterThan,
    /// `StringLessThanEquals`
    StringLessThanEquals,
    /// `StringGreaterThanEquals`
    StringGreaterThanEquals,
    /// `StringMatches` (`*` wildcard, `\` escape)
    StringMatches,
    /// `NumericEquals`
    NumericEquals,
    /// `NumericLessThan`
    NumericLessThan,
    /// `NumericGreaterThan`
    NumericGreaterThan,
    /// `NumericLessThanEquals`
    NumericLessThanEquals,
    /// `NumericGreaterThanEquals`
    NumericGreaterThanEquals,
    /// `BooleanEquals`
    BooleanEquals,
    /// `TimestampEquals`
    TimestampEquals,
    /// `TimestampLessThan`
    TimestampLessThan,
    /// `TimestampGreaterThan`
    TimestampGreaterThan,
    /// `TimestampLessThanEquals`
    TimestampLessThanEquals,
    /// `TimestampGreaterThanEquals`
    TimestampGreaterThanEquals,
    /// `IsNull`
    IsNull,
    /// `IsPresent`
    IsPresent,
    /// `IsNumeric`
    IsNumeric,
    /// `IsString`
    IsString,
    /// `IsBoolean`
    IsBoolean,
    /// `IsTimestamp`
    IsTimestamp,
}

/// A comparator set on a rule: which one, whether it is the `...Path` form,
/// its AWS field name and its raw operand.
#[derive(Debug, Clone, Copy)]
pub struct ComparatorField<'a> {
    /// The operator.
    pub comparator: Comparator,
    /// `true` for the `...Path` variant (operand is a path to compare against).
    pub path_form: bool,
    /// The field name as written (`"NumericEqualsPath"`).
    pub field: &'static str,
    /// The operand.
    pub operand: &'a Json,
}

impl ChoiceRule {
    /// Every comparator field that is set, in a fixed order.
    pub fn comparators(&self) -> Vec<ComparatorField<'_>> {
        use Comparator::*;
        let table: [(&Option<Json>, Comparator, bool, &'static str); 39] = [
            (&self.string_equals, StringEquals, false, "StringEquals"),
            (
                &self.string_equals_path,
                StringEquals,
                true,
                "StringEqualsPath",
            ),
            (
                &self.string_less_than,
                StringLessThan,
                false,
                "StringLessThan",
            ),
            (
                &self.string_less_than_path,
                StringLessThan,
                true,
                "StringLessThanPath",
            ),
            (
                &self.string_greater_than,
                StringGreaterThan,
                false,
                "StringGreaterThan",
            ),
            (
                &self.string_greater_than_path,
                StringGreaterThan,
                true,
                "StringGreaterThanPath",
            ),
            (
                &self.string_less_than_equals,
                StringLessThanEquals,
                false,
                "StringLessThanEquals",
            ),
            (
                &self.string_less_than_equals_path,
                StringLessThanEquals,
                true,
                "StringLessThanEqualsPath",
            ),
            (
                &self.string_greater_than_equals,
                StringGreaterThanEquals,
                false,
                "StringGreaterThanEquals",
            ),
            (
                &self.string_greater_than_equals_path,
                StringGreaterThanEquals,
                true,
                "StringGreaterThanEqualsPath",
            ),
            (&self.string_matches, StringMatches, false, "StringMatches"),
            (&self.numeric_equals, NumericEquals, false, "NumericEquals"),
            (
                &self.numeric_equals_path,
                NumericEquals,
                true,
                "NumericEqualsPath",
            ),
            (
                &self.numeric_less_than,
                NumericLessThan,
                false,
                "NumericLessThan",
            ),
            (
                &self.numeric_less_than_path,
                NumericLessThan,
                true,
                "NumericLessThanPath",
            ),
            (
                &self.numeric_greater_than,
                NumericGreaterThan,
                false,
                "NumericGreaterThan",
            ),
            (
                &self.numeric_greater_than_path,
                NumericGreaterThan,
                true,
                "NumericGreaterThanPath",
            ),
            (
                &self.numeric_less_than_equals,
                NumericLessThanEquals,
                false,
                "NumericLessThanEquals",
            ),
            (
                &self.numeric_less_than_equals_path,
                NumericLessThanEquals,
                true,
                "NumericLessThanEqualsPath",
            ),
            (
                &self.numeric_greater_than_equals,
                NumericGreaterThanEquals,
                false,
                "NumericGreaterThanEquals",
            ),
            (
                &self.numeric_greater_than_equals_path,
                NumericGreaterThanEquals,
                true,
                "NumericGreaterThanEqualsPath",
            ),
            (&self.boolean_equals, BooleanEquals, false, "BooleanEquals"),
            (
                &self.boolean_equals_path,
                BooleanEquals,
                true,
                "BooleanEqualsPath",
            ),
            (
                &self.timestamp_equals,
                TimestampEquals,
                false,
                "TimestampEquals",
            ),
            (
                &self.timestamp_equals_path,
                TimestampEquals,
                true,
                "TimestampEqualsPath",
            ),
            (
                &self.timestamp_less_than,
                TimestampLessThan,
                false,
                "TimestampLessThan",
            ),
            (
                &self.timestamp_less_than_path,
                TimestampLessThan,
                true,
                "TimestampLessThanPath",
            ),
            (
                &self.timestamp_greater_than,
                TimestampGreaterThan,
                false,
                "TimestampGreaterThan",
            ),
            (
                &self.timestamp_greater_than_path,
                TimestampGreaterThan,
                true,
                "TimestampGreaterThanPath",
            ),
            (
                &self.timestamp_less_than_equals,
                TimestampLessThanEquals,
                false,
                "TimestampLessThanEquals",
            ),
            (
                &self.timestamp_less_than_equals_path,
                TimestampLessThanEquals,
                true,
                "TimestampLessThanEqualsPath",
            ),
            (
                &self.timestamp_greater_than_equals,
                TimestampGreaterThanEquals,
                false,
                "TimestampGreaterThanEquals",
            ),
            (
                &self.timestamp_greater_than_equals_path,
                TimestampGreaterThanEquals,
                true,
                "TimestampGreaterThanEqualsPath",
            ),
            (&self.is_null, IsNull, false, "IsNull"),
            (&self.is_present, IsPresent, false, "IsPresent"),
            (&self.is_numeric, IsNumeric, false, "IsNumeric"),
            (&self.is_string, IsString, false, "IsString"),
            (&self.is_boolean, IsBoolean, false, "IsBoolean"),
            (&self.is_timestamp, IsTimestamp, false, "IsTimestamp"),
        ];
        table
            .into_iter()
            .filter_map(|(value, comparator, path_form, field)| {
                value.as_ref().map(|operand| ComparatorField {
                    comparator,
                    path_form,
                    field,
                    operand,
                })
            })
            .collect()
    }
}

/// Wait: pauses for a time or until a timestamp.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct WaitState {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// `Next`.
    pub next: Option<String>,
    /// `End`.
    pub end: Option<bool>,
    /// `InputPath` (JSONPath).
    #[serde(default)]
    pub input_path: Nullable<String>,
    /// `OutputPath` (JSONPath).
    #[serde(default)]
    pub output_path: Nullable<String>,
    /// `Seconds` (a number, or a JSONata expression).
    pub seconds: Option<Json>,
    /// `SecondsPath` (JSONPath).
    pub seconds_path: Option<String>,
    /// `Timestamp` (an ISO-8601 string, or a JSONata expression).
    pub timestamp: Option<Json>,
    /// `TimestampPath` (JSONPath).
    pub timestamp_path: Option<String>,
    /// `Output` (JSONata).
    pub output: Option<Json>,
    /// `Assign`.
    pub assign: Option<Json>,
}

/// Succeed: ends the execution (or branch) successfully.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct SucceedState {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// `InputPath` (JSONPath).
    #[serde(default)]
    pub input_path: Nullable<String>,
    /// `OutputPath` (JSONPath).
    #[serde(default)]
    pub output_path: Nullable<String>,
    /// `Output` (JSONata).
    pub output: Option<Json>,
}

/// Fail: ends the execution (or branch) with an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct FailState {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// `Error` (a string, or a JSONata expression).
    pub error: Option<Json>,
    /// `ErrorPath` (JSONPath or intrinsic function).
    pub error_path: Option<String>,
    /// `Cause` (a string, or a JSONata expression).
    pub cause: Option<Json>,
    /// `CausePath` (JSONPath or intrinsic function).
    pub cause_path: Option<String>,
}

/// Parallel: runs every branch on the same input.
#[derive(Debug, Clone, Default)]
pub struct ParallelState {
    /// The fields other than `Branches`.
    pub fields: ParallelFields,
    /// `Branches`.
    pub branches: Vec<Branch>,
    /// `QueryLanguage` (copied from `fields` for uniform access).
    pub query_language: Option<QueryLanguage>,
}

/// The fields of a Parallel state other than `Branches`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ParallelFields {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// `Next`.
    pub next: Option<String>,
    /// `End`.
    pub end: Option<bool>,
    /// `InputPath` (JSONPath).
    #[serde(default)]
    pub input_path: Nullable<String>,
    /// `OutputPath` (JSONPath).
    #[serde(default)]
    pub output_path: Nullable<String>,
    /// `Parameters` (JSONPath).
    pub parameters: Option<Json>,
    /// `ResultSelector` (JSONPath).
    pub result_selector: Option<Json>,
    /// `ResultPath` (JSONPath).
    #[serde(default)]
    pub result_path: Nullable<String>,
    /// `Retry`.
    pub retry: Option<Vec<Retrier>>,
    /// `Catch`.
    pub catch: Option<Vec<Catcher>>,
    /// `Arguments` (JSONata).
    pub arguments: Option<Json>,
    /// `Output` (JSONata).
    pub output: Option<Json>,
    /// `Assign`.
    pub assign: Option<Json>,
}

/// Map: runs the item processor once per item of an array.
#[derive(Debug, Clone, Default)]
pub struct MapState {
    /// The fields other than `ItemProcessor`/`Iterator`.
    pub fields: MapFields,
    /// `ItemProcessor` or the legacy `Iterator`.
    pub processor: Option<Branch>,
    /// `true` when written as the legacy `Iterator`.
    pub legacy_iterator: bool,
    /// `QueryLanguage` (copied from `fields` for uniform access).
    pub query_language: Option<QueryLanguage>,
}

/// The fields of a Map state other than its item processor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct MapFields {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// `Next`.
    pub next: Option<String>,
    /// `End`.
    pub end: Option<bool>,
    /// `InputPath` (JSONPath).
    #[serde(default)]
    pub input_path: Nullable<String>,
    /// `OutputPath` (JSONPath).
    #[serde(default)]
    pub output_path: Nullable<String>,
    /// `ItemsPath` (JSONPath).
    pub items_path: Option<String>,
    /// `Items` (JSONata: an array or an expression).
    pub items: Option<Json>,
    /// `ItemSelector` payload template.
    pub item_selector: Option<Json>,
    /// `Parameters`: the legacy name of `ItemSelector`.
    pub parameters: Option<Json>,
    /// `ItemReader` (distributed mode; not supported by the engine).
    pub item_reader: Option<Json>,
    /// `ItemBatcher`.
    pub item_batcher: Option<ItemBatcher>,
    /// `ResultWriter` (distributed mode; not supported by the engine).
    pub result_writer: Option<Json>,
    /// `MaxConcurrency` (0 = no limit).
    pub max_concurrency: Option<Json>,
    /// `MaxConcurrencyPath`.
    pub max_concurrency_path: Option<String>,
    /// `ToleratedFailurePercentage`.
    pub tolerated_failure_percentage: Option<Json>,
    /// `ToleratedFailurePercentagePath`.
    pub tolerated_failure_percentage_path: Option<String>,
    /// `ToleratedFailureCount`.
    pub tolerated_failure_count: Option<Json>,
    /// `ToleratedFailureCountPath`.
    pub tolerated_failure_count_path: Option<String>,
    /// `Label`.
    pub label: Option<String>,
    /// `ResultSelector`.
    pub result_selector: Option<Json>,
    /// `ResultPath`.
    #[serde(default)]
    pub result_path: Nullable<String>,
    /// `Retry`.
    pub retry: Option<Vec<Retrier>>,
    /// `Catch`.
    pub catch: Option<Vec<Catcher>>,
    /// `Output` (JSONata).
    pub output: Option<Json>,
    /// `Assign`.
    pub assign: Option<Json>,
}

/// `ItemBatcher`: groups items into batches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ItemBatcher {
    /// `MaxItemsPerBatch`.
    pub max_items_per_batch: Option<Json>,
    /// `MaxItemsPerBatchPath`.
    pub max_items_per_batch_path: Option<String>,
    /// `MaxInputBytesPerBatch`.
    pub max_input_bytes_per_batch: Option<Json>,
    /// `MaxInputBytesPerBatchPath`.
    pub max_input_bytes_per_batch_path: Option<String>,
    /// `BatchInput`: a payload template added to every batch.
    pub batch_input: Option<Json>,
}

/// `ProcessorConfig` of a Map item processor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ProcessorConfig {
    /// `Mode`: `INLINE` (default) or `DISTRIBUTED`.
    pub mode: Option<String>,
    /// `ExecutionType`: `STANDARD` or `EXPRESS` (distributed mode).
    pub execution_type: Option<String>,
}

/// One `Retry` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Retrier {
    /// `Comment`.
    pub comment: Option<String>,
    /// `ErrorEquals`: the errors this retrier handles.
    pub error_equals: Option<Vec<String>>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: Option<Json>,
    /// `MaxAttempts` (default 3; 0 never retries).
    pub max_attempts: Option<Json>,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: Option<Json>,
    /// `MaxDelaySeconds`: cap on one back-off.
    pub max_delay_seconds: Option<Json>,
    /// `JitterStrategy`: `FULL` or `NONE`.
    pub jitter_strategy: Option<String>,
}

/// One `Catch` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Catcher {
    /// `Comment`.
    pub comment: Option<String>,
    /// `ErrorEquals`.
    pub error_equals: Option<Vec<String>>,
    /// `Next`: the fallback state.
    pub next: Option<String>,
    /// `ResultPath` (JSONPath): where the error output goes.
    #[serde(default)]
    pub result_path: Nullable<String>,
    /// `Output` (JSONata).
    pub output: Option<Json>,
    /// `Assign`.
    pub assign: Option<Json>,
}
