//! What every part of one execution shares: its identity, input, start time
//! and the plan it runs. Built once per execution and shared by its fibers.

use super::history::History;
use crate::plan::Plan;
use crate::runtime::MachineLabel;
use crate::task::Resources;
use crate::time::Timestamp;
use crate::value::{Map, Str, Value};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Task invocations of one execution so far, by resource.
type InvocationCounts = Mutex<Vec<(Str, u32)>>;

/// What the host that runs an execution tells it (all optional).
#[derive(Debug, Default)]
pub struct Hosting {
    /// The host's id for the execution, for messages about it.
    pub id: u64,
    /// Where its history goes.
    pub history: Option<History>,
    /// Its own task handlers instead of the host's.
    pub resources: Option<Arc<Resources>>,
    /// When it must have ended (its `TimeoutSeconds` or the host's cap),
    /// on the host's clock: JSONata evaluations stop there too.
    pub deadline: Option<Timestamp>,
    /// Its state machine, for the host's metrics (`None`: not counted).
    pub machine: Option<MachineLabel>,
}

/// One execution's identity and input.
#[derive(Debug)]
pub struct ExecutionInfo {
    /// The compiled state machine.
    pub plan: Arc<Plan>,
    /// The execution's name (unique per submitter, e.g. `topic-partition-offset`).
    pub name: Str,
    /// The execution input, kept for `$$.Execution.Input` when the plan can
    /// read it (otherwise `null`: the top-level fiber owns the input).
    pub input: Value,
    /// When it started.
    pub start_time: Timestamp,
    /// Its ARN, built on first use (most executions never need it).
    arn: OnceLock<Str>,
    /// The `Execution` and `StateMachine` parts of the context object, built
    /// on first use.
    context_parts: OnceLock<(Value, Value)>,
    /// Where its history goes, when its submitter asked for it.
    pub history: Option<Box<History>>,
    /// Its own task handlers, when its submitter gave some (else the
    /// host's).
    pub resources: Option<Arc<Resources>>,
    /// Task invocations so far, by resource (built on the first task).
    invocations: OnceLock<Box<InvocationCounts>>,
    /// Its Map iterations and Parallel branches started and not yet ended,
    /// on any thread.
    live_fibers: AtomicU32,
    /// Bytes of compact JSON (as [`approximate_json_size`] counts them) of
    /// the values its live Map iterations and Parallel branches started
    /// with, plus the results its Maps and Parallels have collected so far,
    /// on any thread.
    ///
    /// [`approximate_json_size`]: crate::value::size::approximate_json_size
    held_bytes: AtomicU64,
    /// Its host's id for it, for messages about it from other threads.
    pub host_id: u64,
    /// When it must have ended (see [`Hosting::deadline`]).
    pub deadline: Option<Timestamp>,
    /// Its state machine, for the host's metrics (see [`Hosting::machine`]).
    pub machine: Option<MachineLabel>,
}

impl ExecutionInfo {
    /// Describes a new execution of `plan` with `input`.
    pub fn new(
        plan: Arc<Plan>,
        name: impl Into<Str>,
        input: &Value,
        start_time: Timestamp,
    ) -> ExecutionInfo {
        ExecutionInfo::hosted(plan, name, input, start_time, Hosting::default())
    }

    /// Describes a new execution of `plan` with `input`, as its host runs it.
    pub fn hosted(
        plan: Arc<Plan>,
        name: impl Into<Str>,
        input: &Value,
        start_time: Timestamp,
        hosting: Hosting,
    ) -> ExecutionInfo {
        let input = if plan.keeps_execution_input {
            input.clone()
        } else {
            Value::Null
        };
        ExecutionInfo {
            plan,
            name: name.into(),
            input,
            start_time,
            arn: OnceLock::new(),
            context_parts: OnceLock::new(),
            history: hosting.history.map(Box::new),
            resources: hosting.resources,
            invocations: OnceLock::new(),
            live_fibers: AtomicU32::new(0),
            held_bytes: AtomicU64::new(0),
            host_id: hosting.id,
            deadline: hosting.deadline,
            machine: hosting.machine,
        }
    }

    /// Map iterations and Parallel branches of this execution alive now (see
    /// [`Fiber`](super::Fiber)).
    pub fn live_fibers(&self) -> u32 {
        self.live_fibers.load(Ordering::Relaxed)
    }

    pub(super) fn fiber_started(&self) {
        self.live_fibers.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn fiber_ended(&self) {
        self.live_fibers.fetch_sub(1, Ordering::Relaxed);
    }

    /// Bytes its live Map iterations and Parallel branches and its
    /// collected results hold now (see the field `held_bytes`).
    pub fn held_bytes(&self) -> u64 {
        self.held_bytes.load(Ordering::Relaxed)
    }

    /// Counts `bytes` more held by this execution.
    pub fn hold(&self, bytes: u64) {
        self.held_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts `bytes` no longer held (as earlier given to [`Self::hold`]).
    pub fn release(&self, bytes: u64) {
        self.held_bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Counts an invocation of `resource` and returns how many came before
    /// it in this execution (from any branch, retry or loop).
    pub fn count_invocation(&self, resource: &Str) -> u32 {
        let counts = self.invocations.get_or_init(Box::default);
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        match counts.iter_mut().find(|(r, _)| r == resource) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                counts.push((resource.clone(), 1));
                0
            }
        }
    }

    /// The execution's ARN (`$$.Execution.Id`):
    /// `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`.
    pub fn arn(&self) -> &Str {
        self.arn.get_or_init(|| {
            Str::from(match self.plan.arn.split_once(":stateMachine:") {
                Some((prefix, machine)) => format!("{prefix}:execution:{machine}:{}", self.name),
                None => format!("{}:execution:{}", self.plan.arn, self.name),
            })
        })
    }

    /// `$$.Execution.RoleArn`: a role in the state machine's account.
    pub fn role_arn(&self) -> String {
        role_arn_in(self.plan.arn.split(':').nth(4).unwrap_or("000000000000"))
    }

    /// `$$.Execution` and `$$.StateMachine`.
    pub(crate) fn context_parts(&self) -> &(Value, Value) {
        self.context_parts.get_or_init(|| {
            let mut execution = Map::with_capacity(6);
            execution.push_unique("Id".into(), Value::String(self.arn().clone()));
            execution.push_unique("Input".into(), self.input.clone());
            execution.push_unique("Name".into(), Value::String(self.name.clone()));
            execution.push_unique("RoleArn".into(), Value::from(self.role_arn()));
            execution.push_unique(
                "StartTime".into(),
                Value::from(self.start_time.to_iso_millis()),
            );
            execution.push_unique("RedriveCount".into(), Value::from(0));
            let mut machine = Map::with_capacity(2);
            machine.push_unique("Id".into(), Value::String(self.plan.arn.clone()));
            machine.push_unique("Name".into(), Value::String(self.plan.name.clone()));
            (Value::object(execution), Value::object(machine))
        })
    }
}

/// The role executions run as (`$$.Execution.RoleArn`, the `roleArn` of
/// `ExecutionStarted`) in `account`.
pub fn role_arn_in(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/spate-execution")
}
