//! String functions. Lengths and offsets count code points, as JSONata does
//! (not JavaScript's UTF-16 units).

use super::{arg, num_arg, str_arg};
use crate::jsonata::error::{JsonataError, LIMIT_EXCEEDED, Result};
use crate::jsonata::eval::Evaluator;
use crate::jsonata::limits::Guard;
use crate::jsonata::numfmt::{self, Unwritable};
use crate::jsonata::val::Val;
use crate::value::Value;

/// `$string(v)`: strings as they are, numbers with 15 significant digits,
/// everything else as JSON. Infinity and NaN cannot be written (D3001,
/// D1001 inside a structure). Text that would not fit what is left of the
/// evaluation's byte budget is not written.
pub(crate) fn string(v: &Val, pretty: bool, guard: &Guard) -> Result<String> {
    match v {
        Val::J(Value::String(s)) => Ok(s.to_string()),
        Val::Func(_) => Ok(String::new()),
        Val::J(Value::Number(n)) if !n.as_f64().is_finite() => Err(JsonataError::new("D3001")),
        Val::J(Value::Number(n)) if n.is_whole() => Ok(numfmt::js_string(n.as_f64())),
        other => match numfmt::stringify_checked(other, pretty, guard.bytes_left()) {
            Ok(text) => Ok(text),
            Err(Unwritable::NotFinite) => Err(JsonataError::new("D1001")),
            Err(Unwritable::TooLong) => Err(guard.over_budget()),
        },
    }
}

pub(super) fn string_fn(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let pretty = arg(&args, 1).as_bool_value().unwrap_or(false);
    let text = string(v, pretty, &ev.guard).map_err(|e| {
        if e.code == LIMIT_EXCEEDED {
            e
        } else {
            e.value(v.detail())
        }
    })?;
    Ok(Val::from(text))
}

trait BoolValue {
    fn as_bool_value(&self) -> Option<bool>;
}

