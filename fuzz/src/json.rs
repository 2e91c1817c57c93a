//! `json`: the JSON parser every definition, input and event goes through
//! (`value::parse_json`, on simd-json), under AddressSanitizer on nightly,
//! checked against serde_json.
//!
//! Invariants: simd-json and serde_json accept the same documents (below
//! serde_json's 128 levels of nesting) and read the same values; a parsed
//! value writes back (compact and pretty) to JSON that parses to the same
//! value; an error names a position within the input.

use spate_engine::value::{Value, parse_json};

/// Parses `data` as JSON.
pub(crate) fn fuzz(data: &[u8]) {
    let parsed = parse_json(data);
    let text = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let reference = serde_json::from_slice::<serde_json::Value>(text);
    let too_deep = reference
        .as_ref()
        .is_err_and(|e| e.to_string().starts_with("recursion limit exceeded"));
    match (&parsed, &reference) {
        (Ok(value), Ok(expected)) => assert_eq!(value, &Value::from(expected)),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(_)) if too_deep => {}
        (Ok(_), Err(e)) => panic!("simd-json accepts what serde_json refuses: {e}"),
        (Err(e), Ok(_)) => panic!("simd-json refuses what serde_json accepts: {e}"),
    }
    match parsed {
        Ok(value) => {
            for written in [value.to_json(), value.to_json_pretty()] {
                let reparsed = parse_json(written.as_bytes())
                    .unwrap_or_else(|e| panic!("{written:?} does not parse back: {e}"));
                assert_eq!(reparsed, value, "{written:?} does not read back");
            }
        }
        Err(error) => {
            assert!(error.offset <= data.len(), "{error:?}");
            assert!(error.line >= 1 && error.column >= 1, "{error:?}");
        }
    }
}
