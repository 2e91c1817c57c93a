//! Numbers to text the JavaScript way.
//!
//! JavaScript writes the shortest digits that read back to the same double,
//! in plain decimal when the magnitude is in [1e-6, 1e21) and with a signed
//! exponent (`1e+21`, `1.5e-7`) outside. JSONata first rounds to 15
//! significant digits (`toPrecision(15)`) when turning a number into a
//! string, so `0.1 + 0.2` gives `"0.3"`.

use super::val::Val;
use crate::value::{Str, Value};

/// Decimal digits (no leading or trailing zeros) and the exponent `e` such
/// that the value is `0.d1d2d3... × 10^e`.
struct Decimal {
    digits: Vec<u8>,
    exp: i32,
}

/// Splits Rust's `{:e}` output ("1.2345e-7") into digits and exponent.
fn decimal_of(sci: &str) -> Decimal {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    Decimal {
        digits,
        exp: exp + 1,
    }
}

/// Shortest round-trip digits of a finite, positive `x`.
fn shortest(x: f64) -> Decimal {
    decimal_of(&format!("{x:e}"))
}

/// `x` rounded to `precision` significant digits, ties away from zero (as
/// `toPrecision` does), for a finite, positive `x`.
fn rounded(x: f64, precision: usize) -> Decimal {
    let sci = format!("{:.*e}", precision - 1, x);
    let mut d = decimal_of(&sci);
    // Rust rounds exact ties to even; JavaScript picks the larger. Detect a
    // tie from a longer exact expansion and round up instead.
    let long = format!("{:.*e}", precision + 25, x);
    let ld = decimal_of(&long);
    if ld.exp == d.exp || ld.exp + 1 == d.exp {
        let tail: Vec<u8> = ld.digits.iter().skip(precision).copied().collect();
        let is_tie = tail.first() == Some(&5) && tail[1..].iter().all(|&t| t == 0);
        if is_tie {
            let mut up: Vec<u8> = ld.digits.iter().take(precision).copied().collect();
            up.resize(precision, 0);
            let mut i = precision;
            let mut exp = ld.exp;
            loop {
                if i == 0 {
                    up.insert(0, 1);
                    up.pop();
                    exp += 1;
                    break;
                }
                i -= 1;
                if up[i] == 9 {
                    up[i] = 0;
                } else {
                    up[i] += 1;
                    break;
                }
            }
            while up.len() > 1 && up.last() == Some(&0) {
                up.pop();
            }
            d = Decimal { digits: up, exp };
        }
    }
    d
}

/// Writes digits/exponent in JavaScript's `Number.prototype.toString` layout.
fn layout(negative: bool, d: &Decimal) -> String {
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let k = d.digits.len() as i32;
    let n = d.exp;
    let digit = |i: usize| (b'0' + d.digits[i]) as char;
    if k <= n && n <= 21 {
        (0..k as usize).for_each(|i| out.push(digit(i)));
        (0..(n - k)).for_each(|_| out.push('0'));
    } else if 0 < n && n <= 21 {
        (0..n as usize).for_each(|i| out.push(digit(i)));
        out.push('.');
        (n as usize..k as usize).for_each(|i| out.push(digit(i)));
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        (0..-n).for_each(|_| out.push('0'));
        (0..k as usize).for_each(|i| out.push(digit(i)));
    } else {
        out.push(digit(0));
        if k > 1 {
            out.push('.');
            (1..k as usize).for_each(|i| out.push(digit(i)));
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
    out
}

/// JavaScript `String(x)`.
pub(crate) fn js_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    layout(x < 0.0, &shortest(x.abs()))
}

/// A number as JSONata writes it in strings: 15 significant digits, then
/// JavaScript layout.
pub(crate) fn format_number(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return js_string(x);
    }
    layout(x < 0.0, &rounded(x.abs(), 15))
}

/// `JSON.stringify` of a JSON value with JSONata's number formatting
/// (compact).
pub(crate) fn stringify(v: &Value) -> String {
    let mut out = String::new();
    let _ = write(&Val::J(v.clone()), &mut out, None, usize::MAX, false);
    out
}

/// `$string` of a value: compact, or indented by two spaces with `pretty`.
/// Functions become `""`, numbers JSON cannot hold `null`.
pub(crate) fn stringify_val(v: &Val, pretty: bool) -> String {
    let mut out = String::new();
    let _ = write(v, &mut out, pretty.then_some(2), usize::MAX, false);
    out
}

/// Why [`stringify_checked`] gave up.
pub(crate) enum Unwritable {
    /// The text would be longer than the limit.
    TooLong,
    /// A number is infinite or NaN.
    NotFinite,
}

