//! A fiber runs one branch of an execution (the top level, a Parallel branch
//! or a Map iteration) as a compact state machine. It does no I/O and reads
//! no clock: the driver hands it the time and the outcome of what it asked
//! for, and it answers with what it needs next ([`Poll`]).
//!
//! Protocol:
//! 1. [`Fiber::run`] runs CPU-only states (Pass, Choice, Succeed, ...) back
//!    to back until the fiber must wait, and returns a [`Poll`].
//! 2. The driver acts on it: after [`Poll::Sleep`] it calls
//!    [`Fiber::on_timer`] at or after the instant; after [`Poll::Invoke`] it
//!    runs the task and calls [`Fiber::on_task_result`]; after [`Poll::Fork`]
//!    it runs the children (tracking them with a [`Join`](super::Join)) and
//!    calls [`Fiber::on_join`]; after [`Poll::Yield`] it calls `run` again
//!    when it is the fiber's turn.
//! 3. [`Poll::Done`] ends the fiber with its output or error.
//!
//! Data flow per state: JSONPath states apply `InputPath`, `Parameters`,
//! `ResultSelector`, `ResultPath` and `OutputPath`; JSONata states build the
//! task (or branch) input from `Arguments` and their output from `Output`,
//! with `$states` bound (see [`StatesBindings`]). In both, `Assign` is
//! evaluated with the variables as they were when the state was entered
//! (JSONPath: `$` is the state's raw result, before `ResultSelector`, or its
//! effective input for Choice and Wait, or the error output in a catcher)
//! and applied only when the state completes, so a failed state assigns
//! nothing. A fork hands its children a snapshot of the fiber's variables
//! ([`Variables::fork`]); what they assign stays theirs.

use super::execution::ExecutionInfo;
use super::history::{EventType, HistoryEvent};
use super::join::{ChildStart, Fork, ForkKind, JoinOutcome, Tolerance, error_output};
use super::jsonata_io::StatesBindings;
use super::variables::{PendingAssign, Variables};
use crate::error::{StatesError, names};
use crate::plan::*;
use crate::runtime::MachineBlock;
use crate::task::{TaskCall, TaskResult, TokenMint, waits_for_callback};
use crate::template::{Roots, select};
use crate::time::Timestamp;
use crate::value::{Map, Str, Value, size};
use std::sync::Arc;
use std::time::Duration;

mod fields;
mod fork;
mod jsonata;
mod jsonpath;
mod retry_catch;
mod roots;

use roots::*;

/// State transitions a fiber makes in one `run` before yielding, so a loop
/// of CPU-only states cannot starve other executions on the same thread.
const STEP_BUDGET: u32 = 256;

/// What a fiber needs next.
#[derive(Debug)]
pub enum Poll {
    /// Finished, with the branch's output or its error.
    Done(Result<Value, StatesError>),
    /// Call [`Fiber::on_timer`] at or after this instant.
    Sleep(Timestamp),
    /// Run this task, then call [`Fiber::on_task_result`].
    Invoke(TaskCall),
    /// Run these children, then call [`Fiber::on_join`].
    Fork(Fork),
    /// Used up its step budget: call [`Fiber::run`] again later.
    Yield,
}

/// What a step may use besides the fiber: the time, and where task tokens
/// come from. (History goes where the execution's
/// [`ExecutionInfo::history`] says, from whichever thread runs the fiber.)
pub struct StepEnv<'a> {
    /// The current time.
    pub now: Timestamp,
    /// Issues task tokens for `.waitForTaskToken` tasks; without one, such a
    /// task fails (`States.Runtime`).
    pub tokens: Option<&'a TokenMint>,
    /// Where the host counts states entered, by type (`None`: not counted).
    pub(crate) metrics: Option<&'a MachineBlock>,
}

impl<'a> StepEnv<'a> {
    /// An environment at `now` that issues no task tokens.
    pub fn at(now: Timestamp) -> StepEnv<'a> {
        StepEnv {
            now,
            tokens: None,
            metrics: None,
        }
    }
}

/// Where a fiber sits in its execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Top,
    ParallelBranch,
    MapIteration(u32),
}

