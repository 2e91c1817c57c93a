//! [`Value`] to JSON text.

use super::{Number, Value};

/// Appends the compact JSON text of `value` to `out`.
pub fn write_json(value: &Value, out: &mut String) {
    write_compact(value, out);
}

/// Appends the compact JSON text of `value` to a byte buffer (what a Kafka
/// record or a socket takes, without a `String` in between).
pub fn write_json_bytes(value: &Value, out: &mut Vec<u8>) {
    write_compact(value, out);
}

/// Where JSON text goes. Only whole `&str` slices and ASCII bytes are
/// pushed, so a byte buffer holds UTF-8 as a `String` would.
trait JsonOut {
    fn text(&mut self, s: &str);
    fn ascii(&mut self, b: u8);
}

impl JsonOut for String {
    fn text(&mut self, s: &str) {
        self.push_str(s);
    }
    fn ascii(&mut self, b: u8) {
        debug_assert!(b.is_ascii());
        self.push(char::from(b));
    }
}

impl JsonOut for Vec<u8> {
    fn text(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
    fn ascii(&mut self, b: u8) {
        self.push(b);
    }
}

fn write_compact<O: JsonOut>(value: &Value, out: &mut O) {
    match value {
        Value::Null => out.text("null"),
        Value::Bool(true) => out.text("true"),
        Value::Bool(false) => out.text("false"),
        Value::Number(n) => write_number(*n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.ascii(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.ascii(b',');
                }
                write_compact(item, out);
            }
            out.ascii(b']');
        }
        Value::Object(map) => {
            out.ascii(b'{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.ascii(b',');
                }
                write_string(k, out);
                out.ascii(b':');
                write_compact(v, out);
            }
            out.ascii(b'}');
        }
    }
}

/// Appends the JSON text of `value` indented by two spaces (the layout of
/// `JSON.stringify(v, null, 2)`).
pub fn write_json_pretty(value: &Value, out: &mut String) {
    write_pretty(value, out, 0);
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_pretty(value: &Value, out: &mut String, depth: usize) {
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_pretty(item, out, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_string(k, out);
                out.push_str(": ");
                write_pretty(v, out, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
        other => write_json(other, out),
    }
}

/// Appends a number as JSON. Non-finite doubles, which JSON cannot express,
/// are written as `null`.
fn write_number<O: JsonOut>(n: Number, out: &mut O) {
    match n {
        Number::Int(i) => out.text(itoa::Buffer::new().format(i)),
        Number::Float(f) if f.is_finite() => {
            let mut buffer = zmij::Buffer::new();
            let (mantissa, exponent) = float_text(&mut buffer, f);
            out.text(mantissa);
            out.text(exponent);
        }
        Number::Float(_) => out.text("null"),
    }
}

/// The shortest text that reads back as the finite double `f`, in two
/// pieces to be written one after the other: `1.5`, `2.0`, `1e-7`, `1e21`.
/// zmij (several times faster than ryu) writes a positive exponent as
/// `e+21`; the `+` is left out, as ryu and the outputs recorded from AWS
/// have it.
pub(crate) fn float_text(buffer: &mut zmij::Buffer, f: f64) -> (&str, &str) {
    let text = buffer.format_finite(f);
    // A `+` appears only right after the `e`.
    match text.bytes().position(|b| b == b'+') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    }
}

/// For each byte, the letter of its JSON escape (`\n`, `\"`, ...), `u` for
/// the other control characters (`\u00XX`), 0 for bytes written as they are.
static ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table
};

/// Appends `s` as a quoted JSON string: runs of bytes that need no escape
/// are copied whole.
fn write_string<O: JsonOut>(s: &str, out: &mut O) {
    out.ascii(b'"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let escape = ESCAPES[usize::from(b)];
        if escape == 0 {
            continue;
        }
        out.text(&s[start..i]);
        out.ascii(b'\\');
        out.ascii(escape);
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.text("00");
            out.ascii(HEX[usize::from(b >> 4)]);
            out.ascii(HEX[usize::from(b & 0xf)]);
        }
        start = i + 1;
    }
    out.text(&s[start..]);
    out.ascii(b'"');
}

#[cfg(test)]
mod tests {
    use crate::json;

    #[test]
    fn escapes_strings() {
        let v = json!("a\"b\\c\n\u{1}é");
        assert_eq!(v.to_json(), r#""a\"b\\c\n\u0001é""#);
        assert_eq!(
            v.to_json_bytes(),
            v.to_json().into_bytes(),
            "bytes and text agree"
        );
    }

    #[test]
    fn pretty_matches_json_stringify_layout() {
        let v = json!({"a": [1, {}], "b": []});
        assert_eq!(
            v.to_json_pretty(),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}"
        );
    }

    #[test]
    fn floats_keep_their_form() {
        assert_eq!(json!(1.5).to_json(), "1.5");
        assert_eq!(json!(2.0).to_json(), "2.0");
        assert_eq!(json!(1e21).to_json(), "1e21");
        assert_eq!(json!(-2.5e300).to_json(), "-2.5e300");
        assert_eq!(json!(1e-7).to_json(), "1e-7");
        assert_eq!(crate::value::Value::from(f64::NAN).to_json(), "null");
    }
}
