//! The immutable, compiled form of a state machine: states addressed by
//! integer ids, every path, template, Choice rule and intrinsic call parsed
//! once. The interpreter never looks a state up by name or parses a string.
//!
//! A [`Plan`] is built by [`compile`] from a validated model and shared
//! (`Arc<Plan>`) by every execution of that state machine.

mod compile;
mod expr;

pub use compile::{CompileOptions, compile};
pub use expr::{Expression, JsonataTemplate, TemplateError, expression_body, is_expression};

/// Parses, validates and compiles a definition, reporting every problem at
/// once. This is the way in for definitions from users.
pub fn from_definition(text: &str, options: &CompileOptions) -> Result<Plan, crate::Diagnostics> {
    let machine = crate::validate::load(text)?;
    let mut plan = compile(&machine, options)?;
    // Only the context object (`$$`, or `$states.context` in JSONata) can
    // read the execution's input after the first state has changed it. A
    // definition that never mentions either lets the first state own the
    // input and write into it in place instead of copying it.
    plan.keeps_execution_input = text.contains("$$") || text.contains("$states");
    Ok(plan)
}

pub use crate::asl::QueryLanguage;
use crate::choice::Condition;
use crate::intrinsics::Intrinsic;
use crate::path::{Path, ReferencePath};
use crate::template::Template;
use crate::time::Timestamp;
use crate::value::{Str, Value};
use std::time::Duration;

/// Index of a state map: 0 is the top level, others are Parallel branches
/// and Map item processors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BranchId(pub u32);

/// Index of a state within its branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateId(pub u32);

/// A compiled state machine.
///
/// Aligned to a cache line so that, inside an `Arc<Plan>`, the reference
/// counts (bumped by submitters, dropped by shards on other cores) do not
/// share a line with the fields every state transition reads.
#[derive(Debug)]
#[repr(align(64))]
pub struct Plan {
    /// The state machine's name.
    pub name: Str,
    /// Its ARN (`$$.StateMachine.Id`).
    pub arn: Str,
    /// The state maps; [`Plan::TOP`] is the top level.
    pub branches: Vec<Branch>,
    /// The top-level `TimeoutSeconds`.
    pub timeout: Option<Duration>,
    /// Payload size limit in bytes (AWS: 262,144).
    pub payload_limit: usize,
    /// Whether executions keep their input for `$$.Execution.Input` (see
    /// [`from_definition`]); when false the first state owns the input.
    pub keeps_execution_input: bool,
}

impl Plan {
    /// The top-level branch.
    pub const TOP: BranchId = BranchId(0);

    /// A branch by id.
    pub fn branch(&self, id: BranchId) -> &Branch {
        &self.branches[id.0 as usize]
    }

    /// A state by branch and id.
    pub fn state(&self, branch: BranchId, id: StateId) -> &State {
        &self.branches[branch.0 as usize].states[id.0 as usize]
    }

    /// The `Resource` of every Task state, each once, in order.
    pub fn task_resources(&self) -> Vec<Str> {
        let mut resources: Vec<Str> = self
            .branches
            .iter()
            .flat_map(|b| &b.states)
            .filter_map(|s| match &s.kind {
                StateKind::Task(spec) => Some(spec.resource.clone()),
                _ => None,
            })
            .collect();
        resources.sort();
        resources.dedup();
        resources
    }

    /// Total number of states in all branches.
    pub fn state_count(&self) -> usize {
        self.branches.iter().map(|b| b.states.len()).sum()
    }
}

/// One state map.
#[derive(Debug)]
pub struct Branch {
    /// The `StartAt` state.
    pub start: StateId,
    /// The states, in document order.
    pub states: Vec<State>,
}

/// One compiled state.
#[derive(Debug)]
pub struct State {
    /// The state's name.
    pub name: Str,
    /// What the state does.
    pub kind: StateKind,
    /// How its input becomes its effective input and its result its output.
    pub io: Io,
    /// Where it goes next.
    pub transition: Transition,
    /// `Retry` (Task, Parallel, Map).
    pub retry: Vec<Retrier>,
    /// `Catch` (Task, Parallel, Map).
    pub catch: Vec<Catcher>,
    /// The `QueryLanguage` in effect for the state.
    pub language: QueryLanguage,
    /// `Arguments` and `Output` (JSONata states only).
    pub jsonata: Option<Box<JsonataIo>>,
    /// `Assign` (for a Choice state: the one applied when `Default` is taken).
    pub assign: Option<Payload>,
}

impl State {
    /// `true` for a state whose fields are JSONata.
    pub fn is_jsonata(&self) -> bool {
        self.language == QueryLanguage::Jsonata
    }
}

