//! The evaluator's result type.
//!
//! Plain JSON is carried as the engine's [`Value`] (cloning is an `Arc` bump),
//! so navigating an input document never copies it. Everything JSONata needs
//! beyond JSON gets its own variant: "nothing" (`undefined`), sequences and
//! flagged arrays, objects or arrays holding functions, functions, tuple
//! streams (for `@`, `#` and `%`) and pending tail calls.

use super::ast::{LambdaDef, TransformDef};
use super::error::{FUNCTION_RESULT, JsonataError, Result};
use super::frame::Frame;
use super::functions::Native;
use super::regex::RegexLit;
use crate::value::{Map, Number, Str, Value};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// The array is a sequence: it collapses to its only item, or to nothing
/// when empty, and flattens into the results of a path step.
pub(crate) const SEQ: u8 = 1;
/// A sequence that must not collapse to its only item (`[]` in a path).
pub(crate) const KEEP: u8 = 2;
/// Built by an array constructor at the start or end of a path: not
/// flattened into the step results.
pub(crate) const CONS: u8 = 4;
/// The wrapper put around an array input so it is treated as one item.
pub(crate) const OUTER: u8 = 8;

/// An evaluation result.
#[derive(Clone, Default)]
pub(crate) enum Val {
    /// Nothing (JavaScript `undefined`).
    #[default]
    Undef,
    /// Plain JSON (arrays here are ordinary arrays, not sequences).
    J(Value),
    /// A sequence, a flagged array, or an array holding non-JSON items.
    Arr(Rc<Arr>),
    /// An object holding at least one non-JSON value (a function).
    Obj(Rc<Vec<(Str, Val)>>),
    /// A function.
    Func(Rc<Func>),
    /// A tuple stream (the bindings of `@`, `#` and `%` along a path).
    Tuples(Rc<Vec<Tuple>>),
    /// A call in tail position, to be made by the caller's apply loop.
    Tail(Box<super::eval::TailCall>),
}

/// An array with flags; see [`SEQ`], [`KEEP`], [`CONS`], [`OUTER`].
#[derive(Clone, Default)]
pub(crate) struct Arr {
    pub items: Vec<Val>,
    pub flags: u8,
}

/// One tuple of a tuple stream: the context item `@` and the bindings made
/// along the path so far.
#[derive(Clone)]
pub(crate) struct Tuple {
    pub at: Val,
    pub binds: Vec<(Str, Val)>,
}

impl Tuple {
    /// The value bound to `name` in this tuple.
    pub fn get(&self, name: &str) -> Option<&Val> {
        self.binds.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Binds `name`, replacing an earlier binding.
    pub fn set(&mut self, name: &Str, value: Val) {
        match self.binds.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.binds.push((name.clone(), value)),
        }
    }
}

