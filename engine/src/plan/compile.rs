//! Model to [`Plan`]. Runs after validation, so shape errors are not
//! expected here; whatever still cannot be compiled is reported as a
//! diagnostic with its JSON pointer rather than a panic.

use super::*;
use crate::asl::{self, Json, Nullable, QueryLanguage};
use crate::diagnostic::{Diagnostic, Diagnostics, Pointer};
use crate::intrinsics::Intrinsic;
use crate::path::{Path, ReferencePath};
use crate::template::Template;
use crate::value::{Str, Value};
use std::collections::HashMap;

/// Settings that are not part of the definition.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// The state machine's name (`$$.StateMachine.Name`).
    pub name: String,
    /// Region used in ARNs.
    pub region: String,
    /// Account id used in ARNs.
    pub account: String,
    /// Payload size limit in bytes.
    pub payload_limit: usize,
}

impl Default for CompileOptions {
    fn default() -> CompileOptions {
        CompileOptions {
            name: "StateMachine".to_string(),
            region: "us-east-1".to_string(),
            account: "123456789012".to_string(),
            payload_limit: 256 * 1024,
        }
    }
}

/// Compiles a (validated) state machine.
pub fn compile(machine: &asl::StateMachine, options: &CompileOptions) -> Result<Plan, Diagnostics> {
    let mut compiler = Compiler {
        branches: Vec::new(),
        problems: Vec::new(),
        default_language: machine.query_language.unwrap_or(QueryLanguage::JsonPath),
    };
    compiler.branch(&machine.start_at, &machine.states, &Pointer::root());
    let timeout = machine
        .timeout_seconds
        .as_ref()
        .and_then(Json::as_u64)
        .map(std::time::Duration::from_secs);
    if !compiler.problems.is_empty() {
        return Err(Diagnostics(compiler.problems));
    }
    Ok(Plan {
        arn: Str::from(format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            options.region, options.account, options.name
        )),
        name: Str::new(&options.name),
        branches: compiler
            .branches
            .into_iter()
            .map(|b| b.unwrap_or_else(empty_branch))
            .collect(),
        timeout,
        payload_limit: options.payload_limit,
        keeps_execution_input: true,
    })
}

fn empty_branch() -> Branch {
    Branch {
        start: StateId(0),
        states: Vec::new(),
    }
}

struct Compiler {
    /// Branches by id; `None` while a branch is being compiled.
    branches: Vec<Option<Branch>>,
    problems: Vec<Diagnostic>,
    default_language: QueryLanguage,
}

/// Names of a branch's states, for resolving `Next` and friends.
struct Scope<'a> {
    ids: HashMap<&'a str, StateId>,
}

impl Compiler {
    fn problem(&mut self, at: &Pointer, message: impl Into<String>) {
        self.problems.push(Diagnostic::new(at.as_str(), message));
    }

