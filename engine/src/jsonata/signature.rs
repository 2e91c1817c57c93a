//! Function signatures such as `<s-n?:s>`: parsing, and validating (and
//! coercing) the arguments of a call against them.
//!
//! Parameter types: `b` boolean, `n` number, `s` string, `l` null, `a` array,
//! `o` object, `f` function, `j` any JSON, `x` anything, `(sn)` a choice.
//! `a<n>` and `f<n:n>` carry a type parameter. Modifiers: `?` optional, `+`
//! one or more, `-` take the context value when the argument is missing.
//! An undefined argument matches every type except `f`. A non-array given
//! for an `a` parameter is wrapped into a one-item array.

use super::error::{JsonataError, Result};
use super::val::Val;
use crate::value::Value;

/// Type letters of values: `m` is undefined (missing).
fn symbol(v: &Val) -> u8 {
    match v {
        Val::Undef | Val::Tail(_) => b'm',
        Val::J(Value::Null) => b'l',
        Val::J(Value::Bool(_)) => b'b',
        Val::J(Value::Number(_)) => b'n',
        Val::J(Value::String(_)) => b's',
        Val::J(Value::Array(_)) | Val::Arr(_) | Val::Tuples(_) => b'a',
        Val::J(Value::Object(_)) | Val::Obj(_) => b'o',
        Val::Func(_) => b'f',
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    One,
    Optional,
    OneOrMore,
}

#[derive(Debug, Clone)]
struct Param {
    /// The type letter (`(` for a choice).
    kind: u8,
    /// The value type letters accepted.
    accepts: Vec<u8>,
    repeat: Repeat,
    /// `-`: use the context when missing.
    context: bool,
    /// The type parameter of an array (`a<n>`): its first letter.
    subtype: Option<String>,
}

impl Param {
    fn accepts(&self, sym: u8) -> bool {
        self.accepts.contains(&sym)
    }
}

/// A parsed signature.
#[derive(Debug, Clone)]
pub(crate) struct Signature {
    params: Vec<Param>,
}

const ANY: &[u8] = b"asnblfom";

impl Signature {
    /// Parses `<...>`. Errors carry the offset within the text as position.
    pub fn parse(text: &str) -> Result<Signature> {
        let chars: Vec<char> = text.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut i = 1; // skip '<'
        while i < chars.len() {
            let c = chars[i];
            if c == ':' || c == '>' {
                break;
            }
            let simple = |kind: u8, accepts: &[u8]| Param {
                kind,
                accepts: accepts.to_vec(),
                repeat: Repeat::One,
                context: false,
                subtype: None,
            };
            match c {
                'b' | 'n' | 's' | 'l' | 'o' => {
                    let k = c as u8;
                    params.push(simple(k, &[k, b'm']));
                }
                'a' => params.push(simple(b'a', ANY)),
                'x' => params.push(simple(b'x', ANY)),
                'f' => params.push(simple(b'f', b"f")),
                'j' => params.push(simple(b'j', b"asnblom")),
                '(' => {
                    let end = closing(&chars, i, '(', ')');
                    let choice: String = chars[i + 1..end].iter().collect();
                    if choice.contains('<') {
                        return Err(JsonataError::new("S0402").at(i).value(Value::from(choice)));
                    }
                    let mut accepts: Vec<u8> = choice.bytes().collect();
                    accepts.push(b'm');
                    params.push(simple(b'(', &accepts));
                    i = end;
                }
                '<' => {
                    let Some(prev) = params
                        .last_mut()
                        .filter(|p| p.kind == b'a' || p.kind == b'f')
                    else {
                        return Err(JsonataError::new("S0401").at(i).value(
                            params
                                .last()
                                .map(|p| Value::from((p.kind as char).to_string())),
                        ));
                    };
                    let end = closing(&chars, i, '<', '>');
                    prev.subtype = Some(chars[i + 1..end].iter().collect());
                    i = end;
                }
                '?' | '+' | '-' => {
                    if let Some(prev) = params.last_mut() {
                        match c {
                            '?' => prev.repeat = Repeat::Optional,
                            '+' => prev.repeat = Repeat::OneOrMore,
                            _ => {
                                prev.context = true;
                                prev.repeat = Repeat::Optional;
                            }
                        }
                    }
                }
                _ => {}
            }
            i += 1;
        }
        Ok(Signature { params })
    }

    /// Number of parameters that are not optional (what a higher-order
    /// function passes to a built-in: value, index, array).
    pub fn required(&self) -> usize {
        self.params
            .iter()
            .filter(|p| p.repeat != Repeat::Optional || p.context)
            .count()
    }

    /// Checks `args` against the signature, filling in the context for a
    /// missing `-` parameter and wrapping non-arrays for `a` parameters.
    /// The caller adds the function's name to errors as their token.
    pub fn validate(&self, args: Vec<Val>, context: &Val) -> Result<Vec<Val>> {
        // small calls (nearly all) keep their bookkeeping on the stack
        let mut sym_buf = [0u8; 8];
        let mut sym_vec = Vec::new();
        let syms: &mut [u8] = if args.len() <= sym_buf.len() {
            &mut sym_buf[..args.len()]
        } else {
            sym_vec.resize(args.len(), 0);
            &mut sym_vec
        };
        for (s, a) in syms.iter_mut().zip(&args) {
            *s = symbol(a);
        }
        let mut count_buf = [0usize; 8];
        let mut count_vec = Vec::new();
        let counts: &mut [usize] = if self.params.len() <= count_buf.len() {
            &mut count_buf[..self.params.len()]
        } else {
            count_vec.resize(self.params.len(), 0);
            &mut count_vec
        };
        if !self.match_from(0, syms, 0, counts) {
            return Err(self.mismatch(&args, syms));
        }
        let mut out = Vec::with_capacity(self.params.len().max(args.len()));
        let mut args = args.into_iter();
        let mut index = 0;
        for (param, &count) in self.params.iter().zip(counts.iter()) {
            if count == 0 {
                if param.context {
                    let unwrapped;
                    let context = if context.flags() & crate::jsonata::val::OUTER != 0 {
                        unwrapped = context.items().and_then(|i| i.get(0)).unwrap_or_default();
                        &unwrapped
                    } else {
                        context
                    };
                    let sym = symbol(context);
                    if param.accepts(sym) {
                        out.push(context.clone());
                    } else {
                        return Err(JsonataError::new("T0411")
                            .value(context.detail())
                            .extra("index", (index + 1).to_string()));
                    }
                } else {
                    out.push(args.next().unwrap_or_default());
                    index += 1;
                }
                continue;
            }
            for _ in 0..count {
                let arg = args.next().unwrap_or_default();
                index += 1;
                if param.kind != b'a' {
                    out.push(arg);
                    continue;
                }
                if arg.is_undef() {
                    out.push(arg);
                    continue;
                }
                if let Some(sub) = &param.subtype {
                    let want = sub.as_bytes()[0];
                    let ok = match arg.items() {
                        Some(items) => items.iter().all(|v| symbol(&v) == want),
                        None => symbol(&arg) == want && sub.len() == 1,
                    };
                    if !ok {
                        return Err(JsonataError::new("T0412")
                            .value(arg.detail())
                            .extra("index", index.to_string())
                            .extra("type", plural(want)));
                    }
                }
                if arg.is_array() {
                    out.push(arg);
                } else {
                    out.push(Val::array(vec![arg]));
                }
            }
        }
        out.extend(args);
        Ok(out)
    }

    /// Greedy match with backtracking: sets how many arguments each
    /// parameter from `p` on takes, starting at argument `a`.
    fn match_from(&self, p: usize, syms: &[u8], a: usize, counts: &mut [usize]) -> bool {
        let Some(param) = self.params.get(p) else {
            return a == syms.len();
        };
        let max = match param.repeat {
            Repeat::One | Repeat::Optional => 1,
            Repeat::OneOrMore => usize::MAX,
        };
        let mut run = 0;
        while run < max && a + run < syms.len() && param.accepts(syms[a + run]) {
            run += 1;
        }
        let min = usize::from(param.repeat != Repeat::Optional);
        while run >= min {
            counts[p] = run;
            if self.match_from(p + 1, syms, a + run, counts) {
                return true;
            }
            if run == 0 {
                break;
            }
            run -= 1;
        }
        false
    }

    /// The T0410 error for arguments that do not match, naming the first
    /// argument that breaks the match.
    fn mismatch(&self, args: &[Val], syms: &[u8]) -> Box<JsonataError> {
        // how far a prefix of the parameters can match, greedily
        let mut good = 0;
        for param in &self.params {
            let mut run = 0;
            let max = if param.repeat == Repeat::OneOrMore {
                usize::MAX
            } else {
                1
            };
            while run < max && good + run < syms.len() && param.accepts(syms[good + run]) {
                run += 1;
            }
            if run == 0 && param.repeat == Repeat::One {
                break;
            }
            good += run;
        }
        JsonataError::new("T0410")
            .value(args.get(good).and_then(Val::detail))
            .extra("index", (good + 1).to_string())
    }
}

fn plural(t: u8) -> &'static str {
    match t {
        b'a' => "arrays",
        b'b' => "booleans",
        b'f' => "functions",
        b'n' => "numbers",
        b'o' => "objects",
        b's' => "strings",
        _ => "values",
    }
}

