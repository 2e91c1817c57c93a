//! The size of a value's compact JSON text, computed without writing it.
//! Used for AWS's payload limit, so it stops walking as soon as the limit is
//! passed.

use super::{Number, Value};

/// The length in bytes of `value`'s compact JSON text.
pub fn json_size(value: &Value) -> usize {
    let mut total = 0;
    let _ = add_size(value, &mut total, usize::MAX, usize::MAX, NumberSize::Exact);
    total
}

/// About the length of `value`'s compact JSON text, found without scanning
/// a string or formatting a double: strings count without their escapes
/// and each double as the longest one written (24 bytes). For budgets,
/// where a close figure found fast beats an exact one.
pub fn approximate_json_size(value: &Value) -> usize {
    let mut total = 0;
    let _ = add_size(
        value,
        &mut total,
        usize::MAX,
        usize::MAX,
        NumberSize::Approximate,
    );
    total
}

/// `true` when `value`'s compact JSON text is longer than `limit` bytes.
/// Stops as soon as the answer is known.
pub fn exceeds(value: &Value, limit: usize) -> bool {
    check(value, limit, usize::MAX) == Err(Over::Bytes)
}

/// Which limit a value is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    /// Its compact JSON text is longer than the byte limit.
    Bytes,
    /// It nests arrays and objects deeper than the depth limit (`[[1]]` is
    /// 2 deep, a scalar 0).
    Depth,
}

/// Checks `value` against a byte limit and a nesting limit in one walk,
/// stopping as soon as either is passed (a value over both may report
/// either). Checks a cheap upper bound of the size first (no string is
/// scanned, no double formatted), so the exact count only runs for values
/// within a factor of about six of the byte limit.
pub fn check(value: &Value, max_bytes: usize, max_depth: usize) -> Result<(), Over> {
    let mut bound = 0;
    match add_size(
        value,
        &mut bound,
        max_bytes,
        max_depth,
        NumberSize::UpperBound,
    ) {
        Err(Over::Bytes) => {}
        done => return done,
    }
    let mut total = 0;
    add_size(value, &mut total, max_bytes, max_depth, NumberSize::Exact)
}

/// The size of `value`'s compact JSON text, or [`Over::Depth`] when it nests
/// deeper than `max_depth`.
pub fn json_size_within(value: &Value, max_depth: usize) -> Result<usize, Over> {
    let mut total = 0;
    add_size(value, &mut total, usize::MAX, max_depth, NumberSize::Exact)?;
    Ok(total)
}

/// `Err(Over::Depth)` when `value` nests arrays and objects deeper than
/// `max_depth`; looks at the containers only, without recursion.
pub fn check_depth(value: &Value, max_depth: usize) -> Result<(), Over> {
    let mut pending: Vec<(&Value, usize)> = Vec::new();
    let (mut next, mut depth) = (value, 1);
    loop {
        let children: &[Value] = match next {
            Value::Array(_) | Value::Object(_) if depth > max_depth => return Err(Over::Depth),
            Value::Array(items) => items,
            Value::Object(map) => {
                for (_, v) in map.iter() {
                    if matches!(v, Value::Array(_) | Value::Object(_)) {
                        pending.push((v, depth + 1));
                    }
                }
                &[]
            }
            _ => &[],
        };
        for item in children {
            if matches!(item, Value::Array(_) | Value::Object(_)) {
                pending.push((item, depth + 1));
            }
        }
        match pending.pop() {
            Some((v, d)) => (next, depth) = (v, d),
            None => return Ok(()),
        }
    }
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
    /// As `UpperBound`, but strings without escapes: no scan, and close to
    /// the exact size for most texts (a lower bound on strings only).
    Approximate,
}

/// The longest text `write_json` writes for a finite double (`-2.2250738585072014e-308`).
const MAX_DOUBLE_LEN: usize = 24;