    /// Compiles a state map into a new branch and returns its id.
    fn branch(&mut self, start_at: &str, states: &[asl::NamedState], at: &Pointer) -> BranchId {
        let id = BranchId(self.branches.len() as u32);
        self.branches.push(None);
        let scope = Scope {
            ids: states
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), StateId(i as u32)))
                .collect(),
        };
        let start = match scope.ids.get(start_at) {
            Some(&s) => s,
            None => {
                self.problem(
                    &at.push("StartAt"),
                    format!("StartAt names no state: `{start_at}`"),
                );
                StateId(0)
            }
        };
        let states_at = at.push("States");
        let compiled = states
            .iter()
            .map(|s| self.state(s, &scope, &states_at.push(&s.name)))
            .collect();
        self.branches[id.0 as usize] = Some(Branch {
            start,
            states: compiled,
        });
        id
    }

    fn target(&mut self, scope: &Scope<'_>, name: &str, at: &Pointer) -> StateId {
        match scope.ids.get(name) {
            Some(&id) => id,
            None => {
                self.problem(at, format!("no state named `{name}` in this scope"));
                StateId(0)
            }
        }
    }

    fn transition(
        &mut self,
        scope: &Scope<'_>,
        next: &Option<String>,
        end: Option<bool>,
        at: &Pointer,
    ) -> Transition {
        match (next, end) {
            (Some(next), _) => Transition::Next(self.target(scope, next, &at.push("Next"))),
            (None, Some(true)) => Transition::End,
            _ => {
                self.problem(at, "the state needs `Next` or `End: true`");
                Transition::End
            }
        }
    }

    fn state(&mut self, named: &asl::NamedState, scope: &Scope<'_>, at: &Pointer) -> State {
        let language = named
            .state
            .query_language()
            .unwrap_or(self.default_language);
        if language == QueryLanguage::Jsonata {
            self.problem(
                at,
                "JSONata states are not supported by this version of Spate",
            );
        }
        let mut state = State {
            name: Str::new(&named.name),
            kind: StateKind::Succeed,
            io: Io {
                input_path: InputPath::Whole,
                parameters: None,
                result_selector: None,
                result_path: ResultPath::Replace,
                output_path: InputPath::Whole,
            },
            transition: Transition::Decided,
            retry: Vec::new(),
            catch: Vec::new(),
        };
        match &named.state {
            asl::State::Pass(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.io.parameters = self.template(&s.parameters, &at.push("Parameters"));
                state.io.result_path = self.result_path(&s.result_path, &at.push("ResultPath"));
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.kind = StateKind::Pass {
                    result: s.result.as_ref().map(Value::from),
                };
            }
            asl::State::Task(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.io.parameters = self.template(&s.parameters, &at.push("Parameters"));
                state.io.result_selector =
                    self.template(&s.result_selector, &at.push("ResultSelector"));
                state.io.result_path = self.result_path(&s.result_path, &at.push("ResultPath"));
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.retry = self.retriers(&s.retry, &at.push("Retry"));
                state.catch = self.catchers(&s.catch, scope, &at.push("Catch"));
                let resource = s.resource.clone().unwrap_or_default();
                let family =
                    if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
                        TaskFamily::LambdaFunction
                    } else {
                        TaskFamily::Service
                    };
                state.kind = StateKind::Task(Box::new(TaskSpec {
                    resource: Str::from(resource),
                    family,
                    timeout: self.seconds(
                        &s.timeout_seconds,
                        &s.timeout_seconds_path,
                        at,
                        "TimeoutSeconds",
                    ),
                    heartbeat: self.seconds(
                        &s.heartbeat_seconds,
                        &s.heartbeat_seconds_path,
                        at,
                        "HeartbeatSeconds",
                    ),
                    credentials: self.template(&s.credentials, &at.push("Credentials")),
                }));
            }
            asl::State::Choice(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                let choices_at = at.push("Choices");
                let mut rules = Vec::new();
                for (i, rule) in s.choices.iter().flatten().enumerate() {
                    let rule_at = choices_at.push(i);
                    let condition = match crate::choice::compile(rule) {
                        Ok(c) => c,
                        Err(e) => {
                            self.problem(&rule_at, e);
                            continue;
                        }
                    };
                    let next = match &rule.next {
                        Some(n) => self.target(scope, n, &rule_at.push("Next")),
                        None => {
                            self.problem(&rule_at, "a Choice rule needs `Next`");
                            continue;
                        }
                    };
                    rules.push((condition, next));
                }
                let default = s
                    .default
                    .as_ref()
                    .map(|d| self.target(scope, d, &at.push("Default")));
                state.kind = StateKind::Choice { rules, default };
            }
            asl::State::Wait(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.kind = StateKind::Wait(self.wait(s, at));
            }
            asl::State::Succeed(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.transition = Transition::End;
            }
            asl::State::Fail(s) => {
                let error = self.fail_field(&s.error, &s.error_path, at, "Error");
                let cause = self.fail_field(&s.cause, &s.cause_path, at, "Cause");
                state.kind = StateKind::Fail(FailSpec { error, cause });
            }
            asl::State::Parallel(p) => {
                let s = &p.fields;
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.io.parameters = self.template(&s.parameters, &at.push("Parameters"));
                state.io.result_selector =
                    self.template(&s.result_selector, &at.push("ResultSelector"));
                state.io.result_path = self.result_path(&s.result_path, &at.push("ResultPath"));
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.retry = self.retriers(&s.retry, &at.push("Retry"));
                state.catch = self.catchers(&s.catch, scope, &at.push("Catch"));
                let branches_at = at.push("Branches");
                let branches = p
                    .branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| self.branch(&b.start_at, &b.states, &branches_at.push(i)))
                    .collect();
                state.kind = StateKind::Parallel { branches };
            }
            asl::State::Map(m) => {
                let s = &m.fields;
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.io.result_selector =
                    self.template(&s.result_selector, &at.push("ResultSelector"));
                state.io.result_path = self.result_path(&s.result_path, &at.push("ResultPath"));
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.retry = self.retriers(&s.retry, &at.push("Retry"));
                state.catch = self.catchers(&s.catch, scope, &at.push("Catch"));
                state.kind = StateKind::Map(Box::new(self.map(m, at)));
            }
        }
        state
    }

    fn map(&mut self, m: &asl::MapState, at: &Pointer) -> MapSpec {
        let s = &m.fields;
        let processor_at = at.push(if m.legacy_iterator {
            "Iterator"
        } else {
            "ItemProcessor"
        });
        let processor = match &m.processor {
            Some(p) => self.branch(&p.start_at, &p.states, &processor_at),
            None => {
                self.problem(at, "missing `ItemProcessor`");
                BranchId(0)
            }
        };
        let items_path = s.items_path.as_deref().and_then(|p| {
            ReferencePath::parse(p)
                .map_err(|e| self.problem(&at.push("ItemsPath"), e.to_string()))
                .ok()
        });
        let (selector, selector_field) = match (&s.item_selector, &s.parameters) {
            (Some(t), _) => (Some(t.clone()), "ItemSelector"),
            (None, Some(t)) => (Some(t.clone()), "Parameters"),
            (None, None) => (None, "ItemSelector"),
        };
        let item_selector = self.template(&selector, &at.push(selector_field));
        let max_concurrency = self
            .count(
                &s.max_concurrency,
                &s.max_concurrency_path,
                at,
                "MaxConcurrency",
            )
            .unwrap_or(Count::Fixed(0));
        let tolerated_count = self.count(
            &s.tolerated_failure_count,
            &s.tolerated_failure_count_path,
            at,
            "ToleratedFailureCount",
        );
        let tolerated_percentage = match (
            &s.tolerated_failure_percentage,
            &s.tolerated_failure_percentage_path,
        ) {
            (Some(v), _) => v.as_f64().map(Percentage::Fixed),
            (None, Some(p)) => self
                .path(p, &at.push("ToleratedFailurePercentagePath"))
                .map(Percentage::Path),
            (None, None) => None,
        };
        let batcher = s.item_batcher.as_ref().map(|b| {
            let batcher_at = at.push("ItemBatcher");
            BatcherSpec {
                max_items: self.count(
                    &b.max_items_per_batch,
                    &b.max_items_per_batch_path,
                    &batcher_at,
                    "MaxItemsPerBatch",
                ),
                max_bytes: self.count(
                    &b.max_input_bytes_per_batch,
                    &b.max_input_bytes_per_batch_path,
                    &batcher_at,
                    "MaxInputBytesPerBatch",
                ),
                batch_input: self.template(&b.batch_input, &batcher_at.push("BatchInput")),
            }
        });
        MapSpec {
            processor,
            items_path,
            item_selector,
            batcher,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
        }
    }

    fn wait(&mut self, s: &asl::WaitState, at: &Pointer) -> WaitSpec {
        if let Some(seconds) = s.seconds.as_ref().and_then(Json::as_u64) {
            return WaitSpec::Seconds(seconds);
        }
        if let Some(p) = s
            .seconds_path
            .as_deref()
            .and_then(|p| self.path(p, &at.push("SecondsPath")))
        {
            return WaitSpec::SecondsPath(p);
        }
        if let Some(t) = s.timestamp.as_ref().and_then(Json::as_str) {
            match crate::time::Timestamp::parse(t) {
                Some(t) => return WaitSpec::Timestamp(t),
                None => self.problem(
                    &at.push("Timestamp"),
                    format!("not an ISO-8601 timestamp: `{t}`"),
                ),
            }
        }
        if let Some(p) = s
            .timestamp_path
            .as_deref()
            .and_then(|p| self.path(p, &at.push("TimestampPath")))
        {
            return WaitSpec::TimestampPath(p);
        }
        self.problem(
            at,
            "a Wait state needs one of Seconds, SecondsPath, Timestamp or TimestampPath",
        );
        WaitSpec::Seconds(0)
    }

    fn fail_field(
        &mut self,
        literal: &Option<Json>,
        path: &Option<String>,
        at: &Pointer,
        field: &str,
    ) -> Option<FailField> {
        if let Some(text) = literal.as_ref().and_then(Json::as_str) {
            return Some(FailField::Literal(Str::new(text)));
        }
        let text = path.as_deref()?;
        let at = at.push(format!("{field}Path"));
        if Intrinsic::looks_like_call(text) {
            match Intrinsic::parse(text) {
                Ok(call) => Some(FailField::Call(Box::new(call))),
                Err(e) => {
                    self.problem(&at, e.to_string());
                    None
                }
            }
        } else {
            self.path(text, &at).map(FailField::Path)
        }
    }

    fn path(&mut self, text: &str, at: &Pointer) -> Option<Path> {
        Path::parse(text)
            .map_err(|e| self.problem(at, e.to_string()))
            .ok()
    }

    fn input_path(&mut self, field: &Nullable<String>, at: &Pointer) -> InputPath {
        match field {
            Nullable::Absent => InputPath::Whole,
            Nullable::Null => InputPath::Empty,
            Nullable::Set(p) if p == "$" => InputPath::Whole,
            Nullable::Set(p) => self.path(p, at).map_or(InputPath::Whole, InputPath::Path),
        }
    }

    fn result_path(&mut self, field: &Nullable<String>, at: &Pointer) -> ResultPath {
        match field {
            Nullable::Absent => ResultPath::Replace,
            Nullable::Null => ResultPath::Discard,
            Nullable::Set(p) => match ReferencePath::parse(p) {
                Ok(r) if r.is_root() => ResultPath::Replace,
                Ok(r) => ResultPath::Path(r),
                Err(e) => {
                    self.problem(at, e.to_string());
                    ResultPath::Replace
                }
            },
        }
    }

    fn template(&mut self, json: &Option<Json>, at: &Pointer) -> Option<Template> {
        let json = json.as_ref()?;
        match Template::compile(&Value::from(json)) {
            Ok(t) => Some(t),
            Err(e) => {
                let mut pointer = at.clone();
                for token in e.key.split('/').filter(|t| !t.is_empty()) {
                    pointer = pointer.push(token);
                }
                self.problem(&pointer, e.reason);
                None
            }
        }
    }

    fn seconds(
        &mut self,
        literal: &Option<Json>,
        path: &Option<String>,
        at: &Pointer,
        field: &str,
    ) -> Option<Seconds> {
        if let Some(n) = literal.as_ref().and_then(Json::as_u64) {
            return Some(Seconds::Fixed(n));
        }
        let path = path.as_deref()?;
        self.path(path, &at.push(format!("{field}Path")))
            .map(Seconds::Path)
    }

    fn count(
        &mut self,
        literal: &Option<Json>,
        path: &Option<String>,
        at: &Pointer,
        field: &str,
    ) -> Option<Count> {
        if let Some(n) = literal.as_ref().and_then(Json::as_u64) {
            return Some(Count::Fixed(n));
        }
        let path = path.as_deref()?;
        self.path(path, &at.push(format!("{field}Path")))
            .map(Count::Path)
    }

    fn retriers(&mut self, retriers: &Option<Vec<asl::Retrier>>, _at: &Pointer) -> Vec<Retrier> {
        retriers
            .iter()
            .flatten()
            .map(|r| Retrier {
                errors: matcher(&r.error_equals),
                interval: std::time::Duration::from_secs(
                    r.interval_seconds
                        .as_ref()
                        .and_then(Json::as_u64)
                        .unwrap_or(1),
                ),
                max_attempts: r
                    .max_attempts
                    .as_ref()
                    .and_then(Json::as_u64)
                    .map_or(3, |n| n.min(u64::from(u32::MAX)) as u32),
                backoff_rate: r
                    .backoff_rate
                    .as_ref()
                    .and_then(Json::as_f64)
                    .unwrap_or(2.0),
                max_delay: r
                    .max_delay_seconds
                    .as_ref()
                    .and_then(Json::as_u64)
                    .map(std::time::Duration::from_secs),
                jitter: if r.jitter_strategy.as_deref() == Some("FULL") {
                    Jitter::Full
                } else {
                    Jitter::None
                },
            })
            .collect()
    }

    fn catchers(
        &mut self,
        catchers: &Option<Vec<asl::Catcher>>,
        scope: &Scope<'_>,
        at: &Pointer,
    ) -> Vec<Catcher> {
        let mut out = Vec::new();
        for (i, c) in catchers.iter().flatten().enumerate() {
            let catcher_at = at.push(i);
            let next = match &c.next {
                Some(n) => self.target(scope, n, &catcher_at.push("Next")),
                None => {
                    self.problem(&catcher_at, "a catcher needs `Next`");
                    continue;
                }
            };
            let result_path = self.result_path(&c.result_path, &catcher_at.push("ResultPath"));
            out.push(Catcher {
                errors: matcher(&c.error_equals),
                next,
                result_path,
            });
        }
        out
    }
}

fn matcher(names: &Option<Vec<String>>) -> ErrorMatcher {
    ErrorMatcher::new(names.iter().flatten().map(Str::new).collect())
}
