//! Object, boolean and error functions.

use super::{arg, str_arg, to_boolean};
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::eval::{Evaluator, lookup as path_lookup};
use crate::jsonata::limits::ENTRY_BYTES;
use crate::jsonata::val::{KeyIndex, Val};
use crate::value::Str;

pub(super) fn boolean_fn(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(to_boolean(arg(&args, 0)).map_or(Val::Undef, Val::from))
}

pub(super) fn not(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(to_boolean(arg(&args, 0)).map_or(Val::Undef, |b| Val::from(!b)))
}

pub(super) fn exists(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(Val::from(!arg(&args, 0).is_undef()))
}

pub(super) fn keys(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    let mut out: Vec<Str> = Vec::new();
    let mut index = KeyIndex::default();
    let objects = match v.items() {
        Some(items) => items.iter().collect(),
        None => vec![v.clone()],
    };
    for o in objects {
        let entries = o.entries();
        ev.guard.work(entries.len() as u64)?;
        for (k, _) in entries {
            if index.find(&k, &out, |k| k).is_none() {
                out.push(k);
                index.pushed(&out, |k| k);
            }
        }
    }
    Ok(Val::seq(out.into_iter().map(Val::str).collect()))
}

pub(super) fn lookup(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let key = str_arg(&args, 1).unwrap_or("");
    Ok(path_lookup(arg(&args, 0), key))
}

fn spread_into(v: &Val, out: &mut Vec<Val>) {
    if let Some(items) = v.items() {
        items.iter().for_each(|i| spread_into(&i, out));
    } else if v.is_object() {
        for (k, val) in v.entries() {
            out.push(Val::object(vec![(k, val)]));
        }
    } else if !v.is_undef() {
        out.push(v.clone());
    }
}

pub(super) fn spread(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if !v.is_array() && !v.is_object() {
        return Ok(v.clone());
    }
    let mut out = Vec::new();
    spread_into(v, &mut out);
    Ok(Val::seq(out))
}

pub(super) fn merge(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let mut out: Vec<(Str, Val)> = Vec::new();
    let mut index = KeyIndex::default();
    for o in v.to_list() {
        let entries = o.entries();
        ev.guard.work(entries.len() as u64)?;
        ev.guard.fits(out.len() * ENTRY_BYTES)?;
        for (k, val) in entries {
            match index.find(&k, &out, |(n, _)| n) {
                Some(at) => out[at].1 = val,
                None => {
                    out.push((k, val));
                    index.pushed(&out, |(n, _)| n);
                }
            }
        }
    }
    Ok(Val::object(out))
}

pub(super) fn sift(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    let func = arg(&args, 1);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let mut out = Vec::new();
    for (k, val) in v.entries() {
        let r = call3(ev, func, val.clone(), Val::str(k.clone()), v)?;
        if super::boolean(&r) {
            out.push((k, val));
        }
    }
    if out.is_empty() {
        return Ok(Val::Undef);
    }
    Ok(Val::object(out))
}

/// Calls `func` with (value, key, object), as many as it declares.
fn call3(ev: &mut Evaluator<'_>, func: &Val, value: Val, key: Val, obj: &Val) -> Result<Val> {
    let arity = func.as_func().map_or(1, |f| f.arity());
    let mut a = vec![value];
    if arity >= 2 {
        a.push(key);
    }
    if arity >= 3 {
        a.push(obj.clone());
    }
    ev.apply(func, a, &Val::Undef)
}

pub(super) fn each(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let func = arg(&args, 1);
    let mut out = Vec::new();
    for (k, val) in v.entries() {
        let r = call3(ev, func, val, Val::str(k), v)?;
        if !r.is_undef() {
            out.push(r);
        }
    }
    Ok(Val::seq(out))
}

pub(super) fn error(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let message = str_arg(&args, 0).unwrap_or("$error() function evaluated");
    Err(JsonataError::with_text("D3137", message))
}

pub(super) fn assert(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    if !super::boolean(arg(&args, 0)) {
        let message = str_arg(&args, 1).unwrap_or("$assert() statement failed");
        return Err(JsonataError::with_text("D3141", message));
    }
    Ok(Val::Undef)
}

pub(super) fn type_of(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(arg(&args, 0).type_name().map_or(Val::Undef, Val::from))
}
