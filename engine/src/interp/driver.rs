//! Runs one execution to completion on the current thread: fibers, timers,
//! task invocations and fan-outs, on a real or a virtual clock.
//!
//! With a [`VirtualClock`], timers (Wait states, Retry back-off, simulated
//! task latency, timeouts) fire by moving the clock forward whenever nothing
//! else can run, so they cost no wall time; tasks that do real I/O are still
//! awaited in real time. The sharded runtime runs many executions with the
//! same fiber protocol; this driver is the simplest complete one.

use super::execution::ExecutionInfo;
use super::fiber::{Fiber, Poll, StepEnv};
use super::history::{EventType, HistorySink};
use super::join::{ChildStart, Join, JoinOutcome};
use crate::error::{StatesError, names};
use crate::plan::Plan;
use crate::task::{Resources, TaskReply, TaskResult};
use crate::time::{Clock, Timestamp, VirtualClock};
use crate::value::{Str, Value, size};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// AWS's limit on an Express execution's duration.
pub const EXPRESS_MAX_DURATION: Duration = Duration::from_secs(300);

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It succeeded.
    Succeeded,
    /// It failed with an error.
    Failed,
    /// It ran past its deadline.
    TimedOut,
}

/// The result of one execution.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// The output, or the error (`States.Timeout` for a timeout).
    pub result: Result<Value, StatesError>,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub ended: Timestamp,
}

/// The clock an execution runs on.
#[derive(Debug, Clone)]
pub enum TimeSource {
    /// Real time: timers wait.
    Real(Arc<dyn Clock>),
    /// Virtual time: timers jump the clock ahead.
    Virtual(VirtualClock),
}

impl TimeSource {
    fn now(&self) -> Timestamp {
        match self {
            TimeSource::Real(clock) => clock.now(),
            TimeSource::Virtual(clock) => clock.now(),
        }
    }
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Task handlers.
    pub resources: Resources,
    /// The clock.
    pub time: TimeSource,
    /// The longest an execution may run, whatever its `TimeoutSeconds`.
    pub max_duration: Duration,
}

impl RunOptions {
    /// Real time, Express's 5-minute cap, the given handlers.
    pub fn real_time(resources: Resources) -> RunOptions {
        RunOptions {
            resources,
            time: TimeSource::Real(Arc::new(crate::time::SystemClock)),
            max_duration: EXPRESS_MAX_DURATION,
        }
    }

    /// A virtual clock starting now, Express's 5-minute cap, the given handlers.
    pub fn virtual_time(resources: Resources) -> RunOptions {
        let start = crate::time::SystemClock.now();
        RunOptions {
            resources,
            time: TimeSource::Virtual(VirtualClock::starting_at(start)),
            max_duration: EXPRESS_MAX_DURATION,
        }
    }
}

/// What a slot is doing.
#[derive(Debug)]
enum Waiting {
    /// Nothing: it is in the ready queue or finished.
    Nothing,
    /// A timer.
    Timer,
    /// A task with this generation.
    Task(u64),
    /// Its children.
    Children,
}

struct Slot {
    fiber: Fiber,
    parent: Option<(usize, usize)>,
    waiting: Waiting,
    join: Option<Join>,
    pending_children: Vec<ChildStart>,
    running_children: Vec<usize>,
}

enum Resume {
    Run,
    Timer,
    Task(TaskResult),
    Join(JoinOutcome),
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    Wake,
    TaskTimeout(u64),
    TaskHeartbeat(u64),
    TaskReady(u64),
    Deadline,
}

