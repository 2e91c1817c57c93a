//! Numbers to text the JavaScript way.
//!
//! JavaScript writes the shortest digits that read back to the same double,
//! in plain decimal when the magnitude is in [1e-6, 1e21) and with a signed
//! exponent (`1e+21`, `1.5e-7`) outside. JSONata first rounds to 15
//! significant digits (`toPrecision(15)`) when turning a number into a
//! string, so `0.1 + 0.2` gives `"0.3"`.

use super::val::Val;
use crate::value::Value;

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
    write(&Val::J(v.clone()), &mut out, None, 0);
    out
}

/// `$string` of a value: compact, or indented by two spaces with `pretty`.
/// Functions become `""`.
pub(crate) fn stringify_val(v: &Val, pretty: bool) -> String {
    let mut out = String::new();
    write(v, &mut out, pretty.then_some(2), 0);
    out
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(n) = indent {
        out.push('\n');
        (0..n * depth).for_each(|_| out.push(' '));
    }
}

fn write(v: &Val, out: &mut String, indent: Option<usize>, depth: usize) {
    match v {
        Val::J(Value::Number(n)) => {
            let x = n.as_f64();
            if x.is_finite() {
                out.push_str(&format_number(x));
            } else {
                out.push_str("null");
            }
        }
        Val::J(Value::String(s)) => out.push_str(&Value::String(s.clone()).to_json()),
        Val::J(Value::Null) | Val::Undef => out.push_str("null"),
        Val::J(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Val::Func(_) | Val::Tail(_) => out.push_str("\"\""),
        _ => {
            if let Some(items) = v.items() {
                out.push('[');
                if items.len() == 0 {
                    out.push(']');
                    return;
                }
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, depth + 1);
                    write(&item, out, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.push(']');
            } else if let Val::Tuples(t) = v {
                let items: Vec<Val> = t.iter().map(|t| t.at.clone()).collect();
                write(&Val::array(items), out, indent, depth);
            } else {
                let entries = v.entries();
                let entries: Vec<_> = entries.into_iter().filter(|(_, v)| !v.is_undef()).collect();
                out.push('{');
                if entries.is_empty() {
                    out.push('}');
                    return;
                }
                for (i, (k, val)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent, depth + 1);
                    out.push_str(&Value::String(k.clone()).to_json());
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    write(val, out, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.push('}');
            }
        }
    }
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
