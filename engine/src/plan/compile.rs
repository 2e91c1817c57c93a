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
            payload_limit: crate::limits::PAYLOAD_BYTES,
        }
    }
}

/// Compiles a (validated) state machine.
pub fn compile(machine: &asl::StateMachine, options: &CompileOptions) -> Result<Plan, Diagnostics> {
    let mut compiler = Compiler {
        branches: Vec::new(),
        problems: Vec::new(),
        default_language: machine.query_language.unwrap_or(QueryLanguage::JsonPath),
        needs_context: false,
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
    /// Whether an expression of the JSONata state being compiled may read
    /// `$states.context`.
    needs_context: bool,
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
            language,
            jsonata: None,
            assign: None,
        };
        if language == QueryLanguage::Jsonata {
            self.jsonata_state(&mut state, named, scope, at);
            return state;
        }
        let lang = QueryLanguage::JsonPath;
        match &named.state {
            asl::State::Pass(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.io.parameters = self.template(&s.parameters, &at.push("Parameters"));
                state.io.result_path = self.result_path(&s.result_path, &at.push("ResultPath"));
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.assign = self.payload(&s.assign, lang, "Assign", at);
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
                state.catch = self.catchers(&s.catch, lang, scope, &at.push("Catch"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.kind = StateKind::Task(Box::new(self.task(s, lang, at)));
            }
            asl::State::Choice(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.kind = self.choice(s, lang, scope, at);
            }
            asl::State::Wait(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.kind = StateKind::Wait(self.wait(s, at));
            }
            asl::State::Succeed(s) => {
                state.io.input_path = self.input_path(&s.input_path, &at.push("InputPath"));
                state.io.output_path = self.input_path(&s.output_path, &at.push("OutputPath"));
                state.transition = Transition::End;
            }
            asl::State::Fail(s) => {
                let error = self.fail_field(&s.error, &s.error_path, lang, at, "Error");
                let cause = self.fail_field(&s.cause, &s.cause_path, lang, at, "Cause");
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
                state.catch = self.catchers(&s.catch, lang, scope, &at.push("Catch"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.kind = self.parallel(p, at);
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
                state.catch = self.catchers(&s.catch, lang, scope, &at.push("Catch"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.kind = StateKind::Map(Box::new(self.map(m, lang, at)));
            }
        }
        state
    }

    /// The fields of a JSONata state: no paths, `Arguments` and `Output`
    /// instead, `{% ... %}` expressions in the fields that take them.
    fn jsonata_state(
        &mut self,
        state: &mut State,
        named: &asl::NamedState,
        scope: &Scope<'_>,
        at: &Pointer,
    ) {
        let lang = QueryLanguage::Jsonata;
        // Nested states (Parallel branches, Map processors) are compiled in
        // the middle of this one and track their own flag.
        let outer_flag = std::mem::replace(&mut self.needs_context, false);
        let mut io = JsonataIo::default();
        match &named.state {
            asl::State::Pass(s) => {
                io.output = self.jsonata_field(&s.output, "Output", &at.push("Output"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.kind = StateKind::Pass { result: None };
            }
            asl::State::Task(s) => {
                io.arguments = self.jsonata_field(&s.arguments, "Arguments", &at.push("Arguments"));
                io.output = self.jsonata_field(&s.output, "Output", &at.push("Output"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.retry = self.retriers(&s.retry, &at.push("Retry"));
                state.catch = self.catchers(&s.catch, lang, scope, &at.push("Catch"));
                state.kind = StateKind::Task(Box::new(self.task(s, lang, at)));
            }
            asl::State::Choice(s) => {
                io.output = self.jsonata_field(&s.output, "Output", &at.push("Output"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.kind = self.choice(s, lang, scope, at);
            }
            asl::State::Wait(s) => {
                io.output = self.jsonata_field(&s.output, "Output", &at.push("Output"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.kind = StateKind::Wait(self.jsonata_wait(s, at));
            }
            asl::State::Succeed(s) => {
                io.output = self.jsonata_field(&s.output, "Output", &at.push("Output"));
                state.transition = Transition::End;
            }
            asl::State::Fail(s) => {
                let error = self.fail_field(&s.error, &None, lang, at, "Error");
                let cause = self.fail_field(&s.cause, &None, lang, at, "Cause");
                state.kind = StateKind::Fail(FailSpec { error, cause });
            }
            asl::State::Parallel(p) => {
                let s = &p.fields;
                io.arguments = self.jsonata_field(&s.arguments, "Arguments", &at.push("Arguments"));
                io.output = self.jsonata_field(&s.output, "Output", &at.push("Output"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.retry = self.retriers(&s.retry, &at.push("Retry"));
                state.catch = self.catchers(&s.catch, lang, scope, &at.push("Catch"));
                state.kind = self.parallel(p, at);
            }
            asl::State::Map(m) => {
                let s = &m.fields;
                io.output = self.jsonata_field(&s.output, "Output", &at.push("Output"));
                state.assign = self.payload(&s.assign, lang, "Assign", at);
                state.transition = self.transition(scope, &s.next, s.end, at);
                state.retry = self.retriers(&s.retry, &at.push("Retry"));
                state.catch = self.catchers(&s.catch, lang, scope, &at.push("Catch"));
                state.kind = StateKind::Map(Box::new(self.map(m, lang, at)));
            }
        }
        // The catchers were compiled last and keep their own flag.
        io.needs_context = self.needs_context
            || state.catch.iter().any(|c| c.needs_context)
            || matches!(&state.assign, Some(Payload::Jsonata(t)) if t.needs_context());
        state.jsonata = Some(Box::new(io));
        self.needs_context = outer_flag;
    }

    fn task(&mut self, s: &asl::TaskState, lang: QueryLanguage, at: &Pointer) -> TaskSpec {
        let resource = s.resource.clone().unwrap_or_default();
        let family = if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
            TaskFamily::LambdaFunction
        } else {
            TaskFamily::Service
        };
        TaskSpec {
            resource: Str::from(resource),
            family,
            timeout: self.amount(
                &s.timeout_seconds,
                &s.timeout_seconds_path,
                lang,
                at,
                "TimeoutSeconds",
            ),
            heartbeat: self.amount(
                &s.heartbeat_seconds,
                &s.heartbeat_seconds_path,
                lang,
                at,
                "HeartbeatSeconds",
            ),
            credentials: self.payload(&s.credentials, lang, "Credentials", at),
        }
    }

    fn choice(
        &mut self,
        s: &asl::ChoiceState,
        lang: QueryLanguage,
        scope: &Scope<'_>,
        at: &Pointer,
    ) -> StateKind {
        let choices_at = at.push("Choices");
        let mut rules = Vec::new();
        for (i, rule) in s.choices.iter().flatten().enumerate() {
            let rule_at = choices_at.push(i);
            let field = format!("Choices[{i}]");
            let test = match lang {
                QueryLanguage::JsonPath => match crate::choice::compile(rule) {
                    Ok(c) => RuleTest::Path(c),
                    Err(e) => {
                        self.problem(&rule_at, e);
                        continue;
                    }
                },
                QueryLanguage::Jsonata => {
                    let condition = self.jsonata_field(
                        &rule.condition,
                        &format!("{field}/Condition"),
                        &rule_at.push("Condition"),
                    );
                    match condition {
                        Some(c) => RuleTest::Jsonata(c),
                        None => {
                            self.problem(&rule_at, "a JSONata Choice rule needs `Condition`");
                            continue;
                        }
                    }
                }
            };
            let next = match &rule.next {
                Some(n) => self.target(scope, n, &rule_at.push("Next")),
                None => {
                    self.problem(&rule_at, "a Choice rule needs `Next`");
                    continue;
                }
            };
            let assign = self.payload_at(
                &rule.assign,
                lang,
                &format!("{field}/Assign"),
                &rule_at.push("Assign"),
            );
            let output = match lang {
                QueryLanguage::Jsonata => self.jsonata_field(
                    &rule.output,
                    &format!("{field}/Output"),
                    &rule_at.push("Output"),
                ),
                QueryLanguage::JsonPath => None,
            };
            rules.push(ChoiceRule {
                test,
                next,
                assign,
                output,
            });
        }
        let default = s
            .default
            .as_ref()
            .map(|d| self.target(scope, d, &at.push("Default")));
        StateKind::Choice { rules, default }
    }

    fn parallel(&mut self, p: &asl::ParallelState, at: &Pointer) -> StateKind {
        let branches_at = at.push("Branches");
        let branches = p
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| self.branch(&b.start_at, &b.states, &branches_at.push(i)))
            .collect();
        StateKind::Parallel { branches }
    }

    fn map(&mut self, m: &asl::MapState, lang: QueryLanguage, at: &Pointer) -> MapSpec {
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
        let distributed = m
            .processor
            .as_ref()
            .and_then(|p| p.processor_config.as_ref())
            .and_then(|c| c.mode.as_deref())
            == Some("DISTRIBUTED");
        let items_path = s.items_path.as_deref().and_then(|p| {
            match ReferencePath::parse(p) {
                Ok(r) => Some(r.as_path().clone()),
                // `$name...`: a reference path into a variable.
                Err(e) => match Path::parse(p) {
                    Ok(path)
                        if matches!(path.root(), crate::path::Root::Variable(_))
                            && path.is_simple() =>
                    {
                        Some(path)
                    }
                    _ => {
                        self.problem(&at.push("ItemsPath"), e.to_string());
                        None
                    }
                },
            }
        });
        let items = match lang {
            QueryLanguage::Jsonata => self.jsonata_field(&s.items, "Items", &at.push("Items")),
            QueryLanguage::JsonPath => None,
        };
        let (selector, selector_field) = match (&s.item_selector, &s.parameters) {
            (Some(t), _) => (Some(t.clone()), "ItemSelector"),
            (None, Some(t)) => (Some(t.clone()), "Parameters"),
            (None, None) => (None, "ItemSelector"),
        };
        let item_selector = self.payload(&selector, lang, selector_field, at);
        let max_concurrency = self
            .amount(
                &s.max_concurrency,
                &s.max_concurrency_path,
                lang,
                at,
                "MaxConcurrency",
            )
            .unwrap_or(Amount::Fixed(0));
        let tolerated_count = self.amount(
            &s.tolerated_failure_count,
            &s.tolerated_failure_count_path,
            lang,
            at,
            "ToleratedFailureCount",
        );
        let tolerated_percentage = match (
            &s.tolerated_failure_percentage,
            &s.tolerated_failure_percentage_path,
        ) {
            (Some(Json::String(text)), _)
                if lang == QueryLanguage::Jsonata && is_expression(text) =>
            {
                self.jsonata_field(
                    &s.tolerated_failure_percentage,
                    "ToleratedFailurePercentage",
                    &at.push("ToleratedFailurePercentage"),
                )
                .map(Percentage::Expr)
            }
            (Some(v), _) => v.as_f64().map(Percentage::Fixed),
            (None, Some(p)) => self
                .path(p, &at.push("ToleratedFailurePercentagePath"))
                .map(Percentage::Path),
            (None, None) => None,
        };
        let batcher = s.item_batcher.as_ref().map(|b| {
            let batcher_at = at.push("ItemBatcher");
            BatcherSpec {
                max_items: self.amount(
                    &b.max_items_per_batch,
                    &b.max_items_per_batch_path,
                    lang,
                    &batcher_at,
                    "MaxItemsPerBatch",
                ),
                max_bytes: self.amount(
                    &b.max_input_bytes_per_batch,
                    &b.max_input_bytes_per_batch_path,
                    lang,
                    &batcher_at,
                    "MaxInputBytesPerBatch",
                ),
                batch_input: self.payload_at(
                    &b.batch_input,
                    lang,
                    "ItemBatcher/BatchInput",
                    &batcher_at.push("BatchInput"),
                ),
            }
        });
        MapSpec {
            processor,
            items_path,
            items,
            item_selector,
            distributed,
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

    fn jsonata_wait(&mut self, s: &asl::WaitState, at: &Pointer) -> WaitSpec {
        match (&s.seconds, &s.timestamp) {
            (Some(Json::String(text)), _) if is_expression(text) => self
                .jsonata_field(&s.seconds, "Seconds", &at.push("Seconds"))
                .map_or(WaitSpec::Seconds(0), WaitSpec::SecondsExpr),
            (_, Some(Json::String(text))) if is_expression(text) => self
                .jsonata_field(&s.timestamp, "Timestamp", &at.push("Timestamp"))
                .map_or(WaitSpec::Seconds(0), WaitSpec::TimestampExpr),
            _ => self.wait(s, at),
        }
    }

    fn fail_field(
        &mut self,
        literal: &Option<Json>,
        path: &Option<String>,
        lang: QueryLanguage,
        at: &Pointer,
        field: &str,
    ) -> Option<FailField> {
        if let Some(text) = literal.as_ref().and_then(Json::as_str) {
            if lang == QueryLanguage::Jsonata && is_expression(text) {
                return self
                    .jsonata_field(literal, field, &at.push(field))
                    .map(FailField::Expr);
            }
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

    /// A whole amount (`TimeoutSeconds`, `MaxConcurrency`, ...): a literal,
    /// its `...Path` twin, or (in JSONata states) an expression.
    fn amount(
        &mut self,
        literal: &Option<Json>,
        path: &Option<String>,
        lang: QueryLanguage,
        at: &Pointer,
        field: &str,
    ) -> Option<Amount> {
        if let Some(Json::String(text)) = literal
            && lang == QueryLanguage::Jsonata
            && is_expression(text)
        {
            return self
                .jsonata_field(literal, field, &at.push(field))
                .map(Amount::Expr);
        }
        if let Some(n) = literal.as_ref().and_then(Json::as_u64) {
            return Some(Amount::Fixed(n));
        }
        let path = path.as_deref()?;
        self.path(path, &at.push(format!("{field}Path")))
            .map(Amount::Path)
    }

    /// Compiles a JSONata field found at `at` that may hold expressions
    /// anywhere inside, named `field` in messages.
    fn jsonata_field(
        &mut self,
        json: &Option<Json>,
        field: &str,
        at: &Pointer,
    ) -> Option<JsonataTemplate> {
        self.jsonata_template(json.as_ref()?, field, at)
    }

    fn jsonata_template(
        &mut self,
        json: &Json,
        field: &str,
        at: &Pointer,
    ) -> Option<JsonataTemplate> {
        match JsonataTemplate::compile(&Value::from(json), field) {
            Ok(t) => {
                self.needs_context |= t.needs_context();
                Some(t)
            }
            Err(e) => {
                let mut pointer = at.clone();
                for token in &e.tokens {
                    pointer = pointer.push(token);
                }
                self.problem(&pointer, format!("invalid JSONata expression: {}", e.error));
                None
            }
        }
    }

    /// A template-like field in the state's language (`Assign`,
    /// `ItemSelector`, `Credentials`, ...), at `at/field`.
    fn payload(
        &mut self,
        json: &Option<Json>,
        lang: QueryLanguage,
        field: &str,
        at: &Pointer,
    ) -> Option<Payload> {
        self.payload_at(json, lang, field, &at.push(field))
    }

    /// Like [`Compiler::payload`] with the field's own pointer; `field` is
    /// the name used in messages.
    fn payload_at(
        &mut self,
        json: &Option<Json>,
        lang: QueryLanguage,
        field: &str,
        at: &Pointer,
    ) -> Option<Payload> {
        match lang {
            QueryLanguage::JsonPath => self.template(json, at).map(Payload::Template),
            QueryLanguage::Jsonata => self
                .jsonata_template(json.as_ref()?, field, at)
                .map(Payload::Jsonata),
        }
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
        lang: QueryLanguage,
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
            let field = format!("Catch[{i}]");
            let outer_flag = std::mem::replace(&mut self.needs_context, false);
            let output = match lang {
                QueryLanguage::Jsonata => self.jsonata_field(
                    &c.output,
                    &format!("{field}/Output"),
                    &catcher_at.push("Output"),
                ),
                QueryLanguage::JsonPath => None,
            };
            let assign = self.payload_at(
                &c.assign,
                lang,
                &format!("{field}/Assign"),
                &catcher_at.push("Assign"),
            );
            let needs_context = std::mem::replace(&mut self.needs_context, outer_flag);
            out.push(Catcher {
                errors: matcher(&c.error_equals),
                next,
                result_path,
                output,
                assign,
                needs_context,
            });
        }
        out
    }
}

fn matcher(names: &Option<Vec<String>>) -> ErrorMatcher {
    ErrorMatcher::new(names.iter().flatten().map(Str::new).collect())
}
