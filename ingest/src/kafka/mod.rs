//! Everything that talks to Kafka, and the only module that uses rdkafka.
//!
//! - [`start_pipeline`]: runs a pipeline on its own thread (the loop and the
//!   rebalance handling are in `driver`).
//! - [`EmbeddedCluster`]: librdkafka's in-process mock cluster, for
//!   `bootstrap_servers = "embedded"` and `spate demo`.
//! - [`KafkaProduceTask`]: the `arn:spate:::kafka:produce` Task integration.
//! - [`loadgen`]: paced producer of timestamped events and a consumer that
//!   measures end-to-end latency.
//! - [`admin`]: create topics, read a topic, read committed offsets (for
//!   `spate loadgen` and the integration tests).
//!
//! Client code keeps to what every Kafka implementation does: the same
//! settings run against Apache Kafka, Redpanda, MSK or the test broker.

pub mod admin;
mod client;
mod committer;
mod driver;
mod embedded;
pub mod loadgen;
mod produce_task;
mod producer;
mod properties;

pub use client::{CONSUMER_DEFAULTS, CONSUMER_FORCED, PRODUCER_DEFAULTS};
pub use driver::PipelineError;
pub use embedded::{EmbeddedCluster, PARTITION_BYTES};
pub use produce_task::{KafkaProduceTask, PRODUCE_RESOURCE};
pub use properties::check_properties;
pub use rdkafka::error::KafkaError;

use crate::config::{KafkaSettings, PipelineSettings};
use crate::stats::PipelineStats;
use spate_engine::runtime::Runtime;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};

/// A shutdown request shared by every pipeline of a process: setting it
/// wakes each pipeline thread.
#[derive(Debug, Default)]
pub struct Shutdown {
    requested: AtomicBool,
    threads: Mutex<Vec<Thread>>,
}

impl Shutdown {
    /// A shutdown not yet requested.
    pub fn new() -> Arc<Shutdown> {
        Arc::new(Shutdown::default())
    }

    /// Asks every pipeline to drain and stop.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        if let Ok(threads) = self.threads.lock() {
            for t in threads.iter() {
                t.unpark();
            }
        }
    }

    /// `true` once requested.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    fn register(&self, thread: Thread) {
        if let Ok(mut threads) = self.threads.lock() {
            threads.push(thread);
        }
        if self.requested() {
            self.request();
        }
    }
}

/// A pipeline running on its own thread.
pub struct RunningPipeline {
    /// The pipeline's name.
    pub name: String,
    /// Its counters.
    pub stats: Arc<PipelineStats>,
    thread: JoinHandle<Result<(), PipelineError>>,
}

impl RunningPipeline {
    /// `true` once the pipeline thread ended.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the pipeline to stop.
    pub fn join(self) -> Result<(), PipelineError> {
        self.thread.join().unwrap_or_else(|panic| {
            std::panic::resume_unwind(panic);
        })
    }
}

/// Starts a pipeline: connects (retrying, with an error naming the address,
/// while the cluster is unreachable), joins the consumer group and runs
/// until `shutdown` is requested. `bootstrap` is the address to use (the
/// embedded cluster's, when `kafka` says `embedded`).
pub fn start_pipeline(
    kafka: &KafkaSettings,
    bootstrap: &str,
    settings: Arc<PipelineSettings>,
    runtime: Arc<Runtime>,
    shutdown: Arc<Shutdown>,
) -> std::io::Result<RunningPipeline> {
    let stats = Arc::new(PipelineStats::new(settings.source_topics.len()));
    let name = settings.name.clone();
    let thread = {
        let kafka = kafka.clone();
        let bootstrap = bootstrap.to_string();
        let stats = Arc::clone(&stats);
        std::thread::Builder::new()
            .name(format!("spate-pipeline-{name}"))
            .spawn(move || driver::run(&kafka, &bootstrap, settings, runtime, stats, shutdown))?
    };
    Ok(RunningPipeline {
        name,
        stats,
        thread,
    })
}
