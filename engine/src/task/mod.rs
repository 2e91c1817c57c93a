//! Task integrations: the [`TaskHandler`] trait every integration implements
//! (resource string in, JSON result or a named error out, sync or async), the
//! [`Resources`] registry that maps `Resource` strings to handlers, and the
//! handlers themselves:
//!
//! * mocks ([`MockHandler`]) for the conformance corpus and dry runs;
//! * the HTTP Task ([`HttpHandler`], `arn:aws:states:::http:invoke`);
//! * Lambda ([`LambdaHandler`], `arn:aws:states:::lambda:invoke` and
//!   `arn:aws:lambda:...:function:...`) against the Lambda Runtime Interface
//!   Emulator;
//! * Rust closures ([`Resources::register_fn`], [`Resources::register_async`])
//!   for programs that embed the engine.
//!
//! [`TaskConfig`] and [`build_resources`] set them all up from a
//! configuration file.

mod config;
mod http;
mod lambda;
mod mock;
mod native;
mod token;

pub use config::{ConfigError, TaskConfig, build_resources};
pub use http::{
    HTTP_INVOKE, HTTP_SOCKET, HTTP_STATUS_CODE_PREFIX, HttpConfig, HttpConnection, HttpHandler,
    fetch,
};
pub use lambda::{LAMBDA_ARN_PREFIX, LAMBDA_INVOKE, LambdaConfig, LambdaHandler};
pub use mock::{MockBehaviour, MockHandler};
pub use native::{AsyncFnHandler, FnHandler};
pub use token::{
    CallbackError, TaskToken, TokenMint, WAIT_FOR_TASK_TOKEN, is_activity_arn, waits_for_callback,
};

use crate::error::StatesError;
use crate::value::{Str, Value};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What a task returns: its result, or an ASL error (name and cause).
pub type TaskResult = Result<Value, StatesError>;

/// A pending asynchronous task result.
pub type TaskFuture = Pin<Box<dyn Future<Output = TaskResult> + Send + 'static>>;

/// Everything a handler knows about one invocation.
#[derive(Debug, Clone)]
pub struct TaskCall {
    /// The state's `Resource`.
    pub resource: Str,
    /// The effective input (after `InputPath` and `Parameters`).
    pub input: Value,
    /// The evaluated `Credentials` field, if any.
    pub credentials: Option<Value>,
    /// `TimeoutSeconds` for this invocation, if any (the engine enforces it;
    /// handlers may use it to bound their own I/O).
    pub timeout: Option<Duration>,
    /// `HeartbeatSeconds`: the task fails with `States.HeartbeatTimeout` when
    /// this long passes without a heartbeat. For a `.waitForTaskToken` task,
    /// heartbeats are callbacks with its token
    /// ([`RuntimeHandle::send_task_heartbeat`](crate::runtime::RuntimeHandle::send_task_heartbeat));
    /// other handlers cannot send one, so for them it acts as a second deadline.
    pub heartbeat: Option<Duration>,
    /// The execution's name.
    pub execution_name: Str,
    /// The Task state's name.
    pub state_name: Str,
    /// How many times this state has been retried (`$$.State.RetryCount`).
    pub retry_count: u32,
    /// How many times this execution invoked this resource before (from 0),
    /// across all its branches, retries and loops; counted only for handlers
    /// that ask for it ([`TaskHandler::counts_invocations`]), else 0.
    pub invocation: u32,
    /// For a `.waitForTaskToken` resource, the task's token
    /// (`$$.Task.Token`): the task waits until a callback brings it back, so
    /// a handler passes it on (in a message, a record) to whoever answers.
    pub task_token: Option<Str>,
}

/// How a handler answers.
pub enum TaskReply {
    /// The result is known now.
    Ready(TaskResult),
    /// The result is known now but is released after a delay measured on the
    /// execution's clock (simulated latency; costs no wall time under a
    /// virtual clock).
    After(Duration, TaskResult),
    /// The result arrives later (real I/O).
    Pending(TaskFuture),
}

impl fmt::Debug for TaskReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskReply::Ready(r) => f.debug_tuple("Ready").field(r).finish(),
            TaskReply::After(d, r) => f.debug_tuple("After").field(d).field(r).finish(),
            TaskReply::Pending(_) => f.write_str("Pending(..)"),
        }
    }
}

/// A task integration. Implementations must not block: do I/O in the
/// returned future.
pub trait TaskHandler: Send + Sync {
    /// Starts one invocation.
    fn invoke(&self, call: TaskCall) -> TaskReply;

