//! One shard: a worker thread that owns its fibers, ready queue and timer
//! wheel, and takes messages from its inbox. See the module documentation of
//! [`runtime`](super) for the protocol.
//!
//! Loop: drain a batch of inbox messages, fire due timers, resume a batch of
//! ready fibers, and park until the next timer when there is nothing to do.
//! The batches keep one source of work from starving the others.
//!
//! Timers are never removed from the wheel: a timer whose fiber moved on is
//! recognised when it fires (slot generation and wait sequence) and dropped,
//! and the wheel is compacted when such stale entries outnumber the live ones.
//! A top-level execution arms its deadline timer only when it first waits;
//! CPU-only executions never touch the wheel.

use super::inbox::{
    Callback, CallbackAction, ChildDone, ChildFiber, FiberRef, Inbox, Message, Start,
};
use super::timer::TimerWheel;
use super::token_waits::TokenWaits;
use super::{Completion, CompletionSink, ExecutionId, Shared, Status};
use crate::error::{StatesError, names};
use crate::interp::{
    ChildStart, EventType, ExecutionInfo, Fiber, Hosting, Join, JoinOutcome, Poll, StepEnv,
};
use crate::task::{CallbackError, TaskCall, TaskReply, TaskResult, TaskToken, TokenMint};
use crate::time::Timestamp;
use crate::value::{Str, Value, size};
use crossbeam::sync::Parker;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Inbox messages handled per loop turn.
const INBOX_BATCH: usize = 256;
/// Fiber resumptions per loop turn.
const READY_BATCH: usize = 256;
/// The longest a loop turn resumes fibers (or a fan-out starts children)
/// before timers are fired again: an execution's deadline is checked at
/// least this often, however expensive its states are. The clock is read
/// every [`SLICE_CHECK`] resumptions, so checking costs next to nothing.
const TIME_SLICE: Duration = Duration::from_millis(2);
/// Resumptions (or children started) between two reads of the clock.
const SLICE_CHECK: usize = 16;
/// Children a fan-out starts per call to `start_children` (run inline,
/// slot-less, to their first wait, or handed to idle shards); the parent is
/// queued to start more on a later turn. Bounds how long one fan-out can
/// hold the shard before other work gets a turn, and how many of its
/// children exist at once when they run without waiting.
const CHILDREN_PER_TURN: usize = 128;
/// How long an idle shard watches its inbox before it parks (see
/// [`Inbox::spin_for_message`]).
const IDLE_SPIN: Duration = Duration::from_micros(20);
/// Compact the wheel when it holds more than this many entries per live slot.
const STALE_TIMERS_PER_SLOT: usize = 4;

/// A 64-bit mix (splitmix64's finaliser), for spreading keys over shards.
pub(crate) fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

thread_local! {
    /// On a shard thread: its runtime (the address of its `Shared`) and its
    /// index, so submissions made there can stay on it.
    static CURRENT_SHARD: std::cell::Cell<Option<(usize, usize)>> =
        const { std::cell::Cell::new(None) };
}

/// The index of the calling thread's shard, if it is one of `shared`'s.
pub(crate) fn current_shard_of(shared: &Arc<Shared>) -> Option<usize> {
    let (runtime, index) = CURRENT_SHARD.with(std::cell::Cell::get)?;
    (runtime == Arc::as_ptr(shared) as usize).then_some(index)
}

/// Who is waiting for a fiber's outcome.
enum Owner {
    /// The execution's top-level fiber.
    Top(Box<TopInfo>),
    /// A Map iteration or Parallel branch.
    Child {
        parent: FiberRef,
        fork: u32,
        index: u32,
    },
}

struct TopInfo {
    id: ExecutionId,
    name: Str,
    tag: u64,
    sink: Arc<dyn CompletionSink>,
    queued_at: Timestamp,
    started_at: Timestamp,
    deadline: Timestamp,
    deadline_armed: bool,
}

/// What a fiber waits for.
enum Waiting {
    Nothing,
    Timer(u32),
    Task {
        task: u64,
        abort: Option<tokio::task::AbortHandle>,
        delayed: Option<TaskResult>,
    },
    Children,
}