/// Runs `plan` on `input` to the end. `history`, when given, receives every
/// event as it happens.
pub async fn run_execution(
    plan: Arc<Plan>,
    name: impl Into<Str>,
    input: Value,
    options: &RunOptions,
    history: Option<&mut dyn HistorySink>,
) -> Outcome {
    let started = options.time.now();
    let exec = Arc::new(ExecutionInfo::new(Arc::clone(&plan), name, &input, started));
    let mut driver = Driver {
        options,
        slots: Vec::new(),
        ready: VecDeque::new(),
        timers: BinaryHeap::new(),
        delayed_results: Vec::new(),
        sequence: 0,
        task_generation: 0,
        running_tasks: Vec::new(),
        results: tokio::sync::mpsc::unbounded_channel(),
        history,
    };
    if size::exceeds(&input, plan.payload_limit) {
        let error = StatesError::new(
            names::DATA_LIMIT_EXCEEDED,
            "The execution input has a size exceeding the maximum number of bytes service limit.",
        );
        return Outcome {
            status: Status::Failed,
            result: Err(error),
            started,
            ended: started,
        };
    }
    driver.slots.push(Some(Slot {
        fiber: Fiber::start(exec, input),
        parent: None,
        waiting: Waiting::Nothing,
        join: None,
        pending_children: Vec::new(),
        running_children: Vec::new(),
    }));
    driver.ready.push_back((0, Resume::Run));
    let deadline = plan
        .timeout
        .unwrap_or(options.max_duration)
        .min(options.max_duration);
    driver.add_timer(started.plus(deadline), 0, TimerKind::Deadline);
    let (status, result) = driver.drive().await;
    Outcome {
        status,
        result,
        started,
        ended: options.time.now(),
    }
}

/// Results of asynchronous tasks: (slot, task generation, result).
type ResultSender = tokio::sync::mpsc::UnboundedSender<(usize, u64, TaskResult)>;
type ResultReceiver = tokio::sync::mpsc::UnboundedReceiver<(usize, u64, TaskResult)>;

struct Driver<'a, 'h> {
    options: &'a RunOptions,
    slots: Vec<Option<Slot>>,
    ready: VecDeque<(usize, Resume)>,
    timers: BinaryHeap<Reverse<(Timestamp, u64, usize, TimerKind)>>,
    delayed_results: Vec<(u64, TaskResult)>,
    sequence: u64,
    task_generation: u64,
    /// Asynchronous tasks started and not yet delivered, by generation.
    running_tasks: Vec<(u64, tokio::task::AbortHandle)>,
    results: (ResultSender, ResultReceiver),
    history: Option<&'h mut dyn HistorySink>,
}

impl Driver<'_, '_> {
    fn add_timer(&mut self, at: Timestamp, slot: usize, kind: TimerKind) {
        self.sequence += 1;
        self.timers.push(Reverse((at, self.sequence, slot, kind)));
    }

    async fn drive(&mut self) -> (Status, Result<Value, StatesError>) {
        loop {
            while let Some((slot, resume)) = self.ready.pop_front() {
                if let Some(done) = self.step(slot, resume) {
                    return done;
                }
            }
            if let Some(done) = self.wait_for_something().await {
                return done;
            }
        }
    }

    /// Blocks until a timer is due or a task result arrives, and queues it.
    async fn wait_for_something(&mut self) -> Option<(Status, Result<Value, StatesError>)> {
        let next_timer = self.timers.peek().map(|Reverse((at, ..))| *at);
        let now = self.options.time.now();
        match (&self.options.time, next_timer) {
            (_, Some(at)) if at <= now => return self.fire_timer(),
            (TimeSource::Virtual(clock), Some(at)) if self.running_tasks.is_empty() => {
                clock.advance_to(at);
                return self.fire_timer();
            }
            _ => {}
        }
        let sleep = match (&self.options.time, next_timer) {
            (TimeSource::Real(_), Some(at)) => Some(at.since(now)),
            _ => None,
        };
        let received = match sleep {
            Some(d) => match tokio::time::timeout(d, self.results.1.recv()).await {
                Ok(r) => r,
                Err(_) => return self.fire_timer(),
            },
            None => self.results.1.recv().await,
        };
        if let Some((slot, generation, result)) = received
            && let Some(i) = self
                .running_tasks
                .iter()
                .position(|(g, _)| *g == generation)
        {
            self.running_tasks.swap_remove(i);
            self.deliver_task(slot, generation, result);
        }
        None
    }

