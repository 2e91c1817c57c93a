//! JSON text to [`Value`], through `simd-json`'s tape. This is the only place
//! in the engine that touches `simd-json`, so it can be swapped here alone.

use super::{Map, Number, Str, Value};
use simd_json::StaticNode;
use simd_json::tape::Node;

/// Malformed JSON, with the byte offset where the parser gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte offset {offset}: {message}")]
pub struct JsonParseError {
    /// Byte offset into the input.
    pub offset: usize,
    /// What the parser found wrong.
    pub message: String,
}

/// Parses JSON text in place (`simd-json` unescapes strings inside the buffer,
/// so the buffer's content is unspecified afterwards).
pub fn parse_json(bytes: &mut [u8]) -> Result<Value, JsonParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(JsonParseError {
            offset: bytes.len(),
            message: "empty document".to_string(),
        });
    }
    let tape = simd_json::to_tape(bytes).map_err(|e| JsonParseError {
        offset: e.index(),
        message: describe(&e),
    })?;
    let nodes = tape.0;
    let mut pos = 0;
    Ok(build(&nodes, &mut pos))
}

/// Parses JSON text from a string slice (copies it into a scratch buffer).
pub fn parse_json_str(text: &str) -> Result<Value, JsonParseError> {
    let mut bytes = text.as_bytes().to_vec();
    parse_json(&mut bytes)
}

fn describe(e: &simd_json::Error) -> String {
    let what = format!("{:?}", e.error());
    match e.character() {
        Some(c) => format!("{what} at character {c:?}"),
        None => what,
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

    #[test]
    fn reports_the_byte_offset_of_an_error() {
        let err = parse_json_str(r#"{"a": 1,, "b": 2}"#).unwrap_err();
        assert_eq!(err.offset, 8, "{err}");
        let err = parse_json_str("   ").unwrap_err();
        assert_eq!(err.message, "empty document");
        assert!(parse_json_str("{\"a\": 1} x").is_err());
    }

    #[test]
    fn big_unsigned_integers_become_doubles() {
        let v = parse_json_str("18446744073709551615").unwrap();
        assert_eq!(v.as_f64(), Some(18446744073709551615.0));
    }

    #[test]
    fn last_duplicate_key_wins() {
        let v = parse_json_str(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"a":2}"#);
    }
}
