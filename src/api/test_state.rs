//! TestState: runs one state on an input, as AWS's TestState does. The
//! state runs alone (its transition targets end the run, so the state
//! entered next names `nextState`), with a mocked result (`mock.result` or
//! `mock.errorOutput`) for a Task, else the real handlers. The request's
//! `variables` are assigned first, by a JSONata Pass state; when there are
//! variables to report, the run ends in a JSONata Pass state that returns
//! the output with the variables' values. `status` is `SUCCEEDED`,
//! `FAILED`, `CAUGHT_ERROR` (a Catch took the error: the output is the
//! catcher's) or `RETRIABLE` (a Retry matches the error and has attempts
//! left after `stateConfiguration.retrierRetryCount` retries; the retry
//! itself is not made). With `inspectionLevel` DEBUG or TRACE,
//! `inspectionData` gives the input after each step of a JSONPath state
//! (`afterInputPath`, `afterParameters`, `result`, `afterResultSelector`,
//! `afterResultPath`), each computed by running that step alone as a Pass
//! state on the value before it, the `variables` after the state, and
//! `errorDetails`. `context` and the Map and Parallel fields of
//! `stateConfiguration` are refused by name.

use super::Api;
use super::errors::{ApiError, ApiResult};
use super::protocol::{check_len, check_opt_len, parse, reply};
use super::store::RecordedHistory;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use spate_engine::error::StatesError;
use spate_engine::interp::{EventType, History};
use spate_engine::plan::{CompileOptions, from_definition};
use spate_engine::runtime::{Completion, CompletionSink, RuntimeHandle, Submission};
use spate_engine::task::{Resources, TaskCall, TaskHandler, TaskReply};
use spate_engine::value::{Value, parse_json_str};
use std::sync::{Arc, Mutex};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MockInput {
    result: Option<String>,
    error_output: Option<ErrorOutput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorOutput {
    error: Option<String>,
    cause: Option<String>,
}

/// The model's `TestStateConfiguration`: only `retrierRetryCount` is
/// supported; the Map and Parallel fields are refused by name.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct StateConfiguration {
    retrier_retry_count: Option<i64>,
    error_caused_by_state: Option<String>,
    map_iteration_failure_count: Option<i64>,
    map_item_reader_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    definition: String,
    input: Option<String>,
    inspection_level: Option<String>,
    state_name: Option<String>,
    mock: Option<MockInput>,
    variables: Option<String>,
    context: Option<String>,
    state_configuration: Option<StateConfiguration>,
}

/// The state that assigns the request's `variables` before the tested
/// state, and the one that ends a tested state that had `End`.
const SETUP: &str = "__spate_assign_variables";
const END: &str = "__spate_end";

/// The variables a test starts with, and the names whose values after the
/// state `inspectionData.variables` reports.
#[derive(Default)]
struct Scope {
    variables: Map<String, Json>,
    reported: Vec<String>,
}

impl Scope {
    /// The request's `variables` (a JSON object of valid names), and the
    /// names the state may assign.
    fn new(variables: Option<&str>, state: &Map<String, Json>) -> ApiResult<Scope> {
        let variables = match variables {
            None => Map::new(),
            Some(text) => match serde_json::from_str(text) {
                Ok(Json::Object(map)) => map,
                _ => {
                    return Err(ApiError::validation(
                        "variables must be the text of a JSON object (variable name to value)",
                    ));
                }
            },
        };
        if let Some(bad) = variables.keys().find(|k| !valid_variable_name(k)) {
            return Err(ApiError::validation(format!(
                "variables: '{bad}' is not a variable name (a letter or _, then letters, digits or _)"
            )));
        }
        let mut reported: Vec<String> = variables.keys().cloned().collect();
        for assign in assigns(state) {
            // A JSONPath name ending in `.$` takes a path's value.
            let names = assign.keys().map(|k| k.strip_suffix(".$").unwrap_or(k));
            for name in names.filter(|k| valid_variable_name(k)) {
                if !reported.iter().any(|r| r == name) {
                    reported.push(name.to_string());
                }
            }
        }
        Ok(Scope {
            variables,
            reported,
        })
    }
}

