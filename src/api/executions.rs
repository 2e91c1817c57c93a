//! Execution actions: StartExecution, StartSyncExecution, DescribeExecution,
//! ListExecutions, StopExecution, GetExecutionHistory and
//! DescribeStateMachineForExecution.

use super::Api;
use super::arn::Kind;
use super::errors::{ApiError, ApiResult};
use super::history;
use super::protocol::{
    check_len, check_name, check_opt_len, decode_token, encode_token, epoch_seconds, now,
    page_size, parse, reply, reply_bytes,
};
use super::state_machines::Resolved;
use super::store::{ExecutionRecord, Outcome, RecordedHistory};
use super::sync_answer::SyncAnswer;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use spate_engine::interp::{History, LogLevel};
use spate_engine::runtime::{Completion, CompletionSink, Status, Submission, SubmitError};
use spate_engine::value::{Value, parse_json_str};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartInput {
    pub(super) state_machine_arn: String,
    pub(super) name: Option<String>,
    pub(super) input: Option<String>,
    pub(super) trace_header: Option<String>,
    pub(super) included_data: Option<String>,
}

/// A start request checked: the state machine, the execution's name and
/// its parsed input.
struct Start {
    resolved: Resolved,
    name: String,
    input_text: String,
    input: Value,
    mock_case: Option<String>,
}

fn check_start(api: &Api, input: StartInput) -> ApiResult<Start> {
    check_opt_len("traceHeader", input.trace_header.as_deref(), 0, 256)?;
    if let Some(d) = input.included_data.as_deref()
        && !matches!(d, "ALL_DATA" | "METADATA_ONLY")
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{d}' at 'includedData' failed to satisfy constraint: Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]"
        )));
    }
    // `<state machine ARN>#<test case>` picks a test case of the mock
    // configuration, as Step Functions Local does.
    let (arn, mock_case) = match input.state_machine_arn.split_once('#') {
        Some((arn, case)) => (arn, Some(case.to_string())),
        None => (input.state_machine_arn.as_str(), None),
    };
    let resolved = api.resolve_machine(arn)?;
    let name = match input.name {
        Some(name) => {
            check_name(&name)?;
            name
        }
        None => new_uuid(),
    };
    let input_text = input.input.unwrap_or_else(|| "{}".to_string());
    check_len("input", &input_text, 0, 262_144)?;
    let parsed = parse_json_str(&input_text).map_err(|e| {
        ApiError::new(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: {e}"),
        )
    })?;
    Ok(Start {
        resolved,
        name,
        input_text,
        input: parsed,
        mock_case,
    })
}

fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Full(_) => ApiError::new(
            "ExecutionLimitExceeded",
            "Execution Limit Exceeded: the runtime runs as many executions as it admits",
        ),
        SubmitError::ShuttingDown(_) => ApiError::unavailable("the server is shutting down"),
    }
}

impl Api {
    fn submission(&self, start: &Start, sink: Arc<dyn CompletionSink>) -> ApiResult<Submission> {
        let version = start.resolved.version();
        let mut submission = Submission::new(
            Arc::clone(&version.plan),
            start.name.as_str(),
            start.input.clone(),
            sink,
        );
        let machine = &start.resolved.entry.machine;
        submission.machine = Some(machine.label());
        submission.history = machine.history();
        if let Some(case) = &start.mock_case {
            let Some(mocks) = &self.mocks else {
                return Err(ApiError::validation(format!(
                    "the ARN names test case '{case}', but no mock configuration is loaded (api.mock_config)"
                )));
            };
            submission.resources = Some(mocks.resources_for(
                &start.resolved.entry.record.name,
                case,
                &self.resources,
                &self.runtime,
            )?);
        }
        Ok(submission)
    }
}

pub(super) fn start(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let (stored, started) = start_recorded(api, parse(body)?, false)?;
    Ok(reply(&json!({
        "executionArn": stored.arn,
        "startDate": epoch_seconds(started),
    })))
}