#[derive(Debug)]
enum Phase {
    /// Not started: emits the role's opening event.
    Begin,
    /// About to enter the current state.
    Enter,
    /// Entered; (re)run the state's work.
    Run,
    /// A Wait state is waiting; on wake-up it outputs this value.
    Waiting(Value),
    /// A retry back-off is running.
    BackingOff,
    /// A task is running.
    Task,
    /// Children are running.
    Children,
    /// Done.
    Finished,
}

/// The outcome of running a state's body.
enum Step {
    /// The state is done: go on with this output.
    Continue(Value, Transition),
    /// Go to a state chosen by the state itself (Choice).
    Goto(Value, StateId),
    /// The fiber must wait.
    Wait(Poll),
}

/// One branch of one execution.
#[derive(Debug)]
pub struct Fiber {
    exec: Arc<ExecutionInfo>,
    core: Core,
}

#[derive(Debug)]
struct Core {
    role: Role,
    branch: BranchId,
    state: StateId,
    input: Value,
    phase: Phase,
    entered_at: Timestamp,
    entered_event: u32,
    first_event: u32,
    next_event: u32,
    retry_count: u32,
    /// The size of its input (at most `u32::MAX` counted), counted in its
    /// execution's held bytes while it lives (0 for the top level, whose
    /// input the execution owns). Beside the other `u32`s, so a parked
    /// fiber does not grow.
    held: u32,
    attempts: Vec<u32>,
    /// States entered plus retries, this fiber's and its finished children's.
    transitions: u32,
    /// The workflow variables this fiber sees and assigns.
    vars: Variables,
    /// The token of the running `.waitForTaskToken` task attempt (boxed:
    /// most fibers never hold one, and a parked fiber's size counts).
    task_token: Option<Box<Str>>,
    /// What the children of the running fork read (see [`Variables::fork`]).
    fork_vars: Option<Arc<Variables>>,
}

impl Fiber {
    /// The top-level fiber of a new execution, with its input.
    pub fn start(exec: Arc<ExecutionInfo>, input: Value) -> Fiber {
        let start = exec.plan.branch(Plan::TOP).start;
        Fiber {
            core: Core::new(Role::Top, Plan::TOP, start, input, 1),
            exec,
        }
    }

    /// A child of this fiber, for one entry of a [`Fork`].
    pub fn child(&self, start: &ChildStart) -> Fiber {
        let role = match start.map_index {
            Some(i) => Role::MapIteration(i),
            None => Role::ParallelBranch,
        };
        let first_state = self.exec.plan.branch(start.branch).start;
        let mut core = Core::new(
            role,
            start.branch,
            first_state,
            start.input.clone(),
            self.core.next_event,
        );
        core.vars = Variables::child_of(self.core.fork_vars.clone());
        self.exec.fiber_started();
        core.held = u32::try_from(size::approximate_json_size(&start.input)).unwrap_or(u32::MAX);
        self.exec.hold(u64::from(core.held));
        Fiber {
            exec: Arc::clone(&self.exec),
            core,
        }
    }

    /// The execution this fiber belongs to.
    pub fn execution(&self) -> &Arc<ExecutionInfo> {
        &self.exec
    }

    /// History events this fiber has used so far.
    pub fn events_used(&self) -> u32 {
        self.core.next_event - self.core.first_event
    }

    /// State transitions so far (states entered plus retries), including
    /// those of children that have joined.
    pub fn transitions(&self) -> u32 {
        self.core.transitions
    }

    /// The id the next history event will get.
    pub fn next_event_id(&self) -> u32 {
        self.core.next_event
    }

    /// Retries of the current state so far (`$$.State.RetryCount`).
    pub fn retry_count(&self) -> u32 {
        self.core.retry_count
    }

    /// The `Resource` of the Task state the fiber is in, if it is in one.
    pub fn task_resource(&self) -> Option<&Str> {
        match &self.exec.plan.state(self.core.branch, self.core.state).kind {
            StateKind::Task(spec) => Some(&spec.resource),
            _ => None,
        }
    }

