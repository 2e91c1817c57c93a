//! The pipeline's state machine, free of Kafka: events in, executions
//! started, outcome records out, offsets released in order.
//!
//! [`Pipeline`] takes inputs through `on_*` methods and acts through the [`Io`]
//! it is handed (start or cancel an execution, publish a record); the Kafka
//! driver (`kafka::driver`) feeds it and carries out what it asks, and tests
//! drive it with a fake.
//!
//! Words, used the same way throughout ingest: an execution ends with a
//! *completion* (the runtime's [`Completion`], serialised into a
//! [`JsonCompletion`]); an event's *outcome* is the record published for it
//! (an output or a dead letter); its offset is *done* once the producer
//! acknowledges the outcome.
//!
//! # An event's life
//!
//! 1. [`Pipeline::on_event`] registers its offset with the partition's
//!    [`OffsetTracker`]. An event that is not JSON or is too large becomes a
//!    dead letter at once; otherwise it waits its turn (`per-key` ordering:
//!    behind the running event with the same key) and then its execution
//!    starts, unless `max_in_flight` are running (it then waits in the ready
//!    queue).
//! 2. [`Pipeline::on_completion`] turns the execution's end (a [`JsonCompletion`]:
//!    its output already serialised on the shard that ran it) into an
//!    output record, or a dead letter for a failure, and publishes it; the
//!    next event with the same key may start.
//! 3. [`Pipeline::on_delivery`]: once the producer acknowledges the record, the
//!    offset is done; a failed publication is retried (a record the cluster
//!    refuses as too large becomes a dead letter instead). Nothing is
//!    skipped: an offset whose outcome is not acknowledged holds the
//!    partition's commit position back.
//! 4. [`Pipeline::commit_due`] returns the partitions whose commit position moved.
//!
//! # Backpressure
//!
//! The driver takes events only while [`Pipeline::wants_events`]: while fewer
//! wait to start than there are free execution slots plus a small reserve.
//! The rest stay in the consumer's queue, which stops fetching when full and
//! keeps what it holds. A partition is paused while it holds
//! `max_pending_per_partition` events not yet committable, and resumed once
//! it is down to half (a pause throws away what the consumer prefetched for
//! it, so the window is set well above what normally runs). As a safety net
//! every partition is paused while more than `4 × max_in_flight` (at least
//! 1024) events wait for a free execution slot, and resumed at half.
//!
//! # Revocation and shutdown
//!
//! [`Pipeline::begin_revoke`] drops the partitions' events that have not started
//! (the next owner reads them again), the driver waits while
//! [`Pipeline::busy`] is non-zero or the grace period lasts, then
//! [`Pipeline::finish_revoke`] cancels what is left and returns the commit
//! positions. Shutdown is the same for every partition
//! ([`Pipeline::begin_shutdown`], [`Pipeline::drained`], [`Pipeline::abandon`],
//! [`Pipeline::positions`]).

use crate::config::{InputMode, OnFailure, Ordering, PipelineSettings};
use crate::event::{self, Body, Meta};
use crate::offsets::OffsetTracker;
use crate::record::{self, DeadLetter, OutRecord, Source};
use crate::stats::{self, PipelineStats, Stage};
use spate_engine::error::StatesError;
use spate_engine::registry::StateMachine;
use spate_engine::runtime::{
    Completion, CompletionSink, ExecutionId, Status, Submission, SubmitError,
};
use spate_engine::time::{Clock, SystemClock, Timestamp};
use spate_engine::value::{Map, Str, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The hasher of the per-event maps (partitions, keys): foldhash, seeded per
/// process. SipHash, the standard one, showed up at 6% of the pipeline
/// thread's time.
type FastHash = foldhash::fast::RandomState;

/// A partition of one of the pipeline's source topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tp {
    /// Index into the pipeline's source topics.
    pub topic: u32,
    /// Partition number.
    pub partition: i32,
}

/// Why the producer refused a record on the spot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Its queue is full: try again after deliveries.
    QueueFull,
    /// Over the producer's `message.max.bytes`.
    TooLarge(String),
    /// Anything else (retried after a pause).
    Other(String),
}

/// Why a publication failed after it was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The cluster refused the record as too large.
    TooLarge(String),
    /// Any other failure (timeouts, unreachable brokers, ...): retried.
    Other(String),
}

