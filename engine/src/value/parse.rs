//! JSON text to [`Value`], through `simd-json`'s tape. This is the only place
//! in the engine that touches `simd-json`, so it can be swapped here alone.
//!
//! The happy path is simd-json alone. Its errors name an internal state
//! rather than the problem, so a document it refuses is read again with
//! `serde_json`, whose error says what is wrong and where (line, column,
//! byte offset); that costs nothing until the input is bad.
//!
//! Choices shared with AWS's parser (Jackson): a leading UTF-8 byte order
//! mark is skipped, an integer too big for an `i64`/`u64` becomes a double,
//! and of duplicate object keys the last one wins.

use super::{Map, Number, Str, Value};
use simd_json::StaticNode;
use simd_json::tape::Node;

/// The UTF-8 byte order mark, skipped at the start of a document.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Malformed JSON: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at line {line} column {column} (byte offset {offset}): {message}")]
pub struct JsonParseError {
    /// Byte offset into the input.
    pub offset: usize,
    /// Line of the offset, from 1.
    pub line: usize,
    /// Column of the offset in bytes, from 1.
    pub column: usize,
    /// What the parser found wrong.
    pub message: String,
}

impl JsonParseError {
    /// An error at `offset` of `text`, with its line and column.
    pub fn at(text: &[u8], offset: usize, message: impl Into<String>) -> JsonParseError {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        JsonParseError {
            offset,
            line: before.iter().filter(|&&b| b == b'\n').count() + 1,
            column: offset - line_start + 1,
            message: message.into(),
        }
    }

    /// `serde_json`'s error for `text`, its position as a byte offset and its
    /// message without the " at line L column C" serde_json appends.
    pub fn from_serde(text: &[u8], error: &serde_json::Error) -> JsonParseError {
        let line_start: usize = text
            .split_inclusive(|&b| b == b'\n')
            .take(error.line().saturating_sub(1))
            .map(<[u8]>::len)
            .sum();
        // serde_json's column is that of the last byte it read (0 when it
        // stopped right after a newline); a document cut short is at fault
        // where it ends.
        let offset = if error.is_eof() {
            text.len()
        } else if error.column() == 0 {
            line_start.saturating_sub(1)
        } else {
            line_start + error.column() - 1
        };
        let message = error.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) => &message[..i],
            None => &message,
        };
        // serde_json says this only after a leading surrogate escape.
        let message = match message {
            "unexpected end of hex escape" | "lone leading surrogate in hex escape" => {
                "lone UTF-16 surrogate escape (\\uD800-\\uDBFF must be followed by a \\uDC00-\\uDFFF escape)"
            }
            other => other,
        };
        JsonParseError::at(text, offset, message)
    }
}

/// Parses JSON text. The bytes are copied into a scratch buffer that
/// simd-json parses in place.
pub fn parse_json(bytes: &[u8]) -> Result<Value, JsonParseError> {
    let text = bytes.strip_prefix(BYTE_ORDER_MARK).unwrap_or(bytes);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(JsonParseError::at(bytes, bytes.len(), "empty document"));
    }
    let mut scratch = text.to_vec();
    let built = with_buffers(text.len(), |buffers| {
        simd_json::to_tape_with_buffers(&mut scratch, buffers).map(|tape| {
            let mut pos = 0;
            build(&tape.0, &mut pos)
        })
    });
    built.map_err(|e| diagnose(bytes, text, &e))
}

/// The most text whose parsing reuses the thread's simd-json buffers
/// (they grow to the largest such text, about six times its size, and stay).
const REUSED_UP_TO: usize = 64 * 1024;

