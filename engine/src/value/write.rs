//! [`Value`] to JSON text.

use super::{Number, Value};

/// Appends the compact JSON text of `value` to `out`.
pub fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(*n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_json(v, out);
            }
            out.push('}');
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
pub(crate) fn write_number(n: Number, out: &mut String) {
    match n {
        Number::Int(i) => out.push_str(itoa::Buffer::new().format(i)),
        Number::Float(f) if f.is_finite() => out.push_str(ryu::Buffer::new().format_finite(f)),
        Number::Float(_) => out.push_str("null"),
    }
}

/// Appends `s` as a quoted JSON string.
pub(crate) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use crate::json;

    #[test]
    fn escapes_strings() {
        let v = json!("a\"b\\c\n\u{1}é");
        assert_eq!(v.to_json(), r#""a\"b\\c\n\u0001é""#);
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
        assert_eq!(crate::value::Value::from(f64::NAN).to_json(), "null");
    }
}