/// A callable value.
pub(crate) enum Func {
    /// A user-defined `function($x){...}` with its closure.
    Lambda {
        def: Arc<LambdaDef>,
        env: Rc<Frame>,
        input: Val,
    },
    /// A built-in function.
    Native(&'static Native),
    /// A partially applied function: `None` marks a `?` placeholder.
    Partial { func: Val, args: Vec<Option<Val>> },
    /// A regular expression literal, callable as a matcher.
    Regex(Arc<RegexLit>),
    /// The `next` of a regex match object: continue matching `text` at `from`.
    MatchNext {
        regex: Arc<RegexLit>,
        text: Str,
        from: usize,
    },
    /// A transform `| pattern | update, delete |`.
    Transform {
        def: Arc<TransformDef>,
        env: Rc<Frame>,
    },
    /// `f ~> g` with both sides functions: `g(f(x))`.
    Compose(Val, Val),
}

impl Func {
    /// Number of declared parameters (used by `$map`, `$filter`, ... to decide
    /// which of value, index and array to pass).
    pub fn arity(&self) -> usize {
        match self {
            Func::Lambda { def, .. } => def.params.len(),
            Func::Native(n) => n.arity(),
            Func::Partial { args, .. } => args.iter().filter(|a| a.is_none()).count(),
            Func::Regex(_) => 1,
            Func::MatchNext { .. } => 0,
            Func::Transform { .. } => 1,
            Func::Compose(..) => 1,
        }
    }
}

/// A view of the items of an array-like value.
#[derive(Clone, Copy)]
pub(crate) enum Items<'a> {
    Json(&'a [Value]),
    Vals(&'a [Val]),
}

impl<'a> Items<'a> {
    pub fn len(&self) -> usize {
        match self {
            Items::Json(a) => a.len(),
            Items::Vals(a) => a.len(),
        }
    }

    pub fn get(&self, i: usize) -> Option<Val> {
        match self {
            Items::Json(a) => a.get(i).map(|v| Val::J(v.clone())),
            Items::Vals(a) => a.get(i).cloned(),
        }
    }

    pub fn iter(self) -> ItemsIter<'a> {
        match self {
            Items::Json(a) => ItemsIter::Json(a.iter()),
            Items::Vals(a) => ItemsIter::Vals(a.iter()),
        }
    }
}

/// Iterator over [`Items`], yielding cloned values.
pub(crate) enum ItemsIter<'a> {
    Json(std::slice::Iter<'a, Value>),
    Vals(std::slice::Iter<'a, Val>),
}

impl Iterator for ItemsIter<'_> {
    type Item = Val;
    fn next(&mut self) -> Option<Val> {
        match self {
            ItemsIter::Json(i) => i.next().map(|v| Val::J(v.clone())),
            ItemsIter::Vals(i) => i.next().cloned(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            ItemsIter::Json(i) => i.size_hint(),
            ItemsIter::Vals(i) => i.size_hint(),
        }
    }
}

impl DoubleEndedIterator for ItemsIter<'_> {
    fn next_back(&mut self) -> Option<Val> {
        match self {
            ItemsIter::Json(i) => i.next_back().map(|v| Val::J(v.clone())),
            ItemsIter::Vals(i) => i.next_back().cloned(),
        }
    }
}

impl ExactSizeIterator for ItemsIter<'_> {}

impl From<Value> for Val {
    fn from(v: Value) -> Val {
        Val::J(v)
    }
}

impl From<f64> for Val {
    fn from(n: f64) -> Val {
        Val::J(num(n))
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::J(Value::Bool(b))
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::J(Value::String(Str::new(s)))
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::J(Value::String(Str::from(s)))
    }
}

/// A JSONata number as a [`Value`]: whole numbers within the exactly
/// representable range become integers, so they print without a fraction.
pub(crate) fn num(n: f64) -> Value {
    const SAFE: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= SAFE && !(n == 0.0 && n.is_sign_negative()) {
        Value::Number(Number::Int(n as i64))
    } else {
        Value::Number(Number::Float(n))
    }
}

impl Val {
    /// A sequence of the given items.
    pub fn seq(items: Vec<Val>) -> Val {
        Val::Arr(Rc::new(Arr { items, flags: SEQ }))
    }

    /// A plain array: JSON when every item is JSON.
    pub fn array(items: Vec<Val>) -> Val {
        Val::flagged_array(items, 0)
    }

    /// An array with flags (JSON when unflagged and every item is JSON).
    pub fn flagged_array(items: Vec<Val>, flags: u8) -> Val {
        if flags == 0 && items.iter().all(|v| matches!(v, Val::J(_))) {
            let values = items
                .into_iter()
                .map(|v| match v {
                    Val::J(j) => j,
                    _ => Value::Null,
                })
                .collect();
            Val::J(Value::array(values))
        } else {
            Val::Arr(Rc::new(Arr { items, flags }))
        }
    }

    /// An object: JSON when every value is JSON.
    pub fn object(entries: Vec<(Str, Val)>) -> Val {
        if entries.iter().all(|(_, v)| matches!(v, Val::J(_))) {
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries {
                if let Val::J(j) = v {
                    map.insert(k, j);
                }
            }
            Val::J(Value::object(map))
        } else {
            Val::Obj(Rc::new(entries))
        }
    }

    /// A string value.
    pub fn str(s: impl Into<Str>) -> Val {
        Val::J(Value::String(s.into()))
    }