/// The data flow of a JSONata state.
#[derive(Debug, Clone, Default)]
pub struct JsonataIo {
    /// `Arguments` (Task, Parallel): the task's or branches' input; absent,
    /// the state input.
    pub arguments: Option<JsonataTemplate>,
    /// `Output`: the state output; absent, the result (or the state input
    /// for states without a result). For a Choice state, the one used when
    /// `Default` is taken.
    pub output: Option<JsonataTemplate>,
    /// Some expression of the state may read `$states.context`.
    pub needs_context: bool,
}

/// A value built per evaluation: a payload template (JSONPath) or a JSONata
/// template. `Assign` is one whose result is an object of variable values.
#[derive(Debug, Clone)]
pub enum Payload {
    /// JSONPath: keys ending in `.$` take paths or intrinsic calls.
    Template(Template),
    /// JSONata: `{% ... %}` strings are expressions.
    Jsonata(JsonataTemplate),
}

/// What happens after a state succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// `Next`.
    Next(StateId),
    /// `End: true`, or a Succeed state.
    End,
    /// Decided by the state (Choice) or none (Fail).
    Decided,
}

/// A field that may be absent (default), `null`, or a path.
#[derive(Debug, Clone)]
pub enum InputPath {
    /// Absent: `$`, the whole value.
    Whole,
    /// `null`: an empty object.
    Empty,
    /// A path.
    Path(Path),
}

/// Where a result goes.
#[derive(Debug, Clone)]
pub enum ResultPath {
    /// Absent or `$`: the result replaces the input.
    Replace,
    /// `null`: the result is discarded; the input passes through.
    Discard,
    /// A reference path into the input.
    Path(ReferencePath),
}

/// The data flow of a JSONPath state.
#[derive(Debug, Clone)]
pub struct Io {
    /// `InputPath`.
    pub input_path: InputPath,
    /// `Parameters` (Map: `ItemSelector`, compiled separately).
    pub parameters: Option<Template>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `ResultPath`.
    pub result_path: ResultPath,
    /// `OutputPath`.
    pub output_path: InputPath,
}

/// The per-type part of a state.
#[derive(Debug)]
pub enum StateKind {
    /// Pass, with its `Result` if any.
    Pass {
        /// `Result`.
        result: Option<Value>,
    },
    /// Task.
    Task(Box<TaskSpec>),
    /// Choice.
    Choice {
        /// The rules, in order.
        rules: Vec<ChoiceRule>,
        /// `Default`.
        default: Option<StateId>,
    },
    /// Wait.
    Wait(WaitSpec),
    /// Succeed.
    Succeed,
    /// Fail.
    Fail(FailSpec),
    /// Parallel, with its branches.
    Parallel {
        /// `Branches`.
        branches: Vec<BranchId>,
    },
    /// Map.
    Map(Box<MapSpec>),
}

impl StateKind {
    /// AWS's type name, as used in history event names.
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice { .. } => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel { .. } => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// One top-level Choice rule.
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    /// What decides whether it matches.
    pub test: RuleTest,
    /// `Next`.
    pub next: StateId,
    /// `Assign`, applied when the rule matches.
    pub assign: Option<Payload>,
    /// `Output` (JSONata), the state output when the rule matches.
    pub output: Option<JsonataTemplate>,
}

/// How a Choice rule is decided.
#[derive(Debug, Clone)]
pub enum RuleTest {
    /// A JSONPath rule (`Variable` and a comparator, `And`, `Or`, `Not`).
    Path(Condition),
    /// A JSONata `Condition` (an expression or a literal boolean).
    Jsonata(JsonataTemplate),
}

/// A non-negative whole amount (seconds, items, bytes) given literally, by
/// a `...Path` field, or by a JSONata expression.
#[derive(Debug, Clone)]
pub enum Amount {
    /// A literal.
    Fixed(u64),
    /// A `...Path` field.
    Path(Path),
    /// A JSONata expression.
    Expr(JsonataTemplate),
}

/// The Task-specific fields.
#[derive(Debug)]
pub struct TaskSpec {
    /// `Resource`.
    pub resource: Str,
    /// How AWS names this task's history events.
    pub family: TaskFamily,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout: Option<Amount>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat: Option<Amount>,
    /// `Credentials` (a template, or JSONata).
    pub credentials: Option<Payload>,
}

/// Task resources whose history events AWS names differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFamily {
    /// `arn:aws:lambda:...:function:NAME`: `LambdaFunction*` events.
    LambdaFunction,
    /// Everything else: `Task*` events.
    Service,
}

/// When a Wait state ends.
#[derive(Debug, Clone)]
pub enum WaitSpec {
    /// `Seconds`.
    Seconds(u64),
    /// `SecondsPath`.
    SecondsPath(Path),
    /// `Timestamp`.
    Timestamp(Timestamp),
    /// `TimestampPath`.
    TimestampPath(Path),
    /// `Seconds` as a JSONata expression.
    SecondsExpr(JsonataTemplate),
    /// `Timestamp` as a JSONata expression.
    TimestampExpr(JsonataTemplate),
}