/// A fan-out in progress.
struct FanOut {
    fork: u32,
    join: Join,
    starts: Vec<ChildStart>,
    /// Children running on this shard (slots).
    local: Vec<u32>,
    /// Shards running some of the children (bit per shard, up to 64 shards;
    /// beyond that children stay local).
    remote: u64,
}

struct FiberSlot {
    fiber: Fiber,
    owner: Owner,
    waiting: Waiting,
    fan: Option<Box<FanOut>>,
    forks: u32,
    wait_seq: u32,
}

struct Entry {
    generation: u32,
    slot: Option<FiberSlot>,
}

enum Resume {
    Run,
    Timer,
    Task(TaskResult),
    Join(JoinOutcome),
    /// A fan-out starts its next children (the parent stays waiting).
    StartChildren,
}

#[derive(Clone, Copy)]
enum TimerKind {
    Wake(u32),
    TaskTimeout(u64),
    TaskHeartbeat(u64),
    TaskReady(u64),
    Deadline,
}

#[derive(Clone, Copy)]
struct TimerItem {
    slot: u32,
    generation: u32,
    kind: TimerKind,
}

pub(crate) struct Shard {
    index: u32,
    shared: Arc<Shared>,
    inbox: Arc<Inbox>,
    parker: Parker,
    entries: Vec<Entry>,
    free: Vec<u32>,
    live: usize,
    /// Fibers to resume: slot, the slot's generation when queued (a slot
    /// freed and reused meanwhile is not resumed), and how.
    ready: VecDeque<(u32, u32, Resume)>,
    wheel: TimerWheel<TimerItem>,
    fired: Vec<TimerItem>,
    /// Children adopted from other shards, by (parent, fork).
    adopted: HashMap<(FiberRef, u32), Vec<u32>, foldhash::fast::FixedState>,
    /// Top-level fibers that have waited or yielded at least once, by
    /// execution id, for cancellation (a CPU-only execution ends within the
    /// turn it started in, before any cancellation can reach it).
    tops: HashMap<ExecutionId, u32, foldhash::fast::FixedState>,
    /// Numbers tasks and issues task tokens.
    mint: TokenMint,
    /// `.waitForTaskToken` tasks waiting for their callbacks.
    token_waits: TokenWaits,
    now: Timestamp,
}

impl Shard {
    pub(crate) fn new(index: usize, shared: Arc<Shared>) -> Shard {
        let inbox = Arc::clone(&shared.inboxes[index]);
        let parker = inbox.take_parker();
        let now = shared.clock.now();
        let mint = TokenMint::new(index as u16, shared.epoch);
        Shard {
            index: index as u32,
            shared,
            inbox,
            parker,
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
            ready: VecDeque::new(),
            wheel: TimerWheel::new(millis(now)),
            fired: Vec::new(),
            adopted: HashMap::default(),
            tops: HashMap::default(),
            mint,
            token_waits: TokenWaits::default(),
            now,
        }
    }

    /// The shard's loop; returns on [`Message::Stop`].
    pub(crate) fn run(mut self) {
        let runtime = Arc::as_ptr(&self.shared) as usize;
        CURRENT_SHARD.with(|c| c.set(Some((runtime, self.index as usize))));
        loop {
            let mut busy = false;
            self.now = self.shared.clock.now();
            for _ in 0..INBOX_BATCH {
                match self.inbox.pop() {
                    Some(Message::Stop) => {
                        self.cancel_everything();
                        return;
                    }
                    Some(message) => {
                        busy = true;
                        self.handle(message);
                    }
                    None => break,
                }
            }
            self.now = self.shared.clock.now();
            self.fire_timers();
            let slice_start = self.now;
            for resumed in 1..=READY_BATCH {
                let Some((slot, generation, resume)) = self.ready.pop_front() else {
                    break;
                };
                if self.entries[slot as usize].generation != generation {
                    continue;
                }
                busy = true;
                self.resume(slot, resume);
                if resumed % SLICE_CHECK == 0
                    && self.shared.clock.now().since(slice_start) >= TIME_SLICE
                {
                    break;
                }
            }
            if !busy && self.ready.is_empty() {
                self.idle();
            }
        }
    }

