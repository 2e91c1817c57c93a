//! Dropping and comparing values without recursion.
//!
//! A value can be nested deeper than any thread's stack allows when it is
//! built step by step (a JSONPath template applied in a loop, say), and
//! the compiler's drop glue or a recursive comparison would then overflow
//! the stack and abort the process. Comparing keeps the containers still to
//! visit on a heap stack; dropping recurses a few dozen levels at most and
//! sets deeper containers aside for later.

use super::{Arc, Value};
use std::cell::{Cell, RefCell};

impl Drop for Value {
    /// An unshared array or object drops its members itself, counting how
    /// many such drops are in progress on this thread: past
    /// [`RECURSION_LEVELS`], a container is set aside whole and dropped by
    /// the outermost drop once it is done. A value of any depth so drops in
    /// bounded native stack, for a few instructions per container more than
    /// the compiler's glue.
    #[inline]
    fn drop(&mut self) {
        if matches!(self, Value::Array(_) | Value::Object(_)) {
            drop_container(self);
        }
    }
}

/// Levels of containers dropped by recursion before deeper ones are set
/// aside.
const RECURSION_LEVELS: usize = 32;

thread_local! {
    /// Container drops in progress on this thread.
    static LEVEL: Cell<usize> = const { Cell::new(0) };
    /// `true` while `SET_ASIDE` may hold something (so the common drop,
    /// which sets nothing aside, never touches it).
    static ASIDE: Cell<bool> = const { Cell::new(false) };
    /// Containers set aside for the outermost drop.
    static SET_ASIDE: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// The out-of-line part of `drop`, for arrays and objects only.
fn drop_container(value: &mut Value) {
    let owned = match value {
        Value::Array(items) => !items.is_empty() && Arc::is_unique(items),
        Value::Object(map) => !map.is_empty() && Arc::is_unique(map),
        _ => false,
    };
    if !owned {
        return;
    }
    // Once the thread's locals are gone (a value dropped as the thread
    // ends), the glue drops the value as it would without this.
    let Ok(level) = LEVEL.try_with(Cell::get) else {
        return;
    };
    if level >= RECURSION_LEVELS {
        let _ = SET_ASIDE.try_with(|aside| aside.borrow_mut().push(std::mem::take(value)));
        ASIDE.set(true);
        return;
    }
    LEVEL.set(level + 1);
    match value {
        Value::Array(items) => drop(Arc::get_mut(items).map(std::mem::take)),
        Value::Object(map) => drop(Arc::get_mut(map).map(std::mem::take)),
        _ => {}
    }
    if level == 0 && ASIDE.get() {
        while let Some(next) = SET_ASIDE.with_borrow_mut(Vec::pop) {
            drop(next);
        }
        ASIDE.set(false);
    }
    LEVEL.set(level);
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
    fn serde_serializes_a_value_at_the_nesting_limit_on_a_small_stack() {
        // `Serialize` recurses once per level; values are held to
        // `MAX_DEPTH`, which a 2 MiB thread (a debug build's test thread)
        // serializes in full
        let value = nested_objects(crate::value::MAX_DEPTH);
        let text = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || serde_json::to_string(&value).unwrap())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(text.len(), 6 * (crate::value::MAX_DEPTH - 1) + 2);
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
