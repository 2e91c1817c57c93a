//! Dropping and comparing values without recursion.
//!
//! A value can be nested deeper than any thread's stack allows when it is
//! built step by step (a JSONPath template applied in a loop, say), and
//! the compiler's drop glue or a recursive comparison would then overflow
//! the stack and abort the process. Both walk an explicit stack on the heap
//! instead, which is only allocated for values that nest containers.

use super::{Arc, Value};

/// `true` for an array or an object with at least one member.
#[inline]
fn has_members(value: &Value) -> bool {
    match value {
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => false,
    }
}

impl Drop for Value {
    /// Dropping an array or an object that is not shared moves its nested
    /// containers onto a heap stack and frees them one at a time, so a
    /// value of any depth drops in constant native stack. Containers with
    /// only scalars inside (the common case) are freed by the normal glue.
    #[inline]
    fn drop(&mut self) {
        let nested = match self {
            Value::Array(items) => Arc::is_unique(items) && items.iter().any(has_members),
            Value::Object(map) => Arc::is_unique(map) && map.values().any(has_members),
            _ => return,
        };
        if nested {
            drop_nested(self);
        }
    }
}

#[cold]
fn drop_nested(value: &mut Value) {
    let mut stack: Vec<Value> = Vec::new();
    take_members(value, &mut stack);
    while let Some(mut next) = stack.pop() {
        // Emptied first, so its own drop finds nothing nested.
        take_members(&mut next, &mut stack);
    }
}

/// Moves the members of an unshared container onto `stack`, leaving it
/// empty. A shared one is left as it is: dropping it only decrements its
/// count, and its last owner takes it apart.
fn take_members(value: &mut Value, stack: &mut Vec<Value>) {
    match value {
        Value::Array(items) => {
            if let Some(items) = Arc::get_mut(items) {
                stack.append(items);
            }
        }
        Value::Object(map) => {
            if let Some(map) = Arc::get_mut(map) {
                stack.extend(map.take_values());
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
