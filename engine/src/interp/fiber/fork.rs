//! Map and Parallel: building the fork that starts their children.

use super::*;

impl Core {
    /// Starts the branches of a Parallel state on `input`.
    pub(super) fn fork_parallel(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        branches: &[BranchId],
        input: Value,
    ) -> Step {
        self.fork_vars = self.vars.fork();
        self.emit(exec, env, EventType::ParallelStateStarted, None, None);
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
    pub(super) fn fork_map(
        &mut self,
        exec: &ExecutionInfo,
        env: &mut StepEnv<'_>,
        spec: &MapSpec,
        fork: Fork,
    ) -> Step {
        self.fork_vars = if spec.distributed {
            None
        } else {
            self.vars.fork()
        };
        self.emit(exec, env, EventType::MapStateStarted, None, None);
        self.phase = Phase::Children;
        Step::Wait(Poll::Fork(fork))
    }

    pub(super) fn map_fork(
        &self,
        exec: &ExecutionInfo,
        state: &State,
        spec: &MapSpec,
    ) -> Result<Fork, StatesError> {
        if state.is_jsonata() {
            return self.with_bindings(exec, state, None, |b| {
                self.map_fork_in(exec, state, spec, &self.input, Some(b))
            });
        }
        let effective = self.apply_input_path(exec, &state.io.input_path, self.input.clone())?;
        self.map_fork_in(exec, state, spec, &effective, None)
    }

    /// Builds a Map's fork from its effective input (JSONPath) or state
    /// input (JSONata, with `bindings`).
    pub(super) fn map_fork_in(
        &self,
        exec: &ExecutionInfo,
        state: &State,
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
                    let mut b =
                        StatesBindings::new(effective, &self.vars).with_deadline(exec.deadline);
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
        if matches!(spec.item_selector, Some(Payload::Template(_))) || spec.batcher.is_some() {
            for input in &inputs {
                Core::check_depth(state, input, 0, "an iteration input")?;
            }
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
    pub(super) fn batch(
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
