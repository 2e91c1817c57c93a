//! Callbacks: SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat, for
//! `.waitForTaskToken` tasks and activity tasks alike.

use super::Api;
use super::errors::{ApiError, ApiResult};
use super::protocol::{check_len, check_opt_len, empty, parse};
use axum::response::Response;
use serde::Deserialize;
use spate_engine::task::CallbackError;
use spate_engine::value::parse_json_str;

fn callback_error(e: CallbackError) -> ApiError {
    match e {
        // A token no task of this process was given (made up, or from
        // before a restart) is, to a client, as invalid as a malformed one.
        CallbackError::InvalidToken | CallbackError::TaskDoesNotExist => {
            ApiError::new("InvalidToken", format!("Invalid Token: {e}"))
        }
        CallbackError::TaskTimedOut => ApiError::new(
            "TaskTimedOut",
            "Task Timed Out: the task of this token timed out, was answered already, or its execution ended",
        ),
        CallbackError::ShuttingDown => ApiError::unavailable("the server is shutting down"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SuccessInput {
    task_token: String,
    output: String,
}

pub(super) async fn success(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: SuccessInput = parse(body)?;
    check_len("taskToken", &input.task_token, 1, 2048)?;
    check_len("output", &input.output, 0, 262_144)?;
    let output = parse_json_str(&input.output).map_err(|e| {
        ApiError::new(
            "InvalidOutput",
            format!("Invalid Output: the output is not JSON: {e}"),
        )
    })?;
    api.runtime
        .send_task_success(&input.task_token, output)
        .await
        .map_err(callback_error)?;
    Ok(empty())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FailureInput {
    task_token: String,
    error: Option<String>,
    cause: Option<String>,
}

pub(super) async fn failure(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: FailureInput = parse(body)?;
    check_len("taskToken", &input.task_token, 1, 2048)?;
    check_opt_len("error", input.error.as_deref(), 0, 256)?;
    check_opt_len("cause", input.cause.as_deref(), 0, 32_768)?;
    api.runtime
        .send_task_failure(
            &input.task_token,
            input.error.as_deref().unwrap_or(""),
            input.cause.as_deref().unwrap_or(""),
        )
        .await
        .map_err(callback_error)?;
    Ok(empty())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeartbeatInput {
    task_token: String,
}

pub(super) async fn heartbeat(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: HeartbeatInput = parse(body)?;
    check_len("taskToken", &input.task_token, 1, 2048)?;
    api.runtime
        .send_task_heartbeat(&input.task_token)
        .await
        .map_err(callback_error)?;
    Ok(empty())
}
