//! [`Value`] to JSON text.

use super::{Number, Value, map};

/// Appends the compact JSON text of `value` to `out`.
pub fn write_json(value: &Value, out: &mut String) {
    write_value(value, out, false);
}

/// Appends the compact JSON text of `value` to a byte buffer (what a Kafka
/// record or a socket takes, without a `String` in between).
pub fn write_json_bytes(value: &Value, out: &mut Vec<u8>) {
    write_value(value, out, false);
}

/// Appends `text` as a quoted JSON string to a byte buffer.
pub fn write_json_string(text: &str, out: &mut Vec<u8>) {
    write_string(text, out);
}

/// Appends the compact JSON text of `value` as a quoted JSON string (what
/// an API answer that carries a document as text holds: `"{\"a\":1}"`),
/// in one pass, without the unquoted text in between.
pub fn write_json_as_string(value: &Value, out: &mut Vec<u8>) {
    out.push(b'"');
    write_value(value, &mut Quoted(out), false);
    out.push(b'"');
}

/// A byte buffer that escapes what is written to it as the inside of a
/// JSON string.
struct Quoted<'a>(&'a mut Vec<u8>);

impl JsonOut for Quoted<'_> {
    fn text(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut start = 0;
        loop {
            let at = next_escape(bytes, start);
            self.0.extend_from_slice(&bytes[start..at]);
            let Some(&b) = bytes.get(at) else { break };
            self.ascii(b);
            start = at + 1;
        }
    }
    fn ascii(&mut self, b: u8) {
        match ESCAPES[usize::from(b)] {
            0 => self.0.push(b),
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.0.extend_from_slice(b"\\u00");
                self.0.push(HEX[usize::from(b >> 4)]);
                self.0.push(HEX[usize::from(b & 0xf)]);
            }
            escape => {
                self.0.push(b'\\');
                self.0.push(escape);
            }
        }
    }
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

/// A container being written: the members left and whether one was
/// written yet.
struct Open<'a> {
    members: Members<'a>,
    first: bool,
}