/// The `Assign` blocks of a state: its own, its Choice rules' and its
/// catchers'.
fn assigns(state: &Map<String, Json>) -> Vec<&Map<String, Json>> {
    let own = state.get("Assign").and_then(Json::as_object);
    own.into_iter()
        .chain(rules_and_catchers(state).filter_map(|item| item.get("Assign")?.as_object()))
        .collect()
}

/// A Choice state's rules and a state's catchers: what holds a `Next` or
/// an `Assign` besides the state itself.
fn rules_and_catchers(state: &Map<String, Json>) -> impl Iterator<Item = &Json> {
    ["Choices", "Catch"]
        .into_iter()
        .filter_map(|key| state.get(key).and_then(Json::as_array))
        .flatten()
}

fn valid_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Answers every task with the mocked result or error (a callback task
/// through its callback).
struct Mocked(Result<Value, StatesError>, RuntimeHandle);

impl TaskHandler for Mocked {
    fn invoke(&self, call: TaskCall) -> TaskReply {
        match (call.task_token, &self.0) {
            (Some(token), Ok(value)) => {
                let (runtime, value) = (self.1.clone(), value.clone());
                TaskReply::Pending(Box::pin(async move {
                    let _ = runtime.send_task_success(&token, value).await;
                    Ok(Value::Null)
                }))
            }
            _ => TaskReply::Ready(self.0.clone()),
        }
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidDefinition", message)
}

/// The state to test and its name: the definition is one state, or a
/// state machine and `stateName` picks a top-level state (its `StartAt`
/// without one).
fn pick_state(
    definition: &Json,
    state_name: Option<&str>,
) -> ApiResult<(String, Map<String, Json>)> {
    if let Some(states) = definition.get("States").and_then(Json::as_object) {
        let name = state_name
            .map(str::to_string)
            .or_else(|| {
                definition
                    .get("StartAt")
                    .and_then(Json::as_str)
                    .map(str::to_string)
            })
            .ok_or_else(|| {
                invalid("the state machine has no StartAt and no stateName was given")
            })?;
        let mut state = states
            .get(&name)
            .and_then(Json::as_object)
            .ok_or_else(|| invalid(format!("the state machine has no top-level state '{name}'")))?
            .clone();
        // A state without its own query language has the machine's.
        if let Some(language) = definition.get("QueryLanguage") {
            state
                .entry("QueryLanguage")
                .or_insert_with(|| language.clone());
        }
        Ok((name, state))
    } else {
        let state = definition
            .as_object()
            .ok_or_else(|| invalid("the definition is not a JSON object"))?;
        Ok((state_name.unwrap_or("TestState").to_string(), state.clone()))
    }
}

/// The names a state may go to.
fn targets(state: &Map<String, Json>) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |v: Option<&Json>| {
        if let Some(name) = v.and_then(Json::as_str) {
            out.push(name.to_string());
        }
    };
    add(state.get("Next"));
    add(state.get("Default"));
    for item in rules_and_catchers(state) {
        add(item.get("Next"));
    }
    out
}

/// The state a test ends in: `Succeed`, or with names to report, a
/// JSONata Pass whose output is `{"output": <its input>, "variables":
/// {<name>: <value>}}`.
fn end_state(reported: &[String]) -> Json {
    if reported.is_empty() {
        return json!({"Type": "Succeed"});
    }
    let members: Vec<String> = reported.iter().map(|n| format!("\"{n}\": ${n}")).collect();
    json!({
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Output": format!("{{% {{\"output\": $states.input, \"variables\": {{{}}}}} %}}", members.join(", ")),
        "End": true,
    })
}

/// Runs a machine of the state `name` alone (its targets end the run, as
/// [`end_state`]s; the scope's variables are assigned first) to its end,
/// with its history.
async fn run(
    api: &Api,
    name: &str,
    state: &Map<String, Json>,
    input: Value,
    resources: Option<Arc<Resources>>,
    scope: &Scope,
) -> ApiResult<(Completion, Arc<RecordedHistory>)> {
    let mut states = Map::new();
    for target in targets(state) {
        states.insert(target, end_state(&scope.reported));
    }
    let mut state = state.clone();
    if !scope.reported.is_empty() && state.remove("End").is_some() {
        state.insert("Next".into(), json!(END));
        states.insert(END.to_string(), end_state(&scope.reported));
    }
    states.insert(name.to_string(), Json::Object(state));
    let mut start = name;
    if !scope.variables.is_empty() {
        // Each value as a JSONata literal (JSON is one), so no string is
        // taken for an expression.
        let assign: Map<String, Json> = scope
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), json!(format!("{{% {v} %}}"))))
            .collect();
        states.insert(
            SETUP.to_string(),
            json!({"Type": "Pass", "QueryLanguage": "JSONata", "Assign": assign, "Next": name}),
        );
        start = SETUP;
    }
    let definition = json!({"StartAt": start, "States": states}).to_string();
    let plan = from_definition(&definition, &CompileOptions::default()).map_err(|d| {
        invalid(format!(
            "Invalid State Machine Definition: {}",
            d.0.iter()
                .map(|d| format!("{}: {d}", d.code))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let sender = Mutex::new(Some(sender));
    let sink: Arc<dyn CompletionSink> = Arc::new(move |c: Completion| {
        if let Some(s) = sender.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = s.send(c);
        }
    });
    let history = Arc::new(RecordedHistory::default());
    let mut submission = Submission::new(Arc::new(plan), "test-state", input, sink);
    submission.history = Some(History::to(Arc::clone(&history) as _));
    submission.resources = resources;
    api.runtime
        .submit(submission)
        .map_err(|_| ApiError::unavailable("the runtime refused the execution"))?;
    let completion = receiver
        .await
        .map_err(|_| ApiError::unavailable("the server is shutting down"))?;
    Ok((completion, history))
}

/// Runs `fields` as a Pass state on `input` with the test's starting
/// variables: one step of the pipeline.
async fn step(
    api: &Api,
    fields: Map<String, Json>,
    input: &Value,
    variables: &Map<String, Json>,
) -> ApiResult<Option<String>> {
    let mut pass = fields;
    pass.insert("Type".into(), json!("Pass"));
    pass.insert("End".into(), json!(true));
    let scope = Scope {
        variables: variables.clone(),
        reported: Vec::new(),
    };
    let (completion, _) = run(api, "Step", &pass, input.clone(), None, &scope).await?;
    Ok(completion.result.ok().map(|v| v.to_json()))
}

/// Whether an `ErrorEquals` list matches `error`.
fn matches(handler: &Json, error: &str) -> bool {
    handler
        .get("ErrorEquals")
        .and_then(Json::as_array)
        .is_some_and(|e| {
            e.iter()
                .any(|n| n == error || (n == "States.ALL" && error != "States.Runtime"))
        })
}

/// The retrier of `state` that takes `error` after `retried` retries, if
/// it has attempts left: its index and the backoff before the next one.
fn retrier(state: &Map<String, Json>, error: &str, retried: u64) -> Option<(usize, f64)> {
    let retriers = state.get("Retry").and_then(Json::as_array)?;
    let (index, retrier) = retriers
        .iter()
        .enumerate()
        .find(|(_, r)| matches(r, error))?;
    let number =
        |key: &str, default: f64| retrier.get(key).and_then(Json::as_f64).unwrap_or(default);
    if number("MaxAttempts", 3.0) <= retried as f64 {
        return None;
    }
    let mut backoff =
        number("IntervalSeconds", 1.0) * number("BackoffRate", 2.0).powi(retried.min(1000) as i32);
    if let Some(max) = retrier.get("MaxDelaySeconds").and_then(Json::as_f64) {
        backoff = backoff.min(max);
    }
    Some((index, backoff))
}

/// The index of the catcher of `state` that takes `error`.
fn catcher(state: &Map<String, Json>, error: &str) -> Option<usize> {
    state
        .get("Catch")
        .and_then(Json::as_array)?
        .iter()
        .position(|c| matches(c, error))
}

/// Refuses what this TestState does not do, naming the field.
fn check_supported(input: &Input) -> ApiResult<u64> {
    let unsupported = |field: &str| {
        Err(ApiError::validation(format!(
            "{field} is not supported by this server's TestState"
        )))
    };
    if input.context.is_some() {
        return unsupported("context (a Context object for the state)");
    }
    let configuration = input.state_configuration.as_ref();
    let Some(c) = configuration else {
        return Ok(0);
    };
    if c.error_caused_by_state.is_some() {
        return unsupported("stateConfiguration.errorCausedByState");
    }
    if c.map_iteration_failure_count.is_some() {
        return unsupported("stateConfiguration.mapIterationFailureCount");
    }
    if c.map_item_reader_data.is_some() {
        return unsupported("stateConfiguration.mapItemReaderData");
    }
    match c.retrier_retry_count {
        None => Ok(0),
        Some(n) if n >= 0 => Ok(n as u64),
        Some(n) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'stateConfiguration.retrierRetryCount' failed to satisfy constraint: Member must have value greater than or equal to 0"
        ))),
    }
}

pub(super) async fn test_state(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: Input = parse(body)?;
    let retried = check_supported(&input)?;
    check_len("definition", &input.definition, 1, 1_048_576)?;
    check_opt_len("input", input.input.as_deref(), 0, 262_144)?;
    check_opt_len("variables", input.variables.as_deref(), 0, 262_144)?;
    check_opt_len("stateName", input.state_name.as_deref(), 1, 80)?;
    let level = input.inspection_level.as_deref().unwrap_or("INFO");
    if !matches!(level, "INFO" | "DEBUG" | "TRACE") {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{level}' at 'inspectionLevel' failed to satisfy constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]"
        )));
    }
    let definition: Json = serde_json::from_str(&input.definition).map_err(|e| {
        invalid(format!(
            "Invalid State Machine Definition: INVALID_JSON_DESCRIPTION: {e}"
        ))
    })?;
    let (name, state) = pick_state(&definition, input.state_name.as_deref())?;
    let scope = Scope::new(input.variables.as_deref(), &state)?;
    let input_text = input.input.unwrap_or_else(|| "{}".to_string());
    let value = parse_json_str(&input_text)
        .map_err(|e| ApiError::new("InvalidExecutionInput", format!("Invalid input: {e}")))?;
    let mocked = match input.mock {
        None => None,
        Some(MockInput {
            result: Some(result),
            error_output: None,
        }) => Some(Ok(parse_json_str(&result).map_err(|e| {
            ApiError::validation(format!("mock.result is not JSON: {e}"))
        })?)),
        Some(MockInput {
            result: None,
            error_output: Some(e),
        }) => Some(Err(StatesError::new(
            e.error.unwrap_or_default(),
            e.cause.unwrap_or_default(),
        ))),
        Some(_) => {
            return Err(ApiError::validation(
                "mock needs exactly one of result and errorOutput",
            ));
        }
    };
    let resources = mocked.as_ref().map(|m| {
        let mut r = Resources::new();
        r.register_prefix("", Arc::new(Mocked(m.clone(), api.runtime.clone())));
        Arc::new(r)
    });
    let mut without_retry = state.clone();
    without_retry.remove("Retry");
    let (completion, history) =
        run(api, &name, &without_retry, value.clone(), resources, &scope).await?;
    // With names to report, the run's output is `{output, variables}`.
    let (result, variables) = match &completion.result {
        Ok(out) if !scope.reported.is_empty() => (
            Ok(out.get("output").cloned().unwrap_or(Value::Null)),
            out.get("variables").map(Value::to_json),
        ),
        other => (other.clone(), None),
    };
    let events = history.events();
    let error = events.iter().find_map(|e| {
        matches!(
            e.event_type,
            EventType::TaskFailed
                | EventType::TaskTimedOut
                | EventType::LambdaFunctionFailed
                | EventType::LambdaFunctionTimedOut
        )
        .then(|| e.error.clone())
        .flatten()
    });
    let next = events
        .iter()
        .find(|e| {
            matches!(e.event_type, EventType::StateEntered(_))
                && !matches!(e.state.as_deref(), Some(n) if n == name || n == SETUP || n == END)
        })
        .and_then(|e| e.state.as_ref().map(|s| s.to_string()));
    let failure = result.as_ref().err().cloned().or(error.clone());
    let failed_with = failure
        .as_ref()
        .map(|e| e.error().unwrap_or("").to_string());
    let retry = failed_with
        .as_deref()
        .and_then(|e| retrier(&state, e, retried));
    let mut out = Map::new();
    match (&failure, &result) {
        (Some(_), _) if retry.is_some() => {
            out.insert("status".into(), json!("RETRIABLE"));
        }
        (Some(_), Ok(output)) => {
            out.insert("status".into(), json!("CAUGHT_ERROR"));
            out.insert("output".into(), json!(output.to_json()));
        }
        (Some(_), Err(_)) => {
            out.insert("status".into(), json!("FAILED"));
        }
        (None, Ok(output)) => {
            out.insert("status".into(), json!("SUCCEEDED"));
            out.insert("output".into(), json!(output.to_json()));
        }
        (None, Err(_)) => unreachable!("a failed run has a failure"),
    }
    if let Some(e) = &failure {
        if let Some(error) = e.error() {
            out.insert("error".into(), json!(error));
        }
        if let Some(cause) = e.cause() {
            out.insert("cause".into(), json!(cause));
        }
    }
    if let Some(next) = next {
        out.insert("nextState".into(), json!(next));
    }
    if level != "INFO" {
        let mut inspection =
            inspect(api, &state, &value, &input_text, &events, &scope.variables).await?;
        if let Some(variables) = variables {
            inspection.insert("variables".into(), json!(variables));
        }
        let caught = failed_with
            .as_deref()
            .filter(|_| retry.is_none() && result.is_ok())
            .and_then(|e| catcher(&state, e));
        match (retry, caught) {
            (Some((index, backoff)), _) => {
                inspection.insert(
                    "errorDetails".into(),
                    json!({"retryIndex": index, "retryBackoffIntervalSeconds": backoff.round() as i64}),
                );
            }
            (None, Some(index)) => {
                inspection.insert("errorDetails".into(), json!({"catchIndex": index}));
            }
            (None, None) => {}
        }
        out.insert("inspectionData".into(), Json::Object(inspection));
    }
    Ok(reply(&Json::Object(out)))
}