    /// Waits for a message or the next timer. On virtual time, the shard
    /// reports its next timer and sleeps until a message comes or time
    /// skips ahead.
    fn idle(&mut self) {
        if let Some(virtual_time) = self.shared.clock.as_virtual() {
            let shard = self.index as usize;
            let next = self.wheel.next_deadline();
            virtual_time.shard_idle(&self.shared.clock, shard, next, &self.shared.inboxes);
            self.inbox.park(&self.parker, None);
            virtual_time.shard_busy(shard);
            return;
        }
        if self.inbox.spin_for_message(IDLE_SPIN) {
            return;
        }
        let timeout = self.wheel.next_deadline().map(|at| {
            let now_ms = millis(self.shared.clock.now());
            Duration::from_millis(at.saturating_sub(now_ms).max(1))
        });
        self.inbox.park(&self.parker, timeout);
    }

    /// Counts a completion before it is delivered, so whoever sees the
    /// completion also sees it in [`Runtime::stats`](super::Runtime::stats).
    /// The counters are this shard's own (one cache line each), so the atomic
    /// adds are uncontended.
    fn count_completion(&self, transitions: u32) {
        let shard = self.index as usize;
        self.shared.completed[shard]
            .0
            .fetch_add(1, Ordering::Relaxed);
        self.shared.transitions[shard]
            .0
            .fetch_add(u64::from(transitions), Ordering::Relaxed);
    }

    // --- slots -----------------------------------------------------------

