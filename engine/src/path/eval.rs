//! Evaluating a [`Path`] against a document.

use super::{Path, PathFunction, PathMissError, Segment, SelectError, Selection};
use crate::value::{Number, Value};
use std::fmt::Write as _;

/// The most values an indefinite path may select, at its end or after any
/// of its steps. Each selected value takes at least a byte of the JSON it
/// is handed on as, so a larger selection could never fit the 256 KiB
/// payload limit; without a bound, nested deep scans (`$..*..*..*`) over a
/// deep document select billions of values.
pub const MAX_SELECTED: usize = crate::limits::PAYLOAD_BYTES;

/// A selection grew past [`MAX_SELECTED`].
struct TooMany;

pub(super) fn select(path: &Path, root: &Value) -> Result<Selection, SelectError> {
    let selection = if path.definite {
        Selection::One(definite(path, root)?)
    } else {
        let mut current = vec![root.clone()];
        for segment in &path.segments {
            current = step(segment, &current, root).map_err(|TooMany| SelectError::TooMany)?;
        }
        Selection::Many(current)
    };
    match path.function {
        None => Ok(selection),
        Some(f) => Ok(apply_function(f, selection, path).map(Selection::One)?),
    }
}

/// Follows a definite path's segments without cloning.
pub(super) fn get_definite<'a>(segments: &[Segment], root: &'a Value) -> Option<&'a Value> {
    let mut current = root;
    for segment in segments {
        current = match (segment, current) {
            (Segment::Key(k), Value::Object(map)) => map.get_key(k)?,
            (Segment::Index(n), Value::Array(items)) => &items[resolve_index(*n, items.len())?],
            _ => return None,
        };
    }
    Some(current)
}

/// Jayway's normalized form of the first `upto` segments: `$['a'][0]`.
fn normalized(path: &Path, upto: usize) -> String {
    let mut out = String::from(match path.root {
        super::Root::Context => "$$",
        _ => "$",
    });
    for segment in &path.segments[..upto] {
        match segment {
            Segment::Key(k) => {
                let _ = write!(out, "['{k}']");
            }
            Segment::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            _ => out.push_str("[*]"),
        }
    }
    out
}

fn definite(path: &Path, root: &Value) -> Result<Value, PathMissError> {
    let mut current = root;
    let last = path.segments.len().saturating_sub(1);
    for (i, segment) in path.segments.iter().enumerate() {
        let next = match (segment, current) {
            (Segment::Key(k), Value::Object(map)) => map.get_key(k),
            (Segment::Index(n), Value::Array(items)) => {
                resolve_index(*n, items.len()).map(|i| &items[i])
            }
            (Segment::Key(k), other) => {
                return Err(PathMissError {
                    message: format!(
                        "Expected to find an object with property ['{k}'] in path {} but found '{}'",
                        normalized(path, i),
                        other.json_type()
                    ),
                });
            }
            (Segment::Index(_), other) => {
                return Err(PathMissError {
                    message: format!(
                        "Filter: [{}] can only be applied to arrays. Current context is: {}",
                        index_text(segment),
                        other.to_json()
                    ),
                });
            }
            _ => unreachable!("definite paths hold only keys and indexes"),
        };
        match next {
            Some(v) => current = v,
            None if i == last => {
                return Err(PathMissError {
                    message: format!("No results for path: {}", normalized(path, i + 1)),
                });
            }
            None => {
                return Err(PathMissError {
                    message: format!("Missing property in path {}", normalized(path, i + 1)),
                });
            }
        }
    }
    Ok(current.clone())
}

fn index_text(segment: &Segment) -> String {
    match segment {
        Segment::Index(i) => i.to_string(),
        _ => String::new(),
    }
}

