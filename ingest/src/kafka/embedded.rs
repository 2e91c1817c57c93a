//! The embedded cluster: librdkafka's in-process mock cluster, so `spate
//! demo` and `bootstrap_servers = "embedded"` need nothing installed.
//!
//! It speaks the Kafka protocol on a random 127.0.0.1 port (other clients,
//! `spate loadgen` among them, can use it), supports consumer groups and
//! commits, and keeps data in memory. Its limits shape how Spate uses it:
//!
//! - It keeps at most 5 MiB (and 100,000 batches) per partition and drops
//!   older data silently: give busy topics enough partitions, and pace what
//!   is written into it.
//! - It has no CreateTopics request: topics are created through its own API
//!   ([`EmbeddedCluster::create_topic`]).
//! - A new group's first rebalance waits 3 s by default; Spate sets that
//!   delay to 0 so consumers start at once.

use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, Producer as _};

/// Bytes the mock cluster keeps per partition before dropping old data.
pub const PARTITION_BYTES: u64 = 5 * 1024 * 1024;

/// An in-process cluster with one broker; it stops when dropped.
pub struct EmbeddedCluster {
    /// The client that owns the mock cluster.
    holder: BaseProducer,
    bootstrap: String,
}

impl EmbeddedCluster {
    /// Starts the cluster.
    pub fn start() -> Result<EmbeddedCluster, KafkaError> {
        let holder: BaseProducer = ClientConfig::new()
            .set("test.mock.num.brokers", "1")
            .set_log_level(rdkafka::config::RDKafkaLogLevel::Error)
            .create()?;
        let Some(mock) = holder.client().mock_cluster() else {
            return Err(KafkaError::MockCluster(RDKafkaErrorCode::Fail));
        };
        let bootstrap = mock.bootstrap_servers();
        drop(mock);
        // SAFETY: the handle belongs to `holder`, which is alive; the call
        // only sets an integer in the mock cluster's configuration.
        unsafe {
            let cluster =
                rdkafka::bindings::rd_kafka_handle_mock_cluster(holder.client().native_ptr());
            if !cluster.is_null() {
                rdkafka::bindings::rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, 0);
            }
        }
        Ok(EmbeddedCluster { holder, bootstrap })
    }

    /// `host:port` to connect to.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic (an existing one is left as it is).
    pub fn create_topic(&self, name: &str, partitions: u32) -> Result<(), KafkaError> {
        let mock = self
            .holder
            .client()
            .mock_cluster()
            .ok_or(KafkaError::MockCluster(RDKafkaErrorCode::Fail))?;
        match mock.create_topic(name, partitions as i32, 1) {
            Err(KafkaError::MockCluster(RDKafkaErrorCode::TopicAlreadyExists)) => Ok(()),
            other => other,
        }
    }
}