/// Adds the size of `value` to `total`; fails once `total` is past
/// `limit` or a container is nested deeper than `max_depth`. Containers
/// still to count wait on a heap stack with their depth, so any depth is
/// counted without recursion.
fn add_size(
    value: &Value,
    total: &mut usize,
    limit: usize,
    max_depth: usize,
    mode: NumberSize,
) -> Result<(), Over> {
    let mut pending: Vec<(&Value, usize)> = Vec::new();
    let (mut next, mut depth) = (value, 1);
    loop {
        match next {
            Value::Array(items) => {
                if depth > max_depth {
                    return Err(Over::Depth);
                }
                *total += 2 + items.len().saturating_sub(1);
                for item in items.iter() {
                    match scalar_size(item, mode) {
                        Some(n) => *total += n,
                        None => pending.push((item, depth + 1)),
                    }
                }
            }
            Value::Object(map) => {
                if depth > max_depth {
                    return Err(Over::Depth);
                }
                *total += 2 + map.len().saturating_sub(1);
                for (k, v) in map.iter() {
                    *total += 1 + string_len(k, mode);
                    match scalar_size(v, mode) {
                        Some(n) => *total += n,
                        None => pending.push((v, depth + 1)),
                    }
                }
            }
            scalar => *total += scalar_size(scalar, mode).unwrap_or(0),
        }
        if *total > limit {
            return Err(Over::Bytes);
        }
        match pending.pop() {
            Some((v, d)) => (next, depth) = (v, d),
            None => return Ok(()),
        }
    }
}

/// The size of a scalar, or `None` for an array or object. Counting scalars
/// in the parent's loop rather than recursing halves the cost of the walk.
#[inline(always)]
fn scalar_size(value: &Value, mode: NumberSize) -> Option<usize> {
    Some(match value {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(Number::Int(i)) => integer_size(*i),
        Value::Number(_) if mode != NumberSize::Exact => MAX_DOUBLE_LEN,
        Value::Number(n) => number_size(*n),
        Value::String(s) => string_len(s, mode),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

#[inline]
fn string_len(s: &str, mode: NumberSize) -> usize {
    match mode {
        NumberSize::UpperBound => max_string_size(s),
        NumberSize::Approximate => 2 + s.len(),
        NumberSize::Exact => string_size(s),
    }
}

fn integer_size(i: i64) -> usize {
    let u = i.unsigned_abs();
    // most integers in events are small: a compare or two instead of ilog10
    let digits = match u {
        0..=9 => 1,
        10..=99 => 2,
        100..=9_999 => 3 + usize::from(u >= 1_000),
        _ => u.ilog10() as usize + 1,
    };
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
    fn the_approximate_size_counts_strings_without_escapes_and_doubles_at_most() {
        let plain = json!({"a": [1, -30, "xyz", true, null, {}]});
        assert_eq!(approximate_json_size(&plain), json_size(&plain));
        assert_eq!(approximate_json_size(&json!("a\nb")), 5);
        assert_eq!(approximate_json_size(&json!(0.5)), MAX_DOUBLE_LEN);
    }

    #[test]
    fn integer_sizes() {
        for i in [
            0,
            7,
            -7,
            9,
            10,
            99,
            -100,
            999,
            1_000,
            -9_999,
            10_000,
            i64::MAX,
            i64::MIN,
        ] {
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
    fn depth_is_checked_in_the_same_walk() {
        let mut v = json!(1);
        for _ in 0..10 {
            v = json!({"a": [v]});
        }
        // 20 levels: each turn adds an object and an array
        assert_eq!(check(&v, usize::MAX, 20), Ok(()));
        assert_eq!(check(&v, usize::MAX, 19), Err(Over::Depth));
        assert_eq!(check_depth(&v, 20), Ok(()));
        assert_eq!(check_depth(&v, 19), Err(Over::Depth));
        assert_eq!(json_size_within(&v, 20), Ok(json_size(&v)));
        assert_eq!(json_size_within(&v, 19), Err(Over::Depth));
        assert_eq!(check(&v, 10, 20), Err(Over::Bytes));
        assert_eq!(check_depth(&json!(1), 0), Ok(()));
        assert_eq!(check_depth(&json!([]), 0), Err(Over::Depth));
        let mut deep = json!([]);
        for _ in 0..500_000 {
            deep = Value::array(vec![deep, json!({"k": "v"})]);
        }
        assert_eq!(check_depth(&deep, 1024), Err(Over::Depth));
        assert_eq!(check(&deep, usize::MAX, 1024), Err(Over::Depth));
        assert_eq!(check_depth(&deep, 500_001), Ok(()));
    }

    #[test]
    fn stops_at_the_limit() {
        let v = json!({"a": "0123456789"});
        let len = v.to_json().len();
        assert!(!exceeds(&v, len));
        assert!(exceeds(&v, len - 1));
    }
}