thread_local! {
    /// simd-json's working buffers, kept between parses on this thread:
    /// allocating them took about half of parsing a small event.
    static BUFFERS: std::cell::RefCell<Option<simd_json::Buffers>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `parse` with this thread's buffers when the text is small enough
/// (and they are not in use), else with new ones.
fn with_buffers<T>(len: usize, parse: impl FnOnce(&mut simd_json::Buffers) -> T) -> T {
    if len <= REUSED_UP_TO {
        let kept = BUFFERS.with(|cell| cell.try_borrow_mut().ok().map(|mut b| b.take()));
        if let Some(kept) = kept {
            let mut buffers = kept.unwrap_or_else(|| simd_json::Buffers::new(len));
            let result = parse(&mut buffers);
            BUFFERS.with(|cell| *cell.borrow_mut() = Some(buffers));
            return result;
        }
    }
    parse(&mut simd_json::Buffers::new(len))
}

/// Parses JSON text from a string slice.
pub fn parse_json_str(text: &str) -> Result<Value, JsonParseError> {
    parse_json(text.as_bytes())
}

/// Why simd-json refused `text` (`bytes` without its byte order mark), with
/// the position in `bytes`: serde_json's account when it has one, else
/// simd-json's own.
fn diagnose(bytes: &[u8], text: &[u8], simd: &simd_json::Error) -> JsonParseError {
    let skipped = bytes.len() - text.len();
    let shift = |mut e: JsonParseError| {
        if skipped > 0 {
            e = JsonParseError::at(bytes, e.offset + skipped, e.message);
        }
        e
    };
    if !matches!(simd.error(), simd_json::ErrorType::DepthLimitExceeded) {
        // Into a value, not ignored: only then are escapes and UTF-8 checked.
        let checked = serde_json::from_slice::<serde_json::Value>(text);
        // serde_json stops at 128 levels of nesting where simd-json allows
        // 1024: its account is only of use below that.
        if let Err(e) = checked
            && !e.to_string().starts_with("recursion limit exceeded")
        {
            return shift(JsonParseError::from_serde(text, &e));
        }
    }
    shift(JsonParseError::at(text, simd.index(), describe(simd)))
}

/// simd-json's error in words, for what serde_json could not describe.
fn describe(e: &simd_json::Error) -> String {
    match e.error() {
        simd_json::ErrorType::DepthLimitExceeded => format!(
            "arrays and objects are nested deeper than {} levels",
            simd_json::DEFAULT_MAX_DEPTH
        ),
        other => {
            let what = format!("{other:?}");
            match e.character() {
                Some(c) => format!("{what} at character {c:?}"),
                None => what,
            }
        }
    }
}

fn build(nodes: &[Node<'_>], pos: &mut usize) -> Value {
    let node = nodes[*pos];
    *pos += 1;
    match node {
        Node::String(s) => Value::String(Str::new(s)),
        Node::Static(s) => match s {
            StaticNode::Null => Value::Null,
            StaticNode::Bool(b) => Value::Bool(b),
            StaticNode::I64(i) => Value::Number(Number::Int(i)),
            StaticNode::U64(u) => Value::Number(Number::from_u64(u)),
            StaticNode::F64(f) => Value::Number(Number::Float(f)),
        },
        Node::Array { len, .. } => {
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(build(nodes, pos));
            }
            Value::array(items)
        }
        Node::Object { len, .. } => {
            let mut map = Map::with_capacity(len);
            for _ in 0..len {
                let key = match nodes[*pos] {
                    Node::String(k) => Str::new(k),
                    _ => unreachable!("simd-json object keys are strings"),
                };
                *pos += 1;
                let value = build(nodes, pos);
                map.insert(key, value);
            }
            Value::object(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_value() {
        let v =
            parse_json_str(r#"{"a":[1,-2,3.5,1e3,"s\u00e9\n",true,false,null],"b":{}}"#).unwrap();
        assert_eq!(
            v.to_json(),
            r#"{"a":[1,-2,3.5,1000.0,"sé\n",true,false,null],"b":{}}"#
        );
        assert!(matches!(
            v.get("a").unwrap().get_index(0),
            Some(Value::Number(Number::Int(1)))
        ));
    }

    fn error(text: &[u8]) -> JsonParseError {
        parse_json(text).unwrap_err()
    }

    #[test]
    fn reports_the_byte_offset_of_an_error() {
        let err = error(br#"{"a": 1,, "b": 2}"#);
        assert_eq!((err.offset, err.line, err.column), (8, 1, 9), "{err}");
        assert_eq!(error(b"   ").message, "empty document");
    }

    #[test]
    fn errors_name_the_problem_and_its_place() {
        const SURROGATE: &str = "lone UTF-16 surrogate escape (\\uD800-\\uDBFF must be followed by a \\uDC00-\\uDFFF escape)";
        let cases: [(&[u8], usize, &str); 7] = [
            (br#"{"a":1} x"#, 8, "trailing characters"),
            (br#"{"a":[1,2"#, 9, "EOF while parsing a list"),
            (br#"{"s":"ab\ud800"}"#, 14, SURROGATE),
            (br#"["\ud800\u0041"]"#, 13, SURROGATE),
            (b"{\n  \"a\": tru\n}", 12, "expected ident"),
            (b"[\"\xff\"]", 2, "invalid unicode code point"),
            (b"\xEF\xBB\xBF[1,]", 6, "trailing comma"),
        ];
        for (text, offset, message) in cases {
            let err = error(text);
            assert_eq!(
                (err.offset, err.message.as_str()),
                (offset, message),
                "{}: {err}",
                String::from_utf8_lossy(text)
            );
        }
        let err = error(b"{\n  \"a\": tru\n}");
        assert_eq!((err.line, err.column), (2, 11), "{err}");
    }

    #[test]
    fn too_deep_nesting_is_named() {
        let deep = "[".repeat(2000) + &"]".repeat(2000);
        let err = error(deep.as_bytes());
        assert!(err.message.contains("nested deeper than 1024"), "{err}");
        let fits = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse_json(fits.as_bytes()).is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let v = parse_json(b"\xEF\xBB\xBF{\"a\":1}").unwrap();
        assert_eq!(v.to_json(), r#"{"a":1}"#);
    }

    #[test]
    fn big_integers_become_doubles() {
        let v = parse_json_str("18446744073709551615").unwrap();
        assert_eq!(v.as_f64(), Some(18446744073709551615.0));
        let v = parse_json_str("[123456789012345678901234567890,-99999999999999999999]").unwrap();
        assert_eq!(v.to_json(), "[1.2345678901234568e29,-1e20]");
    }

    #[test]
    fn last_duplicate_key_wins() {
        let v = parse_json_str(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"a":2}"#);
    }
}
