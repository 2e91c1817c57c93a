//! The state machines a host knows, by name, each with its versions.
//!
//! A state machine is created from its definition (validated and compiled
//! once) and every update adds a version; its latest version is what new
//! executions run. An execution holds its version's plan for its whole life,
//! so running executions keep the version they started on, whatever happens
//! to the state machine afterwards (an update, even a deletion). Pipelines,
//! `spate bench`, `spate exec` and the API all start executions through an
//! entry of a registry ([`StateMachine::submission`]).

use crate::Diagnostics;
use crate::interp::{ArrivalNumbering, History, HistorySink, LogLevel};
use crate::plan::{CompileOptions, Plan, from_definition};
use crate::runtime::{CompletionSink, MachineLabel, Submission};
use crate::value::{Str, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// One version of a state machine: its definition and compiled plan.
#[derive(Debug)]
pub struct Version {
    /// 1 for the definition the state machine was created with, then one
    /// more for each update.
    pub number: u32,
    /// The definition as given.
    pub definition: Arc<str>,
    /// The compiled plan executions of this version run.
    pub plan: Arc<Plan>,
}

/// A named state machine and its versions.
#[derive(Debug)]
pub struct StateMachine {
    name: Str,
    /// What its executions count under in the runtime's metrics.
    label: MachineLabel,
    versions: RwLock<Vec<Arc<Version>>>,
    /// Where its executions' logs go, unless its level is `OFF`.
    logging: RwLock<Option<History>>,
    /// `logging` is set: read before the lock, so that a state machine
    /// that does not log pays one relaxed load per execution.
    logging_on: AtomicBool,
    /// The registry's observer, shared by all its state machines.
    observer: Arc<ObserverSlot>,
}

/// Watches the executions started through a registry's state machines (the
/// web console's journal): sees each submission [`StateMachine::submission`]
/// builds, and may wrap its completion sink or attach a history. Called on
/// the submitting thread (a pipeline's, an API thread): it must not block.
pub trait Observer: Send + Sync {
    /// One execution of `machine` is about to be submitted; `key` is its
    /// placement key as text (a Kafka record's key), when it has one.
    fn observe(&self, machine: &StateMachine, submission: &mut Submission, key: Option<&[u8]>);
}

/// Where a registry keeps its observer: read before the lock, so that a
/// registry nobody observes costs one relaxed load per execution.
#[derive(Default)]
struct ObserverSlot {
    on: AtomicBool,
    observer: RwLock<Option<Arc<dyn Observer>>>,
}

impl std::fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObserverSlot")
            .field("on", &self.on.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ObserverSlot {
    fn get(&self) -> Option<Arc<dyn Observer>> {
        if !self.on.load(Ordering::Relaxed) {
            return None;
        }
        self.observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How a state machine's executions log: AWS's `loggingConfiguration`
/// (level and `includeExecutionData`), with the host's destination.
#[derive(Clone)]
pub struct Logging {
    /// Which events are logged (default `OFF`).
    pub level: LogLevel,
    /// Whether events carry inputs and outputs.
    pub include_execution_data: bool,
    /// Where the records go (the host's writer).
    pub sink: Arc<dyn HistorySink>,
}

impl StateMachine {
    /// Its name.
    pub fn name(&self) -> &Str {
        &self.name
    }

    /// What its executions count under in the runtime's metrics.
    pub fn label(&self) -> MachineLabel {
        self.label
    }

    /// Its ARN (`arn:aws:states:<region>:<account>:stateMachine:<name>`).
    pub fn arn(&self) -> Str {
        self.latest().plan.arn.clone()
    }

    /// The version new executions run.
    pub fn latest(&self) -> Arc<Version> {
        let versions = self.versions.read().unwrap_or_else(|p| p.into_inner());
        Arc::clone(versions.last().expect("a state machine has a version"))
    }

    /// Version `number`, if it exists.
    pub fn version(&self, number: u32) -> Option<Arc<Version>> {
        let versions = self.versions.read().unwrap_or_else(|p| p.into_inner());
        versions.iter().find(|v| v.number == number).cloned()
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> Vec<Arc<Version>> {
        self.versions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// An execution of the latest version, logged as [`StateMachine::set_logging`]
    /// said (no placement key or tag: set those on the result).
    pub fn submission(
        &self,
        name: impl Into<Str>,
        input: Value,
        sink: Arc<dyn CompletionSink>,
    ) -> Submission {
        self.keyed_submission(name, input, sink, None)
    }

    /// [`StateMachine::submission`] for an event with a key (its text, for
    /// the registry's [`Observer`]; set the placement key on the result).
    pub fn keyed_submission(
        &self,
        name: impl Into<Str>,
        input: Value,
        sink: Arc<dyn CompletionSink>,
        key: Option<&[u8]>,
    ) -> Submission {
        let mut submission = Submission::new(Arc::clone(&self.latest().plan), name, input, sink);
        submission.machine = Some(self.label);
        submission.history = self.history();
        self.observe(&mut submission, key);
        submission
    }

    /// Shows a submission of this state machine built elsewhere (from a
    /// private copy of its plan) to the registry's [`Observer`], if any.
    pub fn observe(&self, submission: &mut Submission, key: Option<&[u8]>) {
        if let Some(observer) = self.observer.get() {
            observer.observe(self, submission, key);
        }
    }

    /// The history one execution gets: `None` when it does not log. At
    /// `ALL` every event is logged, so the execution's events are numbered
    /// as AWS numbers them ([`ArrivalNumbering`]); at the other levels the
    /// few logged events keep the engine's ids.
    pub fn history(&self) -> Option<History> {
        if !self.logging_on.load(Ordering::Relaxed) {
            return None;
        }
        let mut history = self
            .logging
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        if history.level == LogLevel::All {
            history.sink = Arc::new(ArrivalNumbering::new(history.sink));
        }
        Some(history)
    }

    /// Sets how its next executions log; `None` or level `OFF` turns
    /// logging off (executions then carry no history at all).
    pub fn set_logging(&self, logging: Option<Logging>) {
        let history =
            logging.and_then(|l| History::logging(l.sink, l.level, l.include_execution_data));
        let on = history.is_some();
        *self.logging.write().unwrap_or_else(|p| p.into_inner()) = history;
        self.logging_on.store(on, Ordering::Relaxed);
    }

    /// Its logging level and `includeExecutionData` (`OFF` and `false`
    /// when it does not log).
    pub fn logging_level(&self) -> (LogLevel, bool) {
        match &*self.logging.read().unwrap_or_else(|p| p.into_inner()) {
            Some(history) => (history.level, history.include_data),
            None => (LogLevel::Off, false),
        }
    }
}

/// The state-machine name a definition file gives: its file name without
/// its extensions (`orders.asl.json` is `orders`), if it has one.
pub fn name_from_path(path: &std::path::Path) -> Option<&str> {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .filter(|n| !n.is_empty())
}

/// Why a registry refused a change. Nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The definition is not valid ASL: every problem, with its JSON pointer.
    #[error("invalid definition: {0}")]
    InvalidDefinition(Diagnostics),
    /// A state machine of that name exists with another definition.
    #[error("a state machine named '{0}' already exists")]
    AlreadyExists(Str),
    /// No state machine has that name.
    #[error("no state machine is named '{0}'")]
    DoesNotExist(Str),
}

/// State machines by name.
#[derive(Debug)]
pub struct Registry {
    options: CompileOptions,
    machines: RwLock<BTreeMap<Str, Arc<StateMachine>>>,
    observer: Arc<ObserverSlot>,
}

impl Registry {
    /// An empty registry whose ARNs name `region` and `account`.
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Registry {
        Registry {
            options: CompileOptions {
                region: region.into(),
                account: account.into(),
                ..CompileOptions::default()
            },
            machines: RwLock::new(BTreeMap::new()),
            observer: Arc::default(),
        }
    }

    /// Sets (or with `None` removes) the observer of every execution
    /// started through its state machines, present and future.
    pub fn set_observer(&self, observer: Option<Arc<dyn Observer>>) {
        let on = observer.is_some();
        *self
            .observer
            .observer
            .write()
            .unwrap_or_else(|p| p.into_inner()) = observer;
        self.observer.on.store(on, Ordering::Relaxed);
    }

    /// Creates a state machine from its definition. Creating one that exists
    /// with the same definition returns it unchanged (as AWS's
    /// `CreateStateMachine` does); with another definition it is refused.
    pub fn create(&self, name: &str, definition: &str) -> Result<Arc<StateMachine>, RegistryError> {
        let version = self.compile(name, definition, 1)?;
        let mut machines = self.machines.write().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = machines.get(name) {
            return if *existing.latest().definition == *definition {
                Ok(Arc::clone(existing))
            } else {
                Err(RegistryError::AlreadyExists(Str::from(name)))
            };
        }
        let machine = Arc::new(StateMachine {
            name: Str::from(name),
            label: MachineLabel::named(name),
            versions: RwLock::new(vec![Arc::new(version)]),
            logging: RwLock::new(None),
            logging_on: AtomicBool::new(false),
            observer: Arc::clone(&self.observer),
        });
        machines.insert(Str::from(name), Arc::clone(&machine));
        Ok(machine)
    }

    /// Adds a version with a new definition; running executions keep theirs.
    pub fn update(&self, name: &str, definition: &str) -> Result<Arc<Version>, RegistryError> {
        let machine = self
            .get(name)
            .ok_or_else(|| RegistryError::DoesNotExist(Str::from(name)))?;
        let mut versions = machine.versions.write().unwrap_or_else(|p| p.into_inner());
        let number = versions.last().map_or(1, |v| v.number + 1);
        let version = Arc::new(self.compile(name, definition, number)?);
        versions.push(Arc::clone(&version));
        Ok(version)
    }

    /// A private copy of `machine`'s latest plan, for a thread that submits
    /// many executions and should not bump a reference count other cores
    /// bump too (`spate bench`'s lanes). Executions of it run that version.
    pub fn plan_copy(&self, machine: &StateMachine) -> Arc<Plan> {
        let latest = machine.latest();
        let copy = self
            .compile(&machine.name, &latest.definition, latest.number)
            .expect("a registered definition compiles again");
        copy.plan
    }

    /// The state machine named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<StateMachine>> {
        self.machines
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Removes a state machine; its running executions finish on their
    /// versions. `false` if there was none.
    pub fn delete(&self, name: &str) -> bool {
        self.machines
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name)
            .is_some()
    }

    /// Every state machine, by name.
    pub fn list(&self) -> Vec<Arc<StateMachine>> {
        self.machines
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    fn compile(&self, name: &str, definition: &str, number: u32) -> Result<Version, RegistryError> {
        let options = CompileOptions {
            name: name.to_string(),
            ..self.options.clone()
        };
        let plan =
            from_definition(definition, &options).map_err(RegistryError::InvalidDefinition)?;
        Ok(Version {
            number,
            definition: Arc::from(definition),
            plan: Arc::new(plan),
        })
    }
}

impl Default for Registry {
    /// ARNs in `us-east-1` and account `123456789012`, as
    /// [`CompileOptions::default`].
    fn default() -> Registry {
        let options = CompileOptions::default();
        Registry::new(options.region, options.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::runtime::{Completion, Runtime, RuntimeConfig};

    const V1: &str =
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": true}}}"#;
    const V2: &str =
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 2, "End": true}}}"#;
    const SLOW_V1: &str = r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"}, "P": {"Type": "Pass", "Result": 1, "End": true}}}"#;

    #[test]
    fn logging_is_attached_to_submissions_until_turned_off() {
        let registry = Registry::default();
        let machine = registry.create("orders", V1).unwrap();
        let sink: Arc<dyn CompletionSink> = Arc::new(|_: Completion| {});
        assert!(
            machine
                .submission("a", json!({}), Arc::clone(&sink))
                .history
                .is_none()
        );
        assert_eq!(machine.logging_level(), (LogLevel::Off, false));
        let log: Arc<dyn HistorySink> = Arc::new(crate::interp::HistoryBuffer::default());
        machine.set_logging(Some(Logging {
            level: LogLevel::Error,
            include_execution_data: true,
            sink: Arc::clone(&log),
        }));
        let history = machine
            .submission("b", json!({}), Arc::clone(&sink))
            .history;
        let history = history.expect("logging on");
        assert_eq!(
            (history.level, history.include_data),
            (LogLevel::Error, true)
        );
        assert_eq!(machine.logging_level(), (LogLevel::Error, true));
        machine.set_logging(Some(Logging {
            level: LogLevel::Off,
            include_execution_data: true,
            sink: log,
        }));
        assert!(machine.submission("c", json!({}), sink).history.is_none());
        assert_eq!(machine.logging_level(), (LogLevel::Off, false));
    }

    #[test]
    fn the_observer_sees_every_machines_submissions_with_their_key() {
        struct Seen(std::sync::Mutex<Vec<(String, Option<Vec<u8>>)>>);
        impl Observer for Seen {
            fn observe(&self, machine: &StateMachine, s: &mut Submission, key: Option<&[u8]>) {
                self.0.lock().unwrap().push((
                    format!("{}/{}", machine.name(), s.name),
                    key.map(<[u8]>::to_vec),
                ));
                s.tag = 42;
            }
        }
        let registry = Registry::default();
        let before = registry.create("before", V1).unwrap();
        let sink: Arc<dyn CompletionSink> = Arc::new(|_: Completion| {});
        assert_eq!(before.submission("a", json!({}), Arc::clone(&sink)).tag, 0);
        let seen = Arc::new(Seen(std::sync::Mutex::new(Vec::new())));
        registry.set_observer(Some(Arc::clone(&seen) as Arc<dyn Observer>));
        let after = registry.create("after", V1).unwrap();
        let keyed = before.keyed_submission("b", json!({}), Arc::clone(&sink), Some(b"k1"));
        assert_eq!(keyed.tag, 42, "the observer may change the submission");
        after.submission("c", json!({}), Arc::clone(&sink));
        registry.set_observer(None);
        after.submission("d", json!({}), sink);
        assert_eq!(
            *seen.0.lock().unwrap(),
            [
                ("before/b".to_string(), Some(b"k1".to_vec())),
                ("after/c".to_string(), None)
            ]
        );
    }

    #[test]
    fn versions_accumulate_and_running_executions_keep_theirs() {
        let registry = Registry::default();
        let machine = registry.create("orders", SLOW_V1).unwrap();
        assert_eq!(
            machine.arn().as_str(),
            "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
        );
        let runtime = Runtime::start(RuntimeConfig {
            shards: 1,
            ..RuntimeConfig::default()
        })
        .unwrap();
        let (sender, done) = crossbeam::channel::unbounded();
        let sink: Arc<dyn CompletionSink> = Arc::new(move |c: Completion| {
            let _ = sender.send(c);
        });
        runtime
            .submit(machine.submission("first", json!({}), Arc::clone(&sink)))
            .unwrap();
        let v2 = registry.update("orders", V2).unwrap();
        assert_eq!(v2.number, 2);
        runtime
            .submit(machine.submission("second", json!({}), sink))
            .unwrap();
        let mut results: Vec<(String, Value)> = (0..2)
            .map(|_| {
                let c = done.recv().unwrap();
                (c.name.to_string(), c.result.unwrap())
            })
            .collect();
        results.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            results,
            [("first".into(), json!(1)), ("second".into(), json!(2))]
        );
        assert_eq!(machine.versions().len(), 2);
        assert_eq!(machine.version(1).unwrap().definition.as_ref(), SLOW_V1);
        runtime.shutdown(std::time::Duration::ZERO);
    }

    #[test]
    fn names_come_from_file_names() {
        use std::path::Path;
        assert_eq!(
            name_from_path(Path::new("w/orders.asl.json")),
            Some("orders")
        );
        assert_eq!(name_from_path(Path::new("plain")), Some("plain"));
        assert_eq!(name_from_path(Path::new(".hidden")), None);
        assert_eq!(name_from_path(Path::new("/")), None);
    }

    #[test]
    fn creation_is_idempotent_and_bad_changes_change_nothing() {
        let registry = Registry::default();
        let first = registry.create("m", V1).unwrap();
        let again = registry.create("m", V1).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(matches!(
            registry.create("m", V2),
            Err(RegistryError::AlreadyExists(_))
        ));
        let bad = registry.update("m", r#"{"StartAt": "Nowhere", "States": {}}"#);
        assert!(matches!(bad, Err(RegistryError::InvalidDefinition(_))));
        assert_eq!(first.versions().len(), 1);
        assert!(matches!(
            registry.update("other", V1),
            Err(RegistryError::DoesNotExist(_))
        ));
        assert_eq!(registry.list().len(), 1);
        assert!(registry.delete("m"));
        assert!(registry.get("m").is_none());
        assert_eq!(
            first.latest().number,
            1,
            "a deleted machine's entry stays usable"
        );
    }
}
