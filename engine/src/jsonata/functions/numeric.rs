//! Numeric functions and number formatting/parsing.

use super::{arg, num_arg, str_arg};
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::eval::Evaluator;
use crate::jsonata::numfmt::js_string;
use crate::jsonata::pictures;
use crate::jsonata::val::Val;
use crate::value::Value;

fn numbers(v: &Val) -> Vec<f64> {
    v.to_list().iter().filter_map(Val::as_f64).collect()
}

pub(super) fn sum(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    Ok(Val::from(numbers(v).iter().sum::<f64>()))
}

pub(super) fn max(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let ns = numbers(arg(&args, 0));
    Ok(ns
        .into_iter()
        .reduce(f64::max)
        .map_or(Val::Undef, Val::from))
}

pub(super) fn min(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let ns = numbers(arg(&args, 0));
    Ok(ns
        .into_iter()
        .reduce(f64::min)
        .map_or(Val::Undef, Val::from))
}

pub(super) fn average(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let ns = numbers(arg(&args, 0));
    if ns.is_empty() {
        return Ok(Val::Undef);
    }
    Ok(Val::from(ns.iter().sum::<f64>() / ns.len() as f64))
}

/// JavaScript-style string to number as `$number` accepts it: decimal with
/// optional sign, fraction and exponent, or `0x`/`0o`/`0b` integers.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = lower.strip_prefix(prefix) {
            if digits.is_empty() {
                return None;
            }
            return u64::from_str_radix(digits, radix).ok().map(|n| n as f64);
        }
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    if let Some(e) = exponent
        && !digits(e.strip_prefix(['+', '-']).unwrap_or(e))
    {
        return None;
    }
    let n: f64 = s.parse().ok()?;
    n.is_finite().then_some(n)
}

pub(super) fn number(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    Ok(match v {
        Val::Undef => Val::Undef,
        Val::J(Value::Number(_)) => v.clone(),
        Val::J(Value::Bool(b)) => Val::from(if *b { 1.0 } else { 0.0 }),
        Val::J(Value::String(s)) => match parse_number(s) {
            Some(n) => Val::from(n),
            None => {
                return Err(JsonataError::new("D3030")
                    .value(v.detail())
                    .extra("index", "1"));
            }
        },
        _ => {
            return Err(JsonataError::new("D3030")
                .value(v.detail())
                .extra("index", "1"));
        }
    })
}

fn unary(args: &[Val], f: impl Fn(f64) -> f64) -> Val {
    num_arg(args, 0).map_or(Val::Undef, |n| Val::from(f(n)))
}

pub(super) fn abs(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(unary(&args, f64::abs))
}

pub(super) fn floor(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(unary(&args, f64::floor))
}

pub(super) fn ceil(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(unary(&args, f64::ceil))
}

/// Moves the decimal point of `x` by `shift` places, through its decimal
/// text (as jsonata-js does, so `4.525` shifted by 2 is exactly `452.5`).
fn shift(x: f64, shift: i32) -> f64 {
    let text = js_string(x);
    let (mantissa, exp) = match text.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    format!("{mantissa}e{}", exp + shift).parse().unwrap_or(x)
}

/// Rounds half to even at `precision` decimal places.
pub(crate) fn round_half_even(x: f64, precision: i32) -> f64 {
    let value = shift(x, precision);
    let mut result = (value + 0.5).floor();
    if (result - value).abs() == 0.5 && (result % 2.0).abs() == 1.0 {
        result -= 1.0;
    }
    let out = shift(result, -precision);
    if out == 0.0 { 0.0 } else { out }
}

pub(super) fn round(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(x) = num_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let precision = num_arg(&args, 1).unwrap_or(0.0) as i32;
    Ok(Val::from(round_half_even(x, precision)))
}

pub(super) fn power(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let (Some(base), Some(exp)) = (num_arg(&args, 0), num_arg(&args, 1)) else {
        return Ok(Val::Undef);
    };
    let r = base.powf(exp);
    if !r.is_finite() {
        return Err(JsonataError::new("D3061")
            .value(Value::from(base))
            .extra("exp", js_string(exp)));
    }
    Ok(Val::from(r))
}

pub(super) fn sqrt(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(x) = num_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    if x < 0.0 {
        return Err(JsonataError::new("D3060").value(Value::from(x)));
    }
    Ok(Val::from(x.sqrt()))
}

pub(super) fn format_base(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(x) = num_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let x = round_half_even(x, 0);
    let radix = num_arg(&args, 1).unwrap_or(10.0);
    if !(2.0..=36.0).contains(&radix) {
        return Err(JsonataError::new("D3100").value(Value::from(radix)));
    }
    let radix = radix as u32;
    let mut n = x.abs();
    let mut digits = Vec::new();
    loop {
        let d = (n % radix as f64) as u32;
        digits.push(std::char::from_digit(d, radix).unwrap_or('0'));
        n = (n / radix as f64).floor();
        if n < 1.0 {
            break;
        }
    }
    if x < 0.0 {
        digits.push('-');
    }
    Ok(Val::from(digits.iter().rev().collect::<String>()))
}

pub(super) fn format_number(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let (Some(x), Some(picture)) = (num_arg(&args, 0), str_arg(&args, 1)) else {
        return Ok(Val::Undef);
    };
    let options = arg(&args, 2);
    Ok(Val::from(pictures::format_number(x, picture, options)?))
}

pub(super) fn format_integer(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let (Some(x), Some(picture)) = (num_arg(&args, 0), str_arg(&args, 1)) else {
        return Ok(Val::Undef);
    };
    Ok(Val::from(pictures::format_integer(x, picture)?))
}

pub(super) fn parse_integer(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let (Some(s), Some(picture)) = (str_arg(&args, 0), str_arg(&args, 1)) else {
        return Ok(Val::Undef);
    };
    Ok(pictures::parse_integer(s, picture)?.map_or(Val::Undef, Val::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_even_on_the_decimal_text() {
        assert_eq!(round_half_even(2.5, 0), 2.0);
        assert_eq!(round_half_even(3.5, 0), 4.0);
        assert_eq!(round_half_even(-0.5, 0), 0.0);
        assert_eq!(round_half_even(4.525, 2), 4.52);
        assert_eq!(round_half_even(4.515, 2), 4.52);
        assert_eq!(round_half_even(12450.0, -2), 12400.0);
        assert_eq!(round_half_even(6.022e-23, 24), 6e-23);
    }

    #[test]
    fn javascript_number_strings() {
        assert_eq!(parse_number("0x12"), Some(18.0));
        assert_eq!(parse_number("0B101"), Some(5.0));
        assert_eq!(parse_number("-007"), Some(-7.0));
        assert_eq!(parse_number("1.0e-2"), Some(0.01));
        assert_eq!(parse_number("10e500"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("1/2"), None);
    }
}
