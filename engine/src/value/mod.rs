//! The in-memory JSON value every part of the engine works on.
//!
//! Payloads are rebuilt at every state (`Parameters`, `ResultSelector` and
//! `ResultPath` all produce new objects from pieces of old ones), so the value
//! is designed for cheap sharing rather than cheap mutation:
//!
//! * arrays and objects sit behind an [`Arc`], so cloning a value is a pointer
//!   copy and an unchanged sub-tree is shared between the input and output of a
//!   state; mutation goes through [`Arc::make_mut`] (copy-on-write of one level);
//! * strings are [`Str`] (`SmolStr`): up to 23 bytes inline, longer ones behind
//!   an `Arc<str>`, so the short keys and values typical of events clone without
//!   touching the heap or a shared reference count;
//! * numbers keep the integer/float distinction of their source text, so `3`
//!   stays `3` and `3.0` stays `3.0` on output, while equality compares by value.
//!
//! The reference count is atomic because executions move between shard
//! threads, and it is `triomphe`'s `Arc`, which has no weak count: checking
//! that a value is unshared before mutating it in place is one load rather
//! than a compare-and-swap, and dropping is one decrement.
//! The choice was measured against `serde_json::Value` (deep clone on every
//! state); see `bench/benches/value.rs`.

mod deep;
mod map;
mod number;
mod parse;
mod serde_impl;
pub mod size;
mod write;

use std::fmt;

/// The reference-counted pointer behind arrays and objects.
pub type Arc<T> = triomphe::Arc<T>;

pub use map::{Key, Map};
pub use number::Number;
pub use parse::{JsonParseError, parse_json, parse_json_str};
pub use write::{
    write_json, write_json_as_string, write_json_bytes, write_json_pretty, write_json_string,
};

/// A shared, immutable string: inline up to 23 bytes, reference counted above.
pub type Str = smol_str::SmolStr;

/// The deepest nesting of arrays and objects a value may have (the limit of
/// `simd-json`, which [`parse_json`] uses): `[[1]]` is 2 deep, a scalar 0.
/// Values built by JSONata are held to the same limit, and so is every value
/// a state produces (its result, output, variables, and the inputs of its
/// branches and iterations): a state that would build a deeper one fails
/// with `States.Runtime`. Dropping, writing, sizing and comparing a value do
/// not recurse, so they are safe at any depth.
pub const MAX_DEPTH: usize = 1024;

/// A JSON value with shared sub-trees. See the module documentation.
#[derive(Clone, Default)]
pub enum Value {
    /// JSON `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer or a double.
    Number(Number),
    /// A string.
    String(Str),
    /// An array (shared; clone is a pointer copy).
    Array(Arc<Vec<Value>>),
    /// An object with insertion-ordered keys (shared; clone is a pointer copy).
    Object(Arc<Map>),
}

/// The JSON type of a value, with the names AWS uses in its error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonType {
    /// `null`
    Null,
    /// `true` / `false`
    Boolean,
    /// any number
    Number,
    /// a string
    String,
    /// an array
    Array,
    /// an object
    Object,
}

impl JsonType {
    /// The lowercase name (`"object"`, `"array"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Value {
    /// An empty object.
    pub fn empty_object() -> Value {
        Value::Object(Arc::new(Map::new()))
    }

    /// An empty array.
    pub fn empty_array() -> Value {
        Value::Array(Arc::new(Vec::new()))
    }

    /// Wraps a map into an object value.
    pub fn object(map: Map) -> Value {
        Value::Object(Arc::new(map))
    }

    /// Wraps a vector into an array value.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    /// A string value.
    pub fn string(s: impl AsRef<str>) -> Value {
        Value::String(Str::new(s.as_ref()))
    }