    /// The name of the state the fiber is in.
    pub fn state_name(&self) -> &str {
        &self.exec.plan.state(self.core.branch, self.core.state).name
    }

    /// Runs until the fiber must wait (see the module documentation).
    pub fn run(&mut self, env: &mut StepEnv<'_>) -> Poll {
        self.core.run(&self.exec, env)
    }

    /// A timer set by [`Poll::Sleep`] has fired.
    pub fn on_timer(&mut self, env: &mut StepEnv<'_>) -> Poll {
        let core = &mut self.core;
        match std::mem::replace(&mut core.phase, Phase::Run) {
            Phase::Waiting(output) => {
                let state = self.exec.plan.state(core.branch, core.state);
                let transition = state.transition;
                match core.advance(&self.exec, env, output, transition) {
                    Some(done) => done,
                    None => core.run(&self.exec, env),
                }
            }
            Phase::BackingOff => core.run(&self.exec, env),
            other => {
                debug_assert!(false, "timer fired in phase {other:?}");
                core.phase = other;
                Poll::Yield
            }
        }
    }

    /// The task requested by [`Poll::Invoke`] finished.
    pub fn on_task_result(&mut self, result: TaskResult, env: &mut StepEnv<'_>) -> Poll {
        let core = &mut self.core;
        core.task_token = None;
        debug_assert!(
            matches!(core.phase, Phase::Task),
            "task result in phase {:?}",
            core.phase
        );
        let state = self.exec.plan.state(core.branch, core.state);
        let StateKind::Task(spec) = &state.kind else {
            unreachable!("task result outside a Task state")
        };
        let lambda = spec.family == TaskFamily::LambdaFunction;
        let result = result.and_then(|value| core.check_size(&self.exec, state, value));
        match result {
            Ok(value) => {
                let event = if lambda {
                    EventType::LambdaFunctionSucceeded
                } else {
                    EventType::TaskSucceeded
                };
                core.emit(&self.exec, env, event, Some(&value), None);
                core.phase = Phase::Run;
                core.conclude(&self.exec, env, state, value)
            }
            Err(error) => {
                let timed_out = error.error() == Some(names::TIMEOUT)
                    || error.error() == Some(names::HEARTBEAT_TIMEOUT);
                let event = match (lambda, timed_out) {
                    (true, true) => EventType::LambdaFunctionTimedOut,
                    (true, false) => EventType::LambdaFunctionFailed,
                    (false, true) => EventType::TaskTimedOut,
                    (false, false) => EventType::TaskFailed,
                };
                core.emit(&self.exec, env, event, None, Some(&error));
                core.phase = Phase::Run;
                core.fail(&self.exec, env, error)
            }
        }
    }

    /// The children requested by [`Poll::Fork`] are done (their join decided).
    pub fn on_join(&mut self, outcome: JoinOutcome, env: &mut StepEnv<'_>) -> Poll {
        let core = &mut self.core;
        debug_assert!(
            matches!(core.phase, Phase::Children),
            "join in phase {:?}",
            core.phase
        );
        core.next_event += outcome.events;
        core.transitions += outcome.transitions;
        core.phase = Phase::Run;
        core.fork_vars = None;
        let state = self.exec.plan.state(core.branch, core.state);
        let is_map = matches!(state.kind, StateKind::Map(_));
        let result = outcome
            .result
            .and_then(|value| core.check_size(&self.exec, state, value));
        match result {
            Ok(value) => {
                let event = if is_map {
                    EventType::MapStateSucceeded
                } else {
                    EventType::ParallelStateSucceeded
                };
                core.emit(&self.exec, env, event, None, None);
                core.conclude(&self.exec, env, state, value)
            }
            Err(error) => {
                let event = if is_map {
                    EventType::MapStateFailed
                } else {
                    EventType::ParallelStateFailed
                };
                core.emit(&self.exec, env, event, None, Some(&error));
                core.fail(&self.exec, env, error)
            }
        }
    }

    /// Records an event on the fiber's numbering from outside (the driver's
    /// `ExecutionTimedOut`, for instance).
    pub fn emit_external(
        &mut self,
        env: &mut StepEnv<'_>,
        event_type: EventType,
        error: Option<&StatesError>,
    ) {
        self.core.emit(&self.exec, env, event_type, None, error);
    }
}

