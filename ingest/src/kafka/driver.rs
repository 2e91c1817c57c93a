//! The pipeline thread: one thread per pipeline owns its consumer and its
//! [`Pipeline`], and carries out what the pipeline asks (start executions, publish
//! records, pause and resume partitions, commit).
//!
//! # The loop
//!
//! 1. Poll the producer for delivery reports, and hand the pipeline those and
//!    the completions that arrived from the runtime's shards (through a
//!    channel whose sender unparks this thread).
//! 2. Hand the commit positions that moved to the committing thread
//!    (`committer`), which commits them one commit at a time, as soon as
//!    the previous commit is confirmed.
//! 3. Poll the consumer without blocking, a batch at a time, and hand each
//!    event to the pipeline, while the pipeline wants events (enough are not yet
//!    waiting to start). While it does not, events stay in librdkafka's
//!    queue, which stops fetching when full without losing what it holds;
//!    the consumer is still polled every `HELD_POLL_INTERVAL`, so the
//!    group's callbacks run. Paused partitions simply return nothing.
//! 4. With nothing to do, park until woken (an event arrives: the consumer
//!    queue's non-empty callback; a completion; a shutdown request), or for
//!    a millisecond while records await their delivery reports.
//!
//! # Rebalances
//!
//! The rebalance callbacks run inside `poll`, on this thread. On revocation
//! the callback drops the lost partitions' unstarted events, services
//! completions and deliveries until their running events are done or the
//! grace period ends, drops their positions from the committing thread's
//! queue and waits for its commit in flight, commits their positions
//! synchronously (while this member still owns them), cancels what is left and forgets them: the new
//! owner starts from the commit and repeats nothing that was acknowledged.
//! On assignment the partitions get fresh state (a new epoch, so late
//! completions from an earlier ownership are ignored).
//!
//! # Shutdown
//!
//! Stop taking events (every partition paused), let running executions
//! finish for up to `shutdown_grace_ms`, cancel the rest, wait for
//! outstanding delivery reports, commit every position and wait for the
//! commit's confirmation, leave the group.

