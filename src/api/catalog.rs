//! What the API knows about each state machine beyond its definitions
//! (which the engine's registry holds): type, role, dates, tags, logging,
//! every revision's definition and the published versions. A record is
//! replaced whole (copy, change, persist, swap), one change at a time, so a
//! change that fails leaves the record, the registry and the data directory
//! as they were.

use super::errors::{ApiError, ApiResult};
use super::persist::{DataDir, Folder};
use super::protocol::now;
use serde::{Deserialize, Serialize};
use spate_engine::interp::LogLevel;
use spate_engine::registry::{Registry, RegistryError, StateMachine};
use spate_ingest::exec_log::{ExecutionLogs, LogDestination, LogSettings};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// A tag (`key`, `value`), as the model's `Tag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// 1 to 128 characters.
    pub key: String,
    /// 0 to 256 characters.
    #[serde(default)]
    pub value: String,
}

/// The model's `LoggingConfiguration`. The level and
/// `includeExecutionData` set the state machine's execution log, written
/// to `[api] log_destination`; the CloudWatch `destinations` are accepted
/// and kept, not used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logging {
    /// `ALL`, `ERROR`, `FATAL` or `OFF`; executions keep their history in
    /// the store when it is `ALL`.
    #[serde(default = "off")]
    pub level: String,
    /// Whether history events carry inputs and outputs.
    #[serde(default)]
    pub include_execution_data: bool,
    /// Where AWS would send the logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destinations: Option<serde_json::Value>,
}

fn off() -> String {
    "OFF".to_string()
}

impl Logging {
    /// The level and `includeExecutionData` `machine` logs with (set by
    /// whoever registered it: a pipeline's `[pipeline.logging]`).
    fn of(machine: &StateMachine) -> Logging {
        let (level, include_execution_data) = machine.logging_level();
        Logging {
            level: level.name().to_string(),
            include_execution_data,
            destinations: None,
        }
    }
}

impl Default for Logging {
    fn default() -> Logging {
        Logging {
            level: off(),
            include_execution_data: false,
            destinations: None,
        }
    }
}

/// A published version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// Its number in the ARN (`stateMachine:<name>:<number>`), from 1.
    pub number: u32,
    /// The registry version (revision) it froze.
    pub revision: u32,
    /// When it was published (epoch milliseconds).
    pub created_ms: i64,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
}

/// Everything the API keeps about one state machine (also its file in the
/// data directory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineRecord {
    /// Its name.
    pub name: String,
    /// `STANDARD` or `EXPRESS` (both run on the same engine).
    pub kind: String,
    /// `roleArn` as given.
    pub role_arn: String,
    /// Creation date (epoch milliseconds).
    pub created_ms: i64,
    /// Last update (epoch milliseconds).
    pub updated_ms: i64,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Its logging configuration.
    #[serde(default)]
    pub logging: Logging,
    /// `tracingConfiguration.enabled`.
    #[serde(default)]
    pub tracing: bool,
    /// Every revision's definition, oldest first (revision `i + 1`).
    pub revisions: Vec<String>,
    /// Published versions, oldest first.
    #[serde(default)]
    pub published: Vec<Published>,
}

impl MachineRecord {
    /// A record for a state machine some other part of the host registered
    /// (a pipeline's), which the API did not create.
    fn adopted(machine: &StateMachine) -> MachineRecord {
        let created = now().unix_millis();
        MachineRecord {
            name: machine.name().to_string(),
            kind: "EXPRESS".to_string(),
            role_arn: "arn:aws:iam::000000000000:role/spate".to_string(),
            created_ms: created,
            updated_ms: created,
            tags: Vec::new(),
            logging: Logging::of(machine),
            tracing: false,
            revisions: machine
                .versions()
                .iter()
                .map(|v| v.definition.to_string())
                .collect(),
            published: Vec::new(),
        }
    }
}

