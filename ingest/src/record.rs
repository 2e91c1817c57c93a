//! What a pipeline publishes: one output record per event, or one
//! dead-letter record saying why there is none. Both carry headers naming
//! the execution and the source (topic, partition, offset), so a consumer
//! can drop the duplicates at-least-once delivery may produce.

use crate::event::Headers;
use spate_engine::value::Str;
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
    /// Headers carried over: the event's (forwarded to an output, or as
    /// received on a dead letter), or every header of a record rebuilt from
    /// a failed delivery.
    pub headers: Headers,
    /// Spate's headers, written after `headers` (kept as fields, not
    /// strings, so building a record allocates nothing for them).
    pub spate: Option<SpateHeaders>,
    /// `true` for a dead letter (never turned into another dead letter).
    pub dead_letter: bool,
}

/// Spate's headers on a record.
#[derive(Debug, Clone, PartialEq)]
pub struct SpateHeaders {
    /// Where the event came from.
    pub source: Source,
    /// `spate-status`, on outputs.
    pub status: Option<&'static str>,
    /// `spate-dlq-reason`, on dead letters.
    pub reason: Option<DeadLetter>,
    /// `spate-error` and `spate-cause`, on dead letters and error outputs.
    pub error: Option<Box<(String, String)>>,
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
    /// Every reason, in declaration order (`reason as usize` indexes it).
    pub const ALL: [DeadLetter; 5] = [
        DeadLetter::InvalidJson,
        DeadLetter::TooLarge,
        DeadLetter::ExecutionFailed,
        DeadLetter::ExecutionTimedOut,
        DeadLetter::OutputRejected,
    ];

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
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Pipeline name.
    pub pipeline: Arc<str>,
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Execution name.
    pub execution: Str,
}

impl OutRecord {
    /// Calls `f` with every header, in order: the carried-over ones, then
    /// Spate's.
    pub fn for_each_header(&self, mut f: impl FnMut(&str, Option<&[u8]>)) {
        for (name, value) in &self.headers {
            f(name, value.as_deref());
        }
        let Some(spate) = &self.spate else {
            return;
        };
        let source = &spate.source;
        f(header::EXECUTION, Some(source.execution.as_bytes()));
        f(header::PIPELINE, Some(source.pipeline.as_bytes()));
        f(header::SOURCE_TOPIC, Some(source.topic.as_bytes()));
        f(
            header::SOURCE_PARTITION,
            Some(itoa::Buffer::new().format(source.partition).as_bytes()),
        );
        f(
            header::SOURCE_OFFSET,
            Some(itoa::Buffer::new().format(source.offset).as_bytes()),
        );
        if let Some(status) = spate.status {
            f(header::STATUS, Some(status.as_bytes()));
        }
        if let Some(reason) = spate.reason {
            f(header::DLQ_REASON, Some(reason.name().as_bytes()));
        }
        if let Some(error) = &spate.error {
            f(header::ERROR, Some(error.0.as_bytes()));
            f(header::CAUSE, Some(error.1.as_bytes()));
        }
    }

    /// Headers in all.
    pub fn header_count(&self) -> usize {
        let mut n = 0;
        self.for_each_header(|_, _| n += 1);
        n
    }

    /// The last value of header `name` as text, if present and UTF-8.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut found = None;
        self.for_each_header(|n, v| {
            if n == name {
                found = v
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .map(str::to_string);
            }
        });
        found
    }
}

/// An output record: `forwarded` headers (the event's own, when the
/// pipeline forwards them), then Spate's.
pub fn output(
    topic: &Arc<str>,
    key: Option<Box<[u8]>>,
    payload: Vec<u8>,
    forwarded: Headers,
    source: Source,
    status: &'static str,
    error: Option<(&str, &str)>,
) -> OutRecord {
    OutRecord {
        topic: Arc::clone(topic),
        key,
        payload,
        headers: forwarded,
        spate: Some(SpateHeaders {
            source,
            status: Some(status),
            reason: None,
            error: error.map(|(e, c)| Box::new((e.to_string(), c.to_string()))),
        }),
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
    source: Source,
    why: Why<'_>,
) -> OutRecord {
    OutRecord {
        topic: Arc::clone(topic),
        key,
        payload,
        headers: original_headers,
        spate: Some(SpateHeaders {
            source,
            status: None,
            reason: Some(why.reason),
            error: Some(Box::new((why.error.to_string(), why.cause.to_string()))),
        }),
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
            pipeline: Arc::from("iot"),
            topic: Arc::from("in"),
            partition: 4,
            offset: 17,
            execution: Str::new("in-4-17"),
        };
        let r = dead_letter(
            &topic,
            Some(b"k".to_vec().into_boxed_slice()),
            b"{oops".to_vec(),
            vec![("trace".into(), Some(b"t1".to_vec()))],
            source,
            Why {
                reason: DeadLetter::InvalidJson,
                error: "InvalidJson",
                cause: "invalid JSON at byte offset 1",
            },
        );
        assert!(r.dead_letter);
        assert_eq!(r.payload, b"{oops");
        assert_eq!(r.header("trace"), Some("t1".to_string()));
        assert_eq!(
            r.header(header::DLQ_REASON),
            Some("invalid-json".to_string())
        );
        assert_eq!(r.header(header::SOURCE_OFFSET), Some("17".to_string()));
        assert_eq!(r.header(header::SOURCE_PARTITION), Some("4".to_string()));
        assert_eq!(r.header(header::EXECUTION), Some("in-4-17".to_string()));
        assert_eq!(r.header(header::PIPELINE), Some("iot".to_string()));
        assert_eq!(
            r.header(header::CAUSE),
            Some("invalid JSON at byte offset 1".to_string())
        );
    }
}
