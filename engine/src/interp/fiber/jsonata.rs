//! JSONata states: `Arguments`, `Output` and `Assign` with `$states` bound,
//! and the body of each state type.

use super::*;

impl Core {
    /// A JSONata state's `Output` (default: `result`, else the state input)
    /// and its evaluated `Assign` (not yet applied).
    pub(super) fn jsonata_output(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        output: Option<&JsonataTemplate>,
        result: Option<&Value>,
    ) -> Result<(Value, Option<Value>), StatesError> {
        self.jsonata_output_with(exec, state, output, state.assign.as_ref(), result)
    }

    pub(super) fn jsonata_output_with(
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
    pub(super) fn with_bindings<T>(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        result: Option<&Value>,
        f: impl FnOnce(&StatesBindings<'_>) -> Result<T, StatesError>,
    ) -> Result<T, StatesError> {
        let context = || self.context(exec, None);
        let mut bindings =
            StatesBindings::new(&self.input, &self.vars).with_deadline(exec.deadline);
        if let Some(result) = result {
            bindings = bindings.with_result(result);
        }
        if state.jsonata.as_ref().is_some_and(|io| io.needs_context) {
            bindings = bindings.with_context(&context);
        }
        f(&bindings)
    }

    /// Runs the body of the current state, a JSONata state.
    pub(super) fn execute_jsonata(
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
                self.mint_task_token(env, spec)?;
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
                Ok(self.fork_parallel(exec, env, branches, input))
            }
            StateKind::Map(spec) => {
                let fork = self.map_fork(exec, state, spec)?;
                Ok(self.fork_map(exec, env, spec, fork))
            }
        }
    }

    /// A JSONata `Output` (default: the state input) and `Assign`.
    pub(super) fn eval_output_assign(
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
}