impl BoolValue for Val {
    fn as_bool_value(&self) -> Option<bool> {
        match self {
            Val::J(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

/// JavaScript `slice` bounds over `len` items.
fn slice_bounds(len: usize, start: f64, end: Option<f64>) -> (usize, usize) {
    let len_f = len as f64;
    let clamp = |x: f64| {
        let x = x.trunc();
        if x < 0.0 {
            (len_f + x).max(0.0)
        } else {
            x.min(len_f)
        }
    };
    let s = clamp(start);
    let e = end.map_or(len_f, clamp);
    (s as usize, (e.max(s)) as usize)
}

pub(super) fn substring(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as f64;
    let mut start = num_arg(&args, 1).unwrap_or(0.0);
    if len + start < 0.0 {
        start = 0.0;
    }
    let end = match num_arg(&args, 2) {
        Some(length) => {
            if length <= 0.0 {
                return Ok(Val::from(""));
            }
            Some(if start >= 0.0 {
                start + length
            } else {
                len + start + length
            })
        }
        None => None,
    };
    let (a, b) = slice_bounds(chars.len(), start, end);
    Ok(Val::from(chars[a..b].iter().collect::<String>()))
}

pub(super) fn substring_before(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let (Some(s), Some(chars)) = (str_arg(&args, 0), str_arg(&args, 1)) else {
        return Ok(arg(&args, 0).clone());
    };
    Ok(Val::from(s.find(chars).map_or(s, |i| &s[..i])))
}

pub(super) fn substring_after(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let (Some(s), Some(chars)) = (str_arg(&args, 0), str_arg(&args, 1)) else {
        return Ok(arg(&args, 0).clone());
    };
    Ok(Val::from(
        s.find(chars).map_or(s, |i| &s[i + chars.len()..]),
    ))
}

pub(super) fn lowercase(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(str_arg(&args, 0).map_or(Val::Undef, |s| Val::from(s.to_lowercase())))
}

pub(super) fn uppercase(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(str_arg(&args, 0).map_or(Val::Undef, |s| Val::from(s.to_uppercase())))
}

pub(super) fn length(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(str_arg(&args, 0).map_or(Val::Undef, |s| Val::from(s.chars().count() as f64)))
}

pub(super) fn trim(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_space = true;
        } else {
            if in_space && !out.is_empty() {
                out.push(' ');
            }
            in_space = false;
            out.push(c);
        }
    }
    Ok(Val::from(out))
}

pub(super) fn pad(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let width = num_arg(&args, 1).unwrap_or(0.0);
    let fill = match str_arg(&args, 2) {
        Some(c) if !c.is_empty() => c,
        _ => " ",
    };
    let missing = width.abs().trunc() - s.chars().count() as f64;
    if missing <= 0.0 {
        return Ok(Val::from(s));
    }
    // At least a byte per character, before a byte is allocated.
    if missing > ev.guard.bytes_left() as f64 {
        return Err(ev.guard.over_budget());
    }
    let padding: String = fill.chars().cycle().take(missing as usize).collect();
    Ok(Val::from(if width > 0.0 {
        format!("{s}{padding}")
    } else {
        format!("{padding}{s}")
    }))
}

/// A match found by a matcher: start and end in characters, the matched
/// text, the groups and the `next` function.
struct Found {
    start: usize,
    end: usize,
    text: Val,
    groups: Val,
    next: Val,
}

/// Calls a matcher (a regex or a function honouring the protocol) and
/// checks the shape of what it returns (T1010).
fn call_matcher(ev: &mut Evaluator<'_>, matcher: &Val, args: Vec<Val>) -> Result<Option<Found>> {
    let r = ev.apply(matcher, args, &Val::Undef)?;
    if r.is_undef() {
        return Ok(None);
    }
    let start = r.field("start").as_f64();
    let end = r.field("end").as_f64();
    let groups = r.field("groups");
    let next = r.field("next");
    if !r.is_object() || (start.is_none() && end.is_none() && !groups.is_array() && !next.is_func())
    {
        return Err(JsonataError::new("T1010"));
    }
    Ok(Some(Found {
        start: start.unwrap_or(0.0) as usize,
        end: end.unwrap_or(0.0) as usize,
        text: r.field("match"),
        groups,
        next,
    }))
}

/// The first match of `matcher` in `s`, then each `next`, up to `limit`.
fn matches(
    ev: &mut Evaluator<'_>,
    matcher: &Val,
    s: &str,
    limit: Option<f64>,
) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    let full = |n: usize| limit.is_some_and(|l| n as f64 >= l);
    if full(0) {
        return Ok(out);
    }
    let mut found = call_matcher(ev, matcher, vec![Val::from(s)])?;
    while let Some(f) = found {
        let next = f.next.clone();
        out.push(f);
        if full(out.len()) || !next.is_func() {
            break;
        }
        found = call_matcher(ev, &next, vec![])?;
    }
    Ok(out)
}

fn char_slice(chars: &[char], a: usize, b: usize) -> String {
    let a = a.min(chars.len());
    let b = b.clamp(a, chars.len());
    chars[a..b].iter().collect()
}

pub(super) fn match_fn(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let limit = num_arg(&args, 2);
    if limit.is_some_and(|l| l < 0.0) {
        return Err(JsonataError::new("D3040").value(arg(&args, 2).detail()));
    }
    if limit == Some(0.0) {
        return Ok(Val::seq(Vec::new()));
    }
    let found = matches(ev, arg(&args, 1), s, limit)?;
    let items = found
        .into_iter()
        .map(|f| {
            Val::object(vec![
                ("match".into(), f.text),
                ("index".into(), Val::from(f.start as f64)),
                ("groups".into(), f.groups),
            ])
        })
        .collect();
    Ok(Val::seq(items))
}

pub(super) fn contains(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let token = arg(&args, 1);
    if token.is_undef() {
        return Ok(Val::Undef);
    }
    let found = match token.as_str() {
        Some(t) => s.contains(t.as_str()),
        None => call_matcher(ev, token, vec![Val::from(s)])?.is_some(),
    };
    Ok(Val::from(found))
}

/// Expands `$0`, `$1`, `$$` in a replacement string.
fn expand(replacement: &str, matched: &str, groups: &[Val]) -> String {
    let chars: Vec<char> = replacement.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        match chars.get(i) {
            Some('$') => {
                out.push('$');
                i += 1;
            }
            Some('0') => {
                out.push_str(matched);
                i += 1;
            }
            _ => {
                let max_digits = if groups.is_empty() {
                    1
                } else {
                    (groups.len() as f64).log10().floor() as usize + 1
                };
                let digits: String = chars[i..]
                    .iter()
                    .take(max_digits)
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                let mut n: Option<usize> = digits.parse().ok();
                let mut used = digits.len();
                if max_digits > 1 && n.is_some_and(|n| n > groups.len()) {
                    let shorter = &digits[..digits.len().saturating_sub(1)];
                    n = shorter.parse().ok();
                    used = shorter.len();
                }
                match n {
                    Some(n) => {
                        if n >= 1
                            && let Some(g) = groups.get(n - 1).and_then(|g| g.as_str())
                        {
                            out.push_str(g);
                        }
                        i += used;
                    }
                    None => out.push('$'),
                }
            }
        }
    }
    out
}

