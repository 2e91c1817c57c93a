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
//! (JSONPath: `$` is the state's result after `ResultSelector`, or its
//! effective input for Choice and Wait, or the error output in a catcher)
//! and applied only when the state completes, so a failed state assigns
//! nothing. A fork hands its children a snapshot of the fiber's variables
//! ([`Variables::fork`]); what they assign stays theirs.

use super::execution::ExecutionInfo;
use super::history::{EventType, HistoryEvent, HistorySink};
use super::join::{ChildStart, Fork, ForkKind, JoinOutcome, Tolerance, error_output};
use super::jsonata_io::StatesBindings;
use super::variables::{PendingAssign, Variables};
use crate::error::{StatesError, names};
use crate::plan::*;
use crate::task::{TaskCall, TaskResult};
use crate::template::{Roots, select};
use crate::time::Timestamp;
use crate::value::{Map, Value, size};
use std::sync::Arc;
use std::time::Duration;

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

/// What a step may use besides the fiber: the time, and where history goes.
pub struct StepEnv<'a> {
    /// The current time.
    pub now: Timestamp,
    /// Receives history events when recording is on.
    pub history: Option<&'a mut dyn HistorySink>,
}

impl<'a> StepEnv<'a> {
    /// An environment at `now` that records nothing.
    pub fn at(now: Timestamp) -> StepEnv<'a> {
        StepEnv { now, history: None }
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
    attempts: Vec<u32>,
    /// States entered plus retries, this fiber's and its finished children's.
    transitions: u32,
    /// The workflow variables this fiber sees and assigns.
    vars: Variables,
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
                core.emit(env, event, Some(&value), None);
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
                core.emit(env, event, None, Some(&error));
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
                core.emit(env, event, None, None);
                core.conclude(&self.exec, env, state, value)
            }
            Err(error) => {
                let event = if is_map {
                    EventType::MapStateFailed
                } else {
                    EventType::ParallelStateFailed
                };
                core.emit(env, event, None, Some(&error));
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
        self.core.emit(env, event_type, None, error);
    }
}

/// The roots paths see while one of the fiber's fields is evaluated.
struct FieldRoots<'a> {
    exec: &'a ExecutionInfo,
    core: &'a Core,
    input: &'a Value,
    map_item: Option<(u32, &'a Value)>,
}

