//! Regular expression literals: JavaScript's dialect mapped onto the `regex`
//! crate, and the matcher protocol JSONata builds on them (a regex is a
//! function from a string to `{match, start, end, groups, next}`).
//!
//! Mapping: `\d`, `\w`, `\b` (and their negations) are ASCII-only as in
//! JavaScript; `\/` is a plain slash; `\uXXXX` becomes `\x{XXXX}`; flags `i`
//! and `m` become inline flags. Offsets reported to expressions count
//! characters (code points).

use super::error::{JsonataError, Result};
use super::val::{Func, Val};
use crate::value::Str;
use std::rc::Rc;
use std::sync::Arc;

/// A compiled regex literal.
#[derive(Debug)]
pub(crate) struct RegexLit {
    /// The pattern as written (without slashes and flags).
    pub source: String,
    pub regex: regex::Regex,
}

impl RegexLit {
    /// Compiles a JavaScript pattern with its flags.
    pub fn new(pattern: &str, flags: &str) -> Result<RegexLit> {
        let mut translated = String::new();
        if flags.contains('i') {
            translated.push_str("(?i)");
        }
        if flags.contains('m') {
            translated.push_str("(?m)");
        }
        translated.push_str(&translate(pattern));
        let regex = regex::Regex::new(&translated)
            .map_err(|e| JsonataError::new("S0303").token(e.to_string()))?;
        Ok(RegexLit {
            source: pattern.to_string(),
            regex,
        })
    }
}

/// JavaScript pattern syntax to `regex` crate syntax.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let chars: Vec<char> = pattern.chars().collect();
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                let e = chars[i + 1];
                i += 2;
                match e {
                    'd' => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                    'D' => out.push_str(if in_class { "\\D" } else { "[^0-9]" }),
                    'w' => out.push_str(if in_class {
                        "A-Za-z0-9_"
                    } else {
                        "[A-Za-z0-9_]"
                    }),
                    'W' => out.push_str(if in_class { "\\W" } else { "[^A-Za-z0-9_]" }),
                    'b' if !in_class => out.push_str("(?-u:\\b)"),
                    'B' if !in_class => out.push_str("(?-u:\\B)"),
                    'b' => out.push_str("\\x08"),
                    'u' if i + 4 <= chars.len()
                        && chars[i..i + 4].iter().all(char::is_ascii_hexdigit) =>
                    {
                        out.push_str("\\x{");
                        out.extend(&chars[i..i + 4]);
                        out.push('}');
                        i += 4;
                    }
                    '0' => out.push_str("\\x00"),
                    c if c.is_ascii_alphanumeric() => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push_str(&regex::escape(&c.to_string())),
                }
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // a leading ']' is literal in neither dialect; JavaScript's
                // `[]` matches nothing
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' | '-' if in_class && chars.get(i + 1) == Some(&c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Character offset of byte offset `byte` in `s`.
pub(crate) fn char_offset(s: &str, byte: usize) -> usize {
    s[..byte].chars().count()
}

/// Byte offset of character offset `chars` in `s`.
fn byte_offset(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

/// The match object for the first match at or after character `from`, or
/// nothing.
pub(crate) fn match_object(re: &Arc<RegexLit>, text: &str, from: usize) -> Val {
    let start_byte = byte_offset(text, from);
    let Some(caps) = re.regex.captures_at(text, start_byte) else {
        return Val::Undef;
    };
    let m = caps.get(0).expect("group 0");
    let start = char_offset(text, m.start());
    let end = start + m.as_str().chars().count();
    let groups: Vec<Val> = caps
        .iter()
        .skip(1)
        .map(|g| g.map_or(Val::Undef, |g| Val::from(g.as_str())))
        .collect();
    let next = Func::MatchNext {
        regex: re.clone(),
        text: Str::new(text),
        from: end,
    };
    Val::object(vec![
        ("match".into(), Val::from(m.as_str())),
        ("start".into(), Val::from(start as f64)),
        ("end".into(), Val::from(end as f64)),
        (
            "groups".into(),
            Val::Arr(Rc::new(super::val::Arr {
                items: groups,
                flags: 0,
            })),
        ),
        ("next".into(), Val::Func(Rc::new(next))),
    ])
}

/// The `next()` of a match object.
pub(crate) fn next_match(re: &Arc<RegexLit>, text: &Str, from: usize) -> Result<Val> {
    if from >= text.chars().count() {
        return Ok(Val::Undef);
    }
    let next = match_object(re, text, from);
    if next.field("match").as_str().is_some_and(|m| m.is_empty()) {
        return Err(JsonataError::new("D1004").value(crate::value::Value::from(re.source.as_str())));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_classes_are_ascii() {
        let re = RegexLit::new(r"\w+\d", "").unwrap();
        assert!(re.regex.is_match("ab1"));
        assert!(!re.regex.is_match("é١"));
        let re = RegexLit::new(r"^a\/b$", "i").unwrap();
        assert!(re.regex.is_match("A/B"));
        let re = RegexLit::new(r"[\d.]+", "").unwrap();
        assert_eq!(re.regex.find("x12.5y").unwrap().as_str(), "12.5");
    }

    #[test]
    fn match_objects_chain() {
        let re = Arc::new(RegexLit::new("a.", "").unwrap());
        let m = match_object(&re, "xabac", 0);
        assert_eq!(m.field("match").as_str().unwrap().as_str(), "ab");
        assert_eq!(m.field("start").as_f64(), Some(1.0));
        let next = next_match(&re, &Str::new("xabac"), 3).unwrap();
        assert_eq!(next.field("match").as_str().unwrap().as_str(), "ac");
        assert!(next_match(&re, &Str::new("xabac"), 5).unwrap().is_undef());
    }
}
