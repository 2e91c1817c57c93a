//! Activity tasks: a Task whose `Resource` is an activity ARN gets a task
//! token (as a `.waitForTaskToken` task does) and its handler, installed in
//! the runtime's resources, posts the token and input on the activity's
//! board. GetActivityTask takes the oldest one, or long-polls for the next,
//! and each task goes to exactly one worker. The worker answers with
//! SendTaskSuccess or SendTaskFailure and keeps the task alive with
//! SendTaskHeartbeat; the runtime enforces `HeartbeatSeconds`
//! (`States.HeartbeatTimeout`) and `TimeoutSeconds`.

use spate_engine::error::StatesError;
use spate_engine::task::{Resources, TaskCall, TaskHandler, TaskReply};
use spate_engine::value::{Str, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// One task for a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTask {
    /// The token the worker answers with.
    pub token: Str,
    /// The task's effective input (JSON text).
    pub input: String,
}

#[derive(Default)]
struct Queue {
    tasks: VecDeque<ActivityTask>,
    pollers: VecDeque<oneshot::Sender<ActivityTask>>,
}

#[derive(Default)]
struct Inner {
    known: HashSet<String>,
    queues: HashMap<String, Queue>,
}

/// The tasks waiting for workers, by activity name, and the workers
/// waiting for tasks.
pub struct ActivityBoard {
    /// `arn:aws:states:<region>:<account>:activity:`
    prefix: String,
    inner: Mutex<Inner>,
}

impl ActivityBoard {
    /// A board for the activities of `region` and `account`.
    pub fn new(region: &str, account: &str) -> Arc<ActivityBoard> {
        Arc::new(ActivityBoard {
            prefix: format!("arn:aws:states:{region}:{account}:activity:"),
            inner: Mutex::new(Inner::default()),
        })
    }

    /// Installs the handler of activity resources in `resources` (those a
    /// runtime then runs with).
    pub fn install(self: &Arc<Self>, resources: &mut Resources) {
        resources.register_prefix(self.prefix.as_str(), Arc::new(Handler(Arc::clone(self))));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Activity `name` exists (or, with `false`, no longer does: its
    /// waiting tasks stay for the workers already polling).
    pub fn set_known(&self, name: &str, known: bool) {
        let mut inner = self.lock();
        if known {
            inner.known.insert(name.to_string());
        } else {
            inner.known.remove(name);
        }
    }

    /// Posts a task: the longest-waiting worker gets it, else it waits for
    /// one. `false` if there is no such activity.
    fn post(&self, name: &str, mut task: ActivityTask) -> bool {
        let mut inner = self.lock();
        if !inner.known.contains(name) {
            return false;
        }
        let queue = inner.queues.entry(name.to_string()).or_default();
        while let Some(poller) = queue.pollers.pop_front() {
            match poller.send(task) {
                Ok(()) => return true,
                // That worker gave up (its request ended): the next one.
                Err(back) => task = back,
            }
        }
        queue.tasks.push_back(task);
        true
    }

    /// The next task of activity `name`, waiting up to `wait` for one.
    pub async fn take(&self, name: &str, wait: Duration) -> Option<ActivityTask> {
        let mut receiver = {
            let mut inner = self.lock();
            let queue = inner.queues.entry(name.to_string()).or_default();
            if let Some(task) = queue.tasks.pop_front() {
                return Some(task);
            }
            let (sender, receiver) = oneshot::channel();
            queue.pollers.push_back(sender);
            receiver
        };
        match tokio::time::timeout(wait, &mut receiver).await {
            Ok(task) => task.ok(),
            Err(_) => {
                // A task posted just as the wait ended is still this
                // worker's: closing first makes the race impossible.
                receiver.close();
                receiver.try_recv().ok()
            }
        }
    }
}

/// The task handler of activity ARNs.
struct Handler(Arc<ActivityBoard>);

impl TaskHandler for Handler {
    fn invoke(&self, call: TaskCall) -> TaskReply {
        let name = call
            .resource
            .strip_prefix(self.0.prefix.as_str())
            .unwrap_or("");
        let Some(token) = call.task_token else {
            return TaskReply::Ready(Err(StatesError::runtime(
                "an activity task was started without a task token",
            )));
        };
        let task = ActivityTask {
            token,
            input: call.input.to_json(),
        };
        if self.0.post(name, task) {
            // The task's result is the worker's callback, not this value.
            TaskReply::Ready(Ok(Value::Null))
        } else {
            TaskReply::Ready(Err(StatesError::new(
                "States.Runtime",
                format!("the activity '{}' does not exist", call.resource),
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(n: u8) -> ActivityTask {
        ActivityTask {
            token: Str::from(format!("t{n}")),
            input: "{}".to_string(),
        }
    }

    #[tokio::test]
    async fn each_task_goes_to_one_worker_in_order() {
        let board = ActivityBoard::new("r", "1");
        assert!(!board.post("a", task(0)), "unknown activity");
        board.set_known("a", true);
        assert!(board.post("a", task(1)));
        assert!(board.post("a", task(2)));
        assert_eq!(board.take("a", Duration::ZERO).await, Some(task(1)));
        let waiting = {
            let board = Arc::clone(&board);
            tokio::spawn(async move { board.take("b", Duration::from_secs(5)).await })
        };
        assert_eq!(board.take("a", Duration::ZERO).await, Some(task(2)));
        assert_eq!(board.take("a", Duration::from_millis(10)).await, None);
        board.set_known("b", true);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(board.post("b", task(3)));
        assert_eq!(waiting.await.unwrap(), Some(task(3)));
        assert_eq!(board.take("b", Duration::ZERO).await, None);
    }
}