use super::Shutdown;
use super::client::{self, Throttle};
use super::committer::{self, Commits, Position};
use super::producer::{Delivered, Producer};
use crate::config::{KafkaSettings, PipelineSettings};
use crate::event::{self, Meta};
use crate::pipeline::{Flow, Io, JsonCompletion, Pipeline, Refused, Tp};
use crate::record::OutRecord;
use crate::stats::{PartitionLag, PipelineStats};
use crossbeam::channel::{Receiver, Sender, unbounded};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers as _, Message};
use rdkafka::{ClientContext, Statistics, TopicPartitionList};
use spate_engine::runtime::{
    Completion, CompletionSink, ExecutionId, Runtime, Submission, SubmitError,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// Events taken from the consumer between two services of the pipeline.
const POLL_BATCH: usize = 512;
/// Events taken before their executions are started together (one wake-up
/// of the runtime's shards per batch, not per event).
const START_BATCH: usize = 256;
/// Completions or delivery reports handled per service.
const SERVICE_BATCH: usize = 4096;
/// How often the consumer is polled while the pipeline wants no events (for
/// rebalance callbacks and errors).
const HELD_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Longest park with nothing to do.
const IDLE_WAIT: Duration = Duration::from_millis(50);
/// Yields before parking while executions run (see `completions_soon`).
const SPIN_YIELDS: usize = 64;
/// Longest park while records await their delivery reports.
const ACK_WAIT: Duration = Duration::from_millis(1);
/// How long, after cancelling, shutdown waits for outstanding deliveries.
const FLUSH_WAIT: Duration = Duration::from_secs(10);
/// How long shutdown waits for its final commit to be confirmed.
const FINAL_COMMIT_WAIT: Duration = Duration::from_secs(10);
/// How long a revocation waits for the commit in flight.
const COMMIT_WAIT: Duration = Duration::from_secs(10);

/// Why a pipeline stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A Kafka client could not be created or refused an operation.
    #[error("pipeline {pipeline}: {what}: {source}")]
    Kafka {
        /// Pipeline name.
        pipeline: String,
        /// What was being done.
        what: String,
        /// The client's error.
        source: Box<KafkaError>,
    },
    /// A setting cannot be used.
    #[error("pipeline {pipeline}: {message}")]
    Config {
        /// Pipeline name.
        pipeline: String,
        /// What is wrong.
        message: String,
    },
    /// The committing thread could not be started.
    #[error("pipeline {pipeline}: cannot start the committing thread: {source}")]
    Thread {
        /// Pipeline name.
        pipeline: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Completions go to the pipeline thread, serialised on the way (on the
/// shard thread, see [`JsonCompletion`]).
struct Sink {
    completions: Sender<JsonCompletion>,
    waker: Thread,
}

impl CompletionSink for Sink {
    fn complete(&self, completion: Completion) {
        let _ = self.completions.send(JsonCompletion::from(completion));
        self.waker.unpark();
    }
}

/// The pipeline's window on the world.
struct DriverIo<'a> {
    runtime: &'a Runtime,
    producer: &'a Producer,
}

impl Io for DriverIo<'_> {
    fn submit(&mut self, submission: Submission) -> Result<ExecutionId, SubmitError> {
        self.runtime.submit(submission)
    }

    fn cancel(&mut self, id: ExecutionId) {
        self.runtime.cancel(id);
    }

    fn produce(&mut self, record: &OutRecord, tag: u64) -> Result<(), Refused> {
        self.producer.send(record, tag)
    }
}

/// Everything the loop and the rebalance callbacks share.
struct Driver {
    who: String,
    settings: Arc<PipelineSettings>,
    pipeline: Pipeline,
    runtime: Arc<Runtime>,
    producer: Producer,
    completions: Receiver<JsonCompletion>,
    deliveries: Receiver<Delivered>,
    commits: Arc<Commits>,
}

macro_rules! io {
    ($d:expr) => {
        &mut DriverIo {
            runtime: &$d.runtime,
            producer: &$d.producer,
        }
    };
}

impl Driver {
    /// Hands the pipeline what arrived; `true` if anything did.
    fn service(&mut self) -> bool {
        let mut worked = false;
        self.producer.poll();
        for completion in self.completions.try_iter().take(SERVICE_BATCH) {
            self.pipeline.on_completion(io!(self), completion);
            worked = true;
        }
        for (tag, result) in self.deliveries.try_iter().take(SERVICE_BATCH) {
            self.pipeline.on_delivery(io!(self), tag, result);
            worked = true;
        }
        self.pipeline.tick(io!(self));
        worked
    }

    fn on_message(&mut self, message: &BorrowedMessage<'_>) {
        let Some(topic) = self.pipeline.topic_index(message.topic()) else {
            return;
        };
        let mut headers = Vec::new();
        if let Some(h) = message.headers() {
            headers.reserve(h.count());
            for header in h.iter() {
                headers.push((header.key.to_string(), header.value.map(<[u8]>::to_vec)));
            }
        }
        let meta = Meta {
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(Box::from),
            headers,
            timestamp_ms: message.timestamp().to_millis(),
        };
        let body = event::decode(message.payload());
        let tp = Tp {
            topic,
            partition: meta.partition,
        };
        self.pipeline.on_event(io!(self), tp, meta, body);
    }

    fn tps(&self, list: &TopicPartitionList) -> Vec<Tp> {
        list.elements()
            .iter()
            .filter_map(|e| {
                Some(Tp {
                    topic: self.pipeline.topic_index(e.topic())?,
                    partition: e.partition(),
                })
            })
            .collect()
    }

    fn list(&self, tps: &[Tp]) -> TopicPartitionList {
        let mut list = TopicPartitionList::with_capacity(tps.len());
        for tp in tps {
            list.add_partition(self.pipeline.topic(tp.topic), tp.partition);
        }
        list
    }

    /// Pauses and resumes what the pipeline asked for.
    fn apply_flow<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>) {
        let flow = self.pipeline.take_flow();
        if flow.is_empty() {
            return;
        }
        let (mut pause, mut resume) = (Vec::new(), Vec::new());
        for change in flow {
            match change {
                Flow::Pause(tp) => pause.push(tp),
                Flow::Resume(tp) => resume.push(tp),
            }
        }
        log::debug!(
            "{}: pause {:?} resume {:?}",
            self.who,
            pause.iter().map(|tp| tp.partition).collect::<Vec<_>>(),
            resume.iter().map(|tp| tp.partition).collect::<Vec<_>>()
        );
        if !pause.is_empty()
            && let Err(e) = consumer.pause(&self.list(&pause))
        {
            log::warn!(
                "{}: cannot pause {} partition(s): {e}",
                self.who,
                pause.len()
            );
        }
        if !resume.is_empty()
            && let Err(e) = consumer.resume(&self.list(&resume))
        {
            log::warn!(
                "{}: cannot resume {} partition(s): {e}",
                self.who,
                resume.len()
            );
        }
    }

    /// Commits `positions` synchronously on this thread.
    fn commit_now<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>, positions: &[Position]) {
        if positions.is_empty() {
            return;
        }
        crate::stats::add(&self.pipeline_stats().commits, 1);
        let list = committer::commit_list(positions, &self.who);
        if let Err(e) = consumer.commit(&list, CommitMode::Sync) {
            log::warn!(
                "{}: committing {} partition(s) failed: {e}",
                self.who,
                positions.len()
            );
        }
    }

    fn pipeline_stats(&self) -> &PipelineStats {
        self.pipeline.stats()
    }

    /// Partitions were taken away (inside `poll`).
    fn revoke<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        list: &TopicPartitionList,
    ) {
        let tps = self.tps(list);
        if tps.is_empty() {
            return;
        }
        self.pipeline.begin_revoke(&tps);
        let deadline = Instant::now() + self.settings.rebalance_grace;
        while self.pipeline.busy(&tps) > 0 && Instant::now() < deadline {
            if !self.service() {
                std::thread::park_timeout(Duration::from_millis(5));
            }
        }
        let left = self.pipeline.busy(&tps);
        let positions = self.pipeline.finish_revoke(io!(self), &tps);
        // Pause/resume requests for partitions no longer ours are moot.
        self.pipeline.take_flow();
        // The committing thread must not commit them after this member
        // lost them, nor land an older position after the one below.
        let forgotten: Vec<(Arc<str>, i32)> = tps
            .iter()
            .map(|tp| (Arc::clone(self.pipeline.topic(tp.topic)), tp.partition))
            .collect();
        if !self.commits.forget(&forgotten, COMMIT_WAIT) {
            log::warn!(
                "{}: a commit still in flight after {} s; revoking anyway",
                self.who,
                COMMIT_WAIT.as_secs()
            );
        }
        if consumer.assignment_lost() {
            self.pipeline
                .stats()
                .in_group
                .store(false, Ordering::Relaxed);
            log::warn!(
                "{}: lost {} partition(s) without a clean handover; their uncommitted events will be read again",
                self.who,
                tps.len()
            );
        } else {
            self.commit_now(consumer, &positions);
        }
        log::info!(
            "{}: {} partition(s) revoked{}",
            self.who,
            tps.len(),
            if left > 0 {
                format!(", {left} unfinished event(s) left to the next owner")
            } else {
                String::new()
            }
        );
    }

    /// Partitions were assigned (inside `poll`).
    fn assign<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        list: &TopicPartitionList,
    ) {
        // In the group, even with nothing assigned (more members than
        // partitions).
        self.pipeline
            .stats()
            .in_group
            .store(true, Ordering::Relaxed);
        let tps = self.tps(list);
        if tps.is_empty() {
            return;
        }
        // A partition paused under an earlier ownership must fetch again.
        let _ = consumer.resume(list);
        self.pipeline.assign(&tps);
        self.apply_flow(consumer);
        log::info!("{}: {} partition(s) assigned", self.who, tps.len());
    }
}

