//! JSONPath as Step Functions evaluates it (the Jayway dialect): parsed once
//! into a [`Path`], evaluated many times.
//!
//! * A path starts at `$` (the state's input), `$$` (the context object) or
//!   `$name` (a workflow variable). The caller supplies the value of the root;
//!   [`Path::root`] says which one.
//! * A *definite* path (only names and single indexes) selects one value and
//!   fails when it is missing; an *indefinite* one (wildcards, slices, unions,
//!   filters, deep scan) selects a list, possibly empty, skipping what is missing.
//! * A *reference path* ([`ReferencePath`]) is a definite path made only of
//!   names and indexes, used to write into a document (`ResultPath`).

mod eval;
mod filter;
mod parse;
mod reference;

pub use eval::MAX_SELECTED;
pub use reference::ReferencePath;

use crate::value::{Key, Str, Value};
use std::fmt;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the state's input (or effective input, depending on the field).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(Str),
}

/// A parsed JSONPath.
#[derive(Debug, Clone)]
pub struct Path {
    source: Str,
    root: Root,
    segments: Vec<Segment>,
    function: Option<PathFunction>,
    definite: bool,
    context_field: Option<ContextField>,
}

/// The context-object fields a `$$` path can name directly, recognised when
/// the path is parsed so that evaluating it need not build the context
/// object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextField {
    /// `$$.Map.Item.Index`
    MapItemIndex,
    /// `$$.Map.Item.Value`, possibly followed by more steps into the value.
    MapItemValue,
    /// `$$.State.Name`
    StateName,
    /// `$$.State.RetryCount`
    StateRetryCount,
    /// `$$.Task.Token`
    TaskToken,
}

impl ContextField {
    fn of(
        root: &Root,
        segments: &[Segment],
        function: Option<PathFunction>,
    ) -> Option<ContextField> {
        if *root != Root::Context || function.is_some() {
            return None;
        }
        let key = |i: usize| match segments.get(i) {
            Some(Segment::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        let simple = segments
            .iter()
            .all(|s| matches!(s, Segment::Key(_) | Segment::Index(_)));
        if !simple {
            return None;
        }
        match (key(0)?, key(1)?, segments.len()) {
            ("Map", "Item", 3) if key(2)? == "Index" => Some(ContextField::MapItemIndex),
            ("Map", "Item", n) if n >= 3 && key(2)? == "Value" => Some(ContextField::MapItemValue),
            ("State", "Name", 2) => Some(ContextField::StateName),
            ("State", "RetryCount", 2) => Some(ContextField::StateRetryCount),
            ("Task", "Token", 2) => Some(ContextField::TaskToken),
            _ => None,
        }
    }
}

/// One step of a path.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// `.name` or `['name']`
    Key(Key),
    /// `[n]` (negative counts from the end)
    Index(i64),
    /// `.*` or `[*]`
    Wildcard,
    /// `[a:b]` (either bound optional)
    Slice(Option<i64>, Option<i64>),
    /// `['a','b']`
    Keys(Vec<Str>),
    /// `[1,2]`
    Indexes(Vec<i64>),
    /// `..` followed by the segment to look for at every depth
    DeepScan(Box<Segment>),
    /// `[?(...)]`
    Filter(Box<filter::Filter>),
}

/// A function applied to the selection, written as a last `.name()` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathFunction {
    Length,
    Min,
    Max,
    Avg,
    Sum,
    Stddev,
    Keys,
    First,
    Last,
}

/// What a path selected.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// The value of a definite path.
    One(Value),
    /// The values of an indefinite path, in document order (possibly none).
    Many(Vec<Value>),
}

impl Selection {
    /// The selection as one value: a definite path's value, or an array of an
    /// indefinite path's values (how Step Functions hands them on).
    pub fn into_value(self) -> Value {
        match self {
            Selection::One(v) => v,
            Selection::Many(items) => Value::array(items),
        }
    }
}

/// A path that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath '{path}': {reason}")]
pub struct PathSyntaxError {
    /// The path as written.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A definite path that selects nothing in a document, with Jayway's wording
/// (`No results for path: $['a']`, `Missing property in path $['a']`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PathMissError {
    /// The message, in the words AWS uses after "Invalid path '<path>' : ".
    pub message: String,
}

/// Why evaluating a path gave no selection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// A definite path selects nothing.
    #[error(transparent)]
    Miss(#[from] PathMissError),
    /// An indefinite path selects more than [`MAX_SELECTED`] values.
    #[error(
        "selects more than {MAX_SELECTED} values, more than the 256 KiB payload limit can hold"
    )]
    TooMany,
}

impl Path {
    /// Parses a path (`$`, `$$` or `$name` followed by segments).
    pub fn parse(source: &str) -> Result<Path, PathSyntaxError> {
        parse::parse_path(source)
    }

    /// The path as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where the path starts.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// `true` when the path selects at most one value (no wildcard, slice,
    /// union, filter or deep scan).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// `true` for a bare root (`$`, `$$`, `$name`) with no segments.
    pub fn is_root_only(&self) -> bool {
        self.segments.is_empty() && self.function.is_none()
    }

    /// Evaluates the path against `root` (the value of [`Path::root`]).
    pub fn select(&self, root: &Value) -> Result<Selection, SelectError> {
        eval::select(self, root)
    }

    /// The value a definite path without a function selects, borrowed from
    /// `root`; `None` when it selects nothing or the path is not of that kind.
    /// The fast path for the common `$.a.b` lookups.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        if !self.definite || self.function.is_some() {
            return None;
        }
        eval::get_definite(&self.segments, root)
    }

    /// The context field a `$$` path names directly, if it is one of the
    /// common ones (see [`ContextField`]).
    pub fn context_field(&self) -> Option<ContextField> {
        self.context_field
    }

    /// Like [`Path::get`], starting at step `from` with `root` as the value
    /// the earlier steps led to.
    pub fn get_from<'a>(&self, from: usize, root: &'a Value) -> Option<&'a Value> {
        if !self.definite || self.function.is_some() {
            return None;
        }
        eval::get_definite(self.segments.get(from..)?, root)
    }

    /// `true` when [`Path::get`] applies to this path.
    pub fn is_simple(&self) -> bool {
        self.definite && self.function.is_none()
    }

    /// Evaluates the path and returns the selection as one value (see
    /// [`Selection::into_value`]).
    pub fn select_value(&self, root: &Value) -> Result<Value, SelectError> {
        self.select(root).map(Selection::into_value)
    }

    /// `true` when the path selects something: a definite path's value exists
    /// (even if it is `null`), or an indefinite path matches at least one value.
    pub fn is_present(&self, root: &Value) -> bool {
        match self.select(root) {
            Ok(Selection::One(_)) => true,
            Ok(Selection::Many(items)) => !items.is_empty(),
            Err(_) => false,
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests;