impl Roots for FieldRoots<'_> {
    fn input(&self) -> &Value {
        self.input
    }

    fn context(&self) -> Value {
        self.core.context(self.exec, self.map_item)
    }

    fn context_fast(&self, path: &crate::path::Path) -> Option<Value> {
        use crate::path::ContextField;
        match path.context_field()? {
            ContextField::MapItemIndex => self.map_item.map(|(index, _)| Value::from(index)),
            ContextField::MapItemValue => path.get_from(3, self.map_item?.1).cloned(),
            ContextField::StateName => Some(Value::String(
                self.exec
                    .plan
                    .state(self.core.branch, self.core.state)
                    .name
                    .clone(),
            )),
            ContextField::StateRetryCount => Some(Value::from(self.core.retry_count)),
        }
    }

    fn variable(&self, name: &str) -> Option<Value> {
        self.core.vars.get(name).cloned()
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
            attempts: Vec::new(),
            transitions: 0,
            vars: Variables::new(),
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

    fn emit(
        &mut self,
        env: &mut StepEnv<'_>,
        event_type: EventType,
        payload: Option<&Value>,
        error: Option<&StatesError>,
    ) {
        let id = self.next_event;
        self.next_event += 1;
        if let Some(history) = env.history.as_deref_mut() {
            let map_index = match self.role {
                Role::MapIteration(i) => Some(i),
                _ => None,
            };
            history.record(HistoryEvent {
                id,
                timestamp: env.now,
                event_type,
                state: None,
                map_index,
                payload: payload.cloned(),
                error: error.cloned(),
            });
        }
    }

    fn emit_state(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        event_type: EventType,
        payload: &Value,
    ) {
        let id = self.next_event;
        self.next_event += 1;
        if let Some(history) = env.history.as_deref_mut() {
            let state = exec.plan.state(self.branch, self.state);
            let map_index = match self.role {
                Role::MapIteration(i) => Some(i),
                _ => None,
            };
            history.record(HistoryEvent {
                id,
                timestamp: env.now,
                event_type,
                state: Some(state.name.clone()),
                map_index,
                payload: Some(payload.clone()),
                error: None,
            });
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
        if let StateKind::Task(spec) = &state.kind
            && spec.resource.ends_with(".waitForTaskToken")
        {
            let mut task = Map::with_capacity(1);
            task.push_unique("Token".into(), Value::from(self.task_token(exec)));
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

    /// A token naming this task attempt (for `.waitForTaskToken` resources).
    fn task_token(&self, exec: &ExecutionInfo) -> String {
        format!("{}#{}#{}", exec.arn(), self.entered_event, self.retry_count)
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
                            let input = if env.history.is_some() {
                                self.input.clone()
                            } else {
                                Value::Null
                            };
                            self.emit(env, EventType::ExecutionStarted, Some(&input), None)
                        }
                        Role::MapIteration(_) => {
                            self.emit(env, EventType::MapIterationStarted, None, None)
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
                    self.entered_at = env.now;
                    self.entered_event = self.next_event;
                    self.retry_count = 0;
                    if !state.retry.is_empty() || !self.attempts.is_empty() {
                        self.attempts.clear();
                        self.attempts.resize(state.retry.len(), 0);
                    }
                    if env.history.is_some() {
                        let input = self.input.clone();
                        let event = EventType::StateEntered(state.kind.type_name());
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
            Transition::End | Transition::Decided => Some(self.complete(env, Ok(output))),
        }
    }

    /// Ends the fiber, emitting the role's closing event.
    fn complete(&mut self, env: &mut StepEnv<'_>, result: Result<Value, StatesError>) -> Poll {
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
                Ok(output) => self.emit(env, event, Some(output), None),
                Err(error) => self.emit(env, event, None, Some(error)),
            }
        }
        Poll::Done(result)
    }

    /// Handles an error raised in the current state: Retry, then Catch, else
    /// the branch fails. Returns [`Poll::Yield`] when a catcher moved the
    /// fiber on (the caller keeps running).
    fn fail(&mut self, exec: &ExecutionInfo, env: &mut StepEnv<'_>, error: StatesError) -> Poll {
        let state = exec.plan.state(self.branch, self.state);
        if !error.is_runtime() {
            // The first retrier whose ErrorEquals matches decides; once its
            // attempts are spent, the error goes on to the catchers.
            if let Some((i, retrier)) = state
                .retry
                .iter()
                .enumerate()
                .find(|(_, r)| r.errors.matches(error.error()))
                && self.attempts[i] < retrier.max_attempts
            {
                let mut delay = retrier.delay(self.attempts[i]);
                if retrier.jitter == Jitter::Full {
                    delay = delay.mul_f64(rand::random::<f64>());
                }
                self.attempts[i] += 1;
                self.retry_count += 1;
                // AWS counts each retry as a state transition.
                self.transitions += 1;
                self.phase = Phase::BackingOff;
                return Poll::Sleep(env.now.plus(delay));
            }
            if let Some(catcher) = state.catch.iter().find(|c| c.errors.matches(error.error())) {
                let error_value = error_output(&error);
                let output = match self.catch_output(exec, state, catcher, error_value) {
                    Ok(output) => output,
                    Err(error) => {
                        let error = self.locate(exec, error);
                        return self.complete(env, Err(error));
                    }
                };
                return match self.advance(exec, env, output, Transition::Next(catcher.next)) {
                    Some(done) => done,
                    None => Poll::Yield,
                };
            }
        }
        self.complete(env, Err(error))
    }

    /// The output a catcher hands to its `Next` state, its `Assign` applied.
    fn catch_output(
        &mut self,
        exec: &ExecutionInfo,
        state: &State,
        catcher: &Catcher,
        error_value: Value,
    ) -> Result<Value, StatesError> {
        if state.is_jsonata() {
            let (output, assigned) = {
                let context = || self.context(exec, None);
                let mut bindings =
                    StatesBindings::new(&self.input, &self.vars).with_error_output(&error_value);
                if catcher.needs_context {
                    bindings = bindings.with_context(&context);
                }
                let output = match &catcher.output {
                    Some(t) => t.eval(&bindings)?,
                    None => error_value.clone(),
                };
                let assigned = match &catcher.assign {
                    Some(a) => Some(eval_payload(a, None, Some(&bindings))?),
                    None => None,
                };
                (output, assigned)
            };
            self.commit(state, assigned)?;
            return Ok(output);
        }
        let assigned = self.eval_path_assign(exec, catcher.assign.as_ref(), &error_value)?;
        let pending = self.prepare(state, assigned)?;
        let mut output = std::mem::take(&mut self.input);
        if let Err(mismatch) = write_result(&catcher.result_path, &mut output, error_value) {
            self.input = output;
            return Err(StatesError::runtime(mismatch));
        }
        if let Some(pending) = pending {
            self.vars.apply(pending);
        }
        Ok(output)
    }

    /// Evaluates a JSONPath `Assign` whose `$` is `value`.
    fn eval_path_assign(
        &self,
        exec: &ExecutionInfo,
        assign: Option<&Payload>,
        value: &Value,
    ) -> Result<Option<Value>, StatesError> {
        match assign {
            None => Ok(None),
            Some(a) => eval_payload(a, Some(&self.roots(exec, value)), None).map(Some),
        }
    }

    /// Sets the variables of an evaluated `Assign` (an object).
    fn commit(&mut self, state: &State, assigned: Option<Value>) -> Result<(), StatesError> {
        if let Some(pending) = self.prepare(state, assigned)? {
            self.vars.apply(pending);
        }
        Ok(())
    }

    /// Checks an evaluated `Assign` against the size limits; applying it
    /// afterwards cannot fail.
    fn prepare(
        &self,
        state: &State,
        assigned: Option<Value>,
    ) -> Result<Option<PendingAssign>, StatesError> {
        let Some(Ok(map)) = assigned.map(Value::into_object) else {
            return Ok(None);
        };
        let map = crate::value::Arc::unwrap_or_clone(map);
        self.vars.prepare(&state.name, map).map(Some)
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

    /// Applies `ResultSelector`, `Assign`, `ResultPath` and `OutputPath` to
    /// a state's result (JSONata: `Output` and `Assign`).
    fn finish(
        &mut self,
        exec: &ExecutionInfo,
        state: &State,
        result: Value,
    ) -> Result<Value, StatesError> {
        if let Some(io) = &state.jsonata {
            let (output, assigned) =
                self.jsonata_output(exec, state, io.output.as_ref(), Some(&result))?;
            self.commit(state, assigned)?;
            return Ok(output);
        }
        let result = match &state.io.result_selector {
            Some(selector) => selector.eval(&self.roots(exec, &result))?,
            None => result,
        };
        let assigned = self.eval_path_assign(exec, state.assign.as_ref(), &result)?;
        let pending = self.prepare(state, assigned)?;
        let mut output = match &state.io.result_path {
            ResultPath::Replace => result,
            ResultPath::Discard => self.input.clone(),
            ResultPath::Path(path) => {
                let mut target = std::mem::take(&mut self.input);
                match path.set(&mut target, result) {
                    Ok(()) => target,
                    Err(mismatch) => {
                        self.input = target;
                        return Err(StatesError::new(
                            names::RESULT_PATH_MATCH_FAILURE,
                            mismatch.message,
                        ));
                    }
                }
            }
        };
        output = self.apply_input_path(exec, &state.io.output_path, output)?;
        if let Some(pending) = pending {
            self.vars.apply(pending);
        }
        Ok(output)
    }

    /// A JSONata state's `Output` (default: `result`, else the state input)
    /// and its evaluated `Assign` (not yet applied).
    fn jsonata_output(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        output: Option<&JsonataTemplate>,
        result: Option<&Value>,
    ) -> Result<(Value, Option<Value>), StatesError> {
        self.jsonata_output_with(exec, state, output, state.assign.as_ref(), result)
    }

    fn jsonata_output_with(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        output: Option<&JsonataTemplate>,
        assign: Option<&Payload>,
        result: Option<&Value>,
    ) -> Result<(Value, Option<Value>), StatesError> {
        if output.is_none() && assign.is_none() {
            return Ok((result.unwrap_or(&self.input).clone(), None));
        }
        self.with_bindings(exec, state, result, |bindings| {
            let value = match output {
                Some(t) => t.eval(bindings)?,
                None => result.unwrap_or(&self.input).clone(),
            };
            let assigned = match assign {
                Some(a) => Some(eval_payload(a, None, Some(bindings))?),
                None => None,
            };
            Ok((value, assigned))
        })
    }

    /// Runs `f` with the bindings of the current JSONata state: `$states`
    /// (`input`, `result` if given, `context` if some expression may read
    /// it) and the variables.
    fn with_bindings<T>(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        result: Option<&Value>,
        f: impl FnOnce(&StatesBindings<'_>) -> Result<T, StatesError>,
    ) -> Result<T, StatesError> {
        let context = || self.context(exec, None);
        let mut bindings = StatesBindings::new(&self.input, &self.vars);
        if let Some(result) = result {
            bindings = bindings.with_result(result);
        }
        if state.jsonata.as_ref().is_some_and(|io| io.needs_context) {
            bindings = bindings.with_context(&context);
        }
        f(&bindings)
    }

    /// `InputPath` / `OutputPath`.
    fn apply_input_path(
        &self,
        exec: &ExecutionInfo,
        path: &InputPath,
        value: Value,
    ) -> Result<Value, StatesError> {
        match path {
            InputPath::Whole => Ok(value),
            InputPath::Empty => Ok(Value::empty_object()),
            InputPath::Path(p) => select(p, &self.roots(exec, &value)),
        }
    }

    /// `InputPath` then `Parameters`.
    fn effective_input(&self, exec: &ExecutionInfo, state: &State) -> Result<Value, StatesError> {
        match (&state.io.input_path, &state.io.parameters) {
            // the common case: read the input in place, no clone
            (InputPath::Whole, Some(template)) => template.eval(&self.roots(exec, &self.input)),
            (input_path, parameters) => {
                let input = self.apply_input_path(exec, input_path, self.input.clone())?;
                match parameters {
                    Some(template) => template.eval(&self.roots(exec, &input)),
                    None => Ok(input),
                }
            }
        }
    }

    /// Fails with `States.DataLimitExceeded` when a state's result is over
    /// the payload limit.
    fn check_size(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        value: Value,
    ) -> Result<Value, StatesError> {
        if size::exceeds(&value, exec.plan.payload_limit) {
            return Err(StatesError::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    state.name
                ),
            ));
        }
        Ok(value)
    }

    /// Runs the body of the current state.
    fn execute(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        state: &State,
    ) -> Result<Step, StatesError> {
        if let Some(io) = &state.jsonata {
            return self.execute_jsonata(exec, env, state, io);
        }
        match &state.kind {
            StateKind::Pass { result } => {
                let effective = self.effective_input(exec, state)?;
                let result = match result {
                    Some(r) => r.clone(),
                    None => effective,
                };
                let result = self.check_size(exec, state, result)?;
                let output = self.finish(exec, state, result)?;
                Ok(Step::Continue(output, state.transition))
            }
            StateKind::Task(spec) => {
                let input = self.effective_input(exec, state)?;
                let roots_input =
                    self.apply_input_path(exec, &state.io.input_path, self.input.clone())?;
                let roots = self.roots(exec, &roots_input);
                let timeout =
                    self.seconds(spec.timeout.as_ref(), &roots, None, "TimeoutSecondsPath")?;
                let heartbeat = self.seconds(
                    spec.heartbeat.as_ref(),
                    &roots,
                    None,
                    "HeartbeatSecondsPath",
                )?;
                let credentials = match &spec.credentials {
                    Some(p) => Some(eval_payload(p, Some(&roots), None)?),
                    None => None,
                };
                Ok(self.invoke(
                    exec,
                    env,
                    state,
                    spec,
                    input,
                    timeout,
                    heartbeat,
                    credentials,
                ))
            }
            StateKind::Choice { rules, default } => {
                let effective =
                    self.apply_input_path(exec, &state.io.input_path, self.input.clone())?;
                let mut target = default.map(|d| (d, state.assign.as_ref()));
                {
                    let roots = self.roots(exec, &effective);
                    for rule in rules {
                        let RuleTest::Path(condition) = &rule.test else {
                            continue;
                        };
                        if condition.eval(&roots)? {
                            target = Some((rule.next, rule.assign.as_ref()));
                            break;
                        }
                    }
                }
                let Some((next, assign)) = target else {
                    return Err(no_choice_matched(state));
                };
                let assigned = self.eval_path_assign(exec, assign, &effective)?;
                let output = self.apply_input_path(exec, &state.io.output_path, effective)?;
                self.commit(state, assigned)?;
                Ok(Step::Goto(output, next))
            }
            StateKind::Wait(spec) => {
                let effective =
                    self.apply_input_path(exec, &state.io.input_path, self.input.clone())?;
                let until = self.wait_until(exec, env.now, spec, &effective, None)?;
                let assigned = self.eval_path_assign(exec, state.assign.as_ref(), &effective)?;
                let output = self.apply_input_path(exec, &state.io.output_path, effective)?;
                self.commit(state, assigned)?;
                Ok(self.wait(state, env.now, until, output))
            }
            StateKind::Succeed => {
                let effective =
                    self.apply_input_path(exec, &state.io.input_path, self.input.clone())?;
                let output = self.apply_input_path(exec, &state.io.output_path, effective)?;
                Ok(Step::Continue(output, Transition::End))
            }
            StateKind::Fail(spec) => {
                let roots = self.roots(exec, &self.input);
                let error = self.fail_field(spec.error.as_ref(), &roots, None, "Error")?;
                let cause = self.fail_field(spec.cause.as_ref(), &roots, None, "Cause")?;
                Err(StatesError::from_parts(error.map(Into::into), cause))
            }
            StateKind::Parallel { branches } => {
                let input = self.effective_input(exec, state)?;
                Ok(self.fork_parallel(env, branches, input))
            }
            StateKind::Map(spec) => {
                let fork = self.map_fork(exec, state, spec)?;
                Ok(self.fork_map(env, spec, fork))
            }
        }
    }

    /// Runs the body of the current state, a JSONata state.
    fn execute_jsonata(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        state: &State,
        io: &JsonataIo,
    ) -> Result<Step, StatesError> {
        match &state.kind {
            StateKind::Pass { .. } => {
                let (output, assigned) =
                    self.jsonata_output(exec, state, io.output.as_ref(), None)?;
                let output = self.check_size(exec, state, output)?;
                self.commit(state, assigned)?;
                Ok(Step::Continue(output, state.transition))
            }
            StateKind::Task(spec) => {
                let (input, timeout, heartbeat, credentials) =
                    self.with_bindings(exec, state, None, |b| {
                        let input = match &io.arguments {
                            Some(t) => t.eval(b)?,
                            None => self.input.clone(),
                        };
                        let roots = self.roots(exec, &self.input);
                        let timeout =
                            self.seconds(spec.timeout.as_ref(), &roots, Some(b), "TimeoutSeconds")?;
                        let heartbeat = self.seconds(
                            spec.heartbeat.as_ref(),
                            &roots,
                            Some(b),
                            "HeartbeatSeconds",
                        )?;
                        let credentials = match &spec.credentials {
                            Some(p) => Some(eval_payload(p, None, Some(b))?),
                            None => None,
                        };
                        Ok((input, timeout, heartbeat, credentials))
                    })?;
                Ok(self.invoke(
                    exec,
                    env,
                    state,
                    spec,
                    input,
                    timeout,
                    heartbeat,
                    credentials,
                ))
            }
            StateKind::Choice { rules, default } => {
                let (next, output, assigned) = self.with_bindings(exec, state, None, |b| {
                    for rule in rules {
                        let RuleTest::Jsonata(condition) = &rule.test else {
                            continue;
                        };
                        if condition.eval_bool("Condition", b)? {
                            let (output, assigned) = self.eval_output_assign(
                                rule.output.as_ref(),
                                rule.assign.as_ref(),
                                b,
                            )?;
                            return Ok((rule.next, output, assigned));
                        }
                    }
                    let Some(next) = *default else {
                        return Err(no_choice_matched(state));
                    };
                    let (output, assigned) =
                        self.eval_output_assign(io.output.as_ref(), state.assign.as_ref(), b)?;
                    Ok((next, output, assigned))
                })?;
                self.commit(state, assigned)?;
                Ok(Step::Goto(output, next))
            }
            StateKind::Wait(spec) => {
                let (until, output, assigned) = self.with_bindings(exec, state, None, |b| {
                    let until = self.wait_until(exec, env.now, spec, &self.input, Some(b))?;
                    let (output, assigned) =
                        self.eval_output_assign(io.output.as_ref(), state.assign.as_ref(), b)?;
                    Ok((until, output, assigned))
                })?;
                self.commit(state, assigned)?;
                Ok(self.wait(state, env.now, until, output))
            }
            StateKind::Succeed => {
                let (output, _) =
                    self.jsonata_output_with(exec, state, io.output.as_ref(), None, None)?;
                Ok(Step::Continue(output, Transition::End))
            }
            StateKind::Fail(spec) => {
                let (error, cause) = self.with_bindings(exec, state, None, |b| {
                    let roots = self.roots(exec, &self.input);
                    let error = self.fail_field(spec.error.as_ref(), &roots, Some(b), "Error")?;
                    let cause = self.fail_field(spec.cause.as_ref(), &roots, Some(b), "Cause")?;
                    Ok((error, cause))
                })?;
                Err(StatesError::from_parts(error.map(Into::into), cause))
            }
            StateKind::Parallel { branches } => {
                let input = match &io.arguments {
                    Some(t) => self.with_bindings(exec, state, None, |b| t.eval(b))?,
                    None => self.input.clone(),
                };
                Ok(self.fork_parallel(env, branches, input))
            }
            StateKind::Map(spec) => {
                let fork = self.map_fork(exec, state, spec)?;
                Ok(self.fork_map(env, spec, fork))
            }
        }
    }

    /// A JSONata `Output` (default: the state input) and `Assign`.
    fn eval_output_assign(
        &self,
        output: Option<&JsonataTemplate>,
        assign: Option<&Payload>,
        bindings: &StatesBindings<'_>,
    ) -> Result<(Value, Option<Value>), StatesError> {
        let value = match output {
            Some(t) => t.eval(bindings)?,
            None => self.input.clone(),
        };
        let assigned = match assign {
            Some(a) => Some(eval_payload(a, None, Some(bindings))?),
            None => None,
        };
        Ok((value, assigned))
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
        self.emit(env, scheduled, Some(&input), None);
        self.emit(env, started, None, None);
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
        }))
    }

    /// Waits until `until` (or goes straight on if it has passed).
    fn wait(&mut self, state: &State, now: Timestamp, until: Timestamp, output: Value) -> Step {
        if until <= now {
            return Step::Continue(output, state.transition);
        }
        self.phase = Phase::Waiting(output);
        Step::Wait(Poll::Sleep(until))
    }

    /// Starts the branches of a Parallel state on `input`.
    fn fork_parallel(
        &mut self,
        env: &mut StepEnv<'_>,
        branches: &[BranchId],
        input: Value,
    ) -> Step {
        self.fork_vars = self.vars.fork();
        self.emit(env, EventType::ParallelStateStarted, None, None);
        self.phase = Phase::Children;
        Step::Wait(Poll::Fork(Fork {
            kind: ForkKind::Parallel,
            children: branches
                .iter()
                .map(|&branch| ChildStart {
                    branch,
                    input: input.clone(),
                    map_index: None,
                })
                .collect(),
            max_concurrency: 0,
            tolerance: Tolerance::default(),
        }))
    }

    /// Starts the iterations of a Map state.
    fn fork_map(&mut self, env: &mut StepEnv<'_>, spec: &MapSpec, fork: Fork) -> Step {
        self.fork_vars = if spec.distributed {
            None
        } else {
            self.vars.fork()
        };
        self.emit(env, EventType::MapStateStarted, None, None);
        self.phase = Phase::Children;
        Step::Wait(Poll::Fork(fork))
    }

    fn fail_field(
        &self,
        field: Option<&FailField>,
        roots: &FieldRoots<'_>,
        bindings: Option<&StatesBindings<'_>>,
        name: &str,
    ) -> Result<Option<String>, StatesError> {
        let value = match field {
            None => return Ok(None),
            Some(FailField::Literal(s)) => return Ok(Some(s.to_string())),
            Some(FailField::Path(p)) => select(p, roots)?,
            Some(FailField::Call(call)) => call.eval(&PathsOf(roots))?,
            Some(FailField::Expr(t)) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                return Ok(Some(t.eval_string(name, b)?.to_string()));
            }
        };
        match &value {
            Value::String(s) => Ok(Some(s.to_string())),
            other => Ok(Some(other.to_json())),
        }
    }

    fn seconds(
        &self,
        seconds: Option<&Amount>,
        roots: &FieldRoots<'_>,
        bindings: Option<&StatesBindings<'_>>,
        field: &str,
    ) -> Result<Option<Duration>, StatesError> {
        match seconds {
            None => Ok(None),
            Some(Amount::Fixed(n)) => Ok(Some(Duration::from_secs(*n))),
            Some(Amount::Path(p)) => {
                let value = select(p, roots)?;
                match value.as_i64() {
                    Some(n) if n > 0 => Ok(Some(Duration::from_secs(n as u64))),
                    _ => Err(StatesError::runtime(format!(
                        "The {field} field refers to value \"{}\" which is not a valid positive integer: {}",
                        text_of(&value),
                        p.source()
                    ))),
                }
            }
            Some(Amount::Expr(t)) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                let n = t.eval_integer(field, 1, b)?;
                Ok(Some(Duration::from_secs(n as u64)))
            }
        }
    }

    fn wait_until(
        &self,
        exec: &ExecutionInfo,
        now: Timestamp,
        spec: &WaitSpec,
        input: &Value,
        bindings: Option<&StatesBindings<'_>>,
    ) -> Result<Timestamp, StatesError> {
        match spec {
            WaitSpec::Seconds(n) => Ok(now.plus(Duration::from_secs(*n))),
            WaitSpec::Timestamp(t) => Ok(*t),
            WaitSpec::SecondsPath(p) => {
                let value = select(p, &self.roots(exec, input))?;
                match value.as_number() {
                    Some(crate::value::Number::Int(n)) if n >= 0 => {
                        Ok(now.plus(Duration::from_secs(n as u64)))
                    }
                    Some(crate::value::Number::Int(_)) => Err(StatesError::runtime(format!(
                        "The SecondsPath parameter references a negative value: {} == {}",
                        p.source(),
                        text_of(&value)
                    ))),
                    _ => Err(StatesError::runtime(format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                        p.source(),
                        text_of(&value)
                    ))),
                }
            }
            WaitSpec::TimestampPath(p) => {
                let value = select(p, &self.roots(exec, input))?;
                value.as_str().and_then(Timestamp::parse).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                        p.source(),
                        text_of(&value)
                    ))
                })
            }
            WaitSpec::SecondsExpr(t) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                let n = t.eval_integer("Seconds", 0, b)?;
                Ok(now.plus(Duration::from_secs(n as u64)))
            }
            WaitSpec::TimestampExpr(t) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                let value = t.eval(b)?;
                value.as_str().and_then(Timestamp::parse).ok_or_else(|| {
                    StatesError::query_evaluation(format!(
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                        text_of(&value)
                    ))
                })
            }
        }
    }

    fn count(
        &self,
        count: &Amount,
        roots: &FieldRoots<'_>,
        bindings: Option<&StatesBindings<'_>>,
        field: &str,
    ) -> Result<u64, StatesError> {
        match count {
            Amount::Fixed(n) => Ok(*n),
            Amount::Path(p) => {
                let value = select(p, roots)?;
                match integer_of(&value) {
                    Some(n) if n >= 0 => Ok(n as u64),
                    Some(_) => Err(StatesError::runtime(format!("{field} cannot be negative."))),
                    None => Err(StatesError::runtime(format!(
                        "The {field}Path field refers to value \"{}\" which is not a valid integer: {}",
                        text_of(&value),
                        p.source()
                    ))),
                }
            }
            Amount::Expr(t) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                Ok(t.eval_integer(field, 0, b)? as u64)
            }
        }
    }

    fn map_fork(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        spec: &MapSpec,
    ) -> Result<Fork, StatesError> {
        if state.is_jsonata() {
            return self.with_bindings(exec, state, None, |b| {
                self.map_fork_in(exec, spec, &self.input, Some(b))
            });
        }
        let effective = self.apply_input_path(exec, &state.io.input_path, self.input.clone())?;
        self.map_fork_in(exec, spec, &effective, None)
    }

    /// Builds a Map's fork from its effective input (JSONPath) or state
    /// input (JSONata, with `bindings`).
    fn map_fork_in(
        &self,
        exec: &ExecutionInfo,
        spec: &MapSpec,
        effective: &Value,
        bindings: Option<&StatesBindings<'_>>,
    ) -> Result<Fork, StatesError> {
        let roots = self.roots(exec, effective);
        let items_value = match (&spec.items_path, &spec.items, bindings) {
            (Some(path), _, _) => select(path, &roots)?,
            (None, Some(items), Some(b)) => Value::Array(items.eval_array("Items", b)?),
            _ => effective.clone(),
        };
        let Value::Array(items) = &items_value else {
            let message = format!(
                "Map state input must be an array but was: {}",
                items_value.to_json()
            );
            return Err(match bindings {
                Some(_) => StatesError::query_evaluation(message),
                None => StatesError::runtime(message),
            });
        };
        let max_concurrency =
            self.count(&spec.max_concurrency, &roots, bindings, "MaxConcurrency")?;
        let tolerance = Tolerance {
            count: match &spec.tolerated_count {
                Some(c) => Some(self.count(c, &roots, bindings, "ToleratedFailureCount")?),
                None => None,
            },
            percentage: match &spec.tolerated_percentage {
                Some(Percentage::Fixed(p)) => Some(*p),
                Some(Percentage::Path(p)) => {
                    let value = select(p, &roots)?;
                    let number = match &value {
                        Value::String(s) => s.parse::<f64>().ok(),
                        other => other.as_f64(),
                    };
                    match number {
                        Some(pct) if (0.0..=100.0).contains(&pct) => Some(pct),
                        _ => {
                            return Err(StatesError::runtime(format!(
                                "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid percentage: {}",
                                text_of(&value),
                                p.source()
                            )));
                        }
                    }
                }
                Some(Percentage::Expr(t)) => {
                    let b = bindings.ok_or_else(not_jsonata)?;
                    Some(t.eval_number("ToleratedFailurePercentage", 0.0, 100.0, b)?)
                }
                None => None,
            },
        };
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let map_item = Some((index as u32, item));
            let input = match &spec.item_selector {
                Some(Payload::Template(selector)) => {
                    let roots = FieldRoots {
                        exec,
                        core: self,
                        input: effective,
                        map_item,
                    };
                    selector.eval(&roots)?
                }
                Some(Payload::Jsonata(selector)) => {
                    let context = || self.context(exec, map_item);
                    let mut b = StatesBindings::new(effective, &self.vars);
                    if selector.needs_context() {
                        b = b.with_context(&context);
                    }
                    selector.eval(&b)?
                }
                None => item.clone(),
            };
            inputs.push(input);
        }
        if let Some(batcher) = &spec.batcher {
            inputs = self.batch(batcher, &roots, bindings, inputs)?;
        }
        Ok(Fork {
            kind: ForkKind::Map,
            children: inputs
                .into_iter()
                .enumerate()
                .map(|(i, input)| ChildStart {
                    branch: spec.processor,
                    input,
                    map_index: Some(i as u32),
                })
                .collect(),
            max_concurrency: usize::try_from(max_concurrency).unwrap_or(usize::MAX),
            tolerance,
        })
    }

    /// Groups items into `{"Items": [...], "BatchInput": ...}` batches.
    fn batch(
        &self,
        batcher: &BatcherSpec,
        roots: &FieldRoots<'_>,
        bindings: Option<&StatesBindings<'_>>,
        items: Vec<Value>,
    ) -> Result<Vec<Value>, StatesError> {
        let max_items = match &batcher.max_items {
            Some(c) => self.count(c, roots, bindings, "MaxItemsPerBatch")?.max(1) as usize,
            None => usize::MAX,
        };
        let max_bytes = match &batcher.max_bytes {
            Some(c) => self
                .count(c, roots, bindings, "MaxInputBytesPerBatch")?
                .max(1) as usize,
            None => usize::MAX,
        };
        let batch_input = match &batcher.batch_input {
            Some(p) => Some(eval_payload(p, Some(roots), bindings)?),
            None => None,
        };
        let mut batches = Vec::new();
        let mut current: Vec<Value> = Vec::new();
        let mut current_bytes = 0usize;
        for item in items {
            let item_bytes = size::json_size(&item);
            if !current.is_empty()
                && (current.len() >= max_items || current_bytes + item_bytes > max_bytes)
            {
                batches.push(std::mem::take(&mut current));
                current_bytes = 0;
            }
            current_bytes += item_bytes;
            current.push(item);
        }
        if !current.is_empty() {
            batches.push(current);
        }
        Ok(batches
            .into_iter()
            .map(|items| {
                let mut map = Map::with_capacity(2);
                if let Some(b) = &batch_input {
                    map.push_unique("BatchInput".into(), b.clone());
                }
                map.push_unique("Items".into(), Value::array(items));
                Value::object(map)
            })
            .collect())
    }
}