/// Starts an execution kept in the store (with its history when its state
/// machine logs `ALL`, or always with `always_record`); tells the API's
/// observer. Returns the record and its start date.
pub(super) fn start_recorded(
    api: &Api,
    input: StartInput,
    always_record: bool,
) -> ApiResult<(Arc<ExecutionRecord>, spate_engine::time::Timestamp)> {
    let start = check_start(api, input)?;
    let record = &start.resolved.entry.record;
    let arn = api.arns.execution(&record.name, &start.name);
    // The state machine's log gets what its level and data setting say;
    // a console start of one that does not log records everything.
    let logs_all = record.logging.level == "ALL";
    let include_data = record.logging.include_execution_data || !logs_all;
    let history = (always_record || logs_all).then(|| {
        let log = logs_all
            .then(|| start.resolved.entry.machine.history().map(|h| h.sink))
            .flatten();
        Arc::new(RecordedHistory::logged_to(log))
    });
    let started = now();
    let stored = api.store.insert(&arn, |seq| ExecutionRecord {
        seq,
        arn: arn.clone(),
        name: start.name.clone(),
        machine_arn: api.arns.state_machine(&record.name),
        version_arn: start
            .resolved
            .published
            .as_ref()
            .map(|p| api.arns.version(&record.name, p.number)),
        machine_name: record.name.clone(),
        role_arn: record.role_arn.clone(),
        version: start.resolved.version(),
        logging: serde_json::to_value(&record.logging).unwrap_or(Json::Null),
        input: start.input_text.clone(),
        start: started,
        id: OnceLock::new(),
        history: history.clone(),
        outcome: Mutex::new(Outcome {
            status: "RUNNING",
            ..Outcome::default()
        }),
        stop_reason: Mutex::new(None),
    })?;
    let sink_record = Arc::clone(&stored);
    let observer = api.observer.get().cloned();
    let sink: Arc<dyn CompletionSink> = Arc::new(move |c: Completion| {
        sink_record.complete(&c);
        if let Some(observer) = &observer {
            observer.finished(&sink_record);
        }
    });
    if let Some(observer) = api.observer.get() {
        observer.started(&stored, always_record);
    }
    let submitted = api.submission(&start, sink).and_then(|mut submission| {
        submission.history = history.map(|h| History {
            sink: h,
            include_data,
            level: LogLevel::All,
        });
        api.runtime.submit(submission).map_err(submit_error)
    });
    match submitted {
        Ok(id) => {
            let _ = stored.id.set(id);
            Ok((stored, started))
        }
        Err(e) => {
            api.store.remove(&arn);
            if let Some(observer) = api.observer.get() {
                observer.refused(&stored);
            }
            Err(e)
        }
    }
}

/// AWS bills Express executions in 100 ms steps (at 64 MB at least).
fn billed_ms(duration: std::time::Duration) -> u64 {
    (duration.as_millis() as u64).div_ceil(100).max(1) * 100
}

/// A version 4 UUID from the thread's fast random generator (no system
/// call per execution, unlike `Uuid::new_v4`).
fn new_uuid() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

/// Runs a checked start of an Express state machine to its end.
async fn run_sync(api: &Api, start: &Start) -> ApiResult<Completion> {
    let record = &start.resolved.entry.record;
    if record.kind != "EXPRESS" {
        return Err(ApiError::new(
            "StateMachineTypeNotSupported",
            format!(
                "This operation is not supported by this type of state machine: '{}' is {}",
                record.name, record.kind
            ),
        ));
    }
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let sender = Mutex::new(Some(sender));
    let sink: Arc<dyn CompletionSink> = Arc::new(move |c: Completion| {
        if let Some(s) = sender.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = s.send(c);
        }
    });
    let submission = api.submission(start, sink)?;
    api.runtime.submit(submission).map_err(submit_error)?;
    receiver
        .await
        .map_err(|_| ApiError::unavailable("the server is shutting down"))
}

/// The outcome of `POST /start-sync/<name>`: the output, or the error
/// and cause with the status of a failed (500) or timed-out (504) execution.
pub(super) async fn start_sync_plain(
    api: &Api,
    name: &str,
    body: &[u8],
) -> ApiResult<(axum::http::StatusCode, Json)> {
    use axum::http::StatusCode;
    let input = std::str::from_utf8(body)
        .map_err(|_| ApiError::new("InvalidExecutionInput", "the input is not UTF-8"))?;
    let input = if input.trim().is_empty() { "{}" } else { input };
    let start = check_start(
        api,
        StartInput {
            state_machine_arn: api.arns.state_machine(name),
            name: None,
            input: Some(input.to_string()),
            trace_header: None,
            included_data: None,
        },
    )?;
    let completion = run_sync(api, &start).await?;
    Ok(match (&completion.result, completion.status) {
        (Ok(output), _) => (
            StatusCode::OK,
            serde_json::from_str(&output.to_json()).unwrap_or(Json::Null),
        ),
        (Err(e), status) => (
            if status == Status::TimedOut {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            },
            json!({"error": e.error(), "cause": e.cause()}),
        ),
    })
}

