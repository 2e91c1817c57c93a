//! A consumed event, decoded once: its metadata, its JSON body (or why it
//! has none), the execution name derived from where it came from, and the
//! `envelope` input.

use crate::config::defaults::MAX_EVENT_BYTES;
use spate_engine::value::{Map, Str, Value, parse_json};

/// Kafka headers: names with optional values, in record order.
pub type Headers = Vec<(String, Option<Vec<u8>>)>;

/// Where an event came from and what came with its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// The record's key.
    pub key: Option<Box<[u8]>>,
    /// The record's headers.
    pub headers: Headers,
    /// The record's timestamp (milliseconds since the epoch), if any.
    pub timestamp_ms: Option<i64>,
}

/// An event's body after decoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Valid JSON.
    Json {
        /// The parsed value (the execution's input).
        value: Value,
        /// The payload as received, byte for byte (for a dead letter).
        raw: Vec<u8>,
    },
    /// Not JSON (or no payload at all); the original bytes are kept for the
    /// dead-letter record.
    Invalid {
        /// The payload as received.
        raw: Vec<u8>,
        /// The parser's message, with the byte offset.
        error: String,
    },
    /// Over the payload limit; not parsed.
    TooLarge {
        /// The payload as received.
        raw: Vec<u8>,
    },
}

/// Decodes a payload: one copy is kept as received (a dead letter carries
/// the original bytes), and the payload is parsed with simd-json.
pub fn decode(payload: Option<&[u8]>) -> Body {
    let Some(payload) = payload else {
        return Body::Invalid {
            raw: Vec::new(),
            error: "the record has no value (a tombstone)".to_string(),
        };
    };
    if payload.len() > MAX_EVENT_BYTES {
        return Body::TooLarge {
            raw: payload.to_vec(),
        };
    }
    let raw = payload.to_vec();
    match parse_json(payload) {
        Ok(value) => Body::Json { value, raw },
        Err(e) => Body::Invalid {
            raw,
            error: e.to_string(),
        },
    }
}

/// The execution's name: `<topic>-<partition>-<offset>`, unique per event
/// and the same every time the event is read again, so consumers of the
/// output can drop duplicates. Names keep to AWS's 80 characters: a long
/// topic is shortened and given a hash of the whole name.
pub fn execution_name(topic: &str, partition: i32, offset: i64) -> Str {
    let mut name = String::with_capacity(topic.len() + 24);
    name.push_str(topic);
    name.push('-');
    name.push_str(itoa::Buffer::new().format(partition));
    name.push('-');
    name.push_str(itoa::Buffer::new().format(offset));
    if name.len() <= 80 {
        return Str::from(name);
    }
    let suffix = format!("-{partition}-{offset}");
    let hash = fnv1a(topic.as_bytes());
    let keep = 80 - suffix.len() - 17;
    let mut end = keep.min(topic.len());
    while !topic.is_char_boundary(end) {
        end -= 1;
    }
    Str::from(format!("{}~{hash:016x}{suffix}", &topic[..end]))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A placement hash for a key (same key, same shard).
pub fn key_hash(key: &[u8]) -> u64 {
    fnv1a(key)
}

/// Bytes as a JSON string when they are UTF-8, else `null`.
fn text_or_null(bytes: Option<&[u8]>) -> Value {
    match bytes.map(std::str::from_utf8) {
        Some(Ok(s)) => Value::string(s),
        _ => Value::Null,
    }
}

/// The `envelope` input: `{key, value, headers, topic, partition, offset,
/// timestamp}`. Keys and header values are strings when they are UTF-8,
/// else `null`; the timestamp is milliseconds since the epoch or `null`.
pub fn envelope(topic: &str, meta: &Meta, value: Value) -> Value {
    let mut headers = Map::with_capacity(meta.headers.len());
    for (name, v) in &meta.headers {
        headers.insert(Str::new(name), text_or_null(v.as_deref()));
    }
    let mut map = Map::with_capacity(7);
    map.insert(Str::new("key"), text_or_null(meta.key.as_deref()));
    map.insert(Str::new("value"), value);
    map.insert(Str::new("headers"), Value::object(headers));
    map.insert(Str::new("topic"), Value::string(topic));
    map.insert(
        Str::new("partition"),
        Value::from(i64::from(meta.partition)),
    );
    map.insert(Str::new("offset"), Value::from(meta.offset));
    map.insert(
        Str::new("timestamp"),
        meta.timestamp_ms.map_or(Value::Null, Value::from),
    );
    Value::object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spate_engine::json;

    #[test]
    fn decode_sorts_bodies() {
        let spaced = br#"{ "a" : 1.0, "b":"\u00e9" }"#;
        assert_eq!(
            decode(Some(spaced)),
            Body::Json {
                value: json!({"a": 1.0, "b": "é"}),
                raw: spaced.to_vec()
            }
        );
        match decode(Some(b"{\"a\":")) {
            Body::Invalid { raw, error } => {
                assert_eq!(raw, b"{\"a\":");
                assert!(error.contains("byte offset"), "{error}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode(None), Body::Invalid { .. }));
        assert!(matches!(decode(Some(b"  ")), Body::Invalid { .. }));
        let big = format!("\"{}\"", "x".repeat(MAX_EVENT_BYTES));
        assert!(matches!(
            decode(Some(big.as_bytes())),
            Body::TooLarge { .. }
        ));
        let fits = format!("\"{}\"", "x".repeat(MAX_EVENT_BYTES - 2));
        assert!(matches!(decode(Some(fits.as_bytes())), Body::Json { .. }));
    }

    #[test]
    fn names_are_stable_unique_and_short() {
        assert_eq!(execution_name("iot", 3, 42).as_str(), "iot-3-42");
        let long = "t".repeat(200);
        let a = execution_name(&long, 1, 99);
        let b = execution_name(&format!("{long}x"), 1, 99);
        assert!(a.len() <= 80 && b.len() <= 80, "{a}");
        assert_ne!(a, b);
        assert!(a.ends_with("-1-99"));
        assert_eq!(a, execution_name(&long, 1, 99));
    }

    #[test]
    fn envelope_carries_everything() {
        let meta = Meta {
            partition: 2,
            offset: 7,
            key: Some(b"dev-1".to_vec().into_boxed_slice()),
            headers: vec![
                ("trace".into(), Some(b"abc".to_vec())),
                ("bin".into(), Some(vec![0xff])),
                ("none".into(), None),
            ],
            timestamp_ms: Some(1_700_000_000_000),
        };
        let v = envelope("in", &meta, json!({"t": 1}));
        assert_eq!(
            v,
            json!({"key": "dev-1", "value": {"t": 1},
                   "headers": {"trace": "abc", "bin": null, "none": null},
                   "topic": "in", "partition": 2, "offset": 7, "timestamp": 1_700_000_000_000i64})
        );
    }
}