/// An execution's end as the pipeline needs it: the output as JSON text.
///
/// Built from the runtime's [`Completion`] by the completion sink, on the
/// shard thread that ran the execution: the output's values are serialised
/// and freed where they were made, and the pipeline thread handles bytes.
#[derive(Debug)]
pub struct JsonCompletion {
    /// The submission's tag.
    pub tag: u64,
    /// The execution's name.
    pub name: Str,
    /// How it ended.
    pub status: Status,
    /// The output as JSON text, or the error and cause.
    pub result: Result<Vec<u8>, StatesError>,
    /// When its shard started it.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Timestamp,
}

impl From<Completion> for JsonCompletion {
    fn from(completion: Completion) -> JsonCompletion {
        JsonCompletion {
            tag: completion.tag,
            name: completion.name,
            status: completion.status,
            result: completion.result.map(|output| output.to_json_bytes()),
            started_at: completion.started_at,
            ended_at: completion.ended_at,
        }
    }
}

/// What the pipeline asks of the outside world.
pub trait Io {
    /// Starts an execution.
    fn submit(&mut self, submission: Submission) -> Result<ExecutionId, SubmitError>;
    /// Cancels an execution (it completes as cancelled).
    fn cancel(&mut self, id: ExecutionId);
    /// Queues a copy of a record for publication; its acknowledgement comes
    /// back to [`Pipeline::on_delivery`] with `tag`.
    fn produce(&mut self, record: &OutRecord, tag: u64) -> Result<(), Refused>;
}

/// A change to a partition's consumption the driver must make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Stop fetching the partition.
    Pause(Tp),
    /// Fetch it again.
    Resume(Tp),
}

/// Events kept waiting to start beyond the free execution slots (see
/// [`Pipeline::wants_events`]).
pub const READY_RESERVE: usize = 256;

/// Delay before a failed publication is tried again.
const RETRY_DELAY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Free,
    /// Behind the running event with the same key.
    Waiting,
    /// In the ready queue.
    Ready,
    Executing,
    /// Record in the outbox.
    Outbox,
    Producing,
    /// Record waiting to be retried.
    Retry,
}

struct EventSlot {
    generation: u32,
    phase: Phase,
    tp: Tp,
    epoch: u32,
    meta: Meta,
    /// The event's parsed value, until its execution starts (the input).
    payload: Value,
    /// The event's value as consumed, byte for byte, until its outcome is
    /// acknowledged (a dead letter carries it unchanged).
    raw: Vec<u8>,
    record: Option<OutRecord>,
    execution: Option<ExecutionId>,
    /// Holds its key's turn (`per-key` ordering).
    keyed: bool,
    /// The record being published is a dead letter.
    dead_letter: bool,
    /// Why, when it is one.
    dead_reason: Option<DeadLetter>,
    /// When the event was taken from the consumer.
    taken_at: Timestamp,
    /// When its execution ended (when it was taken, if it never ran).
    ended_at: Timestamp,
}

struct Part {
    epoch: u32,
    tracker: OffsetTracker,
    /// Over its pending window (with hysteresis).
    window_full: bool,
    /// Paused as far as the driver knows.
    paused: bool,
    committed: Option<i64>,
    /// Keys with an event ready or running, and the events waiting behind it.
    keys: HashMap<Box<[u8]>, VecDeque<u32>, FastHash>,
}

/// One pipeline's state.
pub struct Pipeline {
    settings: Arc<PipelineSettings>,
    /// The pipeline's name (for the records' headers).
    name: Arc<str>,
    state_machine: Option<Arc<StateMachine>>,
    topics: Vec<Arc<str>>,
    output_topic: Arc<str>,
    dlq_topic: Arc<str>,
    sink: Arc<dyn CompletionSink>,
    stats: Arc<PipelineStats>,
    parts: HashMap<Tp, Part, FastHash>,
    slots: Vec<EventSlot>,
    free: Vec<u32>,
    ready: VecDeque<u32>,
    outbox: VecDeque<u32>,
    retry: VecDeque<(Instant, u32)>,
    executing: usize,
    producing: usize,
    global_pause: bool,
    stopping: bool,
    next_epoch: u32,
    flow: Vec<Flow>,
    retry_delay: Duration,
    /// Processing latency collected since the last
    /// [`Pipeline::publish_gauges`] (merged into the stats there).
    latency: hdrhistogram::Histogram<u64>,
}

