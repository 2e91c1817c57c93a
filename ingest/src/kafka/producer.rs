//! The pipeline's producer: records go out tagged, and each delivery report
//! comes back to the pipeline, so it learns when an outcome is safe without
//! ever calling `flush` (which polls in 100 ms steps).
//!
//! The pipeline thread polls the producer itself, every turn of its loop:
//! no polling thread, and no cross-thread hand-off or wake-up per report
//! (measured: a polling thread cost about a tenth of the CPU at 60k
//! events/s on two cores).

use super::client::Throttle;
use crate::event::Headers;
use crate::pipeline::{DeliveryError, Refused};
use crate::record::OutRecord;
use crossbeam::channel::Sender;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::{ClientConfig, ClientContext};
use std::sync::Arc;
use std::time::Duration;

/// A delivery report: the record's tag and how it went (with the record
/// rebuilt from the report when it failed, to publish again).
pub type Delivered = (u64, Result<(), (DeliveryError, OutRecord)>);

/// Collects delivery reports (called inside [`Producer::poll`]).
pub struct DeliveryContext {
    who: String,
    reports: Sender<Delivered>,
    throttle: Arc<Throttle>,
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        self.throttle.librdkafka(&self.who, level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.throttle.error(&self.who, &error, reason);
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, tag: usize) {
        let report = match result {
            Ok(_) => Ok(()),
            Err((error, message)) => {
                let why = error.to_string();
                let kind =
                    if error.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageSizeTooLarge) {
                        DeliveryError::TooLarge(why)
                    } else {
                        DeliveryError::Other(why)
                    };
                let mut headers: Headers = Vec::new();
                if let Some(h) = message.headers() {
                    for header in h.iter() {
                        headers.push((header.key.to_string(), header.value.map(<[u8]>::to_vec)));
                    }
                }
                let record = OutRecord {
                    topic: Arc::from(message.topic()),
                    key: message.key().map(|k| k.to_vec().into_boxed_slice()),
                    payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                    headers,
                    spate: None,
                    dead_letter: false,
                };
                Err((kind, record))
            }
        };
        // The pipeline may be gone (shutdown): nothing to tell then.
        let _ = self.reports.send((tag as u64, report));
    }
}

/// A producer polled by the pipeline thread.
pub struct Producer {
    inner: BaseProducer<DeliveryContext>,
}

/// Producer events served per [`Producer::poll`] (each may carry many
/// delivery reports).
const POLL_EVENTS: usize = 64;

impl Producer {
    /// Creates the producer; [`Producer::poll`] sends its delivery reports
    /// to `reports`.
    pub fn new(
        config: &ClientConfig,
        who: &str,
        reports: Sender<Delivered>,
        throttle: Arc<Throttle>,
    ) -> Result<Producer, KafkaError> {
        let context = DeliveryContext {
            who: who.to_string(),
            reports,
            throttle,
        };
        Ok(Producer {
            inner: config.create_with_context(context)?,
        })
    }

    /// Serves what the producer has to report (without waiting); reports
    /// go to the channel given to [`Producer::new`].
    pub fn poll(&self) {
        for _ in 0..POLL_EVENTS {
            let before = self.inner.context().reports.len();
            self.inner.poll(Duration::ZERO);
            if self.inner.context().reports.len() == before {
                break;
            }
        }
    }

    /// Queues a record.
    pub fn send(&self, record: &OutRecord, tag: u64) -> Result<(), Refused> {
        let mut headers = Some(OwnedHeaders::new_with_capacity(record.header_count()));
        record.for_each_header(|key, value| {
            headers = headers.take().map(|h| h.insert(Header { key, value }));
        });
        let headers = headers.expect("headers are put back after every insert");
        let mut base = BaseRecord::with_opaque_to(&record.topic, tag as usize)
            .payload(&record.payload[..])
            .headers(headers);
        if let Some(key) = &record.key {
            base = base.key(&key[..]);
        }
        let sent = self.inner.send(base).map_err(|(error, _)| error);
        match sent {
            Ok(()) => Ok(()),
            Err(e) => match e.rdkafka_error_code() {
                Some(RDKafkaErrorCode::QueueFull) => Err(Refused::QueueFull),
                Some(RDKafkaErrorCode::MessageSizeTooLarge) => {
                    Err(Refused::TooLarge(e.to_string()))
                }
                _ => Err(Refused::Other(e.to_string())),
            },
        }
    }
}
