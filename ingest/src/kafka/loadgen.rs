//! Load generation and end-to-end measurement: a [`Generator`] writes
//! events at a target rate (or as fast as it can), each stamped with its
//! send time in a header; a [`Measurer`] reads the output (and dead-letter)
//! topics and records, for every record, the time from that stamp to its
//! arrival. Pipelines forward event headers to their outputs, so the stamp
//! survives any workflow.

use crate::record::header;
use crate::stats::new_histogram;
use hdrhistogram::Histogram;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The source positions (topic, partition, offset) of the outputs read, to
/// count duplicates; hashed with foldhash so the measuring thread takes
/// little of the CPU the pipeline under test needs.
type OutputIds = HashSet<(Box<str>, i32, i64), foldhash::fast::RandomState>;

/// The header carrying an event's send time (microseconds since the epoch).
pub const SENT_HEADER: &str = "spate-loadgen-sent-us";

/// Microseconds since the epoch, now.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Builds event number `n`: its key and value.
pub type MakeEvent = Box<dyn FnMut(u64) -> (Option<Vec<u8>>, Vec<u8>) + Send>;

/// What a generator is asked to do.
pub struct GeneratorSpec {
    /// Destination topic.
    pub topic: String,
    /// Events per second; `None` for as fast as possible.
    pub rate: Option<f64>,
    /// Stop after this many events.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Extra producer properties.
    pub properties: BTreeMap<String, String>,
}

/// Counters of a running generator.
#[derive(Debug, Default)]
pub struct GeneratorStats {
    /// Events handed to the producer.
    pub sent: AtomicU64,
    /// Events acknowledged by the cluster.
    pub acked: AtomicU64,
    /// Events the cluster refused.
    pub failed: AtomicU64,
}

struct Acks(Arc<GeneratorStats>);

impl ClientContext for Acks {
    fn log(&self, _: RDKafkaLogLevel, fac: &str, message: &str) {
        log::debug!("loadgen: kafka: {fac}: {message}");
    }
}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.0.acked.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.0.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// A running generator.
pub struct Generator {
    /// Its counters.
    pub stats: Arc<GeneratorStats>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<(), KafkaError>>,
}