/// Map iterations and Parallel branches count against their execution's
/// live fibers, and their input's size against its held bytes, while they
/// exist (the top level is always there: it is not
/// counted, so an execution that never forks pays nothing).
impl Drop for Fiber {
    fn drop(&mut self) {
        if self.core.role != Role::Top {
            self.exec.fiber_ended();
            self.exec.release(u64::from(self.core.held));
        }
    }
}

impl Core {
    fn new(role: Role, branch: BranchId, state: StateId, input: Value, first_event: u32) -> Core {
        Core {
            role,
            branch,
            state,
            input,
            phase: Phase::Begin,
            entered_at: Timestamp::default(),
            entered_event: 0,
            first_event,
            next_event: first_event,
            retry_count: 0,
            held: 0,
            attempts: Vec::new(),
            transitions: 0,
            vars: Variables::new(),
            task_token: None,
            fork_vars: None,
        }
    }

    fn roots<'a>(&'a self, exec: &'a ExecutionInfo, input: &'a Value) -> FieldRoots<'a> {
        FieldRoots {
            exec,
            core: self,
            input,
            map_item: None,
        }
    }

    /// Uses the next event id for `event_type`, and records the event when
    /// the execution's history keeps that type (only then is it built).
    fn emit(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        event_type: EventType,
        payload: Option<&Value>,
        error: Option<&StatesError>,
    ) {
        let id = self.next_event;
        self.next_event += 1;
        if let Some(history) = exec.history.as_deref()
            && history.admits(event_type)
        {
            let resource = if event_type.is_task() {
                self.task_resource(exec)
            } else {
                None
            };
            history.sink.record(HistoryEvent {
                id,
                execution_arn: exec.arn().clone(),
                timestamp: env.now,
                event_type,
                state: None,
                map_index: self.map_index(),
                resource,
                payload: payload.filter(|_| history.include_data).cloned(),
                error: error.cloned(),
            });
        }
    }

    /// As [`Core::emit`], for the current state's own events.
    fn emit_state(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        event_type: EventType,
        payload: &Value,
    ) {
        let id = self.next_event;
        self.next_event += 1;
        if let Some(history) = exec.history.as_deref()
            && history.admits(event_type)
        {
            let state = exec.plan.state(self.branch, self.state);
            history.sink.record(HistoryEvent {
                id,
                execution_arn: exec.arn().clone(),
                timestamp: env.now,
                event_type,
                state: Some(state.name.clone()),
                map_index: self.map_index(),
                resource: None,
                payload: history.include_data.then(|| payload.clone()),
                error: None,
            });
        }
    }

    /// The current state's task `Resource`, if it is a Task state.
    fn task_resource(&self, exec: &ExecutionInfo) -> Option<Str> {
        match &exec.plan.state(self.branch, self.state).kind {
            StateKind::Task(spec) => Some(spec.resource.clone()),
            _ => None,
        }
    }

    /// Whether the execution records events of `event_type` with their
    /// data (else the data need not be copied for it).
    fn records_data(exec: &ExecutionInfo, event_type: EventType) -> bool {
        exec.history
            .as_deref()
            .is_some_and(|h| h.include_data && h.admits(event_type))
    }

    fn map_index(&self) -> Option<u32> {
        match self.role {
            Role::MapIteration(i) => Some(i),
            _ => None,
        }
    }

    /// `$$`, built on demand.
    fn context(&self, exec: &ExecutionInfo, map_item: Option<(u32, &Value)>) -> Value {
        let state = exec.plan.state(self.branch, self.state);
        let (execution, machine) = exec.context_parts();
        let mut state_part = Map::with_capacity(3);
        state_part.push_unique(
            "EnteredTime".into(),
            Value::from(self.entered_at.to_iso_millis()),
        );
        state_part.push_unique("Name".into(), Value::String(state.name.clone()));
        state_part.push_unique("RetryCount".into(), Value::from(self.retry_count));
        let mut context = Map::with_capacity(5);
        context.push_unique("Execution".into(), execution.clone());
        context.push_unique("State".into(), Value::object(state_part));
        context.push_unique("StateMachine".into(), machine.clone());
        if let Some(token) = &self.task_token {
            let mut task = Map::with_capacity(1);
            task.push_unique("Token".into(), Value::String(Str::clone(token)));
            context.push_unique("Task".into(), Value::object(task));
        }
        if let Some((index, value)) = map_item {
            let mut item = Map::with_capacity(2);
            item.push_unique("Index".into(), Value::from(index));
            item.push_unique("Value".into(), value.clone());
            let mut map = Map::with_capacity(1);
            map.push_unique("Item".into(), Value::object(item));
            context.push_unique("Map".into(), Value::object(map));
        }
        Value::object(context)
    }

    /// Prefixes a runtime error's cause with where it happened, as AWS does.
    fn locate(&self, exec: &ExecutionInfo, error: StatesError) -> StatesError {
        match error.error() {
            Some(names::RUNTIME) | Some(names::QUERY_EVALUATION_ERROR) => {
                let state = exec.plan.state(self.branch, self.state);
                let cause = format!(
                    "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                    state.name,
                    self.entered_event,
                    error.cause().unwrap_or_default()
                );
                error.with_cause(cause)
            }
            _ => error,
        }
    }

    fn run(&mut self, exec: &ExecutionInfo, env: &mut StepEnv<'_>) -> Poll {
        let mut budget = STEP_BUDGET;
        loop {
            match self.phase {
                Phase::Begin => {
                    match self.role {
                        Role::Top => {
                            let input = if Core::records_data(exec, EventType::ExecutionStarted) {
                                self.input.clone()
                            } else {
                                Value::Null
                            };
                            self.emit(exec, env, EventType::ExecutionStarted, Some(&input), None)
                        }
                        Role::MapIteration(_) => {
                            self.emit(exec, env, EventType::MapIterationStarted, None, None)
                        }
                        Role::ParallelBranch => {}
                    }
                    self.phase = Phase::Enter;
                }
                Phase::Enter => {
                    if budget == 0 {
                        return Poll::Yield;
                    }
                    budget -= 1;
                    self.transitions += 1;
                    let state = exec.plan.state(self.branch, self.state);
                    if let Some(metrics) = env.metrics {
                        metrics.entered(&state.kind);
                    }
                    self.entered_at = env.now;
                    self.entered_event = self.next_event;
                    self.retry_count = 0;
                    if !state.retry.is_empty() || !self.attempts.is_empty() {
                        self.attempts.clear();
                        self.attempts.resize(state.retry.len(), 0);
                    }
                    if let Some(history) = exec.history.as_deref()
                        && let event = EventType::StateEntered(state.kind.type_name())
                        && history.admits(event)
                    {
                        let input = self.input.clone();
                        self.emit_state(exec, env, event, &input);
                    } else {
                        // nobody records: only the numbering moves on
                        self.next_event += 1;
                    }
                    self.phase = Phase::Run;
                }
                Phase::Run => {
                    let state = exec.plan.state(self.branch, self.state);
                    match self.execute(exec, env, state) {
                        Ok(Step::Continue(output, transition)) => {
                            if let Some(done) = self.advance(exec, env, output, transition) {
                                return done;
                            }
                        }
                        Ok(Step::Goto(output, next)) => {
                            if let Some(done) =
                                self.advance(exec, env, output, Transition::Next(next))
                            {
                                return done;
                            }
                        }
                        Ok(Step::Wait(poll)) => return poll,
                        Err(error) => {
                            let error = self.locate(exec, error);
                            match self.fail(exec, env, error) {
                                Poll::Yield => {}
                                other => return other,
                            }
                        }
                    }
                }
                Phase::Finished => {
                    debug_assert!(false, "run after the fiber finished");
                    return Poll::Done(Err(StatesError::runtime("the fiber already finished")));
                }
                Phase::Waiting(_) | Phase::BackingOff | Phase::Task | Phase::Children => {
                    debug_assert!(false, "run while waiting in phase {:?}", self.phase);
                    return Poll::Yield;
                }
            }
        }
    }

    /// Leaves the current state with `output`. Returns the fiber's final poll
    /// when the branch ends here, `None` when it moves on to another state.
    fn advance(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        output: Value,
        transition: Transition,
    ) -> Option<Poll> {
        let state = exec.plan.state(self.branch, self.state);
        self.emit_state(
            exec,
            env,
            EventType::StateExited(state.kind.type_name()),
            &output,
        );
        match transition {
            Transition::Next(next) => {
                self.state = next;
                self.input = output;
                self.phase = Phase::Enter;
                None
            }
            Transition::End | Transition::Decided => Some(self.complete(exec, env, Ok(output))),
        }
    }

    /// Ends the fiber, emitting the role's closing event.
    fn complete(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        result: Result<Value, StatesError>,
    ) -> Poll {
        self.phase = Phase::Finished;
        let event = match (self.role, result.is_ok()) {
            (Role::Top, true) => Some(EventType::ExecutionSucceeded),
            (Role::Top, false) => Some(EventType::ExecutionFailed),
            (Role::MapIteration(_), true) => Some(EventType::MapIterationSucceeded),
            (Role::MapIteration(_), false) => Some(EventType::MapIterationFailed),
            (Role::ParallelBranch, _) => None,
        };
        if let Some(event) = event {
            match &result {
                Ok(output) => self.emit(exec, env, event, Some(output), None),
                Err(error) => self.emit(exec, env, event, None, Some(error)),
            }
        }
        Poll::Done(result)
    }

    /// Finishes the current state with its result (task result, joined
    /// children) and moves on: to the next state, a catcher, or the end.
    fn conclude(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        state: &State,
        value: Value,
    ) -> Poll {
        match self.finish(exec, state, value) {
            Ok(output) => match self.advance(exec, env, output, state.transition) {
                Some(done) => done,
                None => self.run(exec, env),
            },
            Err(error) => {
                let error = self.locate(exec, error);
                self.fail(exec, env, error)
            }
        }
    }

    /// Asks the driver to run a task.
    #[allow(clippy::too_many_arguments)]
    fn invoke(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        state: &State,
        spec: &TaskSpec,
        input: Value,
        timeout: Option<Duration>,
        heartbeat: Option<Duration>,
        credentials: Option<Value>,
    ) -> Step {
        let lambda = spec.family == TaskFamily::LambdaFunction;
        let (scheduled, started) = if lambda {
            (
                EventType::LambdaFunctionScheduled,
                EventType::LambdaFunctionStarted,
            )
        } else {
            (EventType::TaskScheduled, EventType::TaskStarted)
        };
        self.emit(exec, env, scheduled, Some(&input), None);
        self.emit(exec, env, started, None, None);
        self.phase = Phase::Task;
        Step::Wait(Poll::Invoke(TaskCall {
            resource: spec.resource.clone(),
            input,
            credentials,
            timeout,
            heartbeat,
            execution_name: exec.name.clone(),
            state_name: state.name.clone(),
            retry_count: self.retry_count,
            invocation: 0,
            // The call carries the token on; the fiber no longer needs it.
            task_token: self.task_token.take().map(|token| *token),
        }))
    }

    /// Gives this attempt of a `.waitForTaskToken` or activity task a new
    /// token (`$$.Task.Token`); other tasks have none.
    fn mint_task_token(&mut self, env: &StepEnv<'_>, spec: &TaskSpec) -> Result<(), StatesError> {
        self.task_token = None;
        if waits_for_callback(&spec.resource) {
            let mint = env
                .tokens
                .ok_or_else(|| StatesError::runtime("this host cannot hand out task tokens"))?;
            self.task_token = Some(Box::new(mint.mint().encode()));
        }
        Ok(())
    }

    /// Waits until `until` (or goes straight on if it has passed).
    fn wait(&mut self, state: &State, now: Timestamp, until: Timestamp, output: Value) -> Step {
        if until <= now {
            return Step::Continue(output, state.transition);
        }
        self.phase = Phase::Waiting(output);
        Step::Wait(Poll::Sleep(until))
    }
}

#[cfg(test)]
mod tests;