/// Builds a payload: a JSONPath template from `roots`, a JSONata one from
/// `bindings`.
fn eval_payload(
    payload: &Payload,
    roots: Option<&FieldRoots<'_>>,
    bindings: Option<&StatesBindings<'_>>,
) -> Result<Value, StatesError> {
    match payload {
        Payload::Template(t) => match roots {
            Some(roots) => t.eval(roots),
            None => Err(StatesError::runtime(
                "a JSONPath template was evaluated in a JSONata state",
            )),
        },
        Payload::Jsonata(t) => t.eval(bindings.ok_or_else(not_jsonata)?),
    }
}

/// The error for a JSONata field met outside a JSONata state (the compiler
/// never produces one).
fn not_jsonata() -> StatesError {
    StatesError::runtime("a JSONata expression was evaluated in a JSONPath state")
}

fn no_choice_matched(state: &State) -> StatesError {
    StatesError::new(
        names::NO_CHOICE_MATCHED,
        format!(
            "No Choice rule of the state '{}' matched its input and it has no Default",
            state.name
        ),
    )
}

/// Resolves intrinsic path arguments against a fiber's roots.
struct PathsOf<'a>(&'a FieldRoots<'a>);

impl crate::intrinsics::PathResolver for PathsOf<'_> {
    fn resolve(&self, path: &crate::path::Path) -> Result<Value, StatesError> {
        select(path, self.0)
    }
}

