//! Intrinsic call text to [`Intrinsic`].
//!
//! Grammar: `States.Name(arg, ...)` where an argument is a string in single
//! quotes (`\'`, `\{`, `\}` and `\\` are escapes), a number, `true`, `false`,
//! `null`, a path (`$...`), or a nested call.

use super::functions::{self, Function};
use super::{Arg, Intrinsic, MAX_NESTING};
use crate::path::Path;
use crate::value::{Number, Str, Value};

/// An intrinsic call that does not parse, or calls a function wrongly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid intrinsic function call '{source_text}': {reason}")]
pub struct IntrinsicSyntaxError {
    /// The call as written.
    pub source_text: String,
    /// What is wrong.
    pub reason: String,
}

pub(super) fn parse(source: &str) -> Result<Intrinsic, IntrinsicSyntaxError> {
    let fail = |reason: String| IntrinsicSyntaxError {
        source_text: source.to_string(),
        reason,
    };
    let mut p = Parser {
        src: source,
        pos: 0,
    };
    p.skip_spaces();
    let call = p.call(1).map_err(fail)?;
    p.skip_spaces();
    if p.pos < source.len() {
        return Err(fail(format!(
            "unexpected text after the call at position {}",
            p.pos
        )));
    }
    Ok(call)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_spaces(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn call(&mut self, depth: usize) -> Result<Intrinsic, String> {
        if depth > MAX_NESTING {
            return Err(format!(
                "more than {MAX_NESTING} nested intrinsic functions"
            ));
        }
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '.') {
            self.pos += 1;
        }
        let name = &self.src[start..self.pos];
        let function = Function::from_name(name)
            .ok_or_else(|| format!("unknown intrinsic function '{name}'"))?;
        self.skip_spaces();
        if !self.rest().starts_with('(') {
            return Err(format!("expected '(' after {name}"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_spaces();
        if self.rest().starts_with(')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_spaces();
                let arg = if function == Function::Format
                    && args.is_empty()
                    && self.rest().starts_with('\'')
                {
                    Arg::Literal(Value::String(self.format_template()?))
                } else {
                    self.arg(depth)?
                };
                args.push(arg);
                self.skip_spaces();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(c) => {
                        return Err(format!(
                            "expected ',' or ')' at position {} but found '{c}'",
                            self.pos
                        ));
                    }
                    None => return Err(format!("missing ')' to close {name}")),
                }
            }
        }
        functions::check_arity(function, args.len())?;
        Ok(Intrinsic { function, args })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, String> {
        let rest = self.rest();
        if rest.starts_with('\'') {
            return Ok(Arg::Literal(Value::String(self.string(false)?)));
        }
        if rest.starts_with('$') {
            return self.path();
        }
        if rest.starts_with("States.") {
            return Ok(Arg::Call(Box::new(self.call(depth + 1)?)));
        }
        for (word, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if rest.starts_with(word)
                && !rest[word.len()..].starts_with(|c: char| c.is_alphanumeric())
            {
                self.pos += word.len();
                return Ok(Arg::Literal(value));
            }
        }
        if rest.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return self.number();
        }
        Err(format!("unexpected argument at position {}", self.pos))
    }

    /// A quoted string. With `keep_brace_escapes`, `\{` and `\}` stay escaped
    /// (for a `States.Format` template, where unescaped `{}` is a placeholder).
    fn string(&mut self, keep_brace_escapes: bool) -> Result<Str, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or("unclosed string literal")?;
            self.pos += c.len_utf8();
            match c {
                '\'' => return Ok(Str::from(out)),
                '\\' => {
                    let next = self.peek().ok_or("unclosed string literal")?;
                    self.pos += next.len_utf8();
                    match next {
                        '{' | '}' if keep_brace_escapes => {
                            out.push('\\');
                            out.push(next);
                        }
                        '\\' if keep_brace_escapes => out.push_str("\\\\"),
                        '\'' | '{' | '}' | '\\' => out.push(next),
                        other => {
                            return Err(format!("invalid escape '\\{other}' in a string literal"));
                        }
                    }
                }
                other => out.push(other),
            }
        }
    }

    fn format_template(&mut self) -> Result<Str, String> {
        self.string(true)
    }

    fn number(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Arg::Literal(Value::Number(Number::Int(i))));
        }
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| Arg::Literal(Value::Number(Number::Float(f))))
            .ok_or_else(|| format!("'{text}' is not a number"))
    }

    /// A path runs until a ',' or ')' outside quotes, brackets and parentheses.
    fn path(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        let mut depth = 0i32;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match quote {
                Some(_) if c == '\\' => {
                    // skip the escaped character along with the backslash
                    self.pos += 1;
                    if let Some(escaped) = self.peek() {
                        self.pos += escaped.len_utf8();
                    }
                    continue;
                }
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '[' | '(' => depth += 1,
                    ']' => depth -= 1,
                    ')' if depth == 0 => break,
                    ')' => depth -= 1,
                    ',' if depth == 0 => break,
                    _ => {}
                },
            }
            self.pos += c.len_utf8();
        }
        let text = self.src[start..self.pos].trim_end();
        Path::parse(text).map(Arg::Path).map_err(|e| e.to_string())
    }
}
