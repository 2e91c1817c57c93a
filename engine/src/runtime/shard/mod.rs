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
use super::metrics::{ShardRecorder, TaskOutcome};
use super::timer::TimerWheel;
use super::token_waits::TokenWaits;
use super::{Completion, CompletionSink, ExecutionId, Shared, Status};
use crate::error::{StatesError, names};
use crate::interp::{
    ChildStart, EventType, ExecutionInfo, Fiber, ForkKind, Hosting, Join, JoinOutcome, Poll,
    StepEnv,
};
use crate::task::{CallbackError, TaskCall, TaskReply, TaskResult, TaskToken, TokenMint};
use crate::time::Timestamp;
use crate::value::{Str, Value, size};
use budget::Collected;
use crossbeam::sync::Parker;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

mod budget;
mod fanout;
mod tasks;
mod timers;

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
    /// The bytes of the results collected so far, held by the execution
    /// until the fan-out is dropped (see `budget.rs`).
    collected: Collected,
}

struct FiberSlot {
    fiber: Fiber,
    owner: Owner,
    waiting: Waiting,
    fan: Option<Box<FanOut>>,
    forks: u32,
    wait_seq: u32,
    /// When its last task attempt started (for the task latency metric).
    task_started: Timestamp,
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
    /// This shard's metric counters.
    recorder: ShardRecorder,
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
            recorder: ShardRecorder::default(),
        }
    }

    /// The shard's loop; returns on [`Message::Stop`].
    pub(crate) fn run(mut self) {
        let runtime = Arc::as_ptr(&self.shared) as usize;
        CURRENT_SHARD.with(|c| c.set(Some((runtime, self.index as usize))));
        loop {
            let mut busy = false;
            let turn_started = std::time::Instant::now();
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
            if self.shared.metrics_on {
                let depth = self.ready.len() + self.inbox.len();
                let blocks = &self.shared.metrics[self.index as usize];
                self.recorder.turn(blocks, busy, turn_started, depth);
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
        let machine = submission.machine.filter(|_| self.shared.metrics_on);
        if let Some(label) = machine {
            let blocks = &self.shared.metrics[self.index as usize];
            self.recorder.started(label, blocks);
        }
        let over = size::check(
            &submission.input,
            submission.plan.payload_limit,
            crate::value::MAX_DEPTH,
        );
        if let Err(over) = over {
            if let Some(label) = machine {
                let blocks = &self.shared.metrics[self.index as usize];
                self.recorder
                    .finished(label, blocks, Status::Failed, Duration::ZERO);
            }
            let completion = Completion {
                id,
                name: submission.name,
                tag: submission.tag,
                status: Status::Failed,
                result: Err(match over {
                    size::Over::Bytes => StatesError::new(
                        names::DATA_LIMIT_EXCEEDED,
                        "The execution input has a size exceeding the maximum number of bytes service limit.",
                    ),
                    size::Over::Depth => StatesError::runtime(format!(
                        "The execution input is nested more than {} levels deep (arrays and objects), over the nesting limit for JSON values.",
                        crate::value::MAX_DEPTH
                    )),
                }),
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
                machine,
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
            task_started: started_at,
        });
        self.resume(slot, Resume::Run);
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
        let metrics = match slot.fiber.execution().machine {
            Some(label) => {
                let blocks = &self.shared.metrics[self.index as usize];
                if let Resume::Task(result) = &resume
                    && let Some(resource) = slot.fiber.task_resource()
                {
                    let outcome = match result {
                        Ok(_) => TaskOutcome::Succeeded,
                        Err(e)
                            if matches!(
                                e.error(),
                                Some(names::TIMEOUT | names::HEARTBEAT_TIMEOUT)
                            ) =>
                        {
                            TaskOutcome::TimedOut
                        }
                        Err(_) => TaskOutcome::Failed,
                    };
                    let elapsed = self.now.since(slot.task_started);
                    self.recorder.task_ended(resource, blocks, outcome, elapsed);
                }
                Some(self.recorder.machine(label, blocks))
            }
            None => None,
        };
        let mut env = StepEnv {
            now: self.now,
            tokens: Some(&self.mint),
            metrics,
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
                let Some(slot) = self.entries[index as usize].slot.as_mut() else {
                    return;
                };
                if let Some(label) = slot.fiber.execution().machine {
                    let blocks = &self.shared.metrics[self.index as usize];
                    let map = fork.kind == ForkKind::Map;
                    self.recorder
                        .forked(label, blocks, map, fork.children.len());
                }
                slot.forks = slot.forks.wrapping_add(1);
                slot.waiting = Waiting::Children;
                slot.fan = Some(Box::new(FanOut {
                    fork: slot.forks,
                    join,
                    starts: fork.children,
                    local: Vec::new(),
                    remote: 0,
                    collected: Collected::new(slot.fiber.execution()),
                }));
                self.start_children(index);
            }
            Poll::Done(result) => self.fiber_done(index, result),
        }
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

    // --- ending ----------------------------------------------------------------

    /// Ends a top-level execution: drops its fibers everywhere and delivers
    /// its one completion.
    fn end_execution(&mut self, index: u32, status: Status, result: Result<Value, StatesError>) {
        // The loop's `now` may be a batch old: read the clock for an exact
        // end time (latency histograms are built from it).
        self.now = self.shared.clock.now();
        let now = self.now;
        let Some(slot) = self.entries[index as usize].slot.as_mut() else {
            return;
        };
        let transitions = slot.fiber.transitions();
        if let (Some(label), Owner::Top(top)) = (slot.fiber.execution().machine, &slot.owner) {
            let blocks = &self.shared.metrics[self.index as usize];
            let elapsed = now.since(top.started_at);
            self.recorder.finished(label, blocks, status, elapsed);
        }
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

/// The error of an execution that ran past its deadline.
fn execution_timeout() -> StatesError {
    StatesError::new(names::TIMEOUT, "The execution ran past its timeout")
}

fn millis(t: Timestamp) -> u64 {
    t.unix_millis().max(0) as u64
}

/// The wheel's millisecond for a deadline: rounded up, so a timer fires no
/// earlier than its instant (a Wait of one second never lasts 999.99 ms).
fn deadline_millis(t: Timestamp) -> u64 {
    (t.unix_nanos().max(0) as u64).div_ceil(1_000_000)
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
    /// count, its host id, its deadline for JSONata and its held bytes (for
    /// `max_bytes_per_execution`); per fiber, when its last task attempt
    /// started (for the task latency metric) and its input's size.
    #[test]
    fn parked_execution_stays_small() {
        assert!(
            std::mem::size_of::<Entry>() <= 256,
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
            std::mem::size_of::<ExecutionInfo>() <= 224,
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