/// A whole number given as a number or as a string holding one (AWS
/// accepts `"1"` from a path, as a variable typically holds it).
fn integer_of(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.parse().ok(),
        other => other.as_i64(),
    }
}

/// A value as AWS quotes it in messages: strings raw, the rest as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    }
}

/// Writes a state's result (or error output) into its raw input.
fn write_result(path: &ResultPath, target: &mut Value, result: Value) -> Result<(), String> {
    match path {
        ResultPath::Replace => {
            *target = result;
            Ok(())
        }
        ResultPath::Discard => Ok(()),
        ResultPath::Path(p) => p.set(target, result).map_err(|m| m.message),
    }
}

#[cfg(test)]
mod tests {
    use crate::error::StatesError;
    use crate::interp::{RunOptions, run_execution};
    use crate::json;
    use crate::plan::{CompileOptions, from_definition};
    use crate::task::Resources;
    use crate::value::Value;
    use std::sync::Arc;

    fn run(definition: &str, input: Value) -> Result<Value, StatesError> {
        let plan = Arc::new(
            from_definition(definition, &CompileOptions::default())
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let options = RunOptions::virtual_time(Resources::new());
        runtime
            .block_on(run_execution(plan, "test", input, &options, None))
            .result
    }

    #[test]
    fn an_oversized_variable_fails_the_state_and_assigns_nothing() {
        let definition = r#"{"QueryLanguage":"JSONata","StartAt":"Big","States":{
            "Big":{"Type":"Pass","Assign":{"small":1,"big":"{% $join($map([1..70000], function($i){'abcd'})) %}"},"End":true}}}"#;
        let err = run(definition, json!({})).unwrap_err();
        assert_eq!(err.error(), Some("States.DataLimitExceeded"));
        assert!(
            !err.cause().unwrap().starts_with("An error occurred"),
            "not a runtime error, so no location prefix: {err}"
        );
        assert!(err.cause().unwrap().contains("'big'"), "{err}");
        // Caught, the failed state's other variables are not set either.
        let definition = r#"{"QueryLanguage":"JSONata","StartAt":"Big","States":{
            "Big":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
                   "Assign":{"small":1,"big":"{% $join($map([1..70000], function($i){'abcd'})) %}"},
                   "Catch":[{"ErrorEquals":["States.DataLimitExceeded"],"Output":{"error":"{% $states.errorOutput.Error %}","small":"{% $exists($small) %}"},"Next":"Done"}],"End":true},
            "Done":{"Type":"Succeed"}}}"#;
        assert_eq!(
            run(definition, json!({})).unwrap(),
            json!({"error": "States.DataLimitExceeded", "small": false})
        );
    }

    #[test]
    fn distributed_map_iterations_read_no_outer_variables() {
        let definition = r#"{"QueryLanguage":"JSONata","StartAt":"Set","States":{
            "Set":{"Type":"Pass","Assign":{"x":1},"Next":"Each"},
            "Each":{"Type":"Map","Items":[1,2],"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
                "StartAt":"Look","States":{"Look":{"Type":"Pass","Output":"{% $exists($x) %}","End":true}}},
                "Output":{"inner":"{% $states.result %}","outer":"{% $x %}"},"End":true}}}"#;
        assert_eq!(
            run(definition, json!({})).unwrap(),
            json!({"inner": [false, false], "outer": 1})
        );
    }

    #[test]
    fn a_failed_result_path_keeps_the_state_variables_unassigned() {
        // ResultPath cannot write into a string input: the Parallel state
        // fails after its Assign was evaluated, and the caught error leaves
        // the variable unset.
        let definition = r#"{"StartAt":"Set","States":{
            "Set":{"Type":"Pass","Result":"text","Next":"Write"},
            "Write":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
                     "ResultPath":"$.x","Assign":{"written":true},
                     "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"caught.$":"$.Error"},"Next":"Report"}],"End":true},
            "Report":{"Type":"Pass","QueryLanguage":"JSONata","Output":{"written":"{% $exists($written) %}","caught":"{% $caught %}"},"End":true}}}"#;
        assert_eq!(
            run(definition, json!({})).unwrap(),
            json!({"written": false, "caught": "States.ResultPathMatchFailure"})
        );
    }
}
