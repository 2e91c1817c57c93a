//! Array functions.

use super::arg;
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::eval::{Evaluator, append as append_vals, cmp_str, merge_sort};
use crate::jsonata::val::{Val, deep_equal};

pub(super) fn count(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    let n = v
        .items()
        .map_or(if v.is_undef() { 0 } else { 1 }, |i| i.len());
    Ok(Val::from(n as f64))
}

pub(super) fn append(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(append_vals(arg(&args, 0).clone(), arg(&args, 1).clone()))
}

pub(super) fn sort(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let items = v.to_list();
    if items.len() <= 1 {
        return Ok(v.clone());
    }
    let func = arg(&args, 1).clone();
    let sorted = if func.is_undef() {
        let all_numbers = items.iter().all(|i| i.as_f64().is_some());
        let all_strings = items.iter().all(|i| i.as_str().is_some());
        if !all_numbers && !all_strings {
            return Err(JsonataError::new("D3070").extra("index", "1"));
        }
        merge_sort(items, &mut |a: &Val, b: &Val| {
            Ok(match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x > y,
                _ => cmp_str(a.as_str().map_or("", |s| s), b.as_str().map_or("", |s| s)) > 0,
            })
        })?
    } else {
        merge_sort(items, &mut |a: &Val, b: &Val| {
            let r = ev.apply(&func, vec![a.clone(), b.clone()], &Val::Undef)?;
            Ok(super::boolean(&r))
        })?
    };
    Ok(Val::array(sorted))
}

pub(super) fn reverse(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let mut items = v.to_list();
    if items.len() <= 1 {
        return Ok(v.clone());
    }
    items.reverse();
    Ok(Val::array(items))
}

pub(super) fn shuffle(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let mut items = v.to_list();
    if items.len() <= 1 {
        return Ok(v.clone());
    }
    for i in (1..items.len()).rev() {
        let j = (ev.next_random() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
    Ok(Val::array(items))
}

pub(super) fn distinct(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    let Some(items) = v.items() else {
        return Ok(v.clone());
    };
    if items.len() <= 1 {
        return Ok(v.clone());
    }
    let mut out: Vec<Val> = Vec::new();
    for item in items.iter() {
        ev.guard.work(out.len() as u64 + 1)?;
        if !out.iter().any(|o| deep_equal(o, &item)) {
            out.push(item);
        }
    }
    Ok(if v.is_seq() {
        Val::seq(out)
    } else {
        Val::array(out)
    })
}

pub(super) fn zip(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let lists: Vec<Vec<Val>> = args
        .iter()
        .map(|a| {
            if a.is_array() {
                a.to_list()
            } else {
                Vec::new()
            }
        })
        .collect();
    let len = lists.iter().map(Vec::len).min().unwrap_or(0);
    let out = (0..len)
        .map(|i| Val::array(lists.iter().map(|l| l[i].clone()).collect()))
        .collect();
    Ok(Val::array(out))
}
