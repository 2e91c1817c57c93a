//! # spate-ingest
//!
//! Kafka ingest for Spate: consume events, start one execution per event
//! through the runtime's submit API, publish each outcome (an output record
//! or a dead letter), and commit a partition's offset only when every
//! earlier event's outcome is acknowledged by the producer. A crash loses
//! nothing; it repeats at most the events that were in flight.
//!
//! - [`config`]: the Kafka sections of the `spate run` file, validated in
//!   full at start-up (the file itself and `[runtime]` are the binary's).
//! - [`pipeline`]: the pipeline's state machine, free of Kafka.
//! - [`offsets`]: the per-partition in-order offset tracker.
//! - [`event`], [`record`]: what comes in and what goes out.
//! - [`kafka`]: the only module that touches rdkafka: the driver loop,
//!   producer, embedded cluster, the `arn:spate:::kafka:produce` task, the
//!   load generator and small admin helpers.
//! - [`exec_log`]: execution logs as AWS Express workflows have them
//!   (levels, AWS's log records, a writer thread per destination).
//! - [`synth`]: synthetic IoT events for the demo and the load generator.

pub mod config;
pub mod event;
pub mod exec_log;
pub mod kafka;
pub mod offsets;
pub mod pipeline;
pub mod record;
pub mod stats;
pub mod synth;