/// The consumer's context: the driver behind a lock the loop never holds
/// while polling, so the rebalance callbacks can take it.
struct Context {
    who: String,
    driver: Mutex<Driver>,
    throttle: Arc<Throttle>,
    /// Events `poll` served through these callbacks (log lines, errors,
    /// rebalances). `poll` answers `None` both for an empty queue and for
    /// an event it served itself; this tells the two apart, so a queue of
    /// such events is served at once, not one per turn of the loop.
    served: AtomicU64,
    /// Where the consumer's statistics (partition lag) go.
    stats: Arc<PipelineStats>,
}

impl Context {
    fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    fn count_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }
}

impl ClientContext for Context {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        self.count_served();
        self.throttle.librdkafka(&self.who, level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.count_served();
        self.throttle.error(&self.who, &error, reason);
    }

    /// librdkafka's statistics (every `statistics.interval.ms`): keeps the
    /// lag of each partition this consumer is assigned.
    fn stats(&self, statistics: Statistics) {
        self.count_served();
        let mut lag = Vec::new();
        for (topic, t) in &statistics.topics {
            for (&partition, p) in &t.partitions {
                if partition >= 0 && p.desired && p.consumer_lag >= 0 {
                    lag.push(PartitionLag {
                        topic: topic.clone(),
                        partition,
                        records: p.consumer_lag,
                    });
                }
            }
        }
        lag.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        self.stats.set_lag(lag);
    }
}

