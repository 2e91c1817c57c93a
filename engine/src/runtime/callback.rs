//! The answer to a task-token callback: whether a waiting task took it.
//! The shard that holds the task answers; a malformed or foreign token is
//! answered at once, without a trip to a shard.

use crate::task::CallbackError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// Whether a callback reached a waiting task. Await it from async code, or
/// [`wait`](CallbackReply::wait) for it on an ordinary thread.
#[derive(Debug)]
pub struct CallbackReply(Inner);

#[derive(Debug)]
enum Inner {
    Ready(Option<Result<(), CallbackError>>),
    Pending(oneshot::Receiver<Result<(), CallbackError>>),
}

impl CallbackReply {
    pub(crate) fn ready(result: Result<(), CallbackError>) -> CallbackReply {
        CallbackReply(Inner::Ready(Some(result)))
    }

    pub(crate) fn pending(receiver: oneshot::Receiver<Result<(), CallbackError>>) -> CallbackReply {
        CallbackReply(Inner::Pending(receiver))
    }

    /// Blocks until the shard answers. Not for async code (await the reply
    /// there): it would block an executor thread.
    pub fn wait(self) -> Result<(), CallbackError> {
        match self.0 {
            Inner::Ready(result) => result.unwrap_or(Err(CallbackError::ShuttingDown)),
            Inner::Pending(receiver) => receiver
                .blocking_recv()
                .unwrap_or(Err(CallbackError::ShuttingDown)),
        }
    }
}

impl Future for CallbackReply {
    type Output = Result<(), CallbackError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Inner::Ready(result) => {
                Poll::Ready(result.take().unwrap_or(Err(CallbackError::ShuttingDown)))
            }
            Inner::Pending(receiver) => Pin::new(receiver)
                .poll(cx)
                .map(|r| r.unwrap_or(Err(CallbackError::ShuttingDown))),
        }
    }
}