    pub fn is_undef(&self) -> bool {
        matches!(self, Val::Undef)
    }

    pub fn is_func(&self) -> bool {
        matches!(self, Val::Func(_))
    }

    /// The function, if this is one.
    pub fn as_func(&self) -> Option<&Rc<Func>> {
        match self {
            Val::Func(f) => Some(f),
            _ => None,
        }
    }

    /// `true` for arrays of any kind (including sequences).
    pub fn is_array(&self) -> bool {
        matches!(self, Val::J(Value::Array(_)) | Val::Arr(_))
    }

    /// `true` for sequences.
    pub fn is_seq(&self) -> bool {
        matches!(self, Val::Arr(a) if a.flags & SEQ != 0)
    }

    /// The flags of an array value (0 for JSON arrays and non-arrays).
    pub fn flags(&self) -> u8 {
        match self {
            Val::Arr(a) => a.flags,
            _ => 0,
        }
    }

    /// `true` for objects of any kind.
    pub fn is_object(&self) -> bool {
        matches!(self, Val::J(Value::Object(_)) | Val::Obj(_))
    }

    /// The items, if this is an array.
    pub fn items(&self) -> Option<Items<'_>> {
        match self {
            Val::J(Value::Array(a)) => Some(Items::Json(a)),
            Val::Arr(a) => Some(Items::Vals(&a.items)),
            _ => None,
        }
    }

    /// The items of an array, or the value itself as a one-item list
    /// (nothing for `undefined`).
    pub fn to_list(&self) -> Vec<Val> {
        match self.items() {
            Some(items) => items.iter().collect(),
            None if self.is_undef() => Vec::new(),
            None => vec![self.clone()],
        }
    }

    /// The number, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::J(Value::Number(n)) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&Str> {
        match self {
            Val::J(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The member `key` of an object (`Undef` when missing or not an object).
    pub fn field(&self, key: &str) -> Val {
        match self {
            Val::J(Value::Object(m)) => m.get(key).cloned().map_or(Val::Undef, Val::J),
            Val::Obj(entries) => entries
                .iter()
                .find(|(k, _)| k == key)
                .map_or(Val::Undef, |(_, v)| v.clone()),
            _ => Val::Undef,
        }
    }

    /// The entries of an object, in order.
    pub fn entries(&self) -> Vec<(Str, Val)> {
        match self {
            Val::J(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), Val::J(v.clone())))
                .collect(),
            Val::Obj(entries) => entries.as_ref().clone(),
            _ => Vec::new(),
        }
    }

    /// The type name `$type` reports.
    pub fn type_name(&self) -> Option<&'static str> {
        Some(match self {
            Val::Undef | Val::Tail(_) => return None,
            Val::J(Value::Null) => "null",
            Val::J(Value::Bool(_)) => "boolean",
            Val::J(Value::Number(_)) => "number",
            Val::J(Value::String(_)) => "string",
            Val::J(Value::Array(_)) | Val::Arr(_) | Val::Tuples(_) => "array",
            Val::J(Value::Object(_)) | Val::Obj(_) => "object",
            Val::Func(_) => "function",
        })
    }

    /// Converts to JSON for output. Functions have no JSON form.
    pub fn to_value(&self) -> Result<Option<Value>> {
        match self {
            Val::Undef => Ok(None),
            Val::J(v) => Ok(Some(v.clone())),
            _ => self.to_json_lossy(false).map(Some),
        }
    }

    /// Converts to JSON. With `lossy`, functions become `""` (the way
    /// `$string` writes them) and `undefined` items are dropped; without, a
    /// function is an error.
    pub fn to_json_lossy(&self, lossy: bool) -> Result<Value> {
        Ok(match self {
            Val::J(v) => v.clone(),
            Val::Undef => Value::Null,
            Val::Arr(a) => {
                let mut out = Vec::with_capacity(a.items.len());
                for item in &a.items {
                    if !item.is_undef() {
                        out.push(item.to_json_lossy(lossy)?);
                    }
                }
                Value::array(out)
            }
            Val::Obj(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (k, v) in entries.iter() {
                    if !v.is_undef() {
                        map.insert(k.clone(), v.to_json_lossy(lossy)?);
                    }
                }
                Value::object(map)
            }
            Val::Tuples(t) => {
                let items: Vec<Val> = t.iter().map(|t| t.at.clone()).collect();
                Val::array(items).to_json_lossy(lossy)?
            }
            Val::Func(_) | Val::Tail(_) if lossy => Value::from(""),
            Val::Func(_) | Val::Tail(_) => return Err(JsonataError::new(FUNCTION_RESULT)),
        })
    }

    /// The JSON value for error details (`None` for functions).
    pub fn detail(&self) -> Option<Value> {
        match self {
            Val::Undef => None,
            Val::J(v) => Some(v.clone()),
            other => other.to_json_lossy(false).ok(),
        }
    }
}