impl ConsumerContext for Context {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.count_served();
        match rebalance {
            Rebalance::Revoke(list) => {
                if let Ok(mut driver) = self.driver.lock() {
                    driver.revoke(consumer, list);
                }
            }
            Rebalance::Error(e) => log::warn!("{}: rebalance error: {e}", self.who),
            Rebalance::Assign(_) => {}
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance
            && let Ok(mut driver) = self.driver.lock()
        {
            driver.assign(consumer, list);
        }
    }
}

/// Runs one pipeline on the calling thread until `shutdown` is requested
/// and it has drained.
pub(super) fn run(
    kafka: &KafkaSettings,
    bootstrap: &str,
    settings: Arc<PipelineSettings>,
    runtime: Arc<Runtime>,
    stats: Arc<PipelineStats>,
    shutdown: Arc<Shutdown>,
) -> Result<(), PipelineError> {
    let who = format!("pipeline {}", settings.name);
    let kafka_error = |what: &str, source| PipelineError::Kafka {
        pipeline: settings.name.clone(),
        what: what.to_string(),
        source: Box::new(source),
    };
    let me = std::thread::current();
    shutdown.register(me.clone());
    let throttle = Arc::new(Throttle::default());
    let (completion_tx, completions) = unbounded();
    let completion_probe = completions.clone();
    let (delivery_tx, deliveries) = unbounded();
    let sink: Arc<dyn CompletionSink> = Arc::new(Sink {
        completions: completion_tx,
        waker: me.clone(),
    });
    let producer = Producer::new(
        &client::producer_config(kafka, bootstrap),
        &who,
        delivery_tx,
        Arc::clone(&throttle),
    )
    .map_err(|e| kafka_error("cannot create the producer", e))?;
    let commits = Commits::new();
    let driver = Driver {
        who: who.clone(),
        pipeline: Pipeline::new(Arc::clone(&settings), sink, Arc::clone(&stats)),
        settings: Arc::clone(&settings),
        runtime,
        producer,
        completions,
        deliveries,
        commits: Arc::clone(&commits),
    };
    let context = Context {
        who: who.clone(),
        driver: Mutex::new(driver),
        throttle: Arc::clone(&throttle),
        served: AtomicU64::new(0),
        stats: Arc::clone(&stats),
    };
    let instance_id =
        match &settings.group_instance_id {
            Some(template) => Some(client::group_instance_id(template).map_err(|message| {
                PipelineError::Config {
                    pipeline: settings.name.clone(),
                    message,
                }
            })?),
            None => None,
        };
    let mut consumer: BaseConsumer<Context> =
        client::consumer_config(kafka, bootstrap, &settings.group_id, instance_id.as_deref())
            .create_with_context(context)
            .map_err(|e| kafka_error("cannot create the consumer", e))?;
    consumer.set_nonempty_callback(move || me.unpark());
    let consumer = Arc::new(consumer);
    let committing = committer::spawn(
        Arc::clone(&commits),
        Arc::clone(&consumer),
        who.clone(),
        settings.commit_interval,
        stats,
        Arc::clone(&throttle),
    )
    .map_err(|source| PipelineError::Thread {
        pipeline: settings.name.clone(),
        source,
    })?;
    // Whatever way this function returns, the committing thread ends.
    struct StopCommits(Arc<Commits>);
    impl Drop for StopCommits {
        fn drop(&mut self) {
            self.0.stop();
        }
    }
    let _stop_commits = StopCommits(Arc::clone(&commits));
    if !wait_for_cluster(&consumer, &who, bootstrap, kafka.connect_timeout, &shutdown) {
        return Ok(());
    }
    let topics: Vec<&str> = settings.source_topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|e| kafka_error("cannot subscribe", e))?;
    log::info!(
        "{who}: consuming {} as group {}{}, publishing to {} (dead letters: {})",
        topics.join(", "),
        settings.group_id,
        instance_id
            .as_deref()
            .map_or(String::new(), |id| format!(" (static member {id})")),
        settings.output_topic,
        settings.dlq_topic
    );

    let lock = || {
        consumer
            .context()
            .driver
            .lock()
            .expect("the driver lock is never poisoned")
    };
    let mut next_gauges = Instant::now();
    let mut stop_deadline: Option<Instant> = None;
    let mut last_poll = Instant::now();
    loop {
        let now = Instant::now();
        let mut worked;
        {
            let mut d = lock();
            worked = d.service();
            commits.offer(d.pipeline.commit_due());
            if now >= next_gauges {
                d.pipeline.publish_gauges();
                next_gauges = now + Duration::from_millis(100);
            }
            if stop_deadline.is_none() && shutdown.requested() {
                log::info!(
                    "{who}: stopping: {} execution(s) running, waiting up to {} ms",
                    d.pipeline.executing(),
                    settings.shutdown_grace.as_millis()
                );
                d.pipeline.begin_shutdown();
                stop_deadline = Some(now + settings.shutdown_grace);
            }
            d.apply_flow(&consumer);
            if let Some(deadline) = stop_deadline
                && (d.pipeline.drained() || now >= deadline)
            {
                break;
            }
        }
        // Events are taken while the pipeline wants them, and otherwise left
        // in the consumer's queue: librdkafka stops fetching once that is
        // full and keeps what it holds (a pause would throw the prefetched
        // events away, to be fetched again). The consumer is still polled
        // every `HELD_POLL_INTERVAL` for the group's callbacks; an event
        // that poll returns is taken.
        let wants = lock().pipeline.wants_events();
        if wants || last_poll.elapsed() >= HELD_POLL_INTERVAL {
            last_poll = Instant::now();
            for n in 1..=POLL_BATCH {
                let served = consumer.context().served();
                match consumer.poll(Duration::ZERO) {
                    // Empty, or it served a log line or a rebalance:
                    // there may be more behind it.
                    None if consumer.context().served() != served => worked = true,
                    None => break,
                    Some(Ok(message)) => {
                        worked = true;
                        let mut guard = lock();
                        let d = &mut *guard;
                        d.on_message(&message);
                        if n % START_BATCH == 0 {
                            d.pipeline.tick(io!(d));
                        }
                        d.apply_flow(&consumer);
                        if !d.pipeline.wants_events() {
                            break;
                        }
                    }
                    Some(Err(e)) => {
                        worked = true;
                        throttle.log(log::Level::Warn, &format!("{who}: kafka: {e}"));
                    }
                }
            }
        }
        if !worked {
            let (executing, unacknowledged) = {
                let d = lock();
                (d.pipeline.executing(), d.pipeline.unacknowledged())
            };
            if executing > 0 && completions_soon(&completion_probe) {
                continue;
            }
            // Delivery reports wake nobody (the producer is polled here):
            // while records await theirs, look again within a millisecond.
            let idle = if unacknowledged > 0 {
                ACK_WAIT
            } else {
                IDLE_WAIT
            };
            let wait = if wants {
                idle
            } else {
                (last_poll + HELD_POLL_INTERVAL)
                    .saturating_duration_since(Instant::now())
                    .min(idle)
            };
            std::thread::park_timeout(wait);
        }
    }

    // Shutdown: cancel what outlived the grace period, wait for the
    // records already handed to the producer, commit what is safe.
    {
        let mut guard = lock();
        let d = &mut *guard;
        if !d.pipeline.drained() {
            log::warn!(
                "{who}: grace period over: cancelling {} execution(s); their events will be read again",
                d.pipeline.executing()
            );
            d.pipeline.abandon(io!(d));
        }
        let deadline = Instant::now() + FLUSH_WAIT;
        while !d.pipeline.drained() && Instant::now() < deadline {
            if !d.service() {
                std::thread::park_timeout(Duration::from_millis(5));
            }
        }
        if !d.pipeline.drained() {
            log::warn!(
                "{who}: {} record(s) still unacknowledged after {} s; their events will be read again",
                d.pipeline.unacknowledged(),
                FLUSH_WAIT.as_secs()
            );
        }
        // The commit waits for the group coordinator: bounded, so an
        // unreachable cluster cannot hold the process forever.
        commits.offer(d.pipeline.positions(None));
        if commits.wait_idle(FINAL_COMMIT_WAIT) {
            commits.stop();
            let _ = committing.join();
        } else {
            log::warn!(
                "{who}: final commit not confirmed within {} s; uncommitted events will be read again",
                FINAL_COMMIT_WAIT.as_secs()
            );
        }
        d.pipeline.publish_gauges();
    }
    consumer.unsubscribe();
    log::info!("{who}: stopped");
    Ok(())
}

