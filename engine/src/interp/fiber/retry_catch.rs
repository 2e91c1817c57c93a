//! Retry and Catch: what happens to an error raised in a state.

use super::*;

impl Core {
    /// Handles an error raised in the current state: Retry, then Catch, else
    /// the branch fails. Returns [`Poll::Yield`] when a catcher moved the
    /// fiber on (the caller keeps running).
    pub(super) fn fail(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        error: StatesError,
    ) -> Poll {
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
                        return self.complete(exec, env, Err(error));
                    }
                };
                return match self.advance(exec, env, output, Transition::Next(catcher.next)) {
                    Some(done) => done,
                    None => Poll::Yield,
                };
            }
        }
        self.complete(exec, env, Err(error))
    }

    /// The output a catcher hands to its `Next` state, its `Assign` applied.
    pub(super) fn catch_output(
        &mut self,
        exec: &ExecutionInfo,
        state: &State,
        catcher: &Catcher,
        error_value: Value,
    ) -> Result<Value, StatesError> {
        if state.is_jsonata() {
            let (output, assigned) = {
                let context = || self.context(exec, None);
                let mut bindings = StatesBindings::new(&self.input, &self.vars)
                    .with_deadline(exec.deadline)
                    .with_error_output(&error_value);
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
}
