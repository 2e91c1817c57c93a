//! Small blocking helpers around a cluster: create topics, write records,
//! read a whole topic, read a group's committed offsets and a topic's end
//! offsets. Used by `spate loadgen`, `spate demo` and the integration
//! tests; not on the pipeline's path.

use crate::event::Headers;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::time::{Duration, Instant};

/// A record read back from a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Consumed {
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value.
    pub payload: Option<Vec<u8>>,
    /// Headers.
    pub headers: Headers,
}

impl Consumed {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::record::header_text(&self.headers, name)
    }
}

/// A record to write.
#[derive(Debug, Clone, Default)]
pub struct ToProduce {
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value.
    pub payload: Vec<u8>,
    /// Headers.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Partition (default: by key).
    pub partition: Option<i32>,
}

fn config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set_log_level(rdkafka::config::RDKafkaLogLevel::Error);
    c
}

/// Creates topics with `partitions` each (replication 1); topics that exist
/// already are fine.
pub fn create_topics(
    bootstrap: &str,
    topics: &[&str],
    partitions: u32,
    timeout: Duration,
) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = config(bootstrap).create()?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, partitions as i32, TopicReplication::Fixed(1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(timeout));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|_| KafkaError::AdminOpCreation("cannot start a runtime".into()))?;
    let results = runtime.block_on(async {
        tokio::time::timeout(timeout, admin.create_topics(&new, &options))
            .await
            .map_err(|_| KafkaError::AdminOp(RDKafkaErrorCode::OperationTimedOut))?
    })?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(KafkaError::AdminOp(code)),
        }
    }
    Ok(())
}

/// Where each record landed, and the last delivery error.
#[derive(Default)]
struct Outcomes {
    landed: Vec<(i32, i64)>,
    error: Option<KafkaError>,
}

/// Collects where each record landed.
struct Landed(std::sync::Mutex<Outcomes>);

impl rdkafka::ClientContext for Landed {}

impl rdkafka::producer::ProducerContext for Landed {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &rdkafka::producer::DeliveryResult<'_>, _: ()) {
        if let Ok(mut landed) = self.0.lock() {
            match result {
                Ok(m) => landed.landed.push((m.partition(), m.offset())),
                Err((e, _)) => landed.error = Some(e.clone()),
            }
        }
    }
}

/// Writes records to `topic`, waits until every one is acknowledged, and
/// returns where each landed (partition, offset), in acknowledgement order.
pub fn produce(
    bootstrap: &str,
    topic: &str,
    records: impl IntoIterator<Item = ToProduce>,
) -> Result<Vec<(i32, i64)>, KafkaError> {
    let producer: BaseProducer<Landed> = config(bootstrap)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create_with_context(Landed(std::sync::Mutex::default()))?;
    let mut sent = 0u64;
    for record in records {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (k, v) in &record.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v),
            });
        }
        let mut base = BaseRecord::to(topic)
            .payload(&record.payload[..])
            .headers(headers);
        if let Some(k) = &record.key {
            base = base.key(&k[..]);
        }
        if let Some(p) = record.partition {
            base = base.partition(p);
        }
        loop {
            match producer.send(base) {
                Ok(()) => break,
                Err((e, back)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                    producer.poll(Duration::from_millis(10));
                    base = back;
                }
                Err((e, _)) => return Err(e),
            }
        }
        sent += 1;
        if sent.is_multiple_of(1000) {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(60))?;
    let mut landed = producer
        .context()
        .0
        .lock()
        .map_err(|_| KafkaError::Canceled)?;
    if let Some(e) = landed.error.take() {
        return Err(e);
    }
    Ok(std::mem::take(&mut landed.landed))
}

/// The number of partitions of `topic`.
pub fn partitions(bootstrap: &str, topic: &str, timeout: Duration) -> Result<i32, KafkaError> {
    let consumer: BaseConsumer = config(bootstrap).create()?;
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let count = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len() as i32);
    if count == 0 {
        return Err(KafkaError::MetadataFetch(
            RDKafkaErrorCode::UnknownTopicOrPartition,
        ));
    }
    Ok(count)
}

/// The end offset (next offset to be written) of each partition, as the
/// cluster reports it (ListOffsets; the test broker answers this wrongly,
/// so tests count what they wrote instead).
pub fn end_offsets(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<(i32, i64)>, KafkaError> {
    let consumer: BaseConsumer = config(bootstrap).create()?;
    let n = partitions(bootstrap, topic, timeout)?;
    (0..n)
        .map(|p| Ok((p, consumer.fetch_watermarks(topic, p, timeout)?.1)))
        .collect()
}

/// The offsets `group` committed for each partition of `topic` (`None`
/// where it committed nothing).
pub fn committed_offsets(
    bootstrap: &str,
    group: &str,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<(i32, Option<i64>)>, KafkaError> {
    let n = partitions(bootstrap, topic, timeout)?;
    let consumer: BaseConsumer = config(bootstrap).set("group.id", group).create()?;
    let mut list = TopicPartitionList::new();
    for p in 0..n {
        list.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(list, timeout)?;
    Ok(committed
        .elements()
        .iter()
        .map(|e| {
            let offset = match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            };
            (e.partition(), offset)
        })
        .collect())
}

/// Reads `topic` from the beginning (all partitions, no group) until
/// `done` says so for what was read, or until `timeout` passes.
pub fn read_topic(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Consumed]) -> bool,
) -> Result<Vec<Consumed>, KafkaError> {
    let deadline = Instant::now() + timeout;
    let n = partitions(bootstrap, topic, timeout)?;
    let consumer: BaseConsumer = config(bootstrap)
        .set("group.id", "spate-admin-reader")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "20")
        .create()?;
    let mut list = TopicPartitionList::new();
    for p in 0..n {
        list.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&list)?;
    let mut out = Vec::new();
    while !done(&out) && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => out.push(consumed(&m)),
            Some(Err(KafkaError::PartitionEOF(_))) | None => {}
            Some(Err(e)) => return Err(e),
        }
    }
    Ok(out)
}

pub(crate) fn consumed(m: &rdkafka::message::BorrowedMessage<'_>) -> Consumed {
    let mut headers = Vec::new();
    if let Some(h) = m.headers() {
        for header in h.iter() {
            headers.push((header.key.to_string(), header.value.map(<[u8]>::to_vec)));
        }
    }
    Consumed {
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        payload: m.payload().map(<[u8]>::to_vec),
        headers,
    }
}

/// `true` when a plain TCP connection to the first bootstrap address opens
/// within `timeout` (a cheap "is a broker there" check).
pub fn reachable(bootstrap: &str, timeout: Duration) -> bool {
    use std::net::ToSocketAddrs;
    let first = bootstrap.split(',').next().unwrap_or_default().trim();
    let Ok(mut addrs) = first.to_socket_addrs() else {
        return false;
    };
    addrs.any(|a| std::net::TcpStream::connect_timeout(&a, timeout).is_ok())
}
