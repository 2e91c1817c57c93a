//! Queries: state machines, executions (filtered, paged), one execution,
//! validation, TestState, metrics, pipelines.

use super::types::*;
use super::{api_error, require};
use crate::console::graph::Graph as GraphModel;
use crate::console::journal::Filter;
use crate::console::scopes::Scope;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use base64::Engine as _;
use spate_engine::time::Timestamp;

/// A state machine.
pub struct StateMachine(pub crate::api::bridge::MachineView);

#[Object]
impl StateMachine {
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its ARN.
    async fn arn(&self) -> &str {
        &self.0.arn
    }
    /// `EXPRESS` or `STANDARD`.
    #[graphql(name = "type")]
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The ASL JSON text of its latest version.
    async fn definition(&self) -> &str {
        &self.0.definition
    }
    /// The graph of its definition.
    async fn graph(&self) -> Graph {
        Graph::from(&GraphModel::of_text(&self.0.definition).unwrap_or_default())
    }
    /// Validation problems of its definition.
    async fn diagnostics(&self) -> Vec<Diagnostic> {
        diagnostics(&self.0.definition)
    }
    /// Its published versions.
    async fn versions(&self) -> Vec<StateMachineVersion> {
        self.0
            .versions
            .iter()
            .map(|(arn, number, description, created)| StateMachineVersion {
                arn: arn.clone(),
                version: *number as i32,
                description: description.clone(),
                created_at: iso(Timestamp::from_unix_nanos(created * 1_000_000)),
            })
            .collect()
    }
    /// When it was created.
    async fn created_at(&self) -> String {
        iso(Timestamp::from_unix_nanos(self.0.created_ms * 1_000_000))
    }
}

/// Which executions to list.
#[derive(InputObject, Default)]
pub struct ExecutionFilter {
    /// Of this state machine.
    state_machine: Option<String>,
    /// In this status.
    status: Option<ExecutionStatus>,
    /// Ended with this error.
    error: Option<String>,
    /// Started at or after (ISO-8601).
    started_after: Option<String>,
    /// Started before (ISO-8601).
    started_before: Option<String>,
    /// With this Kafka key.
    key: Option<String>,
}

impl ExecutionFilter {
    fn journal_filter(self) -> Result<Filter> {
        let time = |field: &str, t: Option<String>| -> Result<Option<Timestamp>> {
            t.map(|text| {
                Timestamp::parse_checked(&text).map_err(|e| {
                    async_graphql::Error::new(format!(
                        "filter.{field}: '{text}' is refused ({e}); give an ISO-8601 time like 2026-01-02T03:04:05.000Z"
                    ))
                })
            })
            .transpose()
        };
        Ok(Filter {
            machine: self.state_machine,
            status: self.status.map(|s| s.name().to_string()),
            error: self.error,
            started_after: time("startedAfter", self.started_after)?,
            started_before: time("startedBefore", self.started_before)?,
            key: self.key,
        })
    }
}

/// A page of executions.
#[derive(SimpleObject)]
pub struct ExecutionConnection {
    /// The executions, newest first.
    edges: Vec<ExecutionEdge>,
    /// Where the page ends.
    page_info: PageInfo,
}

/// One execution of a page.
#[derive(SimpleObject)]
pub struct ExecutionEdge {
    /// Its cursor.
    cursor: String,
    /// The execution.
    node: ExecutionSummary,
}

/// Paging.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Whether more follow.
    has_next_page: bool,
    /// The last edge's cursor.
    end_cursor: Option<String>,
}

fn encode_cursor(seq: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("seq:{seq}"))
}

fn decode_cursor(cursor: &str) -> Result<u64> {
    base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix("seq:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            async_graphql::Error::new(format!("'{cursor}' is not a cursor of executions"))
        })
}

/// TestState's input.
#[derive(InputObject)]
pub struct TestStateInput {
    /// A state, or a state machine with `stateName`.
    definition: String,
    /// The state of a state machine.
    state_name: Option<String>,
    /// The input (JSON text).
    input: Option<String>,
    /// A mocked result (JSON text).
    mock: Option<String>,
    /// INFO, DEBUG or TRACE.
    inspection_level: Option<String>,
}