    fn alloc(&mut self, slot: FiberSlot) -> u32 {
        self.live += 1;
        match self.free.pop() {
            Some(i) => {
                self.entries[i as usize].slot = Some(slot);
                i
            }
            None => {
                self.entries.push(Entry {
                    generation: 0,
                    slot: Some(slot),
                });
                (self.entries.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, index: u32) -> Option<FiberSlot> {
        let entry = &mut self.entries[index as usize];
        let slot = entry.slot.take()?;
        if let Waiting::Task { task, .. } = &slot.waiting {
            self.token_waits.remove(*task);
        }
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(index);
        self.live -= 1;
        Some(slot)
    }

    /// Queues the fiber in slot `index` to be resumed.
    fn queue(&mut self, index: u32, resume: Resume) {
        let generation = self.entries[index as usize].generation;
        self.ready.push_back((index, generation, resume));
    }

    fn reference(&self, index: u32) -> FiberRef {
        FiberRef {
            shard: self.index,
            slot: index,
            generation: self.entries[index as usize].generation,
        }
    }

    fn slot_mut(&mut self, index: u32) -> Option<&mut FiberSlot> {
        self.entries.get_mut(index as usize)?.slot.as_mut()
    }

    fn slot_for(&mut self, fiber: FiberRef) -> Option<&mut FiberSlot> {
        let entry = self.entries.get_mut(fiber.slot as usize)?;
        if entry.generation != fiber.generation {
            return None;
        }
        entry.slot.as_mut()
    }

    // --- messages ----------------------------------------------------------

    fn handle(&mut self, message: Message) {
        match message {
            Message::Start(start) => self.start(*start),
            Message::Children(children) => {
                for child in children {
                    self.adopt(child);
                }
            }
            Message::ChildDone(done) => {
                let ChildDone {
                    parent,
                    fork,
                    index,
                    result,
                    events,
                    transitions,
                } = *done;
                self.child_done(parent, fork, index, None, result, events, transitions);
            }
            Message::TaskDone {
                fiber,
                task,
                result,
            } => self.task_done(fiber, task, result),
            Message::End(end) => {
                let (id, status, error) = *end;
                if let Some(&index) = self.tops.get(&id) {
                    self.end_execution(index, status, Err(error));
                }
            }
            Message::Callback(callback) => self.callback(*callback),
            Message::CancelChildren { parent, fork } => {
                if let Some(slots) = self.adopted.remove(&(parent, fork)) {
                    for slot in slots {
                        self.drop_subtree(slot);
                    }
                }
            }
            Message::Stop => {}
        }
    }

    fn start(&mut self, start: Start) {
        let Start {
            id,
            submission,
            queued_at,
        } = start;
        let started_at = self.now;
        let limit = submission
            .plan
            .timeout
            .map_or(self.shared.max_duration, |t| {
                t.min(self.shared.max_duration)
            });
        let deadline = started_at.plus(limit);
        if size::exceeds(&submission.input, submission.plan.payload_limit) {
            let completion = Completion {
                id,
                name: submission.name,
                tag: submission.tag,
                status: Status::Failed,
                result: Err(StatesError::new(
                    names::DATA_LIMIT_EXCEEDED,
                    "The execution input has a size exceeding the maximum number of bytes service limit.",
                )),
                queued_at,
                started_at,
                ended_at: started_at,
                transitions: 0,
            };
            self.count_completion(0);
            submission.sink.complete(completion);
            self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let exec = Arc::new(ExecutionInfo::hosted(
            submission.plan,
            submission.name.clone(),
            &submission.input,
            started_at,
            Hosting {
                id: id.0,
                history: submission.history,
                resources: submission.resources,
                deadline: Some(deadline),
            },
        ));
        let slot = self.alloc(FiberSlot {
            fiber: Fiber::start(exec, submission.input),
            owner: Owner::Top(Box::new(TopInfo {
                id,
                name: submission.name,
                tag: submission.tag,
                sink: submission.sink,
                queued_at,
                started_at,
                deadline,
                deadline_armed: false,
            })),
            waiting: Waiting::Nothing,
            fan: None,
            forks: 0,
            wait_seq: 0,
        });
        self.resume(slot, Resume::Run);
    }

    fn adopt(&mut self, child: ChildFiber) {
        let ChildFiber {
            parent,
            fork,
            index,
            fiber,
        } = child;
        let slot = self.alloc(FiberSlot {
            fiber,
            owner: Owner::Child {
                parent,
                fork,
                index,
            },
            waiting: Waiting::Nothing,
            fan: None,
            forks: 0,
            wait_seq: 0,
        });
        self.adopted.entry((parent, fork)).or_default().push(slot);
        self.queue(slot, Resume::Run);
    }

    fn task_done(&mut self, fiber: FiberRef, task: u64, result: TaskResult) {
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
    fn callback(&mut self, callback: Callback) {
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

    // --- timers ------------------------------------------------------------

    fn add_timer(&mut self, at: Timestamp, slot: u32, kind: TimerKind) {
        let generation = self.entries[slot as usize].generation;
        self.wheel.insert(
            millis(at),
            TimerItem {
                slot,
                generation,
                kind,
            },
        );
    }

    fn fire_timers(&mut self) {
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
    fn timer_is_live(&self, item: &TimerItem) -> bool {
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

    fn compact_timers(&mut self) {
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

    fn timer(&mut self, item: TimerItem) {
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

    fn task_failed(&mut self, index: u32, error: StatesError) {
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

    // --- running fibers ------------------------------------------------------

    fn resume(&mut self, index: u32, resume: Resume) {
        if let Resume::StartChildren = resume {
            self.start_children(index);
            return;
        }
        let Some(slot) = self
            .entries
            .get_mut(index as usize)
            .and_then(|e| e.slot.as_mut())
        else {
            return;
        };
        let mut env = StepEnv {
            now: self.now,
            tokens: Some(&self.mint),
        };
        let poll = match resume {
            Resume::Run => slot.fiber.run(&mut env),
            Resume::Timer => slot.fiber.on_timer(&mut env),
            Resume::Task(result) => slot.fiber.on_task_result(result, &mut env),
            Resume::Join(outcome) => slot.fiber.on_join(outcome, &mut env),
            Resume::StartChildren => return,
        };
        self.act(index, poll);
    }

    /// Arms the execution's deadline the first time its top-level fiber waits.
    fn arm_deadline(&mut self, index: u32) {
        let Some(slot) = self.slot_mut(index) else {
            return;
        };
        if let Owner::Top(top) = &mut slot.owner
            && !top.deadline_armed
        {
            top.deadline_armed = true;
            let (deadline, id) = (top.deadline, top.id);
            self.add_timer(deadline, index, TimerKind::Deadline);
            self.tops.insert(id, index);
        }
    }

    fn act(&mut self, index: u32, poll: Poll) {
        match poll {
            Poll::Yield => {
                let now = self.now;
                let overdue = matches!(self.slot_mut(index), Some(FiberSlot { owner: Owner::Top(top), .. }) if now >= top.deadline);
                if overdue {
                    self.end_execution(index, Status::TimedOut, Err(execution_timeout()));
                } else {
                    // A long CPU-only run can be cancelled between turns.
                    self.arm_deadline(index);
                    self.queue(index, Resume::Run);
                }
            }
            Poll::Sleep(at) => {
                self.arm_deadline(index);
                let Some(slot) = self.slot_mut(index) else {
                    return;
                };
                slot.wait_seq = slot.wait_seq.wrapping_add(1);
                let seq = slot.wait_seq;
                slot.waiting = Waiting::Timer(seq);
                self.add_timer(at, index, TimerKind::Wake(seq));
            }
            Poll::Invoke(call) => self.invoke(index, call),
            Poll::Fork(fork) => {
                self.arm_deadline(index);
                let join = Join::new(&fork);
                if join.is_empty() {
                    self.queue(index, Resume::Join(Join::empty_outcome()));
                    return;
                }
                let Some(slot) = self.slot_mut(index) else {
                    return;
                };
                slot.forks = slot.forks.wrapping_add(1);
                slot.waiting = Waiting::Children;
                slot.fan = Some(Box::new(FanOut {
                    fork: slot.forks,
                    join,
                    starts: fork.children,
                    local: Vec::new(),
                    remote: 0,
                }));
                self.start_children(index);
            }
            Poll::Done(result) => self.fiber_done(index, result),
        }
    }

    fn invoke(&mut self, index: u32, call: TaskCall) {
        self.arm_deadline(index);
        let Some(exec) = self
            .slot_mut(index)
            .map(|s| Arc::clone(s.fiber.execution()))
        else {
            return;
        };
        let token = call.task_token.as_deref().and_then(TaskToken::decode);
        let (timeout, heartbeat) = (call.timeout, call.heartbeat);
        // A `.waitForTaskToken` task ends with its callback. Its integration,
        // if one is configured, only delivers the token: its result is not
        // the task's, but its failure is. Without one, the token goes out
        // through `$$.Task.Token` alone.
        let waits_for_callback = token.is_some();
        let reply = {
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
        if let Some(slot) = self.slot_mut(index) {
            slot.waiting = Waiting::Task {
                task,
                abort: None,
                delayed: None,
            };
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

    /// Starts the children of `index`'s fan-out that `MaxConcurrency` allows.
    ///
    /// A child runs at once, to its first wait point, without a slot or a
    /// queue: a CPU-only Map iteration finishes right here and only its
    /// result is recorded. A child that has to wait gets a slot. While other
    /// shards are idle, children are handed to them instead, so one big
    /// fan-out uses every core. At most [`CHILDREN_PER_TURN`] start per
    /// call; then the parent is queued to start the next ones on a later
    /// turn, so a huge fan-out neither holds the shard nor makes all its
    /// children at once (a CPU-only Map over 100,000 items keeps about a
    /// turn's worth alive).
    fn start_children(&mut self, index: u32) {
        let parent = self.reference(index);
        let shards = self.shared.inboxes.len();
        let idle: Vec<usize> = if shards > 1 && shards <= 64 {
            (0..shards)
                .filter(|&s| s != self.index as usize && self.shared.inboxes[s].is_sleeping())
                .collect()
        } else {
            Vec::new()
        };
        let mut outgoing: Vec<Vec<ChildFiber>> = Vec::new();
        let mut turn = 0usize;
        let mut turn_budget = CHILDREN_PER_TURN;
        let max_fibers = self.shared.max_fibers;
        let mut over_budget = None;
        let shared = Arc::clone(&self.shared);
        let slice_start = shared.clock.now();
        let out_of_time = |budget: usize| {
            (CHILDREN_PER_TURN - budget) % SLICE_CHECK == SLICE_CHECK - 1
                && shared.clock.now().since(slice_start) >= TIME_SLICE
        };
        while let Some(slot) = self.slot_mut(index) {
            if turn_budget == 0 || out_of_time(turn_budget) {
                if slot
                    .fan
                    .as_ref()
                    .is_some_and(|f| f.join.has_more_to_start())
                {
                    self.queue(index, Resume::StartChildren);
                }
                break;
            }
            turn_budget -= 1;
            let exec = slot.fiber.execution();
            if exec.live_fibers() >= max_fibers {
                over_budget = Some(ExecutionId(exec.host_id));
                break;
            }
            let Some(fan) = slot.fan.as_mut() else { break };
            let Some(child_index) = fan.join.next_to_start() else {
                break;
            };
            let fork = fan.fork;
            let mut fiber = slot.fiber.child(&fan.starts[child_index]);
            // round robin over this shard and the idle ones
            let target = if idle.is_empty() || turn.is_multiple_of(idle.len() + 1) {
                None
            } else {
                Some(idle[turn % (idle.len() + 1) - 1])
            };
            turn += 1;
            if let Some(shard) = target {
                fan.remote |= 1 << shard;
                if outgoing.len() <= shard {
                    outgoing.resize_with(shard + 1, Vec::new);
                }
                outgoing[shard].push(ChildFiber {
                    parent,
                    fork,
                    index: child_index as u32,
                    fiber,
                });
                continue;
            }
            let owner = Owner::Child {
                parent,
                fork,
                index: child_index as u32,
            };
            let mut env = StepEnv {
                now: self.now,
                tokens: Some(&self.mint),
            };
            match fiber.run(&mut env) {
                Poll::Done(result) => {
                    let (events, transitions) = (fiber.events_used(), fiber.transitions());
                    if self.join_child(
                        parent,
                        fork,
                        child_index as u32,
                        None,
                        result,
                        events,
                        transitions,
                    ) {
                        break;
                    }
                }
                poll => {
                    let child = self.adopt_local(index, fiber, owner);
                    self.act(child, poll);
                }
            }
        }
        for (shard, children) in outgoing.into_iter().enumerate() {
            if !children.is_empty() {
                self.shared.inboxes[shard].push(Message::Children(children));
            }
        }
        if let Some(id) = over_budget {
            self.fail_execution(id, over_budget_error(max_fibers));
        }
    }

    /// Ends execution `id` as failed, here or on the shard that holds its
    /// top level.
    fn fail_execution(&mut self, id: ExecutionId, error: StatesError) {
        let shards = self.shared.inboxes.len() as u64;
        let owner = (id.0.saturating_sub(1) % shards) as usize;
        if owner == self.index as usize {
            if let Some(&index) = self.tops.get(&id) {
                self.end_execution(index, Status::Failed, Err(error));
            }
        } else {
            self.shared.inboxes[owner].push(Message::End(Box::new((id, Status::Failed, error))));
        }
    }

    /// Gives a child of `parent` (a slot here) a slot of its own.
    fn adopt_local(&mut self, parent: u32, fiber: Fiber, owner: Owner) -> u32 {
        let child = self.alloc(FiberSlot {
            fiber,
            owner,
            waiting: Waiting::Nothing,
            fan: None,
            forks: 0,
            wait_seq: 0,
        });
        if let Some(fan) = self.slot_mut(parent).and_then(|s| s.fan.as_mut()) {
            fan.local.push(child);
        }
        child
    }

    fn fiber_done(&mut self, index: u32, result: Result<Value, StatesError>) {
        let top_deadline = match self.slot_mut(index) {
            Some(FiberSlot {
                owner: Owner::Top(top),
                ..
            }) => Some(top.deadline),
            _ => None,
        };
        if let Some(deadline) = top_deadline {
            let (status, result) = match result {
                Ok(output) => (Status::Succeeded, Ok(output)),
                // A state cut short by the execution's deadline (a JSONata
                // evaluation stops there) ends it as timed out, as the
                // deadline would have a moment later.
                Err(_) if self.shared.clock.now() >= deadline => {
                    (Status::TimedOut, Err(execution_timeout()))
                }
                Err(error) => (Status::Failed, Err(error)),
            };
            self.end_execution(index, status, result);
            return;
        }
        let Some(slot) = self.release(index) else {
            return;
        };
        let Owner::Child {
            parent,
            fork,
            index: child_index,
        } = slot.owner
        else {
            return;
        };
        let events = slot.fiber.events_used();
        let transitions = slot.fiber.transitions();
        if parent.shard == self.index {
            self.child_done(
                parent,
                fork,
                child_index,
                Some(index),
                result,
                events,
                transitions,
            );
        } else {
            if let Some(list) = self.adopted.get_mut(&(parent, fork)) {
                list.retain(|&s| s != index);
                if list.is_empty() {
                    self.adopted.remove(&(parent, fork));
                }
            }
            self.shared.inboxes[parent.shard as usize].push(Message::ChildDone(Box::new(
                ChildDone {
                    parent,
                    fork,
                    index: child_index,
                    result,
                    events,
                    transitions,
                },
            )));
        }
    }

    /// A child finished: record it, then start more children unless the
    /// fan-out is decided.
    #[allow(clippy::too_many_arguments)]
    fn child_done(
        &mut self,
        parent: FiberRef,
        fork: u32,
        child_index: u32,
        child_slot: Option<u32>,
        result: Result<Value, StatesError>,
        events: u32,
        transitions: u32,
    ) {
        if !self.join_child(
            parent,
            fork,
            child_index,
            child_slot,
            result,
            events,
            transitions,
        ) {
            self.start_children(parent.slot);
        }
    }

    /// Records a finished child in its parent's join. Returns `true` when
    /// that decided the fan-out (the parent is queued to resume) or the
    /// parent no longer waits for it.
    #[allow(clippy::too_many_arguments)]
    fn join_child(
        &mut self,
        parent: FiberRef,
        fork: u32,
        child_index: u32,
        child_slot: Option<u32>,
        result: Result<Value, StatesError>,
        events: u32,
        transitions: u32,
    ) -> bool {
        let Some(slot) = self.slot_for(parent) else {
            return true;
        };
        let Some(fan) = slot.fan.as_mut().filter(|f| f.fork == fork) else {
            return true;
        };
        if let Some(child) = child_slot {
            fan.local.retain(|&c| c != child);
        }
        match fan
            .join
            .finish(child_index as usize, result, events, transitions)
        {
            Some(outcome) => {
                let fan = slot.fan.take();
                slot.waiting = Waiting::Nothing;
                if let Some(fan) = fan {
                    self.drop_children(parent, &fan);
                }
                self.queue(parent.slot, Resume::Join(outcome));
                true
            }
            None => false,
        }
    }

    // --- ending ----------------------------------------------------------------

    /// Ends a top-level execution: drops its fibers everywhere and delivers
    /// its one completion.
    fn end_execution(&mut self, index: u32, status: Status, result: Result<Value, StatesError>) {
        // The loop's `now` may be a batch old: read the clock for an exact
        // end time (latency histograms are built from it).
        self.now = self.shared.clock.now();
        let now = self.now;
        let Some(slot) = self.slot_mut(index) else {
            return;
        };
        let transitions = slot.fiber.transitions();
        // A fiber records its own success or failure; a timeout or a stop
        // comes from outside it.
        let closing = match status {
            Status::TimedOut => Some(EventType::ExecutionTimedOut),
            Status::Aborted => Some(EventType::ExecutionAborted),
            Status::Succeeded | Status::Failed => None,
        };
        if let Some(event) = closing
            && slot.fiber.execution().history.is_some()
        {
            let mut env = StepEnv::at(now);
            slot.fiber
                .emit_external(&mut env, event, result.as_ref().err());
        }
        let Some(slot) = self.drop_subtree_returning(index) else {
            return;
        };
        let Owner::Top(top) = slot.owner else { return };
        if top.deadline_armed {
            self.tops.remove(&top.id);
        }
        let TopInfo {
            id,
            name,
            tag,
            sink,
            queued_at,
            started_at,
            ..
        } = *top;
        // Counted before delivery (whoever sees the completion sees it in the
        // stats), released after it: a sink that submits the next execution
        // (a closed loop) does so while this one still counts, so "nothing
        // in flight" means nothing more is coming.
        self.count_completion(transitions);
        sink.complete(Completion {
            id,
            name,
            tag,
            status,
            result,
            queued_at,
            started_at,
            ended_at: self.now,
            transitions,
        });
        self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    fn drop_subtree(&mut self, index: u32) {
        self.drop_subtree_returning(index);
    }

    /// Releases a fiber's slot after dropping its children (here and on
    /// other shards) and aborting its task, and returns the slot.
    fn drop_subtree_returning(&mut self, index: u32) -> Option<FiberSlot> {
        let me = self.reference(index);
        let mut slot = self.release(index)?;
        if let Waiting::Task {
            abort: Some(abort), ..
        } = &slot.waiting
        {
            abort.abort();
        }
        if let Some(fan) = slot.fan.take() {
            self.drop_children(me, &fan);
        }
        Some(slot)
    }

    fn drop_children(&mut self, parent: FiberRef, fan: &FanOut) {
        for &child in &fan.local {
            self.drop_subtree(child);
        }
        if fan.remote != 0 {
            for shard in 0..self.shared.inboxes.len().min(64) {
                if fan.remote & (1 << shard) != 0 {
                    self.shared.inboxes[shard].push(Message::CancelChildren {
                        parent,
                        fork: fan.fork,
                    });
                }
            }
        }
    }

    /// On stop: every execution still here ends as cancelled.
    fn cancel_everything(&mut self) {
        let tops: Vec<u32> = (0..self.entries.len() as u32)
            .filter(|&i| {
                matches!(
                    self.entries[i as usize].slot,
                    Some(FiberSlot {
                        owner: Owner::Top(_),
                        ..
                    })
                )
            })
            .collect();
        for index in tops {
            let error = StatesError::new("ExecutionAborted", "the runtime shut down");
            self.end_execution(index, Status::Aborted, Err(error));
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

/// The error of an execution that ran past its deadline.
fn execution_timeout() -> StatesError {
    StatesError::new(names::TIMEOUT, "The execution ran past its timeout")
}

/// The error of an execution that needs more live fibers than its budget:
/// a runtime error, which no Catch handles.
fn over_budget_error(max_fibers: u32) -> StatesError {
    StatesError::runtime(format!(
        "The execution needs more than {max_fibers} Map iterations and Parallel branches alive at once (the runtime's max_fibers_per_execution); set MaxConcurrency on its Map states"
    ))
}

fn millis(t: Timestamp) -> u64 {
    t.unix_millis().max(0) as u64
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// A parked execution costs its slot, its top-level info, its execution
    /// info and two timers (wake-up and deadline), plus its input: about
    /// 750 bytes, so a million parked executions fit in well under 1 GiB
    /// (measured: `spate bench config/workflows/bench/wait-60.asl.json`).
    /// These bounds keep that product number from creeping up unnoticed;
    /// the last additions are the task token (a box pointer per fiber) and,
    /// per execution, its history subscriber, its own task handlers and its
    /// per-resource invocation counts (a pointer each), its live fiber
    /// count, its host id and its deadline for JSONata.
    #[test]
    fn parked_execution_stays_small() {
        assert!(
            std::mem::size_of::<Entry>() <= 248,
            "Entry {}",
            std::mem::size_of::<Entry>()
        );
        assert!(
            std::mem::size_of::<TopInfo>() <= 88,
            "TopInfo {}",
            std::mem::size_of::<TopInfo>()
        );
        assert!(
            std::mem::size_of::<Fiber>() <= 160,
            "Fiber {}",
            std::mem::size_of::<Fiber>()
        );
        assert!(
            std::mem::size_of::<ExecutionInfo>() <= 216,
            "ExecutionInfo {}",
            std::mem::size_of::<ExecutionInfo>()
        );
        assert!(
            std::mem::size_of::<TimerItem>() <= 24,
            "TimerItem {}",
            std::mem::size_of::<TimerItem>()
        );
    }
}