/// With executions running, yields the processor a few times before
/// parking: a completion that arrives meanwhile is taken without a futex
/// wake-up and a context switch (which, at tens of thousands of events per
/// second, cost more than the executions themselves). `true` if one came.
fn completions_soon(completions: &Receiver<JsonCompletion>) -> bool {
    for _ in 0..SPIN_YIELDS {
        if !completions.is_empty() {
            return true;
        }
        std::thread::yield_now();
    }
    !completions.is_empty()
}

/// Asks the cluster for metadata until it answers or shutdown is
/// requested, saying where it tried. Returns `false` on shutdown.
fn wait_for_cluster<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    who: &str,
    bootstrap: &str,
    timeout: Duration,
    shutdown: &Shutdown,
) -> bool {
    let mut backoff = Duration::from_secs(1);
    let mut failed = false;
    loop {
        match consumer.fetch_metadata(None, timeout) {
            Ok(_) => {
                if failed {
                    log::info!("{who}: reached Kafka at {bootstrap}");
                }
                return true;
            }
            Err(e) => {
                failed = true;
                log::error!(
                    "{who}: cannot reach Kafka at {bootstrap} ({e}); retrying in {} s",
                    backoff.as_secs()
                );
            }
        }
        let until = Instant::now() + backoff;
        while Instant::now() < until {
            if shutdown.requested() {
                return false;
            }
            std::thread::park_timeout(until - Instant::now());
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}