impl Generator {
    /// Starts writing events made by `make`.
    pub fn start(
        bootstrap: &str,
        spec: GeneratorSpec,
        mut make: MakeEvent,
    ) -> Result<Generator, KafkaError> {
        let stats = Arc::new(GeneratorStats::default());
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", bootstrap)
            .set("linger.ms", "5")
            .set("queue.buffering.max.messages", "1000000")
            .set_log_level(RDKafkaLogLevel::Error);
        for (k, v) in &spec.properties {
            config.set(k, v);
        }
        let producer: ThreadedProducer<Acks> =
            config.create_with_context(Acks(Arc::clone(&stats)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stats = Arc::clone(&stats);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("spate-loadgen".into())
                .spawn(move || {
                    let started = Instant::now();
                    let mut n: u64 = 0;
                    let mut stamp = itoa::Buffer::new();
                    loop {
                        if stop.load(Ordering::Relaxed)
                            || spec.count.is_some_and(|c| n >= c)
                            || spec.duration.is_some_and(|d| started.elapsed() >= d)
                        {
                            break;
                        }
                        let due = match spec.rate {
                            Some(rate) => (started.elapsed().as_secs_f64() * rate) as u64 + 1,
                            None => n + 1024,
                        };
                        let due = spec.count.map_or(due, |c| due.min(c));
                        if n >= due {
                            std::thread::sleep(Duration::from_micros(500));
                            continue;
                        }
                        while n < due {
                            let (key, payload) = make(n);
                            let sent = stamp.format(now_micros()).as_bytes().to_vec();
                            let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
                                key: SENT_HEADER,
                                value: Some(&sent),
                            });
                            let mut record = BaseRecord::to(&spec.topic)
                                .payload(&payload[..])
                                .headers(headers);
                            if let Some(k) = &key {
                                record = record.key(&k[..]);
                            }
                            loop {
                                match producer.send(record) {
                                    Ok(()) => break,
                                    Err((e, back))
                                        if e.rdkafka_error_code()
                                            == Some(RDKafkaErrorCode::QueueFull) =>
                                    {
                                        std::thread::sleep(Duration::from_millis(1));
                                        record = back;
                                    }
                                    Err((e, _)) => return Err(e),
                                }
                            }
                            n += 1;
                            stats.sent.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    producer.flush(Duration::from_secs(30))?;
                    Ok(())
                })
                .map_err(|e| KafkaError::ClientCreation(e.to_string()))?
        };
        Ok(Generator {
            stats,
            stop,
            thread,
        })
    }

    /// Stops early.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// `true` once every event was sent and flushed.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the last events to be acknowledged.
    pub fn join(self) -> Result<(), KafkaError> {
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// What a measurer has seen.
#[derive(Debug)]
pub struct MeasureStats {
    /// Records read.
    pub received: AtomicU64,
    /// Records with a `spate-dlq-reason` header.
    pub dead_letters: AtomicU64,
    /// Records for a source event already seen (same topic, partition,
    /// offset headers).
    pub duplicates: AtomicU64,
    /// Latency (µs) since the last [`MeasureStats::take_interval`].
    interval: Mutex<Histogram<u64>>,
    /// Latency (µs) since the start (or [`MeasureStats::reset_total`]).
    total: Mutex<Histogram<u64>>,
    /// When the first and last records arrived.
    span: Mutex<Option<(Instant, Instant)>>,
}

impl Default for MeasureStats {
    fn default() -> MeasureStats {
        MeasureStats {
            received: AtomicU64::new(0),
            dead_letters: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            interval: Mutex::new(new_histogram()),
            total: Mutex::new(new_histogram()),
            span: Mutex::new(None),
        }
    }
}

impl MeasureStats {
    /// Takes the latencies recorded since the last call.
    pub fn take_interval(&self) -> Histogram<u64> {
        self.interval
            .lock()
            .map(|mut h| std::mem::replace(&mut *h, new_histogram()))
            .unwrap_or_else(|_| new_histogram())
    }

    /// Every latency recorded so far.
    pub fn total(&self) -> Histogram<u64> {
        self.total
            .lock()
            .map(|h| h.clone())
            .unwrap_or_else(|_| new_histogram())
    }

    /// Forgets the latencies so far (after a warm-up).
    pub fn reset_total(&self) {
        if let Ok(mut h) = self.total.lock() {
            h.reset();
        }
    }

    /// When the first and the latest records arrived.
    pub fn span(&self) -> Option<(Instant, Instant)> {
        self.span.lock().ok().and_then(|s| *s)
    }
}

/// A running measurer.
pub struct Measurer {
    /// What it has seen.
    pub stats: Arc<MeasureStats>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<(), KafkaError>>,
}

impl Measurer {
    /// Reads every partition of `topics` from the beginning (no consumer
    /// group) until stopped.
    pub fn start(
        bootstrap: &str,
        topics: &[String],
        properties: &BTreeMap<String, String>,
    ) -> Result<Measurer, KafkaError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "spate-loadgen-measurer")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "10")
            .set("fetch.queue.backoff.ms", "10")
            .set_log_level(RDKafkaLogLevel::Error);
        for (k, v) in properties {
            config.set(k, v);
        }
        let consumer: BaseConsumer = config.create()?;
        let mut list = TopicPartitionList::new();
        for topic in topics {
            let n = super::admin::partitions(bootstrap, topic, Duration::from_secs(10))?;
            for p in 0..n {
                list.add_partition_offset(topic, p, Offset::Beginning)?;
            }
        }
        consumer.assign(&list)?;
        let stats = Arc::new(MeasureStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stats = Arc::clone(&stats);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("spate-measure".into())
                .spawn(move || {
                    let mut seen: OutputIds = HashSet::default();
                    let mut batch: Vec<u64> = Vec::with_capacity(1024);
                    while !stop.load(Ordering::Relaxed) {
                        let mut next = consumer.poll(Duration::from_millis(50));
                        let mut n = 0;
                        while let Some(result) = next {
                            match result {
                                Ok(m) => {
                                    n += 1;
                                    record(&m, now_micros(), &stats, &mut seen, &mut batch);
                                }
                                Err(KafkaError::PartitionEOF(_)) => {}
                                Err(e) => log::debug!("measurer: {e}"),
                            }
                            if n >= 4096 {
                                break;
                            }
                            next = consumer.poll(Duration::ZERO);
                        }
                        if n > 0 {
                            let at = Instant::now();
                            if let Ok(mut span) = stats.span.lock() {
                                let first = span.map_or(at, |(f, _)| f);
                                *span = Some((first, at));
                            }
                            for h in [&stats.interval, &stats.total] {
                                if let Ok(mut h) = h.lock() {
                                    for &us in &batch {
                                        h.saturating_record(us.max(1));
                                    }
                                }
                            }
                            batch.clear();
                            stats.received.fetch_add(n, Ordering::Relaxed);
                        }
                    }
                    Ok(())
                })
                .map_err(|e| KafkaError::ClientCreation(e.to_string()))?
        };
        Ok(Measurer {
            stats,
            stop,
            thread,
        })
    }

    /// Stops reading.
    pub fn stop(self) -> Result<(), KafkaError> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

fn record(
    m: &rdkafka::message::BorrowedMessage<'_>,
    now: u64,
    stats: &MeasureStats,
    seen: &mut OutputIds,
    batch: &mut Vec<u64>,
) {
    let Some(headers) = m.headers() else {
        return;
    };
    let (mut sent, mut topic, mut partition, mut offset, mut dead) =
        (None, None, None, None, false);
    for h in headers.iter() {
        let text = || h.value.and_then(|v| std::str::from_utf8(v).ok());
        match h.key {
            SENT_HEADER => sent = text().and_then(|t| t.parse::<u64>().ok()),
            header::SOURCE_TOPIC => topic = text().map(Box::from),
            header::SOURCE_PARTITION => partition = text().and_then(|t| t.parse::<i32>().ok()),
            header::SOURCE_OFFSET => offset = text().and_then(|t| t.parse::<i64>().ok()),
            header::DLQ_REASON => dead = true,
            _ => {}
        }
    }
    if dead {
        stats.dead_letters.fetch_add(1, Ordering::Relaxed);
    }
    if let (Some(t), Some(p), Some(o)) = (topic, partition, offset)
        && !seen.insert((t, p, o))
    {
        stats.duplicates.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(sent) = sent {
        batch.push(now.saturating_sub(sent));
    }
}
