//! Base64 and URL encoding (JavaScript's `encodeURI*`/`decodeURI*` rules).

use super::str_arg;
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::eval::Evaluator;
use crate::jsonata::val::Val;
use crate::value::Value;
use base64::Engine;

pub(super) fn base64_encode(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(str_arg(&args, 0).map_or(Val::Undef, |s| {
        Val::from(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
    }))
}

pub(super) fn base64_decode(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let bytes = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
        .decode(s.trim().as_bytes())
        .unwrap_or_default();
    Ok(Val::from(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Characters `encodeURIComponent` leaves alone.
const COMPONENT_SAFE: &str = "-_.!~*'()";
/// Further characters `encodeURI` leaves alone.
const URI_RESERVED: &str = ";,/?:@&=+$#";

fn encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || COMPONENT_SAFE.contains(c) || keep.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Decodes `%XX` sequences (as UTF-8), leaving escapes of the characters in
/// `keep` as they are. `None` when malformed.
fn decode(s: &str, keep: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |i: usize| -> Option<u8> {
        let h = s.get(i + 1..i + 3)?;
        u8::from_str_radix(h, 16).ok()
    };
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let first = hex(i)?;
        let len = match first {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => return None,
        };
        if len == 1 {
            if keep.contains(first as char) {
                out.extend_from_slice(&bytes[i..i + 3]);
            } else {
                out.push(first);
            }
            i += 3;
            continue;
        }
        let mut seq = vec![first];
        for k in 1..len {
            let at = i + 3 * k;
            if bytes.get(at) != Some(&b'%') {
                return None;
            }
            seq.push(hex(at)?);
        }
        std::str::from_utf8(&seq).ok()?;
        out.extend_from_slice(&seq);
        i += 3 * len;
    }
    String::from_utf8(out).ok()
}

fn url(args: &[Val], name: &str, f: impl Fn(&str) -> Option<String>) -> Result<Val> {
    let Some(s) = str_arg(args, 0) else {
        return Ok(Val::Undef);
    };
    match f(s) {
        Some(out) => Ok(Val::from(out)),
        None => Err(JsonataError::new("D3140")
            .function(name)
            .value(Value::from(s))),
    }
}

pub(super) fn encode_url_component(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    url(&args, "encodeUrlComponent", |s| Some(encode(s, "")))
}

pub(super) fn encode_url(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    url(&args, "encodeUrl", |s| Some(encode(s, URI_RESERVED)))
}

pub(super) fn decode_url_component(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    url(&args, "decodeUrlComponent", |s| decode(s, ""))
}

pub(super) fn decode_url(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    url(&args, "decodeUrl", |s| decode(s, URI_RESERVED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_uri_rules() {
        assert_eq!(encode("a b/é?", ""), "a%20b%2F%C3%A9%3F");
        assert_eq!(encode("a b/é?", URI_RESERVED), "a%20b/%C3%A9?");
        assert_eq!(decode("a%20b%2F", "").as_deref(), Some("a b/"));
        assert_eq!(decode("a%20b%2F", URI_RESERVED).as_deref(), Some("a b%2F"));
        assert_eq!(decode("%E0%A4%A", ""), None);
    }
}