/// An error name or cause of a Fail state.
#[derive(Debug, Clone)]
pub enum FailField {
    /// `Error` / `Cause`.
    Literal(Str),
    /// `ErrorPath` / `CausePath` as a path.
    Path(Path),
    /// `ErrorPath` / `CausePath` as an intrinsic call.
    Call(Box<Intrinsic>),
    /// `Error` / `Cause` as a JSONata expression.
    Expr(JsonataTemplate),
}

/// The Fail-specific fields.
#[derive(Debug, Clone)]
pub struct FailSpec {
    /// The error name.
    pub error: Option<FailField>,
    /// The cause.
    pub cause: Option<FailField>,
}

/// A percentage given literally, by a path or by an expression.
#[derive(Debug, Clone)]
pub enum Percentage {
    /// A literal.
    Fixed(f64),
    /// A `...Path` field.
    Path(Path),
    /// A JSONata expression.
    Expr(JsonataTemplate),
}

/// The Map-specific fields.
#[derive(Debug)]
pub struct MapSpec {
    /// The item processor.
    pub processor: BranchId,
    /// `ItemsPath` (absent: the whole effective input): a reference path
    /// into the effective input or a variable.
    pub items_path: Option<Path>,
    /// `Items` (JSONata; absent: the state input).
    pub items: Option<JsonataTemplate>,
    /// `ItemSelector` (or the legacy `Parameters`).
    pub item_selector: Option<Payload>,
    /// `ProcessorConfig.Mode` is `DISTRIBUTED`: iterations read no outer
    /// variables.
    pub distributed: bool,
    /// `ItemBatcher`.
    pub batcher: Option<BatcherSpec>,
    /// `MaxConcurrency(Path)`: 0 means no limit.
    pub max_concurrency: Amount,
    /// `ToleratedFailureCount(Path)`.
    pub tolerated_count: Option<Amount>,
    /// `ToleratedFailurePercentage(Path)`.
    pub tolerated_percentage: Option<Percentage>,
}

/// `ItemBatcher`: items are grouped into `{"Items": [...]}` batches.
#[derive(Debug)]
pub struct BatcherSpec {
    /// `MaxItemsPerBatch(Path)`.
    pub max_items: Option<Amount>,
    /// `MaxInputBytesPerBatch(Path)`.
    pub max_bytes: Option<Amount>,
    /// `BatchInput`: a template added to every batch as `BatchInput`.
    pub batch_input: Option<Payload>,
}

/// Which errors a retrier or catcher handles.
#[derive(Debug, Clone)]
pub struct ErrorMatcher {
    names: Vec<Str>,
}

impl ErrorMatcher {
    /// From the `ErrorEquals` list.
    pub fn new(names: Vec<Str>) -> ErrorMatcher {
        ErrorMatcher { names }
    }

    /// `true` when this matcher handles `error`. `States.ALL` matches every
    /// error and `States.TaskFailed` every error but `States.Timeout`;
    /// `States.Runtime` is never handled by either wildcard. An error without
    /// a name is only matched by the wildcards.
    pub fn matches(&self, error: Option<&str>) -> bool {
        use crate::error::names;
        self.names.iter().any(|name| match name.as_str() {
            names::ALL => error != Some(names::RUNTIME),
            names::TASK_FAILED => error != Some(names::TIMEOUT) && error != Some(names::RUNTIME),
            other => Some(other) == error,
        })
    }
}

/// `FULL` or `NONE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// No randomisation.
    None,
    /// The delay is drawn uniformly from zero to the computed delay.
    Full,
}

/// A compiled `Retry` entry.
#[derive(Debug, Clone)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub errors: ErrorMatcher,
    /// `IntervalSeconds` (default 1).
    pub interval: Duration,
    /// `MaxAttempts` (default 3).
    pub max_attempts: u32,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay: Option<Duration>,
    /// `JitterStrategy`.
    pub jitter: Jitter,
}

impl Retrier {
    /// The delay before retry number `attempt` (0 for the first retry),
    /// before jitter: `interval * rate^attempt`, capped by `MaxDelaySeconds`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let secs = self.interval.as_secs_f64() * self.backoff_rate.powi(attempt.min(1_000) as i32);
        let capped = match self.max_delay {
            Some(max) => secs.min(max.as_secs_f64()),
            None => secs,
        };
        Duration::try_from_secs_f64(capped).unwrap_or(Duration::MAX)
    }
}

/// A compiled `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub errors: ErrorMatcher,
    /// `Next`.
    pub next: StateId,
    /// `ResultPath` for the error output (JSONPath).
    pub result_path: ResultPath,
    /// `Output` (JSONata; absent: the error output).
    pub output: Option<JsonataTemplate>,
    /// `Assign`.
    pub assign: Option<Payload>,
    /// Some expression of the catcher may read `$states.context`.
    pub needs_context: bool,
}
