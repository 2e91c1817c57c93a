//! The shard's timers: Wait wake-ups, task timeouts and heartbeats,
//! simulated task latency and execution deadlines, in one wheel; stale
//! entries are recognised when they fire and compacted away.

use super::*;

impl Shard {
    // --- timers ------------------------------------------------------------

    pub(super) fn add_timer(&mut self, at: Timestamp, slot: u32, kind: TimerKind) {
        let generation = self.entries[slot as usize].generation;
        self.wheel.insert(
            deadline_millis(at),
            TimerItem {
                slot,
                generation,
                kind,
            },
        );
    }

    pub(super) fn fire_timers(&mut self) {
        let mut fired = std::mem::take(&mut self.fired);
        self.wheel.advance(millis(self.now), &mut fired);
        for item in fired.drain(..) {
            self.timer(item);
        }
        self.fired = fired;
        if self.wheel.len() > STALE_TIMERS_PER_SLOT * self.live + 4_096 {
            self.compact_timers();
        }
    }

    /// `true` while a timer still matters to its fiber.
    pub(super) fn timer_is_live(&self, item: &TimerItem) -> bool {
        let Some(entry) = self.entries.get(item.slot as usize) else {
            return false;
        };
        let Some(slot) = entry
            .slot
            .as_ref()
            .filter(|_| entry.generation == item.generation)
        else {
            return false;
        };
        match (item.kind, &slot.waiting) {
            (TimerKind::Wake(seq), Waiting::Timer(current)) => seq == *current,
            (
                TimerKind::TaskTimeout(t) | TimerKind::TaskHeartbeat(t) | TimerKind::TaskReady(t),
                Waiting::Task { task, .. },
            ) => t == *task,
            (TimerKind::Deadline, _) => matches!(slot.owner, Owner::Top(_)),
            _ => false,
        }
    }

    pub(super) fn compact_timers(&mut self) {
        let mut wheel = TimerWheel::new(self.wheel.now());
        let mut all = Vec::with_capacity(self.wheel.len());
        // Draining to the far future and re-inserting keeps only live entries;
        // deadlines are re-read from the items' slots.
        let mut pending: Vec<(u64, TimerItem)> = Vec::new();
        std::mem::swap(&mut self.wheel, &mut wheel);
        wheel.drain_into(&mut all);
        for (deadline, item) in all {
            if self.timer_is_live(&item) {
                pending.push((deadline, item));
            }
        }
        for (deadline, item) in pending {
            self.wheel.insert(deadline, item);
        }
    }

    pub(super) fn timer(&mut self, item: TimerItem) {
        if !self.timer_is_live(&item) {
            return;
        }
        let index = item.slot;
        match item.kind {
            TimerKind::Wake(_) => {
                if let Some(slot) = self.slot_mut(index) {
                    slot.waiting = Waiting::Nothing;
                }
                self.queue(index, Resume::Timer);
            }
            TimerKind::TaskTimeout(_) => {
                self.task_failed(index, StatesError::new(names::TIMEOUT, ""))
            }
            TimerKind::TaskHeartbeat(task) => {
                // A task that got heartbeats is due later: wait on.
                if let Some(due) = self.token_waits.heartbeat_due(task)
                    && due > self.now
                {
                    self.add_timer(due, index, TimerKind::TaskHeartbeat(task));
                    return;
                }
                self.task_failed(index, StatesError::new(names::HEARTBEAT_TIMEOUT, ""))
            }
            TimerKind::TaskReady(_) => {
                let Some(slot) = self.slot_mut(index) else {
                    return;
                };
                if let Waiting::Task { delayed, .. } =
                    std::mem::replace(&mut slot.waiting, Waiting::Nothing)
                    && let Some(result) = delayed
                {
                    self.queue(index, Resume::Task(result));
                }
            }
            TimerKind::Deadline => {
                let now = self.now;
                let Some(FiberSlot {
                    owner: Owner::Top(top),
                    ..
                }) = self.slot_mut(index)
                else {
                    return;
                };
                let deadline = top.deadline;
                if now >= deadline {
                    self.end_execution(index, Status::TimedOut, Err(execution_timeout()));
                } else {
                    // The wheel counts milliseconds: it can fire a little
                    // before a deadline that falls inside the millisecond.
                    self.add_timer(deadline, index, TimerKind::Deadline);
                }
            }
        }
    }
}
