//! What the web console (`crate::console`) uses of the API: the same
//! catalog, execution store and action handlers, so a start, a stop or a
//! TestState from the console takes the AWS API's own code path.

use super::Api;
use super::errors::{ApiError, ApiResult};
use super::executions::{StartInput, start_recorded};
use super::protocol::Action;
use spate_engine::time::Timestamp;
use std::sync::Arc;

pub use super::auth::Auth;
pub use super::errors::ApiError as Error;
pub use super::store::{ExecutionRecord, RecordedHistory};

/// Told of the executions the store keeps. `finished` is called on the
/// shard thread that ran the execution: it must not block.
pub trait ExecutionObserver: Send + Sync {
    /// An execution was stored and is about to be submitted (by the
    /// console when `console`).
    fn started(&self, record: &Arc<ExecutionRecord>, console: bool);
    /// A stored execution ended.
    fn finished(&self, record: &Arc<ExecutionRecord>);
    /// An execution `started` announced was refused by the runtime and
    /// removed from the store.
    fn refused(&self, record: &Arc<ExecutionRecord>);
}

/// A state machine as the console lists it.
pub struct MachineView {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// `EXPRESS` or `STANDARD`.
    pub kind: String,
    /// Its latest definition.
    pub definition: Arc<str>,
    /// When it was created (epoch milliseconds).
    pub created_ms: i64,
    /// Its published versions: ARN, number, description, creation (epoch ms).
    pub versions: Vec<(String, u32, Option<String>, i64)>,
}

impl Api {
    /// Sets the observer of stored executions (once; later calls are
    /// ignored).
    pub fn observe_executions(&self, observer: Arc<dyn ExecutionObserver>) {
        let _ = self.observer.set(observer);
    }

    /// The authentication mode of the API.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Every state machine, by name.
    pub fn machines(&self) -> Vec<MachineView> {
        self.catalog
            .list()
            .iter()
            .map(|entry| self.view(entry))
            .collect()
    }

    /// The state machine named `name`.
    pub fn machine(&self, name: &str) -> Option<MachineView> {
        self.catalog.get(name).map(|entry| self.view(&entry))
    }

    fn view(&self, entry: &super::catalog::Entry) -> MachineView {
        let record = &entry.record;
        MachineView {
            name: record.name.clone(),
            arn: self.arns.state_machine(&record.name),
            kind: record.kind.clone(),
            definition: Arc::clone(&entry.machine.latest().definition),
            created_ms: record.created_ms,
            versions: record
                .published
                .iter()
                .map(|p| {
                    (
                        self.arns.version(&record.name, p.number),
                        p.number,
                        p.description.clone(),
                        p.created_ms,
                    )
                })
                .collect(),
        }
    }

    /// Starts an execution of the state machine named `machine`, stored
    /// and with its history recorded, as StartExecution does.
    pub fn start_recorded(
        &self,
        machine: &str,
        name: Option<String>,
        input: Option<String>,
    ) -> ApiResult<(Arc<ExecutionRecord>, Timestamp)> {
        start_recorded(
            self,
            StartInput {
                state_machine_arn: self.arns.state_machine(machine),
                name,
                input,
                trace_header: None,
                included_data: None,
            },
            true,
        )
    }

    /// `STANDARD` or `EXPRESS`, for the state machine named `machine`.
    pub fn machine_kind(&self, machine: &str) -> Option<String> {
        self.catalog.get(machine).map(|e| e.record.kind.clone())
    }

    /// Runs one action of the AWS API on a JSON body, as a request would,
    /// credentials aside (the caller checked them); the answer's body as
    /// JSON.
    pub async fn call(
        &self,
        action: &str,
        body: &serde_json::Value,
    ) -> ApiResult<serde_json::Value> {
        let action = Action::ALL
            .into_iter()
            .find(|a| a.name() == action)
            .ok_or_else(|| ApiError::validation(format!("no action is named {action}")))?;
        let bytes = serde_json::to_vec(body).expect("JSON serialises");
        let response = self.dispatch(action, &bytes).await?;
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| ApiError::unavailable(format!("cannot read the answer: {e}")))?;
        if body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::unavailable(format!("the answer is not JSON: {e}")))
    }
}