/// TestState's answer.
#[derive(SimpleObject)]
pub struct TestStateResult {
    /// SUCCEEDED, FAILED, CAUGHT_ERROR or RETRIABLE.
    status: String,
    /// Output.
    output: Option<String>,
    /// Error.
    error: Option<String>,
    /// Cause.
    cause: Option<String>,
    /// The state entered next.
    next_state: Option<String>,
    /// Inspection data (JSON text).
    inspection_data: Option<String>,
}

/// The root of queries.
pub struct Query;

#[Object]
impl Query {
    /// Every state machine.
    async fn state_machines(&self, ctx: &Context<'_>) -> Result<Vec<StateMachine>> {
        let console = require(ctx, Scope::Read)?;
        Ok(console
            .api
            .machines()
            .into_iter()
            .map(StateMachine)
            .collect())
    }

    /// The state machine named `name`.
    async fn state_machine(&self, ctx: &Context<'_>, name: String) -> Result<Option<StateMachine>> {
        let console = require(ctx, Scope::Read)?;
        Ok(console.api.machine(&name).map(StateMachine))
    }

    /// Executions of the journal, newest first.
    async fn executions(
        &self,
        ctx: &Context<'_>,
        filter: Option<ExecutionFilter>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> Result<ExecutionConnection> {
        let console = require(ctx, Scope::Read)?;
        if !(1..=1000).contains(&first) {
            return Err(async_graphql::Error::new(format!(
                "first: {first} is out of range 1..=1000"
            )));
        }
        let below = after.as_deref().map(decode_cursor).transpose()?;
        let filter = filter.unwrap_or_default().journal_filter()?;
        let size = first as usize;
        let page = console
            .journal
            .newest(below.unwrap_or(u64::MAX), size + 1, &filter);
        let edges: Vec<ExecutionEdge> = page
            .iter()
            .take(size)
            .map(|e| ExecutionEdge {
                cursor: encode_cursor(e.seq),
                node: e.summary().into(),
            })
            .collect();
        Ok(ExecutionConnection {
            page_info: PageInfo {
                has_next_page: page.len() > size,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }

    /// The execution of ARN `id`, if the journal holds it.
    async fn execution(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Execution>> {
        let console = require(ctx, Scope::Read)?;
        Ok(console.execution(&id))
    }

    /// The problems of a definition, each tied to its node.
    async fn validate_definition(
        &self,
        ctx: &Context<'_>,
        definition: String,
    ) -> Result<Vec<Diagnostic>> {
        require(ctx, Scope::Read)?;
        Ok(diagnostics(&definition))
    }

    /// Runs one state on an input, as AWS's TestState.
    async fn test_state(
        &self,
        ctx: &Context<'_>,
        input: TestStateInput,
    ) -> Result<TestStateResult> {
        let console = require(ctx, Scope::Start)?;
        let mut body = serde_json::json!({
            "definition": input.definition,
            "roleArn": "arn:aws:iam::000000000000:role/console",
        });
        if let Some(v) = input.state_name {
            body["stateName"] = v.into();
        }
        if let Some(v) = input.input {
            body["input"] = v.into();
        }
        if let Some(v) = input.mock {
            body["mock"] = serde_json::json!({"result": v});
        }
        if let Some(v) = input.inspection_level {
            body["inspectionLevel"] = v.into();
        }
        let out = console
            .api
            .call("TestState", &body)
            .await
            .map_err(api_error)?;
        let text = |key: &str| out.get(key).and_then(|v| v.as_str()).map(str::to_string);
        Ok(TestStateResult {
            status: text("status").unwrap_or_default(),
            output: text("output"),
            error: text("error"),
            cause: text("cause"),
            next_state: text("nextState"),
            inspection_data: out.get("inspectionData").map(ToString::to_string),
        })
    }

    /// The latest second of numbers, for one state machine or all.
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        state_machine: Option<String>,
    ) -> Result<MetricsTickView> {
        let console = require(ctx, Scope::Read)?;
        let tick = console.metrics.latest();
        Ok(MetricsTickView::of(&tick, state_machine.as_deref()))
    }

    /// The pipelines (none under `spate serve`).
    async fn pipelines(&self, ctx: &Context<'_>) -> Result<Vec<Pipeline>> {
        let console = require(ctx, Scope::Read)?;
        Ok(console.pipelines.clone())
    }
}
