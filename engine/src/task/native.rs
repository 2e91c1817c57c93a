//! Task handlers written as Rust closures, for programs that embed the
//! engine: [`FnHandler`] for synchronous functions of the task's input,
//! [`AsyncFnHandler`] for asynchronous functions of the whole [`TaskCall`].
//! [`Resources::register_fn`](super::Resources::register_fn) and
//! [`Resources::register_async`](super::Resources::register_async) register
//! them in one step.
//!
//! A handler that panics fails its task with `States.TaskFailed` (cause:
//! the panic message) instead of taking the execution down.

use super::{TaskCall, TaskHandler, TaskReply, TaskResult};
use crate::error::{StatesError, names};
use crate::value::Value;
use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A handler calling a synchronous function of the task's effective input.
/// It runs on the execution's thread, so it should be quick: do I/O with an
/// [`AsyncFnHandler`].
pub struct FnHandler<F>(F);

impl<F> FnHandler<F>
where
    F: Fn(Value) -> TaskResult + Send + Sync + 'static,
{
    /// Wraps `f`.
    pub fn new(f: F) -> FnHandler<F> {
        FnHandler(f)
    }
}

impl<F> TaskHandler for FnHandler<F>
where
    F: Fn(Value) -> TaskResult + Send + Sync + 'static,
{
    fn invoke(&self, call: TaskCall) -> TaskReply {
        let resource = call.resource;
        let input = call.input;
        TaskReply::Ready(
            catch_unwind(AssertUnwindSafe(|| (self.0)(input)))
                .unwrap_or_else(|panic| Err(panicked(&resource, panic))),
        )
    }
}

/// A handler calling an asynchronous function of the [`TaskCall`]. The
/// future runs on the engine's Tokio runtime.
pub struct AsyncFnHandler<F>(F);

impl<F, Fut> AsyncFnHandler<F>
where
    F: Fn(TaskCall) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TaskResult> + Send + 'static,
{
    /// Wraps `f`.
    pub fn new(f: F) -> AsyncFnHandler<F> {
        AsyncFnHandler(f)
    }
}

impl<F, Fut> TaskHandler for AsyncFnHandler<F>
where
    F: Fn(TaskCall) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TaskResult> + Send + 'static,
{
    fn invoke(&self, call: TaskCall) -> TaskReply {
        let resource = call.resource.clone();
        match catch_unwind(AssertUnwindSafe(|| (self.0)(call))) {
            Ok(future) => TaskReply::Pending(catch_panics(resource, future)),
            Err(panic) => TaskReply::Ready(Err(panicked(&resource, panic))),
        }
    }
}

/// `future` with a panic while polling it turned into a task error (a
/// panic in a spawned task would otherwise leave its execution waiting).
pub(crate) fn catch_panics<Fut>(resource: crate::value::Str, future: Fut) -> super::TaskFuture
where
    Fut: Future<Output = TaskResult> + Send + 'static,
{
    Box::pin(CatchPanic {
        future: Box::pin(future),
        resource,
    })
}

/// A future that turns a panic while polling `future` into a task error.
struct CatchPanic<Fut> {
    future: Pin<Box<Fut>>,
    resource: crate::value::Str,
}

impl<Fut: Future<Output = TaskResult>> Future for CatchPanic<Fut> {
    type Output = TaskResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<TaskResult> {
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => Poll::Ready(Err(panicked(&this.resource, panic))),
        }
    }
}

pub(crate) fn panicked(resource: &str, panic: Box<dyn Any + Send>) -> StatesError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string());
    StatesError::new(
        names::TASK_FAILED,
        format!("The handler of '{resource}' panicked: {message}"),
    )
}
