//! # spate-ingest
//!
//! Kafka ingest for Spate. The Kafka issue fills this crate: consumer and
//! producer (behind `kafka/`), the per-partition offset tracker, output and
//! dead-letter sinks, and backpressure.