    /// The JSON type of this value.
    pub fn json_type(&self) -> JsonType {
        match self {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// `true` for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a number.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as a double, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// The number as an integer, if this is a number with no fractional part
    /// that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_exact_i64)
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a.as_slice()),
            _ => None,
        }
    }

    /// The map, if this is an object.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The string, moved out (`Err(self)` for any other value).
    pub fn into_string(self) -> Result<Str, Value> {
        match self {
            Value::String(_) => match &*std::mem::ManuallyDrop::new(self) {
                // SAFETY: `self` is never dropped (ManuallyDrop), so the
                // string read out of it has exactly one owner.
                Value::String(s) => Ok(unsafe { std::ptr::read(s) }),
                _ => unreachable!("matched a string"),
            },
            other => Err(other),
        }
    }

    /// The shared elements of an array, moved out (`Err(self)` otherwise).
    pub fn into_array(self) -> Result<Arc<Vec<Value>>, Value> {
        match self {
            Value::Array(_) => match &*std::mem::ManuallyDrop::new(self) {
                // SAFETY: as in `into_string`.
                Value::Array(items) => Ok(unsafe { std::ptr::read(items) }),
                _ => unreachable!("matched an array"),
            },
            other => Err(other),
        }
    }

    /// The shared map of an object, moved out (`Err(self)` otherwise).
    pub fn into_object(self) -> Result<Arc<Map>, Value> {
        match self {
            Value::Object(_) => match &*std::mem::ManuallyDrop::new(self) {
                // SAFETY: as in `into_string`.
                Value::Object(map) => Ok(unsafe { std::ptr::read(map) }),
                _ => unreachable!("matched an object"),
            },
            other => Err(other),
        }
    }

    /// Mutable access to the map of an object, copying it first if it is shared.
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(Arc::make_mut(m)),
            _ => None,
        }
    }

    /// Mutable access to the elements of an array, copying them first if shared.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(Arc::make_mut(a)),
            _ => None,
        }
    }

    /// The member `key` of an object (`None` for a missing key or a non-object).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }

    /// The element at `index` of an array (`None` when out of range or not an array).
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.as_array().and_then(|a| a.get(index))
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out);
        out
    }

    /// Compact JSON text as bytes (for records and sockets).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Room for a typical event, so the buffer rarely grows.
        let mut out = Vec::with_capacity(256);
        write_json_bytes(self, &mut out);
        out
    }

    /// JSON text indented by two spaces.
    pub fn to_json_pretty(&self) -> String {
        let mut out = String::new();
        write_json_pretty(self, &mut out);
        out
    }

    /// `true` when both values point at the same shared array/object (or are
    /// equal scalars). A cheap pre-check before a deep comparison.
    pub fn ptr_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Array(a), Value::Array(b)) => Arc::ptr_eq(a, b),
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// JSON equality: object key order is ignored, numbers compare by value
/// (`1 == 1.0`), everything else exactly. Does not recurse (see
/// [`deep`](self::deep)), so any depth compares.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        deep::equal(self, other)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(Number::Int(n))
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Number(Number::Int(n.into()))
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Number(Number::Int(n.into()))
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::Number(Number::from_u64(n as u64))
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(Number::Float(n))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(Str::new(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Str::from(s))
    }
}

impl From<Str> for Value {
    fn from(s: Str) -> Value {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::array(items)
    }
}

impl From<Map> for Value {
    fn from(map: Map) -> Value {
        Value::object(map)
    }
}

impl From<&serde_json::Value> for Value {
    fn from(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(Number::from_serde(n)),
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(a) => Value::array(a.iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                let mut map = Map::with_capacity(o.len());
                for (k, v) in o {
                    map.insert(Str::new(k), Value::from(v));
                }
                Value::object(map)
            }
        }
    }
}

impl From<&Value> for serde_json::Value {
    fn from(v: &Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => n.to_serde(),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Into::into).collect()),
            Value::Object(o) => serde_json::Value::Object(
                o.iter().map(|(k, v)| (k.to_string(), v.into())).collect(),
            ),
        }
    }
}

/// Builds a [`Value`] from JSON-like syntax, for tests and examples.
///
/// ```
/// use spate_engine::json;
/// let v = json!({"a": [1, 2.5, "x", null, true]});
/// assert_eq!(v.to_json(), r#"{"a":[1,2.5,"x",null,true]}"#);
/// ```
#[macro_export]
macro_rules! json {
    ($($tt:tt)+) => {
        $crate::value::Value::from(&::serde_json::json!($($tt)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_stays_small() {
        assert_eq!(
            std::mem::size_of::<Value>(),
            24,
            "a Value is a 24-byte enum: SmolStr with its niche holds the tag"
        );
    }

    #[test]
    fn value_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Value>();
    }

    #[test]
    fn equality_ignores_key_order_and_number_form() {
        assert_eq!(json!({"a": 1, "b": [1.0]}), json!({"b": [1], "a": 1.0}));
        assert_ne!(json!({"a": 1}), json!({"a": 1, "b": null}));
        assert_ne!(json!([1, 2]), json!([2, 1]));
        assert_ne!(json!(null), json!(false));
    }

    #[test]
    fn clone_shares_and_mutation_copies() {
        let a = json!({"x": {"y": 1}});
        let mut b = a.clone();
        assert!(a.ptr_eq(&b));
        b.as_object_mut()
            .unwrap()
            .insert("z".into(), Value::from(2));
        assert!(!a.ptr_eq(&b));
        assert_eq!(a, json!({"x": {"y": 1}}));
        assert_eq!(b, json!({"x": {"y": 1}, "z": 2}));
        // the untouched sub-tree is still shared
        assert!(a.get("x").unwrap().ptr_eq(b.get("x").unwrap()));
    }
}
