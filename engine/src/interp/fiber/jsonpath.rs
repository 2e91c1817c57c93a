//! JSONPath states: `InputPath`, `Parameters`, `ResultSelector`, `ResultPath`,
//! `OutputPath` and JSONPath `Assign`, and the body of each state type.

use super::*;
use crate::value::MAX_DEPTH;

impl Core {
    /// Evaluates a JSONPath `Assign` whose `$` is `value`.
    pub(super) fn eval_path_assign(
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
    pub(super) fn commit(
        &mut self,
        state: &State,
        assigned: Option<Value>,
    ) -> Result<(), StatesError> {
        if let Some(pending) = self.prepare(state, assigned)? {
            self.vars.apply(pending);
        }
        Ok(())
    }

    /// Checks an evaluated `Assign` against the size limits; applying it
    /// afterwards cannot fail.
    pub(super) fn prepare(
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

    /// Applies `ResultSelector`, `Assign`, `ResultPath` and `OutputPath` to
    /// a state's result (JSONata: `Output` and `Assign`).
    pub(super) fn finish(
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
        // `$` in a JSONPath `Assign` is the state's raw result: the
        // Developer Guide ("Passing data between states with variables")
        // and the ASL specification ("Using Assign") evaluate `Assign`
        // beside `ResultSelector`, not after it.
        let assigned = self.eval_path_assign(exec, state.assign.as_ref(), &result)?;
        let pending = self.prepare(state, assigned)?;
        let result = match &state.io.result_selector {
            Some(selector) => selector.eval(&self.roots(exec, &result))?,
            None => result,
        };
        let below = match &state.io.result_path {
            ResultPath::Path(path) => path.steps(),
            _ => 0,
        };
        if below > 0 || state.io.result_selector.is_some() {
            Core::check_depth(state, &result, below, "an output")?;
        }
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

    /// `InputPath` / `OutputPath`.
    pub(super) fn apply_input_path(
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
    pub(super) fn effective_input(
        &self,
        exec: &ExecutionInfo,
        state: &State,
    ) -> Result<Value, StatesError> {
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
    /// the payload limit, and with `States.Runtime` when it nests deeper
    /// than [`MAX_DEPTH`] (one walk checks both).
    pub(super) fn check_size(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        value: Value,
    ) -> Result<Value, StatesError> {
        match size::check(&value, exec.plan.payload_limit, MAX_DEPTH) {
            Ok(()) => Ok(value),
            Err(size::Over::Bytes) => Err(StatesError::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    state.name
                ),
            )),
            Err(size::Over::Depth) => Err(too_deep(state, "a result")),
        }
    }

    /// Fails with `States.Runtime` when `value`, put `below` levels deep,
    /// would nest deeper than [`MAX_DEPTH`]. Used where a state builds a
    /// value that no other check walks (`ResultSelector`, `ResultPath`, a
    /// Parallel's or a Map iteration's input from a template).
    pub(super) fn check_depth(
        state: &State,
        value: &Value,
        below: usize,
        what: &str,
    ) -> Result<(), StatesError> {
        match MAX_DEPTH.checked_sub(below) {
            Some(room) if size::check_depth(value, room).is_ok() => Ok(()),
            _ => Err(too_deep(state, what)),
        }
    }

    /// Runs the body of the current state.
    pub(super) fn execute(
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
                self.mint_task_token(env, spec)?;
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
                if state.io.parameters.is_some() {
                    Core::check_depth(state, &input, 0, "a branch input")?;
                }
                Ok(self.fork_parallel(exec, env, branches, input))
            }
            StateKind::Map(spec) => {
                let fork = self.map_fork(exec, state, spec)?;
                Ok(self.fork_map(exec, env, spec, fork))
            }
        }
    }
}

/// The error for a value a state built nested deeper than [`MAX_DEPTH`]:
/// `what` names the value ("a result", "an output", ...).
pub(super) fn too_deep(state: &State, what: &str) -> StatesError {
    StatesError::runtime(format!(
        "The state '{}' built {what} nested more than {MAX_DEPTH} levels deep (arrays and objects), over the nesting limit for JSON values.",
        state.name
    ))
}
