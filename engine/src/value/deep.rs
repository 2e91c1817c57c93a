//! Dropping and comparing values without recursion.
//!
//! A value can be nested deeper than any thread's stack allows when it is
//! built step by step (a JSONPath template applied in a loop, say), and
//! the compiler's drop glue or a recursive comparison would then overflow
//! the stack and abort the process. Both keep the containers still to
//! visit on a heap stack instead (dropping only for values nested deeper
//! than a few dozen levels).

use super::{Arc, Value};

/// `true` for an array or an object that has members and no other owner:
/// dropping it drops its members too (a shared one is only decremented).
#[inline]
fn owns_members(value: &Value) -> bool {
    match value {
        Value::Array(items) => !items.is_empty() && Arc::is_unique(items),
        Value::Object(map) => !map.is_empty() && Arc::is_unique(map),
        _ => false,
    }
}

impl Drop for Value {
    /// An unshared array or object whose members include unshared
    /// containers is taken apart level by level, recursing at most
    /// [`RECURSION_LEVELS`] deep and keeping deeper levels on a heap stack,
    /// so a value of any depth drops in bounded native stack. The members
    /// left (scalars, shared and empty containers) are freed by the normal
    /// glue.
    #[inline]
    fn drop(&mut self) {
        if matches!(self, Value::Array(_) | Value::Object(_)) {
            drop_container(self);
        }
    }
}

/// The out-of-line part of `drop`, for arrays and objects only.
fn drop_container(value: &mut Value) {
    let nested = match value {
        Value::Array(items) => Arc::is_unique(items) && items.iter().any(owns_members),
        Value::Object(map) => Arc::is_unique(map) && map.values().any(owns_members),
        _ => false,
    };
    if nested {
        let mut deeper = Vec::new();
        detach_nested(value, 0, &mut deeper);
        while let Some(mut next) = deeper.pop() {
            detach_nested(&mut next, 0, &mut deeper);
        }
    }
}

/// Levels taken apart by recursion before the rest goes to the heap.
const RECURSION_LEVELS: usize = 32;

/// Takes the containers `value` owns out of it and drops them, those
/// [`RECURSION_LEVELS`] below `level` by pushing them onto `deeper`
/// instead. What is left in `value` drops without going further down.
fn detach_nested(value: &mut Value, level: usize, deeper: &mut Vec<Value>) {
    let detach = |member: &mut Value| {
        if owns_members(member) {
            let mut member = std::mem::take(member);
            if level < RECURSION_LEVELS {
                detach_nested(&mut member, level + 1, deeper);
            } else {
                deeper.push(member);
            }
        }
    };
    match value {
        Value::Array(items) => {
            if let Some(items) = Arc::get_mut(items) {
                items.iter_mut().for_each(detach);
            }
        }
        Value::Object(map) => {
            if let Some(map) = Arc::get_mut(map) {
                map.values_mut().for_each(detach);
            }
        }
        _ => {}
    }
}

/// JSON equality (see `PartialEq for Value`), with the pairs of containers
/// still to compare on a heap stack.
pub(super) fn equal(a: &Value, b: &Value) -> bool {
    let mut pending: Vec<(&Value, &Value)> = Vec::new();
    let (mut a, mut b) = (a, b);
    loop {
        let same = match (a, b) {
            (Value::Array(x), Value::Array(y)) => {
                Arc::ptr_eq(x, y)
                    || (x.len() == y.len()
                        && x.iter()
                            .zip(y.iter())
                            .all(|(p, q)| shallow_equal(p, q, &mut pending)))
            }
            (Value::Object(x), Value::Object(y)) => {
                Arc::ptr_eq(x, y)
                    || (x.len() == y.len()
                        && x.iter().all(|(k, p)| {
                            y.get(k).is_some_and(|q| shallow_equal(p, q, &mut pending))
                        }))
            }
            _ => shallow_equal(a, b, &mut pending),
        };
        if !same {
            return false;
        }
        match pending.pop() {
            Some((p, q)) => (a, b) = (p, q),
            None => return true,
        }
    }
}

/// Compares scalars; two containers of the same kind are pushed onto
/// `pending` (and count as equal for now).
#[inline]
fn shallow_equal<'v>(
    a: &'v Value,
    b: &'v Value,
    pending: &mut Vec<(&'v Value, &'v Value)>,
) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
            pending.push((a, b));
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::json;
    use crate::value::{Map, Str, Value};

    /// `[[[...0...]]]`, `depth` arrays deep.
    fn nested_arrays(depth: usize) -> Value {
        let mut v = Value::from(0);
        for _ in 0..depth {
            v = Value::array(vec![v]);
        }
        v
    }

    /// `{"a":{"a":...{}}}`, `depth` objects deep.
    fn nested_objects(depth: usize) -> Value {
        let mut v = Value::empty_object();
        for _ in 1..depth {
            let mut map = Map::new();
            map.insert(Str::new("a"), v);
            v = Value::object(map);
        }
        v
    }

    #[test]
    fn a_value_a_million_deep_drops_and_compares() {
        for make in [nested_arrays, nested_objects] {
            let a = make(1_000_000);
            let b = make(1_000_000);
            assert!(a == b);
            assert!(a != make(999_999));
            drop(a);
            drop(b);
        }
    }

    #[test]
    fn shared_parts_survive_the_drop_of_one_owner() {
        let shared = nested_arrays(10_000);
        let outer = Value::array(vec![shared.clone(), json!({"k": [1, [2]]})]);
        drop(outer);
        assert_eq!(shared, nested_arrays(10_000));
    }

    #[test]
    fn equality_still_looks_inside_every_member() {
        assert_eq!(
            json!([{"a": [1, {"b": 2}]}]),
            json!([{"a": [1.0, {"b": 2}]}])
        );
        assert_ne!(json!([{"a": [1, {"b": 2}]}]), json!([{"a": [1, {"b": 3}]}]));
        assert_ne!(json!([{"a": [1, {"b": 2}]}]), json!([{"a": [1, {"c": 2}]}]));
        assert_ne!(json!([[1], [2]]), json!([[1], [2, 3]]));
        assert_ne!(json!([[]]), json!([{}]));
    }
}
