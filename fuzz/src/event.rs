//! `event`: a Kafka record's value decoded as the pipelines decode it, then
//! wrapped in an envelope; its first bytes also name a topic for an
//! execution name.
//!
//! Invariants: a decoded body writes back to JSON that parses to the same
//! value; an undecodable one keeps its bytes and says why; execution names
//! keep to AWS's 80 characters and are stable.

use spate_engine::value::parse_json;
use spate_ingest::config::defaults::MAX_EVENT_BYTES;
use spate_ingest::event::{Body, Meta, decode, envelope, execution_name};

/// Decodes `data` as a record value.
pub(crate) fn fuzz(data: &[u8]) {
    let key = &data[..data.len().min(8)];
    let meta = Meta {
        partition: i32::from(data.first().copied().unwrap_or(0)),
        offset: i64::try_from(data.len()).unwrap_or(i64::MAX),
        key: Some(key.into()),
        headers: vec![("h".into(), Some(data.to_vec())), ("none".into(), None)],
        timestamp_ms: None,
    };
    match decode(Some(data)) {
        Body::Json { value, raw } => {
            assert_eq!(raw, data, "a dead letter carries the bytes as consumed");
            let written = value.to_json();
            let reparsed = parse_json(written.as_bytes())
                .unwrap_or_else(|e| panic!("{written:?} does not parse back: {e}"));
            assert_eq!(reparsed, value, "{written:?} does not read back");
            let wrapped = envelope("topic", &meta, value.clone());
            assert_eq!(wrapped.get("value"), Some(&value));
            let key_is_text = std::str::from_utf8(key).is_ok();
            assert_eq!(
                wrapped.get("key").is_some_and(|k| k.as_str().is_some()),
                key_is_text
            );
        }
        Body::Invalid { raw, error } => {
            assert_eq!(raw, data);
            assert!(!error.is_empty());
        }
        Body::TooLarge { raw } => {
            assert_eq!(raw, data);
            assert!(data.len() > MAX_EVENT_BYTES);
        }
    }
    let topic = String::from_utf8_lossy(data);
    let name = execution_name(&topic, meta.partition, meta.offset);
    assert!(name.len() <= 80, "{name:?} is longer than 80 bytes");
    assert_eq!(name, execution_name(&topic, meta.partition, meta.offset));
}