/// Finds a key among the entries of an object being built: a scan while
/// there are few, a hash table from [`KeyIndex::FROM_LEN`] entries on, so
/// building an object of many keys stays linear.
#[derive(Default)]
pub(crate) struct KeyIndex(Option<HashMap<Str, usize>>);

impl KeyIndex {
    /// Number of entries from which the hash table is kept.
    const FROM_LEN: usize = 16;

    /// The position of `key` in `entries`.
    pub fn find<T>(&self, key: &str, entries: &[T], key_of: fn(&T) -> &Str) -> Option<usize> {
        match &self.0 {
            Some(table) => table.get(key).copied(),
            None => entries.iter().position(|e| key_of(e) == key),
        }
    }

    /// Notes the entry just pushed at the end of `entries`.
    pub fn pushed<T>(&mut self, entries: &[T], key_of: fn(&T) -> &Str) {
        match &mut self.0 {
            Some(table) => {
                if let Some(last) = entries.last() {
                    table.insert(key_of(last).clone(), entries.len() - 1);
                }
            }
            None if entries.len() >= Self::FROM_LEN => {
                let table = entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (key_of(e).clone(), i))
                    .collect();
                self.0 = Some(table);
            }
            None => {}
        }
    }
}

/// Collapses a sequence the way every JSONata expression result is: empty is
/// nothing, a single item stands for itself unless the sequence is marked to
/// keep singletons (`keep` sets that mark).
#[inline]
pub(crate) fn normalize(v: Val, keep: bool) -> Val {
    match &v {
        Val::Arr(a) if a.flags & SEQ != 0 => collapse(v, keep),
        _ => v,
    }
}

/// [`normalize`] for a sequence.
fn collapse(v: Val, keep: bool) -> Val {
    match v {
        Val::Arr(mut a) if a.flags & SEQ != 0 => {
            if keep && a.flags & KEEP == 0 {
                Rc::make_mut(&mut a).flags |= KEEP;
            }
            match a.items.len() {
                0 => Val::Undef,
                1 if a.flags & KEEP == 0 => match Rc::try_unwrap(a) {
                    Ok(mut arr) => arr.items.pop().unwrap_or_default(),
                    Err(a) => a.items[0].clone(),
                },
                _ => Val::Arr(a),
            }
        }
        other => other,
    }
}

/// Deep equality (the `=` operator and `$distinct`): numbers by value,
/// arrays in order, objects ignoring key order; functions never equal.
pub(crate) fn deep_equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::J(x), Val::J(y)) => x == y,
        (Val::Undef, Val::Undef) => false,
        _ => {
            if let (Some(x), Some(y)) = (a.items(), b.items()) {
                return x.len() == y.len()
                    && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(&p, &q));
            }
            if a.is_object() && b.is_object() {
                let (x, y) = (a.entries(), b.entries());
                return x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && deep_equal(v, v2)));
            }
            match (a, b) {
                (Val::Func(f), Val::Func(g)) => Rc::ptr_eq(f, g),
                _ => false,
            }
        }
    }
}

impl std::fmt::Debug for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Undef => f.write_str("undefined"),
            Val::Func(_) => f.write_str("<function>"),
            other => f.write_str(&super::numfmt::stringify_val(other, false)),
        }
    }
}