    fn fire_timer(&mut self) -> Option<(Status, Result<Value, StatesError>)> {
        let Reverse((_, _, slot, kind)) = self.timers.pop()?;
        match kind {
            TimerKind::Deadline => {
                let error = StatesError::new(names::TIMEOUT, "The execution ran past its timeout");
                if let Some(Some(top)) = self.slots.get_mut(0) {
                    let mut env = StepEnv {
                        now: self.options.time.now(),
                        history: match &mut self.history {
                            Some(h) => Some(&mut **h),
                            None => None,
                        },
                    };
                    top.fiber
                        .emit_external(&mut env, EventType::ExecutionTimedOut, Some(&error));
                }
                return Some((Status::TimedOut, Err(error)));
            }
            TimerKind::Wake => {
                if matches!(self.slots.get(slot), Some(Some(s)) if matches!(s.waiting, Waiting::Timer))
                {
                    self.ready.push_back((slot, Resume::Timer));
                }
            }
            TimerKind::TaskHeartbeat(generation) => {
                self.deliver_task(
                    slot,
                    generation,
                    Err(StatesError::new(names::HEARTBEAT_TIMEOUT, "")),
                );
            }
            TimerKind::TaskTimeout(generation) => {
                // AWS reports a task timeout with an empty cause.
                self.deliver_task(slot, generation, Err(StatesError::new(names::TIMEOUT, "")));
            }
            TimerKind::TaskReady(generation) => {
                if let Some(i) = self
                    .delayed_results
                    .iter()
                    .position(|(g, _)| *g == generation)
                {
                    let (_, result) = self.delayed_results.swap_remove(i);
                    self.deliver_task(slot, generation, result);
                }
            }
        }
        None
    }

    fn deliver_task(&mut self, slot: usize, generation: u64, result: TaskResult) {
        // A task still running here timed out: it stops, its future is
        // dropped, and a result it may already have sent is ignored.
        if let Some(i) = self
            .running_tasks
            .iter()
            .position(|(g, _)| *g == generation)
        {
            let (_, task) = self.running_tasks.swap_remove(i);
            task.abort();
        }
        if let Some(Some(s)) = self.slots.get_mut(slot)
            && matches!(s.waiting, Waiting::Task(g) if g == generation)
        {
            s.waiting = Waiting::Nothing;
            self.ready.push_back((slot, Resume::Task(result)));
        }
    }