impl Pipeline {
    /// A pipeline with no partitions yet. Completions of the executions it
    /// starts must reach `sink`, which hands them back to
    /// [`Pipeline::on_completion`].
    pub fn new(
        settings: Arc<PipelineSettings>,
        sink: Arc<dyn CompletionSink>,
        stats: Arc<PipelineStats>,
    ) -> Pipeline {
        Pipeline {
            name: Arc::from(settings.name.as_str()),
            state_machine: settings.state_machine.clone(),
            topics: settings
                .source_topics
                .iter()
                .map(|t| Arc::from(t.as_str()))
                .collect(),
            output_topic: Arc::from(settings.output_topic.as_str()),
            dlq_topic: Arc::from(settings.dlq_topic.as_str()),
            settings,
            sink,
            stats,
            parts: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            ready: VecDeque::new(),
            outbox: VecDeque::new(),
            retry: VecDeque::new(),
            executing: 0,
            producing: 0,
            global_pause: false,
            stopping: false,
            next_epoch: 1,
            flow: Vec::new(),
            retry_delay: RETRY_DELAY,
            latency: stats::new_histogram(),
        }
    }

    /// The topic index of `topic`, if it is one of the sources.
    pub fn topic_index(&self, topic: &str) -> Option<u32> {
        self.topics
            .iter()
            .position(|t| &**t == topic)
            .map(|i| i as u32)
    }

    /// A source topic's name.
    pub fn topic(&self, index: u32) -> &Arc<str> {
        &self.topics[index as usize]
    }

    /// Partitions now assigned.
    pub fn assigned(&self) -> Vec<Tp> {
        let mut tps: Vec<Tp> = self.parts.keys().copied().collect();
        tps.sort();
        tps
    }