/// A state machine as the API sees it: the registry's entry and its record.
#[derive(Clone)]
pub struct Entry {
    /// The registry's entry (definitions and plans).
    pub machine: Arc<StateMachine>,
    /// The API's record.
    pub record: Arc<MachineRecord>,
}

/// State machine records by name, over the registry.
pub struct Catalog {
    registry: Arc<Registry>,
    records: RwLock<HashMap<String, Arc<MachineRecord>>>,
    /// Held by every change, so changes happen one at a time.
    writer: Mutex<()>,
    dir: Option<DataDir>,
    /// The writers of the execution logs its state machines configure.
    logs: Mutex<ExecutionLogs>,
    /// Where those logs go.
    log_destination: LogDestination,
}

/// A persistence failure: the change was not made.
fn io_error(what: &str, e: std::io::Error) -> ApiError {
    ApiError::new("InternalFailure", format!("cannot persist {what}: {e}"))
        .with_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
}

impl Catalog {
    /// A catalog over `registry`, restoring the state machines of `dir`;
    /// execution logs go to `log_destination`.
    pub fn open(
        registry: Arc<Registry>,
        dir: Option<DataDir>,
        log_destination: LogDestination,
    ) -> anyhow::Result<Catalog> {
        let catalog = Catalog {
            registry,
            records: RwLock::default(),
            writer: Mutex::new(()),
            dir,
            logs: Mutex::default(),
            log_destination,
        };
        if let Some(dir) = &catalog.dir {
            for (path, bytes) in dir.read_all(Folder::StateMachines)? {
                let record: MachineRecord = serde_json::from_slice(&bytes).map_err(|e| {
                    anyhow::anyhow!("{}: not a state machine record: {e}", path.display())
                })?;
                let machine = restore(&catalog.registry, &record)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                catalog
                    .apply_logging(&machine, &record.logging)
                    .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message))?;
                catalog
                    .records
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(record.name.clone(), Arc::new(record));
            }
        }
        Ok(catalog)
    }

    /// Makes `machine`'s executions log as `logging` says, to this
    /// catalog's destination (the writer starts with the first machine
    /// that logs).
    fn apply_logging(&self, machine: &StateMachine, logging: &Logging) -> ApiResult<()> {
        let level = LogLevel::ALL_LEVELS
            .into_iter()
            .find(|l| l.name() == logging.level)
            .unwrap_or(LogLevel::Off);
        let settings = LogSettings {
            level,
            include_execution_data: logging.include_execution_data,
            destination: self.log_destination.clone(),
        };
        self.logs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .attach(machine, &settings)
            .map_err(|e| io_error(&format!("the execution log ({})", self.log_destination), e))
    }

    /// Writes what the execution logs hold and stops their writers.
    pub fn close_logs(&self) {
        let logs = std::mem::take(&mut *self.logs.lock().unwrap_or_else(|p| p.into_inner()));
        for error in logs.shutdown().1 {
            log::warn!("{error}");
        }
    }

    /// The state machine named `name`, if any.
    pub fn get(&self, name: &str) -> Option<Entry> {
        let machine = self.registry.get(name)?;
        let record = self
            .records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::new(MachineRecord::adopted(&machine)));
        Some(Entry { machine, record })
    }

    /// Every state machine, by name.
    pub fn list(&self) -> Vec<Entry> {
        self.registry
            .list()
            .iter()
            .filter_map(|m| self.get(m.name()))
            .collect()
    }

    /// Creates a state machine (`record` has its first revision). The same
    /// name, definition, type and role again return the existing one.
    pub fn create(&self, record: MachineRecord) -> ApiResult<Entry> {
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = self.get(&record.name) {
            let same = existing.record.kind == record.kind
                && existing.record.role_arn == record.role_arn
                && *existing.machine.latest().definition == *record.revisions[0];
            return if same {
                Ok(existing)
            } else {
                Err(ApiError::new(
                    "StateMachineAlreadyExists",
                    format!(
                        "State Machine Already Exists: '{}' (with another definition, type or role)",
                        record.name
                    ),
                ))
            };
        }
        let machine = self
            .registry
            .create(&record.name, &record.revisions[0])
            .map_err(definition_error)?;
        if let Err(e) = self
            .apply_logging(&machine, &record.logging)
            .and_then(|()| self.persist(&record))
        {
            self.registry.delete(&record.name);
            return Err(e);
        }
        let record = Arc::new(record);
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.name.clone(), Arc::clone(&record));
        Ok(Entry { machine, record })
    }

    /// Changes the record of `name` with `change`, which may add a revision
    /// (a new definition, already validated by the caller) by pushing it to
    /// `revisions`. Returns the new record.
    pub fn change(
        &self,
        name: &str,
        change: impl FnOnce(&mut MachineRecord) -> ApiResult<()>,
    ) -> ApiResult<Entry> {
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let entry = self.get(name).ok_or_else(|| does_not_exist(name))?;
        let mut record = (*entry.record).clone();
        let revisions_before = record.revisions.len();
        change(&mut record)?;
        record.updated_ms = now().unix_millis();
        let new_definition = record.revisions[revisions_before..].first().cloned();
        if let Some(definition) = &new_definition {
            // Compile before persisting, so a definition the registry would
            // refuse leaves the file as it was.
            let options = spate_engine::plan::CompileOptions {
                name: name.to_string(),
                ..Default::default()
            };
            spate_engine::plan::from_definition(definition, &options)
                .map_err(|d| definition_error(RegistryError::InvalidDefinition(d)))?;
        }
        if record.logging != entry.record.logging {
            self.apply_logging(&entry.machine, &record.logging)?;
        }
        self.persist(&record)?;
        if let Some(definition) = &new_definition {
            self.registry
                .update(name, definition)
                .map_err(definition_error)?;
        }
        let record = Arc::new(record);
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), Arc::clone(&record));
        Ok(Entry {
            machine: entry.machine,
            record,
        })
    }

    /// Deletes `name` (running executions finish on their versions);
    /// `false` if there was none.
    pub fn delete(&self, name: &str) -> ApiResult<bool> {
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if self.registry.get(name).is_none() {
            return Ok(false);
        }
        if let Some(dir) = &self.dir {
            dir.remove(Folder::StateMachines, name)
                .map_err(|e| io_error(name, e))?;
        }
        self.registry.delete(name);
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        Ok(true)
    }

    fn persist(&self, record: &MachineRecord) -> ApiResult<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let bytes = serde_json::to_vec_pretty(record).expect("records serialize");
        dir.write(Folder::StateMachines, &record.name, &bytes)
            .map_err(|e| io_error(&record.name, e))
    }
}

