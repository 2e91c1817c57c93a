//! TestState: runs one state on an input, as AWS's TestState does. The
//! state runs alone (its transition targets become `Succeed` states, so the
//! state entered next names `nextState`), with a mocked result (`mock.result`
//! or `mock.errorOutput`) for a Task, else the real handlers. `status` is
//! `SUCCEEDED`, `FAILED`, `CAUGHT_ERROR` (a Catch took the error: the output
//! is the catcher's) or `RETRIABLE` (a Retry matches the error and has
//! attempts left; the retry itself is not made). With `inspectionLevel`
//! DEBUG or TRACE, `inspectionData` gives the input after each step of a
//! JSONPath state (`afterInputPath`, `afterParameters`, `result`,
//! `afterResultSelector`, `afterResultPath`); each is computed by running
//! that step alone as a Pass state on the value before it.

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    definition: String,
    #[allow(dead_code)]
    role_arn: Option<String>,
    input: Option<String>,
    inspection_level: Option<String>,
    state_name: Option<String>,
    mock: Option<MockInput>,
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
        let state = states
            .get(&name)
            .and_then(Json::as_object)
            .ok_or_else(|| invalid(format!("the state machine has no top-level state '{name}'")))?;
        Ok((name, state.clone()))
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
    for key in ["Choices", "Catch"] {
        for item in state
            .get(key)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            add(item.get("Next"));
        }
    }
    out
}

/// Runs a one-state machine (the state `name`, its targets as `Succeed`
/// states) to its end, with its history.
async fn run(
    api: &Api,
    name: &str,
    state: &Map<String, Json>,
    input: Value,
    resources: Option<Arc<Resources>>,
) -> ApiResult<(Completion, Arc<RecordedHistory>)> {
    let mut states = Map::new();
    for target in targets(state) {
        states.insert(target, json!({"Type": "Succeed"}));
    }
    states.insert(name.to_string(), Json::Object(state.clone()));
    let definition = json!({"StartAt": name, "States": states}).to_string();
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

/// Runs `fields` as a Pass state on `input`: one step of the pipeline.
async fn step(api: &Api, fields: Map<String, Json>, input: &Value) -> ApiResult<Option<String>> {
    let mut pass = fields;
    pass.insert("Type".into(), json!("Pass"));
    pass.insert("End".into(), json!(true));
    let (completion, _) = run(api, "Step", &pass, input.clone(), None).await?;
    Ok(completion.result.ok().map(|v| v.to_json()))
}

/// Whether a retrier of `state` matches `error` with attempts left.
fn retriable(state: &Map<String, Json>, error: &str) -> bool {
    state
        .get("Retry")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .find(|r| {
            r.get("ErrorEquals")
                .and_then(Json::as_array)
                .is_some_and(|e| {
                    e.iter()
                        .any(|n| n == error || (n == "States.ALL" && error != "States.Runtime"))
                })
        })
        .is_some_and(|r| r.get("MaxAttempts").and_then(Json::as_u64).unwrap_or(3) > 0)
}

pub(super) async fn test_state(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: Input = parse(body)?;
    check_len("definition", &input.definition, 1, 1_048_576)?;
    check_opt_len("input", input.input.as_deref(), 0, 262_144)?;
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
    let (completion, history) = run(api, &name, &without_retry, value.clone(), resources).await?;
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
                && e.state.as_deref() != Some(name.as_str())
        })
        .and_then(|e| e.state.as_ref().map(|s| s.to_string()));
    let failure = completion.result.as_ref().err().cloned().or(error.clone());
    let mut out = Map::new();
    match (&failure, &completion.result) {
        (Some(e), _) if retriable(&state, e.error().unwrap_or("")) => {
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
        let inspection = inspect(api, &state, &value, &input_text, &events).await?;
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
    let after_input = step(api, field("InputPath").into_iter().collect(), input).await?;
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
            step(api, f, &result).await?
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
    if let Some(after) = step(api, f, input).await? {
        data.insert("afterResultPath".into(), json!(after));
    }
    Ok(data)
}