    /// Resumes one fiber and acts on what it asks for. Returns the execution's
    /// end when the top-level fiber finishes.
    fn step(
        &mut self,
        index: usize,
        resume: Resume,
    ) -> Option<(Status, Result<Value, StatesError>)> {
        let now = self.options.time.now();
        let poll = {
            let mut env = StepEnv {
                now,
                history: match &mut self.history {
                    Some(h) => Some(&mut **h),
                    None => None,
                },
            };
            let slot = self.slots.get_mut(index)?.as_mut()?;
            slot.waiting = Waiting::Nothing;
            match resume {
                Resume::Run => slot.fiber.run(&mut env),
                Resume::Timer => slot.fiber.on_timer(&mut env),
                Resume::Task(result) => slot.fiber.on_task_result(result, &mut env),
                Resume::Join(outcome) => slot.fiber.on_join(outcome, &mut env),
            }
        };
        match poll {
            Poll::Yield => self.ready.push_back((index, Resume::Run)),
            Poll::Sleep(at) => {
                self.set_waiting(index, Waiting::Timer);
                self.add_timer(at, index, TimerKind::Wake);
            }
            Poll::Invoke(call) => {
                self.task_generation += 1;
                let generation = self.task_generation;
                self.set_waiting(index, Waiting::Task(generation));
                if let Some(timeout) = call.timeout {
                    self.add_timer(now.plus(timeout), index, TimerKind::TaskTimeout(generation));
                }
                if let Some(heartbeat) = call.heartbeat {
                    self.add_timer(
                        now.plus(heartbeat),
                        index,
                        TimerKind::TaskHeartbeat(generation),
                    );
                }
                match self.options.resources.invoke(call) {
                    TaskReply::Ready(result) => self.deliver_task(index, generation, result),
                    TaskReply::After(delay, result) => {
                        self.delayed_results.push((generation, result));
                        self.add_timer(now.plus(delay), index, TimerKind::TaskReady(generation));
                    }
                    TaskReply::Pending(future) => {
                        let sender = self.results.0.clone();
                        let task = tokio::spawn(async move {
                            let result = future.await;
                            let _ = sender.send((index, generation, result));
                        });
                        self.running_tasks.push((generation, task.abort_handle()));
                    }
                }
            }
            Poll::Fork(fork) => {
                let join = Join::new(&fork);
                if join.is_empty() {
                    self.ready
                        .push_back((index, Resume::Join(Join::empty_outcome())));
                } else if let Some(slot) = self.slots[index].as_mut() {
                    slot.waiting = Waiting::Children;
                    slot.join = Some(join);
                    slot.pending_children = fork.children;
                    self.start_children(index);
                }
            }
            Poll::Done(result) => {
                let finished = self.slots[index].take()?;
                let events = finished.fiber.events_used();
                let transitions = finished.fiber.transitions();
                match finished.parent {
                    None => {
                        let status = if result.is_ok() {
                            Status::Succeeded
                        } else {
                            Status::Failed
                        };
                        return Some((status, result));
                    }
                    Some((parent, child_index)) => {
                        self.child_finished(parent, child_index, index, result, events, transitions)
                    }
                }
            }
        }
        None
    }

    fn set_waiting(&mut self, index: usize, waiting: Waiting) {
        if let Some(Some(slot)) = self.slots.get_mut(index) {
            slot.waiting = waiting;
        }
    }

    /// Starts as many pending children of `parent` as its join allows.
    fn start_children(&mut self, parent: usize) {
        loop {
            let Some(slot) = self.slots[parent].as_mut() else {
                return;
            };
            let Some(join) = slot.join.as_mut() else {
                return;
            };
            let Some(child_index) = join.next_to_start() else {
                return;
            };
            let child = slot.fiber.child(&slot.pending_children[child_index]);
            let id = self.slots.len();
            if let Some(slot) = self.slots[parent].as_mut() {
                slot.running_children.push(id);
            }
            self.slots.push(Some(Slot {
                fiber: child,
                parent: Some((parent, child_index)),
                waiting: Waiting::Nothing,
                join: None,
                pending_children: Vec::new(),
                running_children: Vec::new(),
            }));
            self.ready.push_back((id, Resume::Run));
        }
    }

    fn child_finished(
        &mut self,
        parent: usize,
        child_index: usize,
        child_slot: usize,
        result: Result<Value, StatesError>,
        events: u32,
        transitions: u32,
    ) {
        let Some(slot) = self.slots[parent].as_mut() else {
            return;
        };
        slot.running_children.retain(|&c| c != child_slot);
        let Some(join) = slot.join.as_mut() else {
            return;
        };
        match join.finish(child_index, result, events, transitions) {
            Some(outcome) => {
                slot.join = None;
                slot.pending_children = Vec::new();
                let orphans = std::mem::take(&mut slot.running_children);
                for orphan in orphans {
                    self.cancel(orphan);
                }
                self.ready.push_back((parent, Resume::Join(outcome)));
            }
            None => self.start_children(parent),
        }
    }

    /// Drops a fiber and its descendants; their timers and task results are
    /// ignored when they arrive.
    fn cancel(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index).and_then(Option::take) {
            for child in slot.running_children {
                self.cancel(child);
            }
        }
    }
}