/// A possibly negative index into a sequence of `len` items.
fn resolve_index(n: i64, len: usize) -> Option<usize> {
    let i = if n < 0 { len as i64 + n } else { n };
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

/// Applies one segment to every value of an indefinite selection.
fn step(segment: &Segment, current: &[Value], root: &Value) -> Result<Vec<Value>, TooMany> {
    let mut out = Vec::new();
    for value in current {
        apply(segment, value, root, &mut out)?;
    }
    Ok(out)
}

/// Applies `segment` to one value. A segment other than a deep scan adds at
/// most the value's children, so the bound is checked once it is applied.
fn apply(
    segment: &Segment,
    value: &Value,
    root: &Value,
    out: &mut Vec<Value>,
) -> Result<(), TooMany> {
    match segment {
        Segment::Key(k) => {
            if let Some(v) = value.as_object().and_then(|m| m.get_key(k)) {
                out.push(v.clone());
            }
        }
        Segment::Index(n) => {
            if let Value::Array(items) = value
                && let Some(i) = resolve_index(*n, items.len())
            {
                out.push(items[i].clone());
            }
        }
        Segment::Wildcard => match value {
            Value::Array(items) => out.extend(items.iter().cloned()),
            Value::Object(map) => out.extend(map.values().cloned()),
            _ => {}
        },
        Segment::Slice(start, end) => {
            if let Value::Array(items) = value {
                let len = items.len() as i64;
                let clamp = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
                let from = start.map_or(0, clamp);
                let to = end.map_or(len, clamp);
                if from < to {
                    out.extend(items[from as usize..to as usize].iter().cloned());
                }
            }
        }
        Segment::Keys(keys) => {
            if let Value::Object(map) = value {
                out.extend(keys.iter().filter_map(|k| map.get(k).cloned()));
            }
        }
        Segment::Indexes(indexes) => {
            if let Value::Array(items) = value {
                out.extend(
                    indexes
                        .iter()
                        .filter_map(|&n| resolve_index(n, items.len()).map(|i| items[i].clone())),
                );
            }
        }
        Segment::DeepScan(target) => deep_scan(target, value, root, out)?,
        Segment::Filter(filter) => match value {
            Value::Array(items) => out.extend(
                items
                    .iter()
                    .filter(|item| filter.matches(item, root))
                    .cloned(),
            ),
            Value::Object(_) if filter.matches(value, root) => out.push(value.clone()),
            _ => {}
        },
    }
    if out.len() > MAX_SELECTED {
        return Err(TooMany);
    }
    Ok(())
}

/// Applies `target` at `value` and at every value below it, in pre-order.
fn deep_scan(
    target: &Segment,
    value: &Value,
    root: &Value,
    out: &mut Vec<Value>,
) -> Result<(), TooMany> {
    apply(target, value, root, out)?;
    match value {
        Value::Array(items) => {
            for item in items.iter() {
                deep_scan(target, item, root, out)?;
            }
        }
        Value::Object(map) => {
            for item in map.values() {
                deep_scan(target, item, root, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn numbers(values: &[Value]) -> Vec<f64> {
    values.iter().filter_map(Value::as_f64).collect()
}

fn apply_function(
    f: PathFunction,
    selection: Selection,
    path: &Path,
) -> Result<Value, PathMissError> {
    let items: Vec<Value> = match selection {
        Selection::Many(items) => items,
        Selection::One(Value::Array(ref items)) => items.as_ref().clone(),
        Selection::One(Value::Object(ref map))
            if f == PathFunction::Keys || f == PathFunction::Length =>
        {
            if f == PathFunction::Length {
                return Ok(Value::from(map.len()));
            }
            return Ok(Value::array(
                map.keys().cloned().map(Value::String).collect(),
            ));
        }
        Selection::One(Value::String(ref s)) if f == PathFunction::Length => {
            return Ok(Value::from(s.chars().count()));
        }
        Selection::One(other) => {
            return Err(PathMissError {
                message: format!(
                    "Aggregation function attempted to calculate value using empty array: {} on {}",
                    path.source,
                    other.json_type()
                ),
            });
        }
    };
    let empty = || PathMissError {
        message: format!(
            "Aggregation function attempted to calculate value using empty array: {}",
            path.source
        ),
    };
    let nums = numbers(&items);
    Ok(match f {
        PathFunction::Length => Value::from(items.len()),
        PathFunction::First => items.first().cloned().ok_or_else(empty)?,
        PathFunction::Last => items.last().cloned().ok_or_else(empty)?,
        PathFunction::Keys => return Err(empty()),
        PathFunction::Sum => {
            if nums.is_empty() {
                return Err(empty());
            }
            number_value(nums.iter().sum())
        }
        PathFunction::Min => number_value(nums.iter().copied().reduce(f64::min).ok_or_else(empty)?),
        PathFunction::Max => number_value(nums.iter().copied().reduce(f64::max).ok_or_else(empty)?),
        PathFunction::Avg => {
            if nums.is_empty() {
                return Err(empty());
            }
            Value::from(nums.iter().sum::<f64>() / nums.len() as f64)
        }
        PathFunction::Stddev => {
            if nums.is_empty() {
                return Err(empty());
            }
            let mean = nums.iter().sum::<f64>() / nums.len() as f64;
            let var = nums.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / nums.len() as f64;
            Value::from(var.sqrt())
        }
    })
}

/// Jayway's aggregations return doubles.
fn number_value(f: f64) -> Value {
    Value::Number(Number::Float(f))
}