/// Registers a persisted state machine: its first revision, then each
/// update, so revision numbers are as before the restart.
fn restore(
    registry: &Registry,
    record: &MachineRecord,
) -> Result<Arc<StateMachine>, RegistryError> {
    let mut revisions = record.revisions.iter();
    let first = revisions
        .next()
        .ok_or_else(|| RegistryError::DoesNotExist(record.name.as_str().into()))?;
    let machine = registry.create(&record.name, first)?;
    for definition in revisions {
        registry.update(&record.name, definition)?;
    }
    Ok(machine)
}

/// `StateMachineDoesNotExist` for `name`.
pub fn does_not_exist(name: &str) -> ApiError {
    ApiError::new(
        "StateMachineDoesNotExist",
        format!("State Machine Does Not Exist: '{name}'"),
    )
}

/// A registry refusal as AWS's error.
pub fn definition_error(e: RegistryError) -> ApiError {
    match e {
        RegistryError::InvalidDefinition(d) => ApiError::new(
            "InvalidDefinition",
            format!(
                "Invalid State Machine Definition: {}",
                d.0.iter()
                    .map(|d| format!("{}: {d}", d.code))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        RegistryError::AlreadyExists(name) => ApiError::new(
            "StateMachineAlreadyExists",
            format!("State Machine Already Exists: '{name}'"),
        ),
        RegistryError::DoesNotExist(name) => does_not_exist(&name),
    }
}