    /// Pause and resume requests since the last call.
    pub fn take_flow(&mut self) -> Vec<Flow> {
        std::mem::take(&mut self.flow)
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<PipelineStats> {
        &self.stats
    }

    /// Sets the delay before a failed publication is retried.
    pub fn set_retry_delay(&mut self, delay: Duration) {
        self.retry_delay = delay;
    }

    /// `true` while the pipeline would take more events: fewer wait to start
    /// than there are free execution slots, plus a reserve of
    /// [`READY_RESERVE`] to start the moment slots free up. The driver
    /// leaves events in the consumer's queue otherwise.
    pub fn wants_events(&self) -> bool {
        let free = self.settings.max_in_flight.saturating_sub(self.executing);
        self.ready.len() < free + READY_RESERVE
    }

    /// Executions running.
    pub fn executing(&self) -> usize {
        self.executing
    }

    /// Partitions were assigned.
    pub fn assign(&mut self, tps: &[Tp]) {
        for &tp in tps {
            if self.parts.contains_key(&tp) {
                continue;
            }
            let epoch = self.next_epoch;
            self.next_epoch = self.next_epoch.wrapping_add(1);
            self.parts.insert(
                tp,
                Part {
                    epoch,
                    tracker: OffsetTracker::new(),
                    window_full: false,
                    paused: false,
                    committed: None,
                    keys: HashMap::default(),
                },
            );
            self.refresh(tp);
        }
    }

    /// An event arrived (in offset order within its partition).
    pub fn on_event(&mut self, io: &mut dyn Io, tp: Tp, meta: Meta, body: Body) {
        if self.stopping {
            // Not registered: every later offset stays uncommitted, so the
            // next run reads it again.
            return;
        }
        if !self.parts.contains_key(&tp) {
            // Without a rebalance callback (never with a group): take it.
            self.assign(&[tp]);
        }
        let part = self.parts.get_mut(&tp).expect("assigned above");
        if part.tracker.push(meta.offset).is_err() {
            stats::add(&self.stats.duplicates, 1);
            return;
        }
        stats::add(&self.stats.consumed, 1);
        if let Some(counter) = self.stats.consumed_by_topic.get(tp.topic as usize) {
            stats::add(counter, 1);
        }
        let taken_at = SystemClock.now();
        self.stats.progressed(taken_at.unix_millis());
        if let Some(produced) = meta.timestamp_ms {
            let produced = Timestamp::from_unix_nanos(produced.saturating_mul(1_000_000));
            self.stats
                .record_stage(Stage::Fetch, taken_at.since(produced));
        }
        let epoch = part.epoch;
        let (payload, raw, dead) = match body {
            Body::Json { value, raw } => (value, raw, None),
            Body::Invalid { raw, error } => (
                Value::Null,
                Vec::new(),
                Some((raw, DeadLetter::InvalidJson, "InvalidJson", error)),
            ),
            Body::TooLarge { raw } => {
                let cause = format!(
                    "the event is {} bytes, over the {} byte payload limit",
                    raw.len(),
                    crate::config::defaults::MAX_EVENT_BYTES
                );
                (
                    Value::Null,
                    Vec::new(),
                    Some((raw, DeadLetter::TooLarge, "States.DataLimitExceeded", cause)),
                )
            }
        };
        let index = self.alloc(EventSlot {
            generation: 0,
            phase: Phase::Free,
            tp,
            epoch,
            meta,
            payload,
            raw,
            record: None,
            execution: None,
            keyed: false,
            dead_letter: false,
            dead_reason: None,
            taken_at,
            ended_at: taken_at,
        });
        if let Some((raw, reason, error, cause)) = dead {
            let record = self.dead_letter(index, raw, reason, error, &cause);
            self.queue_record(index, record);
        } else if self.settings.ordering == Ordering::PerKey
            && let Some(key) = self.slots[index as usize].meta.key.clone()
        {
            let part = self.parts.get_mut(&tp).expect("assigned");
            match part.keys.get_mut(&key) {
                Some(waiting) => {
                    waiting.push_back(index);
                    self.slots[index as usize].phase = Phase::Waiting;
                }
                None => {
                    part.keys.insert(key, VecDeque::new());
                    self.slots[index as usize].keyed = true;
                    self.make_ready(index);
                }
            }
        } else {
            self.make_ready(index);
        }
        // Executions start at the next `tick`: the driver ticks after a
        // batch of events, so the runtime's shards are woken once per batch
        // rather than once per event.
        self.publish(io);
        self.update_global_pause();
        self.check_window(tp);
    }

    /// An execution ended.
    pub fn on_completion(&mut self, io: &mut dyn Io, completion: JsonCompletion) {
        let Some(index) = self.lookup(completion.tag, Phase::Executing) else {
            return;
        };
        self.executing -= 1;
        let slot = &mut self.slots[index as usize];
        slot.execution = None;
        slot.ended_at = completion.ended_at;
        self.stats
            .record_stage(Stage::Queue, completion.started_at.since(slot.taken_at));
        self.stats.record_stage(
            Stage::Execution,
            completion.ended_at.since(completion.started_at),
        );
        self.complete(
            index,
            Some(completion.name),
            completion.status,
            completion.result,
        );
        self.pump(io);
    }

    /// The producer acknowledged, or gave up on, a record.
    pub fn on_delivery(
        &mut self,
        io: &mut dyn Io,
        tag: u64,
        result: Result<(), (DeliveryError, OutRecord)>,
    ) {
        let Some(index) = self.lookup(tag, Phase::Producing) else {
            return;
        };
        self.producing -= 1;
        // The report cannot tell; the slot knows.
        let dead_letter = self.slots[index as usize].dead_letter;
        let result = result.map_err(|(e, mut record)| {
            record.dead_letter = dead_letter;
            (e, record)
        });
        match result {
            Ok(()) => {
                let slot = &self.slots[index as usize];
                let (tp, epoch, offset) = (slot.tp, slot.epoch, slot.meta.offset);
                let dead = slot.dead_reason.filter(|_| slot.dead_letter);
                let acknowledged = SystemClock.now();
                let event_time = slot.meta.timestamp_ms.map_or(slot.taken_at, |ms| {
                    Timestamp::from_unix_nanos(ms.saturating_mul(1_000_000))
                });
                let (taken_at, ended_at) = (slot.taken_at, slot.ended_at);
                if let Some(part) = self.parts.get_mut(&tp)
                    && part.epoch == epoch
                {
                    let released = part.tracker.mark_done(offset);
                    debug_assert!(released, "offset {offset} acknowledged twice");
                    match dead {
                        Some(reason) => {
                            stats::add(&self.stats.dead_letters, 1);
                            stats::add(&self.stats.dead_letters_by_reason[reason as usize], 1);
                        }
                        None => stats::add(&self.stats.outputs, 1),
                    }
                    self.stats
                        .record_stage(Stage::Publish, acknowledged.since(ended_at));
                    self.stats
                        .record_stage(Stage::EndToEnd, acknowledged.since(event_time));
                    self.stats.progressed(acknowledged.unix_millis());
                    let micros = acknowledged.since(taken_at).as_micros() as u64;
                    self.latency.saturating_record(micros.max(1));
                    self.check_window(tp);
                }
                self.release(index);
            }
            Err((DeliveryError::TooLarge(why), record)) if !record.dead_letter => {
                self.reject_output(index, &why);
            }
            Err((DeliveryError::TooLarge(why) | DeliveryError::Other(why), record)) => {
                log::warn!(
                    "pipeline {}: publishing to {} failed ({why}); retrying",
                    self.settings.name,
                    record.topic
                );
                self.schedule_retry(index, record);
            }
        }
        self.pump(io);
    }

    /// Starts the executions of events that are ready (call after a batch
    /// of [`Pipeline::on_event`]), publishes due retries.
    pub fn tick(&mut self, io: &mut dyn Io) {
        self.pump(io);
    }

    /// Commit positions that moved since the last call, as (topic,
    /// partition, next offset to read).
    pub fn commit_due(&mut self) -> Vec<(Arc<str>, i32, i64)> {
        let mut due = Vec::new();
        for (tp, part) in &mut self.parts {
            if let Some(position) = part.tracker.commit_position()
                && part.committed != Some(position)
            {
                part.committed = Some(position);
                due.push((
                    Arc::clone(&self.topics[tp.topic as usize]),
                    tp.partition,
                    position,
                ));
            }
        }
        due
    }

    /// Commit positions of `tps` (every assigned partition if `None`),
    /// whether or not they moved.
    pub fn positions(&self, tps: Option<&[Tp]>) -> Vec<(Arc<str>, i32, i64)> {
        let mut out = Vec::new();
        for (tp, part) in &self.parts {
            if tps.is_some_and(|tps| !tps.contains(tp)) {
                continue;
            }
            if let Some(position) = part.tracker.commit_position() {
                out.push((
                    Arc::clone(&self.topics[tp.topic as usize]),
                    tp.partition,
                    position,
                ));
            }
        }
        out
    }

    /// Partitions are being taken away: events of theirs that have not
    /// started are dropped (the next owner reads them again).
    pub fn begin_revoke(&mut self, tps: &[Tp]) {
        self.drop_unstarted(|tp| tps.contains(&tp));
    }

    /// Executions running and records unacknowledged for `tps`.
    pub fn busy(&self, tps: &[Tp]) -> usize {
        self.slots
            .iter()
            .filter(|s| {
                matches!(
                    s.phase,
                    Phase::Executing | Phase::Outbox | Phase::Producing | Phase::Retry
                ) && tps.contains(&s.tp)
                    && self.parts.get(&s.tp).is_some_and(|p| p.epoch == s.epoch)
            })
            .count()
    }

    /// Ends a revocation: cancels what still runs for `tps`, forgets them,
    /// and returns their commit positions.
    pub fn finish_revoke(&mut self, io: &mut dyn Io, tps: &[Tp]) -> Vec<(Arc<str>, i32, i64)> {
        let positions = self.positions(Some(tps));
        self.abandon_where(io, |tp| tps.contains(&tp));
        for tp in tps {
            self.parts.remove(tp);
        }
        positions
    }

    /// Stops taking events: unstarted ones are dropped and every partition
    /// paused; running ones go on.
    pub fn begin_shutdown(&mut self) {
        self.stopping = true;
        self.drop_unstarted(|_| true);
        for tp in self.assigned() {
            self.refresh(tp);
        }
    }

    /// `true` when nothing runs and every record is acknowledged.
    pub fn drained(&self) -> bool {
        self.executing == 0
            && self.producing == 0
            && self.outbox.is_empty()
            && self.retry.is_empty()
    }

    /// Records queued or awaiting acknowledgement.
    pub fn unacknowledged(&self) -> usize {
        self.producing + self.outbox.len() + self.retry.len()
    }

    /// Cancels every running execution and drops unpublished records (their
    /// events stay uncommitted).
    pub fn abandon(&mut self, io: &mut dyn Io) {
        self.abandon_where(io, |_| true);
    }

    /// Refreshes the gauges in the stats and hands over the latency
    /// collected since the last call.
    pub fn publish_gauges(&mut self) {
        self.stats.merge_latency(&mut self.latency);
        stats::set(&self.stats.executing, self.executing as i64);
        stats::set(
            &self.stats.pending,
            self.parts.values().map(|p| p.tracker.len() as i64).sum(),
        );
        stats::set(&self.stats.assigned, self.parts.len() as i64);
        stats::set(
            &self.stats.paused,
            self.parts.values().filter(|p| p.paused).count() as i64,
        );
    }

    // ---- internals ----

    fn alloc(&mut self, mut slot: EventSlot) -> u32 {
        match self.free.pop() {
            Some(index) => {
                let old = &mut self.slots[index as usize];
                slot.generation = old.generation.wrapping_add(1);
                *old = slot;
                index
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        slot.phase = Phase::Free;
        slot.payload = Value::Null;
        slot.raw = Vec::new();
        slot.record = None;
        slot.meta.headers = Vec::new();
        slot.meta.key = None;
        slot.execution = None;
        self.free.push(index);
    }

    fn tag(&self, index: u32) -> u64 {
        (u64::from(index) << 32) | u64::from(self.slots[index as usize].generation)
    }

    /// The slot a tag names, if it is still in `phase`.
    fn lookup(&self, tag: u64, phase: Phase) -> Option<u32> {
        let index = (tag >> 32) as u32;
        let slot = self.slots.get(index as usize)?;
        (slot.generation == tag as u32 && slot.phase == phase).then_some(index)
    }

    fn live(&self, index: u32) -> bool {
        let slot = &self.slots[index as usize];
        self.parts
            .get(&slot.tp)
            .is_some_and(|p| p.epoch == slot.epoch)
    }

    fn make_ready(&mut self, index: u32) {
        self.slots[index as usize].phase = Phase::Ready;
        self.ready.push_back(index);
    }

    fn queue_record(&mut self, index: u32, record: OutRecord) {
        let slot = &mut self.slots[index as usize];
        slot.record = Some(record);
        slot.phase = Phase::Outbox;
        self.outbox.push_back(index);
    }

    fn schedule_retry(&mut self, index: u32, record: OutRecord) {
        stats::add(&self.stats.retries, 1);
        let slot = &mut self.slots[index as usize];
        slot.record = Some(record);
        slot.phase = Phase::Retry;
        self.retry
            .push_back((Instant::now() + self.retry_delay, index));
    }

    /// Starts ready executions, publishes queued records, and updates the
    /// global pause.
    fn pump(&mut self, io: &mut dyn Io) {
        if !self.retry.is_empty() {
            let now = Instant::now();
            while let Some(&(due, index)) = self.retry.front() {
                if due > now {
                    break;
                }
                self.retry.pop_front();
                self.slots[index as usize].phase = Phase::Outbox;
                self.outbox.push_back(index);
            }
        }
        while self.executing < self.settings.max_in_flight
            && let Some(&index) = self.ready.front()
        {
            if !self.start(io, index) {
                break;
            }
            self.ready.pop_front();
        }
        self.publish(io);
        self.update_global_pause();
    }

    /// Hands queued records to the producer.
    fn publish(&mut self, io: &mut dyn Io) {
        while let Some(&index) = self.outbox.front() {
            let tag = self.tag(index);
            let record = self.slots[index as usize]
                .record
                .as_ref()
                .expect("outbox slots hold a record");
            let dead_letter = record.dead_letter;
            match io.produce(record, tag) {
                Ok(()) => {
                    // The producer copied it.
                    self.outbox.pop_front();
                    let slot = &mut self.slots[index as usize];
                    slot.record = None;
                    slot.phase = Phase::Producing;
                    slot.dead_letter = dead_letter;
                    self.producing += 1;
                }
                Err(Refused::QueueFull) => break,
                Err(Refused::TooLarge(why)) if !dead_letter => {
                    self.outbox.pop_front();
                    self.reject_output(index, &why);
                }
                Err(Refused::TooLarge(why) | Refused::Other(why)) => {
                    self.outbox.pop_front();
                    let record = self.slots[index as usize]
                        .record
                        .take()
                        .expect("outbox slots hold a record");
                    log::warn!(
                        "pipeline {}: cannot publish to {} ({why}); retrying",
                        self.settings.name,
                        record.topic
                    );
                    self.schedule_retry(index, record);
                }
            }
        }
    }

    /// Pauses every partition while `max_in_flight` events wait for an
    /// execution slot; resumes them at half.
    fn update_global_pause(&mut self) {
        // Events that could start now are not waiting.
        let free = self.settings.max_in_flight.saturating_sub(self.executing);
        let waiting = self.ready.len().saturating_sub(free);
        let limit = self.global_limit();
        let global = if self.global_pause {
            waiting > limit / 2
        } else {
            waiting >= limit
        };
        if global != self.global_pause {
            self.global_pause = global;
            for tp in self.assigned() {
                self.refresh(tp);
            }
        }
    }

    /// Events waiting for an execution slot before every partition pauses:
    /// the per-partition windows bound memory already, so this is a safety
    /// net, set high (each pause drops what the consumer prefetched, and a
    /// resumed partition takes a fetch round trip to deliver again).
    fn global_limit(&self) -> usize {
        (4 * self.settings.max_in_flight).max(1024)
    }

    /// Starts the execution of a ready event; `false` if the runtime is full.
    fn start(&mut self, io: &mut dyn Io, index: u32) -> bool {
        let slot = &self.slots[index as usize];
        let topic = &self.topics[slot.tp.topic as usize];
        let input = match self.settings.input {
            InputMode::Value => slot.payload.clone(),
            InputMode::Envelope => event::envelope(topic, &slot.meta, slot.payload.clone()),
        };
        let Some(machine) = &self.state_machine else {
            // Passthrough: the input is the output.
            stats::add(&self.stats.started, 1);
            self.slots[index as usize].phase = Phase::Executing;
            self.complete(index, None, Status::Succeeded, Ok(input.to_json_bytes()));
            return true;
        };
        // The state machine's latest version: an update reaches the next
        // event, and running executions keep theirs.
        let submission = Submission {
            key: slot.meta.key.as_deref().map(event::key_hash),
            tag: self.tag(index),
            ..machine.keyed_submission(
                event::execution_name(topic, slot.tp.partition, slot.meta.offset),
                input,
                Arc::clone(&self.sink),
                slot.meta.key.as_deref(),
            )
        };
        match io.submit(submission) {
            Ok(id) => {
                let slot = &mut self.slots[index as usize];
                // The execution has its input; a dead letter uses `raw`.
                slot.payload = Value::Null;
                slot.execution = Some(id);
                slot.phase = Phase::Executing;
                self.executing += 1;
                stats::add(&self.stats.started, 1);
                true
            }
            Err(SubmitError::Full(_) | SubmitError::ShuttingDown(_)) => false,
        }
    }

    /// Turns an execution's end into its record; passes the key's turn on.
    fn complete(
        &mut self,
        index: u32,
        name: Option<Str>,
        status: Status,
        result: Result<Vec<u8>, StatesError>,
    ) {
        if !self.live(index) {
            self.release(index);
            return;
        }
        if self.slots[index as usize].keyed {
            self.pass_key_on(index);
        }
        let record = match (status, result) {
            (Status::Aborted, _) => {
                // Shutdown or revocation: the offset stays not done.
                self.release(index);
                return;
            }
            (Status::Succeeded, Ok(output)) => {
                stats::add(&self.stats.succeeded, 1);
                self.output(index, name, output, status, None)
            }
            (status, result) => {
                stats::add(&self.stats.failed, 1);
                let (error, cause) = match &result {
                    Err(e) => (
                        e.error().unwrap_or("States.Runtime").to_string(),
                        e.cause().unwrap_or("").to_string(),
                    ),
                    Ok(_) => (status.aws_name().to_string(), String::new()),
                };
                match self.settings.on_failure {
                    OnFailure::Dlq => {
                        let reason = if status == Status::TimedOut {
                            DeadLetter::ExecutionTimedOut
                        } else {
                            DeadLetter::ExecutionFailed
                        };
                        let raw = self.take_raw(index);
                        self.dead_letter(index, raw, reason, &error, &cause)
                    }
                    OnFailure::Output => {
                        let mut map = Map::with_capacity(3);
                        map.insert(Str::new("status"), Value::string(status.aws_name()));
                        map.insert(Str::new("error"), Value::string(&error));
                        map.insert(Str::new("cause"), Value::string(&cause));
                        self.output(
                            index,
                            name,
                            Value::object(map).to_json_bytes(),
                            status,
                            Some((&error, &cause)),
                        )
                    }
                }
            }
        };
        self.queue_record(index, record);
    }

    /// The next event waiting for this slot's key becomes ready.
    fn pass_key_on(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        slot.keyed = false;
        let (tp, key) = (slot.tp, slot.meta.key.clone());
        let (Some(part), Some(key)) = (self.parts.get_mut(&tp), key) else {
            return;
        };
        let next = match part.keys.get_mut(&key) {
            Some(waiting) => waiting.pop_front(),
            None => return,
        };
        match next {
            Some(next) => {
                self.slots[next as usize].keyed = true;
                self.make_ready(next);
            }
            None => {
                part.keys.remove(&key);
            }
        }
    }

    fn source(&self, index: u32, name: Option<Str>) -> Source {
        let slot = &self.slots[index as usize];
        let topic = Arc::clone(&self.topics[slot.tp.topic as usize]);
        let execution = name
            .unwrap_or_else(|| event::execution_name(&topic, slot.tp.partition, slot.meta.offset));
        Source {
            pipeline: Arc::clone(&self.name),
            topic,
            partition: slot.tp.partition,
            offset: slot.meta.offset,
            execution,
        }
    }

    fn output(
        &mut self,
        index: u32,
        name: Option<Str>,
        payload: Vec<u8>,
        status: Status,
        error: Option<(&str, &str)>,
    ) -> OutRecord {
        let source = self.source(index, name);
        let forward = self.settings.forward_headers;
        let slot = &mut self.slots[index as usize];
        let headers = if forward {
            std::mem::take(&mut slot.meta.headers)
        } else {
            Vec::new()
        };
        record::output(
            &self.output_topic,
            slot.meta.key.take(),
            payload,
            headers,
            source,
            status.aws_name(),
            error,
        )
    }

    fn dead_letter(
        &mut self,
        index: u32,
        raw: Vec<u8>,
        reason: DeadLetter,
        error: &str,
        cause: &str,
    ) -> OutRecord {
        let source = self.source(index, None);
        let slot = &mut self.slots[index as usize];
        slot.dead_reason = Some(reason);
        record::dead_letter(
            &self.dlq_topic,
            slot.meta.key.take(),
            raw,
            std::mem::take(&mut slot.meta.headers),
            source,
            record::Why {
                reason,
                error,
                cause,
            },
        )
    }

    /// The output record was refused (too large, by the producer or the
    /// cluster): the event goes to the dead-letter topic instead.
    fn reject_output(&mut self, index: u32, why: &str) {
        let raw = self.take_raw(index);
        let dead = self.dead_letter(
            index,
            raw,
            DeadLetter::OutputRejected,
            "OutputRejected",
            &format!("the output record was refused: {why}"),
        );
        self.queue_record(index, dead);
    }

    /// The event's value as consumed (for its dead letter).
    fn take_raw(&mut self, index: u32) -> Vec<u8> {
        std::mem::take(&mut self.slots[index as usize].raw)
    }

    fn check_window(&mut self, tp: Tp) {
        let window = self.settings.max_pending_per_partition;
        let Some(part) = self.parts.get_mut(&tp) else {
            return;
        };
        let pending = part.tracker.len();
        let full = if part.window_full {
            pending > window / 2
        } else {
            pending >= window
        };
        if full != part.window_full {
            part.window_full = full;
            self.refresh(tp);
        }
    }

    /// Asks the driver to pause or resume `tp` if its state changed.
    fn refresh(&mut self, tp: Tp) {
        let Some(part) = self.parts.get_mut(&tp) else {
            return;
        };
        let paused = self.stopping || self.global_pause || part.window_full;
        if paused != part.paused {
            part.paused = paused;
            self.flow.push(if paused {
                Flow::Pause(tp)
            } else {
                Flow::Resume(tp)
            });
        }
    }

    fn drop_unstarted(&mut self, matches: impl Fn(Tp) -> bool) {
        let mut dropped = Vec::new();
        self.ready.retain(|&index| {
            let keep = !matches(self.slots[index as usize].tp);
            if !keep {
                dropped.push(index);
            }
            keep
        });
        for (tp, part) in &mut self.parts {
            if matches(*tp) {
                for (_, waiting) in part.keys.drain() {
                    dropped.extend(waiting);
                }
            }
        }
        for index in dropped {
            self.release(index);
        }
        // Keys whose ready event was dropped must not stay held.
        for slot in &mut self.slots {
            if slot.phase != Phase::Free && matches(slot.tp) {
                slot.keyed = false;
            }
        }
    }

    fn abandon_where(&mut self, io: &mut dyn Io, matches: impl Fn(Tp) -> bool) {
        self.drop_unstarted(&matches);
        let mut dropped = Vec::new();
        self.outbox.retain(|&index| {
            let keep = !matches(self.slots[index as usize].tp);
            if !keep {
                dropped.push(index);
            }
            keep
        });
        self.retry.retain(|&(_, index)| {
            let keep = !matches(self.slots[index as usize].tp);
            if !keep {
                dropped.push(index);
            }
            keep
        });
        for index in dropped {
            self.release(index);
        }
        for slot in &self.slots {
            if slot.phase == Phase::Executing
                && matches(slot.tp)
                && let Some(id) = slot.execution
            {
                io.cancel(id);
            }
        }
    }
}

#[cfg(test)]
mod tests;