pub(super) async fn start_sync(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: StartInput = parse(body)?;
    let metadata_only = input.included_data.as_deref() == Some("METADATA_ONLY");
    let trace_header = input.trace_header.clone();
    let start = check_start(api, input)?;
    let record = &start.resolved.entry.record;
    let completion = run_sync(api, &start).await?;
    let execution_arn = api
        .arns
        .make(Kind::Express, &[&record.name, &start.name, &new_uuid()]);
    let status = match completion.status {
        Status::Succeeded => "SUCCEEDED",
        Status::TimedOut => "TIMED_OUT",
        Status::Failed | Status::Aborted => "FAILED",
    };
    let answer = SyncAnswer {
        execution_arn: &execution_arn,
        state_machine_arn: &api.arns.state_machine(&record.name),
        name: &start.name,
        start: completion.queued_at,
        stop: completion.ended_at,
        status,
        result: completion.result.as_ref(),
        input: &start.input_text,
        metadata_only,
        trace_header: trace_header.as_deref(),
        billed_ms: billed_ms(completion.ended_at.since(completion.queued_at)),
    };
    Ok(reply_bytes(answer.to_bytes()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionArnInput {
    execution_arn: String,
    included_data: Option<String>,
}

impl Api {
    /// The stored execution an ARN names.
    fn execution(&self, arn: &str) -> ApiResult<Arc<ExecutionRecord>> {
        check_len("executionArn", arn, 1, 256)?;
        self.arns
            .parse(arn, &[Kind::Execution, Kind::Express], 2, 3)?;
        self.store.get(arn).ok_or_else(|| {
            ApiError::new(
                "ExecutionDoesNotExist",
                format!("Execution Does Not Exist: '{arn}'"),
            )
        })
    }
}

pub(super) fn describe(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: ExecutionArnInput = parse(body)?;
    let record = api.execution(&input.execution_arn)?;
    let metadata_only = input.included_data.as_deref() == Some("METADATA_ONLY");
    let outcome = record.outcome();
    let mut out = json!({
        "executionArn": record.arn,
        "stateMachineArn": record.machine_arn,
        "name": record.name,
        "status": outcome.status,
        "startDate": epoch_seconds(record.start),
        "inputDetails": {"included": !metadata_only},
        "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE",
    });
    if !metadata_only {
        out["input"] = json!(record.input);
    }
    if let Some(v) = &record.version_arn {
        out["stateMachineVersionArn"] = json!(v);
    }
    if let Some(stop) = outcome.stop {
        out["stopDate"] = json!(epoch_seconds(stop));
    }
    if let Some(output) = outcome.output {
        out["outputDetails"] = json!({"included": !metadata_only});
        if !metadata_only {
            out["output"] = json!(output);
        }
    }
    if let Some(e) = outcome.error {
        out["error"] = json!(e);
    }
    if let Some(c) = outcome.cause {
        out["cause"] = json!(c);
    }
    Ok(reply(&out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    state_machine_arn: Option<String>,
    status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    map_run_arn: Option<String>,
    #[allow(dead_code)]
    redrive_filter: Option<String>,
}

const STATUSES: [&str; 6] = [
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "TIMED_OUT",
    "ABORTED",
    "PENDING_REDRIVE",
];

pub(super) fn list(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: ListInput = parse(body)?;
    let size = page_size(input.max_results, 1000)?;
    check_opt_len("nextToken", input.next_token.as_deref(), 1, 3096)?;
    if input.map_run_arn.is_some() {
        return Err(ApiError::new(
            "ResourceNotFound",
            "Spate runs no Distributed Map runs: mapRunArn names nothing",
        ));
    }
    if let Some(s) = input.status_filter.as_deref()
        && !STATUSES.contains(&s)
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{s}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            STATUSES.join(", ")
        )));
    }
    let Some(machine_arn) = input.state_machine_arn else {
        return Err(ApiError::validation(
            "Must provide a StateMachine ARN or MapRun ARN",
        ));
    };
    let resolved = api.resolve_machine(&machine_arn)?;
    let version_arn = resolved
        .published
        .as_ref()
        .map(|p| api.arns.version(&resolved.entry.record.name, p.number));
    let name = resolved.entry.record.name.clone();
    let below = match input.next_token.as_deref().map(decode_token).transpose()? {
        None => u64::MAX,
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::new("InvalidToken", format!("Invalid Token: '{t}'")))?,
    };
    let status = input.status_filter;
    let page = api.store.newest(below, size + 1, |r| {
        r.machine_name == name
            && (version_arn.is_none() || r.version_arn == version_arn)
            && status.as_deref().is_none_or(|s| r.outcome().status == s)
    });
    let items: Vec<Json> = page
        .iter()
        .take(size)
        .map(|r| {
            let outcome = r.outcome();
            let mut item = json!({
                "executionArn": r.arn,
                "stateMachineArn": r.machine_arn,
                "name": r.name,
                "status": outcome.status,
                "startDate": epoch_seconds(r.start),
            });
            if let Some(stop) = outcome.stop {
                item["stopDate"] = json!(epoch_seconds(stop));
            }
            if let Some(v) = &r.version_arn {
                item["stateMachineVersionArn"] = json!(v);
            }
            item
        })
        .collect();
    let mut out = json!({ "executions": items });
    if page.len() > size {
        out["nextToken"] = json!(encode_token(&page[size - 1].seq.to_string()));
    }
    Ok(reply(&out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopInput {
    execution_arn: String,
    error: Option<String>,
    cause: Option<String>,
}

pub(super) fn stop(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: StopInput = parse(body)?;
    check_opt_len("error", input.error.as_deref(), 0, 256)?;
    check_opt_len("cause", input.cause.as_deref(), 0, 32_768)?;
    let record = api.execution(&input.execution_arn)?;
    if record.running() {
        *record.stop_reason.lock().unwrap_or_else(|p| p.into_inner()) = Some((
            input.error.unwrap_or_default(),
            input.cause.unwrap_or_default(),
        ));
        if let Some(id) = record.id.get() {
            api.runtime.cancel(*id);
        }
    }
    Ok(reply(&json!({ "stopDate": epoch_seconds(now()) })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryInput {
    execution_arn: String,
    max_results: Option<i64>,
    #[serde(default)]
    reverse_order: bool,
    next_token: Option<String>,
    include_execution_data: Option<bool>,
}

pub(super) fn get_history(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: HistoryInput = parse(body)?;
    let size = page_size(input.max_results, 1000)?;
    check_opt_len("nextToken", input.next_token.as_deref(), 1, 1024)?;
    let record = api.execution(&input.execution_arn)?;
    let skip: usize = match input.next_token.as_deref().map(decode_token).transpose()? {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::new("InvalidToken", format!("Invalid Token: '{t}'")))?,
    };
    let events = record
        .history
        .as_ref()
        .map(|h| h.events())
        .unwrap_or_default();
    let previous: Vec<Option<u32>> = (0..events.len())
        .map(|i| i.checked_sub(1).map(|p| events[p].id))
        .collect();
    let mut indexed: Vec<usize> = (0..events.len()).collect();
    if input.reverse_order {
        indexed.reverse();
    }
    let resources = history::task_resources(&record.version.definition);
    let include = input.include_execution_data.unwrap_or(true);
    let items: Vec<Json> = indexed
        .iter()
        .skip(skip)
        .take(size)
        .map(|&i| {
            history::to_aws(
                &events[i],
                previous[i],
                include,
                &resources,
                api.region(),
                &record.role_arn,
            )
        })
        .collect();
    let mut out = json!({ "events": items });
    if skip + size < events.len() {
        out["nextToken"] = json!(encode_token(&(skip + size).to_string()));
    }
    Ok(reply(&out))
}

pub(super) fn describe_machine_for(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: ExecutionArnInput = parse(body)?;
    let record = api.execution(&input.execution_arn)?;
    Ok(reply(&json!({
        "stateMachineArn": record.version_arn.clone().unwrap_or_else(|| record.machine_arn.clone()),
        "name": record.machine_name,
        "definition": &*record.version.definition,
        "roleArn": record.role_arn,
        "updateDate": epoch_seconds(record.start),
        "loggingConfiguration": record.logging,
        "revisionId": record.version.number.to_string(),
    })))
}
