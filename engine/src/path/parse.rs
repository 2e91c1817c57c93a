//! Path text to [`Path`].

use super::filter::{self, Filter};
use super::{Path, PathFunction, PathSyntaxError, Root, Segment};
use crate::value::{Key, Str};

pub(super) fn parse_path(source: &str) -> Result<Path, PathSyntaxError> {
    let mut p = Parser {
        src: source,
        pos: 0,
    };
    let (root, segments, function) = p.path().map_err(|reason| PathSyntaxError {
        path: source.to_string(),
        reason,
    })?;
    let definite = segments
        .iter()
        .all(|s| matches!(s, Segment::Key(_) | Segment::Index(_)));
    let context_field = super::ContextField::of(&root, &segments, function);
    Ok(Path {
        source: Str::new(source),
        root,
        segments,
        function,
        definite,
        context_field,
    })
}

/// A character cursor shared with the filter parser.
pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) pos: usize,
}

/// Characters that end a name written in dot notation.
fn ends_dot_name(c: char) -> bool {
    matches!(
        c,
        '.' | '[' | ' ' | '(' | ')' | '=' | '!' | '<' | '>' | '&' | '|' | ',' | ']'
    )
}

impl<'a> Parser<'a> {
    pub(super) fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    pub(super) fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    pub(super) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    pub(super) fn eat_str(&mut self, s: &str) -> bool {
        if self.src[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(super) fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
    }

    pub(super) fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(match self.peek() {
                Some(found) => format!(
                    "expected '{c}' at position {} but found '{found}'",
                    self.pos
                ),
                None => format!("expected '{c}' at position {} but the path ended", self.pos),
            })
        }
    }

    fn path(&mut self) -> Result<(Root, Vec<Segment>, Option<PathFunction>), String> {
        if !self.eat('$') {
            return Err("a path must start with '$'".to_string());
        }
        let root = if self.eat('$') {
            Root::Context
        } else if matches!(self.peek(), Some(c) if c.is_alphabetic() || c == '_') {
            let start = self.pos;
            while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_') {
                self.bump();
            }
            Root::Variable(Str::new(&self.src[start..self.pos]))
        } else {
            Root::Input
        };
        let (segments, function) = self.segments(false)?;
        if self.pos < self.src.len() {
            return Err(format!(
                "unexpected '{}' at position {}",
                self.peek().unwrap_or(' '),
                self.pos
            ));
        }
        Ok((root, segments, function))
    }

    /// Reads segments until the end of the path (or, inside a filter, until a
    /// character that cannot continue a path).
    pub(super) fn segments(
        &mut self,
        in_filter: bool,
    ) -> Result<(Vec<Segment>, Option<PathFunction>), String> {
        let mut segments = Vec::new();
        loop {
            match self.peek() {
                Some('.') if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    let target = match self.peek() {
                        Some('[') => self.bracket()?,
                        Some('*') => {
                            self.bump();
                            Segment::Wildcard
                        }
                        _ => Segment::Key(Key::new(self.dot_name()?)),
                    };
                    segments.push(Segment::DeepScan(Box::new(target)));
                }
                Some('.') => {
                    self.bump();
                    if self.eat('*') {
                        segments.push(Segment::Wildcard);
                        continue;
                    }
                    let name = self.dot_name()?;
                    if self.peek() == Some('(') && self.peek_at(1) == Some(')') {
                        self.pos += 2;
                        let function = function_named(&name)?;
                        if !in_filter && self.pos < self.src.len() {
                            return Err(format!(
                                "the function {name}() must be the last step of a path"
                            ));
                        }
                        return Ok((segments, Some(function)));
                    }
                    segments.push(Segment::Key(Key::new(name)));
                }
                Some('[') => segments.push(self.bracket()?),
                None => break,
                Some(_) if in_filter => break,
                Some(c) => return Err(format!("unexpected '{c}' at position {}", self.pos)),
            }
        }
        Ok((segments, None))
    }

    fn dot_name(&mut self) -> Result<Str, String> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if !ends_dot_name(c)) {
            self.bump();
        }
        if start == self.pos {
            return Err(format!("expected a name at position {start}"));
        }
        Ok(Str::new(&self.src[start..self.pos]))
    }

    fn bracket(&mut self) -> Result<Segment, String> {
        self.expect('[')?;
        self.skip_spaces();
        let segment = match self.peek() {
            Some('*') => {
                self.bump();
                Segment::Wildcard
            }
            Some('?') => {
                self.bump();
                self.skip_spaces();
                self.expect('(')?;
                let f: Filter = filter::parse_filter(self)?;
                self.skip_spaces();
                self.expect(')')?;
                Segment::Filter(Box::new(f))
            }
            Some('\'') | Some('"') => {
                let mut keys = vec![self.quoted()?];
                self.skip_spaces();
                while self.eat(',') {
                    self.skip_spaces();
                    keys.push(self.quoted()?);
                    self.skip_spaces();
                }
                if keys.len() == 1 {
                    Segment::Key(Key::new(keys.pop().unwrap_or_default()))
                } else {
                    Segment::Keys(keys)
                }
            }
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.index_or_slice()?,
            Some(c) => {
                return Err(format!(
                    "unexpected '{c}' in brackets at position {}",
                    self.pos
                ));
            }
            None => return Err("unclosed '['".to_string()),
        };
        self.skip_spaces();
        self.expect(']')?;
        Ok(segment)
    }

    /// A quoted name: `\` followed by the quote character stands for it; any
    /// other backslash is kept as written (Jayway's behaviour).
    pub(super) fn quoted(&mut self) -> Result<Str, String> {
        let quote = self.bump().ok_or("expected a quoted name")?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(format!("unclosed {quote} quote")),
                Some('\\') if self.peek() == Some(quote) => {
                    self.bump();
                    out.push(quote);
                }
                Some(c) if c == quote => break,
                Some(c) => out.push(c),
            }
        }
        Ok(Str::from(out))
    }

    fn integer(&mut self) -> Result<Option<i64>, String> {
        self.skip_spaces();
        let start = self.pos;
        self.eat('-');
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        self.skip_spaces();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| format!("'{text}' is not an array index"))
    }

    fn index_or_slice(&mut self) -> Result<Segment, String> {
        let first = self.integer()?;
        if self.eat(':') {
            let end = self.integer()?;
            return Ok(Segment::Slice(first, end));
        }
        let Some(first) = first else {
            return Err(format!("expected an array index at position {}", self.pos));
        };
        if self.peek() != Some(',') {
            return Ok(Segment::Index(first));
        }
        let mut indexes = vec![first];
        while self.eat(',') {
            match self.integer()? {
                Some(i) => indexes.push(i),
                None => return Err(format!("expected an array index at position {}", self.pos)),
            }
        }
        Ok(Segment::Indexes(indexes))
    }
}

fn function_named(name: &str) -> Result<PathFunction, String> {
    Ok(match name {
        "length" | "size" => PathFunction::Length,
        "min" => PathFunction::Min,
        "max" => PathFunction::Max,
        "avg" => PathFunction::Avg,
        "sum" => PathFunction::Sum,
        "stddev" => PathFunction::Stddev,
        "keys" => PathFunction::Keys,
        "first" => PathFunction::First,
        "last" => PathFunction::Last,
        other => return Err(format!("unknown path function {other}()")),
    })
}
