//! Tasks on a shard: invoking handlers (at once, after a simulated delay,
//! or as futures on the I/O threads), their results, and the callbacks of
//! `.waitForTaskToken` tasks.

use super::*;

impl Shard {
    pub(super) fn task_done(&mut self, fiber: FiberRef, task: u64, result: TaskResult) {
        let Some(slot) = self.slot_for(fiber) else {
            return;
        };
        if matches!(slot.waiting, Waiting::Task { task: t, .. } if t == task) {
            slot.waiting = Waiting::Nothing;
            self.token_waits.remove(task);
            self.queue(fiber.slot, Resume::Task(result));
        }
    }

    /// A callback for a `.waitForTaskToken` task: answers it, and resumes
    /// the task on success or failure.
    pub(super) fn callback(&mut self, callback: Callback) {
        let Callback {
            token,
            action,
            reply,
        } = callback;
        let now = self.now;
        let result = match self.token_waits.find(&token) {
            Err(false) if self.mint.issued(token.number) => Err(CallbackError::TaskTimedOut),
            Err(_) => Err(CallbackError::TaskDoesNotExist),
            Ok(wait) => {
                let fiber = FiberRef {
                    shard: self.index,
                    slot: wait.slot,
                    generation: wait.generation,
                };
                match action {
                    CallbackAction::Heartbeat => TokenWaits::beat(wait, now),
                    CallbackAction::Success(output) => {
                        self.task_done(fiber, token.number, Ok(output))
                    }
                    CallbackAction::Failure(error) => {
                        self.task_done(fiber, token.number, Err(error))
                    }
                }
                Ok(())
            }
        };
        let _ = reply.send(result);
    }

    pub(super) fn task_failed(&mut self, index: u32, error: StatesError) {
        let Some(slot) = self.slot_mut(index) else {
            return;
        };
        if let Waiting::Task { abort, task, .. } =
            std::mem::replace(&mut slot.waiting, Waiting::Nothing)
        {
            if let Some(abort) = abort {
                abort.abort();
            }
            self.token_waits.remove(task);
            self.queue(index, Resume::Task(Err(error)));
        }
    }

    pub(super) fn invoke(&mut self, index: u32, call: TaskCall) {
        self.arm_deadline(index);
        let token = call.task_token.as_deref().and_then(TaskToken::decode);
        let (timeout, heartbeat) = (call.timeout, call.heartbeat);
        // A `.waitForTaskToken` task ends with its callback. Its integration,
        // if one is configured, only delivers the token: its result is not
        // the task's, but its failure is. Without one, the token goes out
        // through `$$.Task.Token` alone.
        let waits_for_callback = token.is_some();
        let reply = {
            // Borrowed from the slot, not cloned: a task costs no reference
            // count traffic on the execution.
            let Some(slot) = self.entries[index as usize].slot.as_ref() else {
                return;
            };
            let exec = slot.fiber.execution();
            let resources = exec.resources.as_deref().unwrap_or(&self.shared.resources);
            if waits_for_callback && resources.lookup(&call.resource).is_none() {
                None
            } else {
                Some(resources.invoke_counted(call, |resource| exec.count_invocation(resource)))
            }
        };
        let task = match &token {
            Some(token) => token.number,
            None => self.mint.next_task(),
        };
        let now = self.now;
        if let Some(slot) = self.entries[index as usize].slot.as_mut() {
            slot.waiting = Waiting::Task {
                task,
                abort: None,
                delayed: None,
            };
            slot.task_started = now;
            if slot.fiber.retry_count() > 0
                && slot.fiber.execution().machine.is_some()
                && let Some(resource) = slot.fiber.task_resource()
            {
                let blocks = &self.shared.metrics[self.index as usize];
                self.recorder.retried(resource, blocks);
            }
        }
        if let Some(t) = timeout {
            self.add_timer(now.plus(t), index, TimerKind::TaskTimeout(task));
        }
        if let Some(h) = heartbeat {
            self.add_timer(now.plus(h), index, TimerKind::TaskHeartbeat(task));
        }
        if let Some(token) = &token {
            let generation = self.entries[index as usize].generation;
            self.token_waits
                .register(token, index, generation, heartbeat, now);
        }
        let Some(reply) = reply else { return };
        match reply {
            TaskReply::Ready(Ok(_)) | TaskReply::After(_, Ok(_)) if waits_for_callback => {}
            TaskReply::Ready(result) => {
                if let Some(slot) = self.slot_mut(index) {
                    slot.waiting = Waiting::Nothing;
                }
                self.token_waits.remove(task);
                self.queue(index, Resume::Task(result));
            }
            TaskReply::After(delay, result) => {
                if let Some(FiberSlot {
                    waiting: Waiting::Task { delayed, .. },
                    ..
                }) = self.slot_mut(index)
                {
                    *delayed = Some(result);
                }
                self.add_timer(now.plus(delay), index, TimerKind::TaskReady(task));
            }
            TaskReply::Pending(future) => {
                let fiber = self.reference(index);
                let inbox = Arc::clone(&self.inbox);
                let io = IoGuard::new(&self.shared);
                let handle = self.shared.io.spawn(async move {
                    let result = future.await;
                    if !(waits_for_callback && result.is_ok()) {
                        inbox.push(Message::TaskDone {
                            fiber,
                            task,
                            result,
                        });
                    }
                    drop(io);
                });
                if let Some(FiberSlot {
                    waiting: Waiting::Task { abort, .. },
                    ..
                }) = self.slot_mut(index)
                {
                    *abort = Some(handle.abort_handle());
                }
            }
        }
    }
}

/// Counts a task future as pending while it lives, so virtual time does not
/// skip ahead of a result that may still come (nothing on real time).
struct IoGuard(Option<Arc<Shared>>);

impl IoGuard {
    fn new(shared: &Arc<Shared>) -> IoGuard {
        IoGuard(shared.clock.as_virtual().map(|virtual_time| {
            virtual_time.io_started();
            Arc::clone(shared)
        }))
    }
}

impl Drop for IoGuard {
    fn drop(&mut self) {
        if let Some(shared) = &self.0
            && let Some(virtual_time) = shared.clock.as_virtual()
        {
            virtual_time.io_finished(&shared.clock, &shared.inboxes);
        }
    }
}
