//! The transform operator `| pattern | update, delete |`.
//!
//! jsonata-js deep-copies the target and mutates the matched objects in
//! place. Values here are immutable and shared, so the matches are found in
//! the target itself (path navigation keeps the `Arc` of every object), each
//! update is recorded against the matched object's address, and the target
//! is then rebuilt with the updated objects swapped in; untouched sub-trees
//! stay shared.

use super::Evaluator;
use crate::jsonata::ast::TransformDef;
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::frame::Frame;
use crate::jsonata::val::Val;
use crate::value::Arc;
use crate::value::{Map, Value};
use std::collections::HashMap;
use std::rc::Rc;

/// Updated objects by the address of the original.
type Replacements = HashMap<usize, Value>;

fn address(map: &Arc<Map>) -> usize {
    Arc::as_ptr(map) as usize
}

/// `true` when `new` is `old` itself (or `old` is a scalar, which cannot
/// have changed).
fn unchanged(new: &Value, old: &Value) -> bool {
    new.ptr_eq(old) || !matches!(old, Value::Object(_) | Value::Array(_))
}

/// `value` with every recorded replacement applied, sharing what is unchanged.
fn rebuild(value: &Value, replaced: &Replacements) -> Value {
    match value {
        Value::Object(map) => {
            let base = replaced.get(&address(map)).unwrap_or(value);
            let Value::Object(base_map) = base else {
                return base.clone();
            };
            let children: Vec<Value> = base_map.values().map(|v| rebuild(v, replaced)).collect();
            if children
                .iter()
                .zip(base_map.values())
                .all(|(n, o)| unchanged(n, o))
            {
                return base.clone();
            }
            let mut m = Map::with_capacity(base_map.len());
            for (k, v) in base_map.keys().zip(children) {
                m.push_unique(k.clone(), v);
            }
            Value::object(m)
        }
        Value::Array(items) => {
            let rebuilt: Vec<Value> = items.iter().map(|v| rebuild(v, replaced)).collect();
            if rebuilt
                .iter()
                .zip(items.iter())
                .all(|(n, o)| unchanged(n, o))
            {
                value.clone()
            } else {
                Value::array(rebuilt)
            }
        }
        other => other.clone(),
    }
}

impl<'h> Evaluator<'h> {
    /// Applies a transform to `target`.
    pub(super) fn transform(
        &mut self,
        def: &TransformDef,
        env: &Rc<Frame>,
        target: Val,
    ) -> Result<Val> {
        if target.is_undef() {
            return Ok(Val::Undef);
        }
        let target = match target {
            Val::J(v) => v,
            other => other.to_json_lossy(true)?,
        };
        let matches = self.eval(&def.pattern, &Val::J(target.clone()), env)?;
        let mut replaced = Replacements::new();
        for m in matches.to_list() {
            let Val::J(Value::Object(original)) = &m else {
                continue;
            };
            let key = address(original);
            let current = match replaced.get(&key) {
                Some(v) => v.clone(),
                None if replaced.is_empty() => m_value(original),
                None => rebuild(&m_value(original), &replaced),
            };
            let Value::Object(current_map) = &current else {
                continue;
            };
            let mut map = current_map.as_ref().clone();
            let update = self.eval(&def.update, &Val::J(current.clone()), env)?;
            if !update.is_undef() {
                if !update.is_object() {
                    return Err(JsonataError::new("T2011")
                        .at(def.update.pos)
                        .value(update.detail()));
                }
                for (k, v) in update.entries() {
                    if !v.is_undef() {
                        map.insert(k, v.to_json_lossy(true)?);
                    }
                }
            }
            if let Some(delete) = &def.delete {
                let updated = Val::J(Value::object(map.clone()));
                let deletions = self.eval(delete, &updated, env)?;
                if !deletions.is_undef() {
                    let names = deletions.to_list();
                    if !names.iter().all(|n| n.as_str().is_some()) {
                        return Err(JsonataError::new("T2012")
                            .at(delete.pos)
                            .value(deletions.detail()));
                    }
                    for n in names {
                        if let Some(s) = n.as_str() {
                            map.remove(s);
                        }
                    }
                }
            }
            replaced.insert(key, Value::object(map));
        }
        Ok(Val::J(rebuild(&target, &replaced)))
    }
}

fn m_value(map: &Arc<Map>) -> Value {
    Value::Object(map.clone())
}