/// [`stringify_val`] that fails on a number JSON cannot hold, and once the
/// text passes `limit` bytes (a value sharing its parts can stand for text
/// far larger than the memory it takes).
pub(crate) fn stringify_checked(
    v: &Val,
    pretty: bool,
    limit: usize,
) -> std::result::Result<String, Unwritable> {
    let mut out = String::new();
    write(v, &mut out, pretty.then_some(2), limit, true)?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(n) = indent {
        out.push('\n');
        (0..n * depth).for_each(|_| out.push(' '));
    }
}

/// A container being written, with the position of its next member.
enum Open {
    Array(Val, usize),
    Object(Vec<(Str, Val)>, usize),
}

/// Writes `v` with the containers being written on a heap stack, so any
/// depth writes without recursion.
fn write(
    v: &Val,
    out: &mut String,
    indent: Option<usize>,
    limit: usize,
    strict: bool,
) -> std::result::Result<(), Unwritable> {
    let mut open: Vec<Open> = Vec::new();
    let mut next = v.clone();
    loop {
        if out.len() > limit {
            return Err(Unwritable::TooLong);
        }
        match &next {
            Val::J(Value::Number(n)) => {
                let x = n.as_f64();
                if x.is_finite() {
                    out.push_str(&format_number(x));
                } else if strict {
                    return Err(Unwritable::NotFinite);
                } else {
                    out.push_str("null");
                }
            }
            Val::J(Value::String(s)) => write_json_string(s, out),
            Val::J(Value::Null) | Val::Undef => out.push_str("null"),
            Val::J(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            Val::Func(_) | Val::Tail(_) => out.push_str("\"\""),
            Val::Tuples(t) => {
                let items: Vec<Val> = t.iter().map(|t| t.at.clone()).collect();
                next = Val::array(items);
                continue;
            }
            other => match other.items() {
                Some(items) if items.len() == 0 => out.push_str("[]"),
                Some(_) => {
                    out.push('[');
                    open.push(Open::Array(other.clone(), 0));
                }
                None => {
                    let entries: Vec<_> = other
                        .entries()
                        .into_iter()
                        .filter(|(_, v)| !v.is_undef())
                        .collect();
                    if entries.is_empty() {
                        out.push_str("{}");
                    } else {
                        out.push('{');
                        open.push(Open::Object(entries, 0));
                    }
                }
            },
        }
        // The next member to write, closing the containers that are done.
        loop {
            let depth = open.len();
            let Some(top) = open.last_mut() else {
                return Ok(());
            };
            let (member, first) = match top {
                Open::Array(array, at) => {
                    let member = array.items().and_then(|items| items.get(*at));
                    *at += 1;
                    (member.map(|m| (None, m)), *at == 1)
                }
                Open::Object(entries, at) => {
                    let member = entries.get(*at).map(|(k, v)| (Some(k.clone()), v.clone()));
                    *at += 1;
                    (member, *at == 1)
                }
            };
            let Some((key, member)) = member else {
                let close = match top {
                    Open::Array(..) => ']',
                    Open::Object(..) => '}',
                };
                open.pop();
                newline(out, indent, depth - 1);
                out.push(close);
                continue;
            };
            if !first {
                out.push(',');
            }
            newline(out, indent, depth);
            if let Some(key) = key {
                write_json_string(&key, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
            }
            next = member;
            break;
        }
    }
}

/// A string as JSON text.
fn write_json_string(s: &Str, out: &mut String) {
    crate::value::write_json(&Value::String(s.clone()), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_layout() {
        assert_eq!(js_string(1e21), "1e+21");
        assert_eq!(js_string(1e20), "100000000000000000000");
        assert_eq!(js_string(1e-6), "0.000001");
        assert_eq!(js_string(1e-7), "1e-7");
        assert_eq!(js_string(1.5e-7), "1.5e-7");
        assert_eq!(js_string(-123.456), "-123.456");
        assert_eq!(js_string(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js_string(1e100), "1e+100");
        assert_eq!(js_string(-0.0), "0");
    }

    #[test]
    fn fifteen_significant_digits() {
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(22.0 / 7.0), "3.14285714285714");
        assert_eq!(format_number(9.33262154439441e155), "9.33262154439441e+155");
        assert_eq!(format_number(100.0), "100");
        assert_eq!(format_number(1000000000000005.0), "1000000000000010");
        assert_eq!(layout(false, &rounded(0.125, 2)), "0.13");
    }

    #[test]
    fn stringify_like_json_stringify() {
        let v = crate::json!({"a": [1, 2.5, "x"], "b": {}});
        assert_eq!(stringify(&v), r#"{"a":[1,2.5,"x"],"b":{}}"#);
        assert_eq!(
            stringify_val(&Val::J(v), true),
            "{\n  \"a\": [\n    1,\n    2.5,\n    \"x\"\n  ],\n  \"b\": {}\n}"
        );
    }
}
