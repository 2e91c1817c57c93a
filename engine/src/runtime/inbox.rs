//! A shard's inbox: a lock-free multi-producer queue of messages, and the
//! park/unpark handshake that lets an idle shard sleep without missing one.
//!
//! Protocol (no lost wake-ups):
//! 1. A producer pushes its message, then, if the shard has announced it is
//!    going to sleep, clears that flag and unparks it.
//! 2. The shard announces it is going to sleep, checks the queue once more,
//!    and only then parks (with a timeout: its next timer). Unpark tokens are
//!    sticky, so an unpark that lands before the park is not lost.

use super::{ExecutionId, Status, Submission};
use crate::error::StatesError;
use crate::interp::Fiber;
use crate::task::{CallbackError, TaskResult, TaskToken};
use crate::time::Timestamp;
use crate::value::Value;
use crossbeam::queue::SegQueue;
use crossbeam::sync::{Parker, Unparker};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Names a fiber on a shard: its shard, its slot and the slot's generation
/// (so a message for a fiber that is gone is recognised and dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FiberRef {
    pub shard: u32,
    pub slot: u32,
    pub generation: u32,
}

/// A new top-level execution.
pub(crate) struct Start {
    pub id: ExecutionId,
    pub submission: Submission,
    pub queued_at: Timestamp,
}

/// A child to run on the receiving shard.
pub(crate) struct ChildFiber {
    pub parent: FiberRef,
    pub fork: u32,
    pub index: u32,
    pub fiber: Fiber,
}

/// A child that finished, reported to its parent's shard.
pub(crate) struct ChildDone {
    pub parent: FiberRef,
    pub fork: u32,
    pub index: u32,
    pub result: Result<Value, StatesError>,
    pub events: u32,
    pub transitions: u32,
}

/// A callback for a `.waitForTaskToken` task, answered through `reply`.
pub(crate) struct Callback {
    pub token: TaskToken,
    pub action: CallbackAction,
    pub reply: tokio::sync::oneshot::Sender<Result<(), CallbackError>>,
}

/// What a callback does.
pub(crate) enum CallbackAction {
    /// `SendTaskSuccess`: the task succeeds with this output.
    Success(Value),
    /// `SendTaskFailure`: the task fails with this error.
    Failure(StatesError),
    /// `SendTaskHeartbeat`: the task's heartbeat timer starts again.
    Heartbeat,
}

/// What other threads tell a shard.
pub(crate) enum Message {
    Start(Box<Start>),
    Children(Vec<ChildFiber>),
    ChildDone(Box<ChildDone>),
    TaskDone {
        fiber: FiberRef,
        task: u64,
        result: TaskResult,
    },
    /// End an execution from outside its fibers: cancelled, or failed for
    /// breaking a runtime limit.
    End(Box<(ExecutionId, Status, StatesError)>),
    Callback(Box<Callback>),
    CancelChildren {
        parent: FiberRef,
        fork: u32,
    },
    Stop,
}

/// A shard's inbox.
pub(crate) struct Inbox {
    queue: SegQueue<Message>,
    sleeping: AtomicBool,
    unparker: Unparker,
    parker: Mutex<Option<Parker>>,
}

impl Inbox {
    pub(crate) fn new() -> Inbox {
        let parker = Parker::new();
        Inbox {
            queue: SegQueue::new(),
            sleeping: AtomicBool::new(false),
            unparker: parker.unparker().clone(),
            parker: Mutex::new(Some(parker)),
        }
    }

    /// Hands the parker to the shard thread that owns this inbox (once).
    pub(crate) fn take_parker(&self) -> Parker {
        self.parker
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .expect("each inbox has one owning shard")
    }

    /// Delivers a message and wakes the shard if it sleeps.
    pub(crate) fn push(&self, message: Message) {
        self.queue.push(message);
        if self.sleeping.load(Ordering::SeqCst) && self.sleeping.swap(false, Ordering::SeqCst) {
            self.unparker.unpark();
        }
    }

    /// The next message, if any.
    pub(crate) fn pop(&self) -> Option<Message> {
        self.queue.pop()
    }

    /// Messages waiting.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// `true` when no message waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Wakes the shard whether or not it sleeps (the wake-up is kept if it
    /// is not parked yet): virtual time moved, it has timers to fire.
    pub(crate) fn wake(&self) {
        self.unparker.unpark();
    }

    /// `true` while the shard is parked (or about to park).
    pub(crate) fn is_sleeping(&self) -> bool {
        self.sleeping.load(Ordering::Relaxed)
    }

    /// Waits briefly for a message without sleeping: `true` if one arrived
    /// within `spin`. A source that hands work over in small bursts (a
    /// Kafka consumer's fetches) would otherwise cost a futex wake-up and a
    /// context switch on both sides per burst. Between short spins the
    /// thread yields, so on a busy machine the wait lends the core to the
    /// threads that will send the next message (the pipeline, the broker)
    /// instead of burning it: the Choice router through `spate loadgen` on
    /// 2 cores drained 92k events/s this way against 82k with a pure spin.
    pub(crate) fn spin_for_message(&self, spin: Duration) -> bool {
        let start = std::time::Instant::now();
        loop {
            for _ in 0..64 {
                if !self.queue.is_empty() {
                    return true;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= spin {
                return !self.queue.is_empty();
            }
            std::thread::yield_now();
        }
    }

    /// Parks the calling shard until a message arrives or `timeout` passes.
    pub(crate) fn park(&self, parker: &Parker, timeout: Option<Duration>) {
        self.sleeping.store(true, Ordering::SeqCst);
        if !self.queue.is_empty() {
            self.sleeping.store(false, Ordering::SeqCst);
            return;
        }
        match timeout {
            Some(t) => parker.park_timeout(t),
            None => parker.park(),
        }
        self.sleeping.store(false, Ordering::SeqCst);
    }
}