enum Members<'a> {
    Array(std::slice::Iter<'a, Value>),
    Object(map::Iter<'a>),
}

/// Writes `value` with the containers being written on a heap stack rather
/// than the native one, so any depth writes. `pretty` puts each member on
/// its own line, indented by two spaces per level, in time linear in the
/// text written.
fn write_value<O: JsonOut>(value: &Value, out: &mut O, pretty: bool) {
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut next = value;
    loop {
        match next {
            Value::Array(items) if !items.is_empty() => {
                out.ascii(b'[');
                open.push(Open {
                    members: Members::Array(items.iter()),
                    first: true,
                });
            }
            Value::Object(map) if !map.is_empty() => {
                out.ascii(b'{');
                open.push(Open {
                    members: Members::Object(map.as_ref().into_iter()),
                    first: true,
                });
            }
            Value::Array(_) => out.text("[]"),
            Value::Object(_) => out.text("{}"),
            Value::Null => out.text("null"),
            Value::Bool(true) => out.text("true"),
            Value::Bool(false) => out.text("false"),
            Value::Number(n) => write_number(*n, out),
            Value::String(s) => write_string(s, out),
        }
        // The next member to write, closing the containers that are done.
        loop {
            let depth = open.len();
            let Some(top) = open.last_mut() else {
                return;
            };
            let member = match &mut top.members {
                Members::Array(items) => items.next().map(|item| (None, item)),
                Members::Object(entries) => entries.next().map(|(k, v)| (Some(k), v)),
            };
            let Some((key, member)) = member else {
                let close = match top.members {
                    Members::Array(_) => b']',
                    Members::Object(_) => b'}',
                };
                open.pop();
                if pretty {
                    newline(out, depth - 1);
                }
                out.ascii(close);
                continue;
            };
            if !std::mem::replace(&mut top.first, false) {
                out.ascii(b',');
            }
            if pretty {
                newline(out, depth);
            }
            if let Some(key) = key {
                write_string(key, out);
                out.text(if pretty { ": " } else { ":" });
            }
            next = member;
            break;
        }
    }
}

/// Appends the JSON text of `value` indented by two spaces (the layout of
/// `JSON.stringify(v, null, 2)`).
pub fn write_json_pretty(value: &Value, out: &mut String) {
    write_value(value, out, true);
}

/// A line break and the indentation of `depth` levels.
fn newline<O: JsonOut>(out: &mut O, depth: usize) {
    const SPACES: &str = "                                                                ";
    out.ascii(b'\n');
    let mut width = 2 * depth;
    while width > 0 {
        let n = width.min(SPACES.len());
        out.text(&SPACES[..n]);
        width -= n;
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
    let bytes = s.as_bytes();
    let mut start = 0;
    loop {
        let at = next_escape(bytes, start);
        // The byte at `at` is ASCII, so both ends are character boundaries.
        out.text(&s[start..at]);
        let Some(&b) = bytes.get(at) else { break };
        let escape = ESCAPES[usize::from(b)];
        out.ascii(b'\\');
        out.ascii(escape);
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.text("00");
            out.ascii(HEX[usize::from(b >> 4)]);
            out.ascii(HEX[usize::from(b & 0xf)]);
        }
        start = at + 1;
    }
    out.ascii(b'"');
}

/// The index of the first byte from `from` on that a JSON string must
/// escape (a control character, `"` or `\\`), or `bytes.len()`. Eight
/// bytes are tested at a time: in a word, a byte below 0x20 or equal to
/// one of the two is flagged by the borrow of a subtraction, and the
/// lowest flag is always a true one (borrows only carry upwards).
#[inline]
fn next_escape(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let flags = ((word.wrapping_sub(ONES * 0x20) & !word)
            | (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash))
            & HIGH;
        if flags != 0 {
            return at + (flags.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    bytes[at.min(bytes.len())..]
        .iter()
        .position(|&b| ESCAPES[usize::from(b)] != 0)
        .map_or(bytes.len(), |i| at + i)
}

#[cfg(test)]
mod tests {
    use crate::json;
    use crate::value::{Map, Value};

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
    fn escapes_are_found_in_every_position_of_a_word() {
        // Every byte value at every offset of two words, between plain
        // text and multi-byte characters, against serde_json.
        for b in 0u8..=0x7f {
            for at in 0..17 {
                let mut text = "é".repeat(at % 3) + &"x".repeat(at);
                text.push(char::from(b));
                text.push_str("yé");
                let mut ours = Vec::new();
                super::write_json_string(&text, &mut ours);
                let theirs = serde_json::to_string(&text).unwrap();
                let back: String = serde_json::from_slice(&ours).unwrap();
                assert_eq!(
                    back,
                    text,
                    "byte {b:#x} at {at}: {}",
                    String::from_utf8_lossy(&ours)
                );
                assert_eq!(ours.len(), theirs.len(), "byte {b:#x} at {at}");
            }
        }
    }

    #[test]
    fn a_value_is_written_as_a_json_string_of_its_text() {
        let v = json!({"a": "q\"b\\c\n\u{1}é", "n": [1, 2.5, null]});
        let mut quoted = Vec::new();
        super::write_json_as_string(&v, &mut quoted);
        let mut expected = Vec::new();
        super::write_json_string(&v.to_json(), &mut expected);
        assert_eq!(
            String::from_utf8(quoted).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        let back: String = serde_json::from_slice(&{
            let mut q = Vec::new();
            super::write_json_as_string(&v, &mut q);
            q
        })
        .unwrap();
        assert_eq!(back, v.to_json());
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

    /// `depth` arrays, then objects, alternating: `[{"k":[{"k":...}]}]`.
    fn deep_value(depth: usize) -> Value {
        let mut v = Value::from(1);
        for level in 0..depth {
            v = if level % 2 == 0 {
                Value::array(vec![v])
            } else {
                let mut map = Map::new();
                map.insert("k".into(), v);
                Value::object(map)
            };
        }
        v
    }

    #[test]
    fn deep_values_write_without_recursion() {
        let depth = 200_000;
        let v = deep_value(depth);
        let text = v.to_json();
        // `[...]` for the arrays, `{"k":...}` for the objects, `1` inside.
        assert_eq!(text.len(), depth / 2 * (2 + 6) + 1);
        assert!(text.starts_with("{\"k\":[{\"k\":["));
        assert_eq!(v.to_json_bytes(), text.into_bytes());
    }

    #[test]
    fn pretty_layout_matches_serde_json_at_depth() {
        let v = deep_value(100);
        let reference = serde_json::to_string_pretty(&serde_json::Value::from(&v)).unwrap();
        assert_eq!(v.to_json_pretty(), reference);
    }

    #[test]
    fn deep_values_write_pretty_without_recursion() {
        let depth = 3_000;
        let text = deep_value(depth).to_json_pretty();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 * depth + 1);
        assert_eq!(lines[depth], format!("{}1", " ".repeat(2 * depth)));
        assert_eq!(lines[2 * depth], "}");
    }
}