    /// `true` if the handler reads [`TaskCall::invocation`]: the host then
    /// counts the execution's invocations of the resource (which costs an
    /// allocation per execution, so handlers that do not need it say so).
    fn counts_invocations(&self) -> bool {
        false
    }
}

impl<F> TaskHandler for F
where
    F: Fn(TaskCall) -> TaskReply + Send + Sync,
{
    fn invoke(&self, call: TaskCall) -> TaskReply {
        self(call)
    }
}

/// Maps `Resource` strings to handlers: exact matches first, then the
/// longest registered prefix.
#[derive(Clone, Default)]
pub struct Resources {
    exact: HashMap<Str, Arc<dyn TaskHandler>>,
    prefixes: Vec<(Str, Arc<dyn TaskHandler>)>,
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resources")
            .field("exact", &self.exact.keys().collect::<Vec<_>>())
            .field(
                "prefixes",
                &self.prefixes.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Resources {
    /// An empty registry.
    pub fn new() -> Resources {
        Resources::default()
    }

    /// Handles exactly `resource`.
    pub fn register(
        &mut self,
        resource: impl Into<Str>,
        handler: Arc<dyn TaskHandler>,
    ) -> &mut Resources {
        self.exact.insert(resource.into(), handler);
        self
    }

    /// Handles every resource starting with `prefix` (unless an exact match
    /// or a longer prefix applies).
    pub fn register_prefix(
        &mut self,
        prefix: impl Into<Str>,
        handler: Arc<dyn TaskHandler>,
    ) -> &mut Resources {
        self.prefixes.push((prefix.into(), handler));
        self.prefixes
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        self
    }

    /// Handles exactly `resource` with a synchronous function of the task's
    /// effective input (after `InputPath` and `Parameters`). Its result goes
    /// through `ResultSelector`, `ResultPath` and `OutputPath` as any task's;
    /// an `Err` fails the task with that error name and cause, for `Retry`
    /// and `Catch` to handle. It runs on the execution's thread: keep it
    /// quick, and use [`Resources::register_async`] for I/O.
    ///
    /// ```
    /// use spate_engine::error::StatesError;
    /// use spate_engine::plan::{CompileOptions, from_definition};
    /// use spate_engine::runtime::{Runtime, RuntimeConfig, Status};
    /// use spate_engine::task::Resources;
    /// use spate_engine::{Value, json};
    /// use std::sync::Arc;
    ///
    /// let plan = from_definition(
    ///     r#"{"StartAt": "Double", "States": {"Double": {
    ///         "Type": "Task", "Resource": "double", "ResultPath": "$.doubled", "End": true}}}"#,
    ///     &CompileOptions::default(),
    /// )
    /// .unwrap();
    /// let mut resources = Resources::new();
    /// resources.register_fn("double", |input: Value| {
    ///     let n = input.get("n").and_then(Value::as_i64).ok_or_else(|| {
    ///         StatesError::new("BadInput", "expected a number n")
    ///     })?;
    ///     Ok(Value::from(2 * n))
    /// });
    /// let config = RuntimeConfig { shards: 1, resources, ..RuntimeConfig::default() };
    /// let outcome = Runtime::run_once(config, Arc::new(plan), json!({"n": 21})).unwrap();
    /// assert_eq!(outcome.status, Status::Succeeded);
    /// assert_eq!(outcome.result.unwrap(), json!({"n": 21, "doubled": 42}));
    /// ```
    pub fn register_fn<F>(&mut self, resource: impl Into<Str>, f: F) -> &mut Resources
    where
        F: Fn(Value) -> TaskResult + Send + Sync + 'static,
    {
        self.register(resource, Arc::new(FnHandler::new(f)))
    }

    /// Handles exactly `resource` with an asynchronous function of the whole
    /// [`TaskCall`] (input, `TimeoutSeconds`, execution and state names,
    /// retry count, ...). The future runs on the engine's Tokio runtime; the
    /// engine enforces `TimeoutSeconds` and `HeartbeatSeconds` itself, but a
    /// future that outlives them keeps running until it ends, so bound long
    /// I/O by `call.timeout`.
    ///
    /// ```
    /// use spate_engine::plan::{CompileOptions, from_definition};
    /// use spate_engine::runtime::{Runtime, RuntimeConfig, Status};
    /// use spate_engine::task::{Resources, TaskCall};
    /// use spate_engine::{Value, json};
    /// use std::sync::Arc;
    ///
    /// let plan = from_definition(
    ///     r#"{"StartAt": "Greet", "States": {"Greet": {
    ///         "Type": "Task", "Resource": "greet", "End": true}}}"#,
    ///     &CompileOptions::default(),
    /// )
    /// .unwrap();
    /// let mut resources = Resources::new();
    /// resources.register_async("greet", |call: TaskCall| async move {
    ///     tokio::task::yield_now().await; // real code would do I/O here
    ///     let who = call.input.get("who").and_then(Value::as_str).unwrap_or("world");
    ///     Ok(Value::from(format!("hello, {who} (from {})", call.state_name)))
    /// });
    /// let config = RuntimeConfig { shards: 1, resources, ..RuntimeConfig::default() };
    /// let outcome = Runtime::run_once(config, Arc::new(plan), json!({"who": "Ada"})).unwrap();
    /// assert_eq!(outcome.status, Status::Succeeded);
    /// assert_eq!(outcome.result.unwrap(), json!("hello, Ada (from Greet)"));
    /// ```
    pub fn register_async<F, Fut>(&mut self, resource: impl Into<Str>, f: F) -> &mut Resources
    where
        F: Fn(TaskCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = TaskResult> + Send + 'static,
    {
        self.register(resource, Arc::new(AsyncFnHandler::new(f)))
    }

    /// The handler for `resource`. A `.waitForTaskToken` resource without
    /// a handler of its own goes to its integration's handler (the resource
    /// without the suffix), which gets the token in [`TaskCall::task_token`].
    pub fn lookup(&self, resource: &str) -> Option<&Arc<dyn TaskHandler>> {
        self.lookup_exactly(resource).or_else(|| {
            resource
                .strip_suffix(WAIT_FOR_TASK_TOKEN)
                .and_then(|base| self.lookup_exactly(base))
        })
    }

    fn lookup_exactly(&self, resource: &str) -> Option<&Arc<dyn TaskHandler>> {
        self.exact.get(resource).or_else(|| {
            self.prefixes
                .iter()
                .find(|(p, _)| resource.starts_with(p.as_str()))
                .map(|(_, h)| h)
        })
    }

    /// Invokes the handler for the call's resource; an unknown resource fails
    /// the task with `States.Runtime`. A handler that panics, while invoked or
    /// while its future is polled, fails the task with `States.TaskFailed`
    /// rather than leaving the execution waiting for a result.
    pub fn invoke(&self, call: TaskCall) -> TaskReply {
        self.invoke_counted(call, |_| 0)
    }

    /// [`Resources::invoke`], giving a handler that counts invocations the
    /// count `count` returns for the call's resource.
    pub fn invoke_counted(&self, mut call: TaskCall, count: impl FnOnce(&Str) -> u32) -> TaskReply {
        let Some(handler) = self.lookup(&call.resource) else {
            return TaskReply::Ready(Err(StatesError::runtime(format!(
                "no task handler is configured for the resource '{}'",
                call.resource
            ))));
        };
        if handler.counts_invocations() {
            call.invocation = count(&call.resource);
        }
        let resource = call.resource.clone();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.invoke(call))) {
            Ok(TaskReply::Pending(future)) => {
                TaskReply::Pending(native::catch_panics(resource, future))
            }
            Ok(reply) => reply,
            Err(panic) => TaskReply::Ready(Err(native::panicked(&resource, panic))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn call(resource: &str) -> TaskCall {
        TaskCall {
            resource: Str::new(resource),
            input: json!({"x": 1}),
            credentials: None,
            timeout: None,
            heartbeat: None,
            execution_name: Str::new("e"),
            state_name: Str::new("s"),
            retry_count: 0,
            invocation: 0,
            task_token: None,
        }
    }

    fn reply_value(reply: TaskReply) -> TaskResult {
        match reply {
            TaskReply::Ready(r) => r,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn exact_then_longest_prefix() {
        let mut resources = Resources::new();
        resources
            .register_prefix(
                "arn:aws:lambda:",
                Arc::new(|_: TaskCall| TaskReply::Ready(Ok(json!("lambda")))),
            )
            .register_prefix(
                "arn:",
                Arc::new(|_: TaskCall| TaskReply::Ready(Ok(json!("any")))),
            )
            .register(
                "arn:aws:lambda:x",
                Arc::new(|c: TaskCall| TaskReply::Ready(Ok(c.input))),
            );
        assert_eq!(
            reply_value(resources.invoke(call("arn:aws:lambda:x"))).unwrap(),
            json!({"x": 1})
        );
        assert_eq!(
            reply_value(resources.invoke(call("arn:aws:lambda:y"))).unwrap(),
            json!("lambda")
        );
        assert_eq!(
            reply_value(resources.invoke(call("arn:other"))).unwrap(),
            json!("any")
        );
        let err = reply_value(resources.invoke(call("nope"))).unwrap_err();
        assert_eq!(err.error(), Some("States.Runtime"));
    }
}