/// Index of the bracket closing the one at `start`.
fn closing(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 0;
    for (i, &c) in chars.iter().enumerate().skip(start) {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    chars.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(x: f64) -> Val {
        Val::from(x)
    }

    #[test]
    fn context_and_optional_parameters() {
        let sig = Signature::parse("<s-n?:s>").unwrap();
        let ctx = Val::from("ctx");
        let out = sig.validate(vec![], &ctx).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_str().map(|s| s.as_str()), Some("ctx"));
        let out = sig.validate(vec![Val::from("a"), n(1.0)], &ctx).unwrap();
        assert_eq!(out[1].as_f64(), Some(1.0));
        let err = sig.validate(vec![n(1.0)], &n(2.0)).unwrap_err();
        assert_eq!(err.code, "T0411");
    }

    #[test]
    fn arrays_are_coerced_and_checked() {
        let sig = Signature::parse("<a<n>:n>").unwrap();
        let out = sig.validate(vec![n(3.0)], &Val::Undef).unwrap();
        assert!(out[0].is_array());
        let err = sig
            .validate(vec![Val::array(vec![n(1.0), Val::from("x")])], &Val::Undef)
            .unwrap_err();
        assert_eq!(err.code, "T0412");
        assert!(err.message.contains("array of numbers"), "{}", err.message);
    }

    #[test]
    fn mismatches_name_the_argument() {
        let sig = Signature::parse("<nn+:a>").unwrap();
        let err = sig
            .validate(vec![n(1.0), n(3.0), n(2.0), Val::from("g")], &Val::Undef)
            .unwrap_err();
        assert_eq!(err.code, "T0410");
        assert!(err.message.starts_with("Argument 4 "), "{}", err.message);
        assert!(
            sig.validate(vec![n(1.0), n(2.0), n(3.0)], &Val::Undef)
                .is_ok()
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Signature::parse("<n<n>>").unwrap_err().code, "S0401");
        assert_eq!(Signature::parse("<(sa<n>)>").unwrap_err().code, "S0402");
    }
}
