//! What a pipeline publishes: one output record per event, or one
//! dead-letter record saying why there is none. Both carry headers naming
//! the execution and the source (topic, partition, offset), so a consumer
//! can drop the duplicates at-least-once delivery may produce.

use crate::event::Headers;
use std::sync::Arc;

/// Header names written by Spate.
pub mod header {
    /// The execution's name (`<topic>-<partition>-<offset>`): the same on
    /// every copy of one event's output.
    pub const EXECUTION: &str = "spate-execution";
    /// How the execution ended (`SUCCEEDED`, `FAILED`, `TIMED_OUT`), on
    /// output records.
    pub const STATUS: &str = "spate-status";
    /// The pipeline's name.
    pub const PIPELINE: &str = "spate-pipeline";
    /// The event's topic.
    pub const SOURCE_TOPIC: &str = "spate-source-topic";
    /// The event's partition.
    pub const SOURCE_PARTITION: &str = "spate-source-partition";
    /// The event's offset.
    pub const SOURCE_OFFSET: &str = "spate-source-offset";
    /// On dead letters: why the event is there (a [`super::DeadLetter`] name).
    pub const DLQ_REASON: &str = "spate-dlq-reason";
    /// On dead letters and error outputs: the error name
    /// (`States.TaskFailed`, `InvalidJson`, ...).
    pub const ERROR: &str = "spate-error";
    /// On dead letters and error outputs: the cause.
    pub const CAUSE: &str = "spate-cause";
}

/// A record to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct OutRecord {
    /// Destination topic.
    pub topic: Arc<str>,
    /// Key (the event's key, so outputs partition like their inputs).
    pub key: Option<Box<[u8]>>,
    /// Value.
    pub payload: Vec<u8>,
    /// Headers.
    pub headers: Headers,
    /// `true` for a dead letter (never turned into another dead letter).
    pub dead_letter: bool,
}

/// Why an event went to the dead-letter topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetter {
    /// Its value is not JSON.
    InvalidJson,
    /// Its value is over the 256 KiB payload limit.
    TooLarge,
    /// Its execution failed.
    ExecutionFailed,
    /// Its execution timed out.
    ExecutionTimedOut,
    /// Its output could not be published (too large for the cluster).
    OutputRejected,
}

impl DeadLetter {
    /// The `spate-dlq-reason` header value.
    pub fn name(self) -> &'static str {
        match self {
            DeadLetter::InvalidJson => "invalid-json",
            DeadLetter::TooLarge => "too-large",
            DeadLetter::ExecutionFailed => "execution-failed",
            DeadLetter::ExecutionTimedOut => "execution-timed-out",
            DeadLetter::OutputRejected => "output-rejected",
        }
    }
}

/// The source of an event, for headers.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Pipeline name.
    pub pipeline: &'a str,
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Execution name.
    pub execution: &'a str,
}

fn push(headers: &mut Headers, name: &str, value: impl Into<Vec<u8>>) {
    headers.push((name.to_string(), Some(value.into())));
}

fn source_headers(headers: &mut Headers, source: &Source<'_>) {
    push(headers, header::EXECUTION, source.execution);
    push(headers, header::PIPELINE, source.pipeline);
    push(headers, header::SOURCE_TOPIC, source.topic);
    push(
        headers,
        header::SOURCE_PARTITION,
        itoa::Buffer::new().format(source.partition),
    );
    push(
        headers,
        header::SOURCE_OFFSET,
        itoa::Buffer::new().format(source.offset),
    );
}

/// An output record: `forwarded` headers (the event's own, when the
/// pipeline forwards them), then Spate's.
pub fn output(
    topic: &Arc<str>,
    key: Option<Box<[u8]>>,
    payload: Vec<u8>,
    forwarded: Headers,
    source: &Source<'_>,
    status: &str,
    error: Option<(&str, &str)>,
) -> OutRecord {
    let mut headers = forwarded;
    headers.reserve(8);
    source_headers(&mut headers, source);
    push(&mut headers, header::STATUS, status);
    if let Some((error, cause)) = error {
        push(&mut headers, header::ERROR, error);
        push(&mut headers, header::CAUSE, cause);
    }
    OutRecord {
        topic: Arc::clone(topic),
        key,
        payload,
        headers,
        dead_letter: false,
    }
}

/// Why a dead letter was written.
#[derive(Debug, Clone, Copy)]
pub struct Why<'a> {
    /// The reason.
    pub reason: DeadLetter,
    /// The error name.
    pub error: &'a str,
    /// The cause.
    pub cause: &'a str,
}

/// A dead-letter record: the event's key, value and headers as received,
/// plus headers saying why and where it came from.
pub fn dead_letter(
    topic: &Arc<str>,
    key: Option<Box<[u8]>>,
    payload: Vec<u8>,
    original_headers: Headers,
    source: &Source<'_>,
    why: Why<'_>,
) -> OutRecord {
    let mut headers = original_headers;
    headers.reserve(8);
    source_headers(&mut headers, source);
    push(&mut headers, header::DLQ_REASON, why.reason.name());
    push(&mut headers, header::ERROR, why.error);
    push(&mut headers, header::CAUSE, why.cause);
    OutRecord {
        topic: Arc::clone(topic),
        key,
        payload,
        headers,
        dead_letter: true,
    }
}

/// The value of header `name`, if present and UTF-8.
pub fn header_text<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.as_deref())
        .and_then(|v| std::str::from_utf8(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letters_say_why_and_where() {
        let topic: Arc<str> = Arc::from("dlq");
        let source = Source {
            pipeline: "iot",
            topic: "in",
            partition: 4,
            offset: 17,
            execution: "in-4-17",
        };
        let r = dead_letter(
            &topic,
            Some(b"k".to_vec().into_boxed_slice()),
            b"{oops".to_vec(),
            vec![("trace".into(), Some(b"t1".to_vec()))],
            &source,
            Why {
                reason: DeadLetter::InvalidJson,
                error: "InvalidJson",
                cause: "invalid JSON at byte offset 1",
            },
        );
        assert!(r.dead_letter);
        assert_eq!(r.payload, b"{oops");
        assert_eq!(header_text(&r.headers, "trace"), Some("t1"));
        assert_eq!(
            header_text(&r.headers, header::DLQ_REASON),
            Some("invalid-json")
        );
        assert_eq!(header_text(&r.headers, header::SOURCE_OFFSET), Some("17"));
        assert_eq!(header_text(&r.headers, header::SOURCE_PARTITION), Some("4"));
        assert_eq!(header_text(&r.headers, header::EXECUTION), Some("in-4-17"));
        assert_eq!(header_text(&r.headers, header::PIPELINE), Some("iot"));
        assert_eq!(
            header_text(&r.headers, header::CAUSE),
            Some("invalid JSON at byte offset 1")
        );
    }
}