pub(super) fn replace(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let pattern = arg(&args, 1);
    let replacement = arg(&args, 2);
    if pattern.as_str().is_some_and(|p| p.is_empty()) {
        return Err(JsonataError::new("D3010").value(pattern.detail()));
    }
    let limit = num_arg(&args, 3);
    if limit.is_some_and(|l| l < 0.0) {
        return Err(JsonataError::new("D3011").value(arg(&args, 3).detail()));
    }
    if limit == Some(0.0) {
        return Ok(Val::from(s));
    }
    if let Some(p) = pattern.as_str() {
        let with = replacement
            .as_str()
            .map_or(String::new(), |r| r.to_string());
        let mut out = String::new();
        let mut rest = s;
        let mut count = 0.0;
        while let Some(i) = rest.find(p.as_str()) {
            if limit.is_some_and(|l| count >= l) {
                break;
            }
            out.push_str(&rest[..i]);
            out.push_str(&with);
            ev.guard.fits(out.len())?;
            rest = &rest[i + p.len()..];
            count += 1.0;
        }
        out.push_str(rest);
        return Ok(Val::from(out));
    }
    let chars: Vec<char> = s.chars().collect();
    let found = matches(ev, pattern, s, limit)?;
    let mut out = String::new();
    let mut position = 0;
    for f in found {
        out.push_str(&char_slice(&chars, position, f.start));
        let matched = f.text.as_str().map_or(String::new(), |m| m.to_string());
        let with = match replacement.as_str() {
            Some(r) => {
                let groups = f.groups.to_list();
                expand(r, &matched, &groups)
            }
            None => {
                let obj = Val::object(vec![
                    ("match".into(), f.text.clone()),
                    ("index".into(), Val::from(f.start as f64)),
                    ("groups".into(), f.groups.clone()),
                ]);
                let r = ev.apply(replacement, vec![obj], &Val::Undef)?;
                match r.as_str() {
                    Some(r) => r.to_string(),
                    None => return Err(JsonataError::new("D3012").value(r.detail())),
                }
            }
        };
        out.push_str(&with);
        ev.guard.fits(out.len())?;
        position = f.start + matched.chars().count();
    }
    out.push_str(&char_slice(&chars, position, chars.len()));
    Ok(Val::from(out))
}

pub(super) fn split(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let limit = num_arg(&args, 2);
    if limit.is_some_and(|l| l < 0.0) {
        return Err(JsonataError::new("D3020").value(arg(&args, 2).detail()));
    }
    let sep = arg(&args, 1);
    let mut parts: Vec<String> = match sep.as_str() {
        Some(p) if p.is_empty() => s.chars().map(String::from).collect(),
        Some(p) => s.split(p.as_str()).map(String::from).collect(),
        None => {
            let chars: Vec<char> = s.chars().collect();
            let found = matches(ev, sep, s, limit)?;
            let mut parts = Vec::new();
            let mut start = 0;
            for f in &found {
                parts.push(char_slice(&chars, start, f.start));
                start = f.end;
            }
            parts.push(char_slice(&chars, start, chars.len()));
            parts
        }
    };
    if let Some(l) = limit {
        parts.truncate(l as usize);
    }
    Ok(Val::array(parts.into_iter().map(Val::from).collect()))
}

pub(super) fn join(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let sep = str_arg(&args, 1).unwrap_or("");
    let parts = v.to_list();
    let parts: Vec<&str> = parts
        .iter()
        .map(|p| p.as_str().map_or("", |s| s.as_str()))
        .collect();
    let len = parts.iter().map(|p| p.len()).sum::<usize>()
        + sep.len().saturating_mul(parts.len().saturating_sub(1));
    ev.guard.fits(len)?;
    Ok(Val::from(parts.join(sep)))
}

pub(super) fn eval(ev: &mut Evaluator<'_>, args: Vec<Val>, context: &Val) -> Result<Val> {
    let Some(src) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let mut input = context.clone();
    let focus = arg(&args, 1);
    if !focus.is_undef() {
        input = if focus.is_array() && !focus.is_seq() {
            Val::flagged_array(
                vec![focus.clone()],
                crate::jsonata::val::SEQ | crate::jsonata::val::OUTER,
            )
        } else {
            focus.clone()
        };
    }
    let ast = crate::jsonata::parse_and_compile(src)
        .map_err(|e| JsonataError::new("D3120").value(Value::from(e.message)))?;
    ev.eval_in_call_scope(&ast, &input)
        .map_err(|e| JsonataError::new("D3121").value(Value::from(e.message)))
}
