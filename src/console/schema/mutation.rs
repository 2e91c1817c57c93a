//! Mutations: start (asynchronously or to the end), stop, and answer a
//! task token, through the API's own handlers.

use super::types::{Execution, ExecutionStatus};
use super::{Console, api_error, require};
use crate::console::journal::Source;
use crate::console::scopes::Scope;
use async_graphql::{Context, ID, Object, Result};
use std::time::Duration;

/// The root of mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Starts an execution of `stateMachine` (its history recorded).
    async fn start_execution(
        &self,
        ctx: &Context<'_>,
        state_machine: String,
        input: Option<String>,
        name: Option<String>,
    ) -> Result<Execution> {
        let console = require(ctx, Scope::Start)?;
        start(console, &state_machine, input, name)
    }

    /// Starts an execution of an Express `stateMachine` and answers once
    /// it ended.
    async fn start_sync_execution(
        &self,
        ctx: &Context<'_>,
        state_machine: String,
        input: Option<String>,
        name: Option<String>,
    ) -> Result<Execution> {
        let console = require(ctx, Scope::Start)?;
        if let Some(kind) = console.api.machine_kind(&state_machine)
            && kind != "EXPRESS"
        {
            return Err(async_graphql::Error::new(format!(
                "startSyncExecution runs Express state machines: '{state_machine}' is {kind}"
            )));
        }
        let mut updates = console.journal.updates();
        let started = start(console, &state_machine, input, name)?;
        let arn = started.id.to_string();
        while console
            .execution(&arn)
            .is_some_and(|e| e.status == ExecutionStatus::Running)
        {
            // Woken by the journal's updates, or every 100 ms at least.
            let _ = tokio::time::timeout(Duration::from_millis(100), updates.recv()).await;
        }
        console
            .execution(&arn)
            .ok_or_else(|| async_graphql::Error::new("the execution left the journal"))
    }

    /// Stops a running execution (`ABORTED`, with the error and cause).
    async fn stop_execution(
        &self,
        ctx: &Context<'_>,
        id: ID,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<Execution> {
        let console = require(ctx, Scope::Start)?;
        let body = with_error_and_cause(
            serde_json::json!({ "executionArn": id.to_string() }),
            error,
            cause,
        );
        console
            .api
            .call("StopExecution", &body)
            .await
            .map_err(api_error)?;
        // The abort reaches the shard, then the record: wait briefly.
        for _ in 0..50 {
            match console.execution(&id) {
                Some(e) if e.status != ExecutionStatus::Running => return Ok(e),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        console
            .execution(&id)
            .ok_or_else(|| async_graphql::Error::new("the execution left the journal"))
    }

    /// Answers a `.waitForTaskToken` or activity task with its output.
    async fn send_task_success(
        &self,
        ctx: &Context<'_>,
        token: String,
        output: String,
    ) -> Result<bool> {
        let console = require(ctx, Scope::Start)?;
        let body = serde_json::json!({ "taskToken": token, "output": output });
        console
            .api
            .call("SendTaskSuccess", &body)
            .await
            .map_err(api_error)?;
        Ok(true)
    }

    /// Fails a `.waitForTaskToken` or activity task.
    async fn send_task_failure(
        &self,
        ctx: &Context<'_>,
        token: String,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<bool> {
        let console = require(ctx, Scope::Start)?;
        let body = with_error_and_cause(serde_json::json!({ "taskToken": token }), error, cause);
        console
            .api
            .call("SendTaskFailure", &body)
            .await
            .map_err(api_error)?;
        Ok(true)
    }
}

/// `body` with the optional `error` and `cause` members an AWS action
/// takes (StopExecution, SendTaskFailure).
fn with_error_and_cause(
    mut body: serde_json::Value,
    error: Option<String>,
    cause: Option<String>,
) -> serde_json::Value {
    if let Some(e) = error {
        body["error"] = e.into();
    }
    if let Some(c) = cause {
        body["cause"] = c.into();
    }
    body
}

fn start(
    console: &Console,
    machine: &str,
    input: Option<String>,
    name: Option<String>,
) -> Result<Execution> {
    let (record, _) = console
        .api
        .start_recorded(machine, name, input)
        .map_err(api_error)?;
    let entry = console.journal.add_stored(&record, Source::Console);
    Ok(Execution::of(&entry))
}
