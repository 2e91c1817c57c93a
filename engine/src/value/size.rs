//! The size of a value's compact JSON text, computed without writing it.
//! Used for AWS's payload limit, so it stops walking as soon as the limit is
//! passed.

use super::{Number, Value};

/// The length in bytes of `value`'s compact JSON text.
pub fn json_size(value: &Value) -> usize {
    let mut total = 0;
    add_size(value, &mut total, usize::MAX);
    total
}

/// `true` when `value`'s compact JSON text is longer than `limit` bytes.
/// Stops as soon as the answer is known.
pub fn exceeds(value: &Value, limit: usize) -> bool {
    let mut total = 0;
    !add_size(value, &mut total, limit)
}

/// Adds the size of `value` to `total`; returns `false` once `total` is past `limit`.
fn add_size(value: &Value, total: &mut usize, limit: usize) -> bool {
    *total += match value {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_size(*n),
        Value::String(s) => string_size(s),
        Value::Array(items) => {
            *total += 2 + items.len().saturating_sub(1);
            for item in items.iter() {
                if !add_size(item, total, limit) {
                    return false;
                }
            }
            0
        }
        Value::Object(map) => {
            *total += 2 + map.len().saturating_sub(1);
            for (k, v) in map.iter() {
                *total += string_size(k) + 1;
                if !add_size(v, total, limit) {
                    return false;
                }
            }
            0
        }
    };
    *total <= limit
}

fn number_size(n: Number) -> usize {
    let mut text = String::new();
    super::write::write_number(n, &mut text);
    text.len()
}

fn string_size(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn matches_the_written_length() {
        for v in [
            json!(null),
            json!({"a": [1, 2.5, -3, "x\"y\n\u{1}", true, false, null], "é": {}}),
            json!([]),
            json!([[], {}, [{}]]),
        ] {
            assert_eq!(json_size(&v), v.to_json().len(), "{v}");
        }
    }

    #[test]
    fn stops_at_the_limit() {
        let v = json!({"a": "0123456789"});
        let len = v.to_json().len();
        assert!(!exceeds(&v, len));
        assert!(exceeds(&v, len - 1));
    }
}
