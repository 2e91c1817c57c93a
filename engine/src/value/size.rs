//! The size of a value's compact JSON text, computed without writing it.
//! Used for AWS's payload limit, so it stops walking as soon as the limit is
//! passed.

use super::{Number, Value};

/// The length in bytes of `value`'s compact JSON text.
pub fn json_size(value: &Value) -> usize {
    let mut total = 0;
    add_size(value, &mut total, usize::MAX, NumberSize::Exact);
    total
}

/// `true` when `value`'s compact JSON text is longer than `limit` bytes.
/// Stops as soon as the answer is known. Checks a cheap upper bound first
/// (no string is scanned, no double formatted), so the exact count only runs
/// for values within a factor of about six of the limit.
pub fn exceeds(value: &Value, limit: usize) -> bool {
    let mut bound = 0;
    if add_size(value, &mut bound, limit, NumberSize::UpperBound) {
        return false;
    }
    let mut total = 0;
    !add_size(value, &mut total, limit, NumberSize::Exact)
}

/// How numbers and strings are counted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NumberSize {
    /// Their exact written length.
    Exact,
    /// An upper bound that costs no scan: integers exactly, doubles at the
    /// longest a double can be written, strings as if every byte needed a
    /// six-byte `\u00XX` escape.
    UpperBound,
}

/// The longest text `write_json` writes for a finite double (`-2.2250738585072014e-308`).
const MAX_DOUBLE_LEN: usize = 24;

/// Adds the size of `value` to `total`; returns `false` once `total` is past
/// `limit`. Containers still to count wait on a heap stack, so any depth is
/// counted without recursion.
fn add_size(value: &Value, total: &mut usize, limit: usize, mode: NumberSize) -> bool {
    let mut pending: Vec<&Value> = Vec::new();
    let mut next = value;
    loop {
        match next {
            Value::Array(items) => {
                *total += 2 + items.len().saturating_sub(1);
                for item in items.iter() {
                    match scalar_size(item, mode) {
                        Some(n) => *total += n,
                        None => pending.push(item),
                    }
                }
            }
            Value::Object(map) => {
                *total += 2 + map.len().saturating_sub(1);
                for (k, v) in map.iter() {
                    *total += 1 + string_len(k, mode);
                    match scalar_size(v, mode) {
                        Some(n) => *total += n,
                        None => pending.push(v),
                    }
                }
            }
            scalar => *total += scalar_size(scalar, mode).unwrap_or(0),
        }
        if *total > limit {
            return false;
        }
        match pending.pop() {
            Some(v) => next = v,
            None => return true,
        }
    }
}

/// The size of a scalar, or `None` for an array or object. Counting scalars
/// in the parent's loop rather than recursing halves the cost of the walk.
#[inline]
fn scalar_size(value: &Value, mode: NumberSize) -> Option<usize> {
    Some(match value {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(Number::Int(i)) => integer_size(*i),
        Value::Number(_) if mode == NumberSize::UpperBound => MAX_DOUBLE_LEN,
        Value::Number(n) => number_size(*n),
        Value::String(s) => string_len(s, mode),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

#[inline]
fn string_len(s: &str, mode: NumberSize) -> usize {
    match mode {
        NumberSize::UpperBound => max_string_size(s),
        NumberSize::Exact => string_size(s),
    }
}

fn integer_size(i: i64) -> usize {
    let digits = i
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |d| d as usize + 1);
    digits + usize::from(i < 0)
}

/// The length of the number's JSON text, as `write_json` writes it
/// (formatted on the stack: no allocation per number).
fn number_size(n: Number) -> usize {
    match n {
        Number::Int(i) => integer_size(i),
        Number::Float(f) if f.is_finite() => {
            let mut buffer = zmij::Buffer::new();
            let (mantissa, exponent) = super::write::float_text(&mut buffer, f);
            mantissa.len() + exponent.len()
        }
        Number::Float(_) => "null".len(),
    }
}

fn max_string_size(s: &str) -> usize {
    2 + 6 * s.len()
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
        let nan = Value::from(f64::NAN);
        assert_eq!(json_size(&nan), nan.to_json().len(), "written as null");
    }

    #[test]
    fn integer_sizes() {
        for i in [0, 7, -7, 10, 99, -100, i64::MAX, i64::MIN] {
            assert_eq!(integer_size(i), i.to_string().len(), "{i}");
        }
    }

    #[test]
    fn the_bound_never_undercounts() {
        let v = json!([1.5, 2.25e-300, -1e300, 123456.789, 1e21]);
        let len = v.to_json().len();
        assert!(!exceeds(&v, len));
        assert!(exceeds(&v, len - 1));
    }

    #[test]
    fn counts_any_depth() {
        let mut v = json!([]);
        for _ in 0..500_000 {
            v = Value::array(vec![v]);
        }
        assert_eq!(json_size(&v), 2 * 500_001);
        assert!(exceeds(&v, 1000));
    }

    #[test]
    fn stops_at_the_limit() {
        let v = json!({"a": "0123456789"});
        let len = v.to_json().len();
        assert!(!exceeds(&v, len));
        assert!(exceeds(&v, len - 1));
    }
}