/// `inspectionData`: the input, and after each step of a JSONPath state.
async fn inspect(
    api: &Api,
    state: &Map<String, Json>,
    input: &Value,
    input_text: &str,
    events: &[spate_engine::interp::HistoryEvent],
    variables: &Map<String, Json>,
) -> ApiResult<Map<String, Json>> {
    let mut data = Map::new();
    data.insert("input".into(), json!(input_text));
    let result = events.iter().find_map(|e| {
        matches!(
            e.event_type,
            EventType::TaskSucceeded | EventType::LambdaFunctionSucceeded
        )
        .then(|| e.payload.clone())
        .flatten()
    });
    if let Some(r) = &result {
        data.insert("result".into(), json!(r.to_json()));
    }
    let jsonata = state.get("QueryLanguage").and_then(Json::as_str) == Some("JSONata");
    if jsonata {
        return Ok(data);
    }
    let field = |key: &str| state.get(key).cloned().map(|v| (key.to_string(), v));
    let after_input = step(
        api,
        field("InputPath").into_iter().collect(),
        input,
        variables,
    )
    .await?;
    if let Some(text) = &after_input {
        data.insert("afterInputPath".into(), json!(text));
    }
    let after_parameters = step(
        api,
        field("InputPath")
            .into_iter()
            .chain(field("Parameters"))
            .collect(),
        input,
        variables,
    )
    .await?;
    if let Some(text) = &after_parameters {
        data.insert("afterParameters".into(), json!(text));
    }
    // A Pass state's result is its `Result`, or its effective input.
    let result = match (result, state.get("Type").and_then(Json::as_str)) {
        (Some(r), _) => Some(r),
        (None, Some("Pass")) => match state.get("Result") {
            Some(r) => parse_json_str(&r.to_string()).ok(),
            None => after_parameters
                .as_deref()
                .and_then(|t| parse_json_str(t).ok()),
        },
        _ => None,
    };
    let Some(result) = result else {
        return Ok(data);
    };
    data.insert("result".into(), json!(result.to_json()));
    let selected = match state.get("ResultSelector") {
        Some(selector) => {
            let mut f = Map::new();
            f.insert("Parameters".into(), selector.clone());
            step(api, f, &result, variables).await?
        }
        None => Some(result.to_json()),
    };
    let Some(selected) = selected else {
        return Ok(data);
    };
    data.insert("afterResultSelector".into(), json!(selected));
    let mut f: Map<String, Json> = field("ResultPath").into_iter().collect();
    f.insert(
        "Result".into(),
        serde_json::from_str(&selected).unwrap_or(Json::Null),
    );
    if let Some(after) = step(api, f, input, variables).await? {
        data.insert("afterResultPath".into(), json!(after));
    }
    Ok(data)
}
