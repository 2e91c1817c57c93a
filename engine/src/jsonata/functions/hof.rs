//! Higher-order functions over arrays.

use super::arg;
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::eval::Evaluator;
use crate::jsonata::val::Val;

pub(super) fn map(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let func = arg(&args, 1);
    let mut out = Vec::new();
    for (i, item) in v.to_list().into_iter().enumerate() {
        let r = ev.call_hof(func, item, i, v)?;
        if !r.is_undef() {
            out.push(r);
        }
    }
    Ok(Val::seq(out))
}

pub(super) fn filter(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let func = arg(&args, 1);
    let mut out = Vec::new();
    for (i, item) in v.to_list().into_iter().enumerate() {
        let r = ev.call_hof(func, item.clone(), i, v)?;
        if super::boolean(&r) {
            out.push(item);
        }
    }
    Ok(Val::seq(out))
}

pub(super) fn single(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let func = arg(&args, 1);
    let mut found: Option<Val> = None;
    for (i, item) in v.to_list().into_iter().enumerate() {
        let ok = func.is_undef() || super::boolean(&ev.call_hof(func, item.clone(), i, v)?);
        if ok {
            if found.is_some() {
                return Err(JsonataError::new("D3138").extra("index", i.to_string()));
            }
            found = Some(item);
        }
    }
    found.ok_or_else(|| JsonataError::new("D3139"))
}

pub(super) fn reduce(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let func = arg(&args, 1);
    let arity = func.as_func().map_or(0, |f| f.arity());
    if arity < 2 {
        return Err(JsonataError::new("D3050").extra("index", "1"));
    }
    let items = v.to_list();
    let init = arg(&args, 2);
    let (mut acc, start) = if init.is_undef() && !items.is_empty() {
        (items[0].clone(), 1)
    } else {
        (init.clone(), 0)
    };
    for (i, item) in items.iter().enumerate().skip(start) {
        let mut a = vec![acc, item.clone()];
        if arity >= 3 {
            a.push(Val::from(i as f64));
        }
        if arity >= 4 {
            a.push(v.clone());
        }
        acc = ev.apply(func, a, &Val::Undef)?;
    }
    Ok(acc)
}
