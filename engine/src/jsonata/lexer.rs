//! Tokenizer. Tokens are read on demand by the parser, which tells the lexer
//! whether an operand is expected: only there does `/` start a regular
//! expression literal rather than being the division operator.

use super::error::{JsonataError, Result};

/// A token with the character offset just past its end (jsonata-js reports
/// positions that way).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub pos: usize,
}

/// The kinds of token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// An operator or punctuation, including `and`, `or` and `in`.
    Op(&'static str),
    /// A field name (plain or back-quoted).
    Name(String),
    /// `$name`; `$` alone is the empty name, `$$` is `$`.
    Var(String),
    /// A string literal.
    Str(String),
    /// A number literal.
    Num(f64),
    /// `true`, `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A regular expression literal `/pattern/flags`.
    Regex { pattern: String, flags: String },
    /// End of the expression.
    End,
}

impl Tok {
    /// The text jsonata-js reports as the token in error messages.
    pub fn text(&self) -> String {
        match self {
            Tok::Op(op) => (*op).to_string(),
            Tok::Name(n) | Tok::Var(n) | Tok::Str(n) => n.clone(),
            Tok::Num(n) => super::numfmt::format_number(*n),
            Tok::Bool(b) => b.to_string(),
            Tok::Null => "null".to_string(),
            Tok::Regex { pattern, .. } => pattern.clone(),
            Tok::End => "(end)".to_string(),
        }
    }
}

const TWO_CHAR_OPS: [&str; 8] = ["..", ":=", "!=", ">=", "<=", "**", "~>", "?:"];
const ONE_CHAR_OPS: &str = ".[]{}(),@#;:?+-*/%|=<>^&!~";

/// Characters that end a name.
fn ends_name(c: char) -> bool {
    c.is_whitespace() || ONE_CHAR_OPS.contains(c)
}

fn op_str(c: char) -> &'static str {
    const OPS: [&str; 26] = [
        ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%",
        "|", "=", "<", ">", "^", "&", "!", "~",
    ];
    let i = ONE_CHAR_OPS.chars().position(|o| o == c).unwrap_or(0);
    OPS[i]
}

/// The lexer state: the source as characters and the current offset.
pub(crate) struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    pub fn new(source: &str) -> Lexer {
        Lexer {
            chars: source.chars().collect(),
            pos: 0,
        }
    }

    /// The characters of the source (the parser reads signatures from them).
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The current offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Moves the offset (after the parser consumed raw characters).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    fn peek_char(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    /// Reads the next token. `operand` is true where an operand is expected.
    pub fn next(&mut self, operand: bool) -> Result<Token> {
        loop {
            while self.peek_char(0).is_some_and(char::is_whitespace) {
                self.pos += 1;
            }
            if self.peek_char(0) == Some('/') && self.peek_char(1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    match self.peek_char(0) {
                        None => return Err(JsonataError::new("S0106").at(start)),
                        Some('*') if self.peek_char(1) == Some('/') => {
                            self.pos += 2;
                            break;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                continue;
            }
            break;
        }
        let Some(c) = self.peek_char(0) else {
            return Ok(self.token(Tok::End));
        };
        if operand && c == '/' {
            self.pos += 1;
            return self.regex();
        }
        if let Some(next) = self.peek_char(1) {
            let pair: String = [c, next].iter().collect();
            if let Some(op) = TWO_CHAR_OPS.iter().find(|op| **op == pair) {
                self.pos += 2;
                return Ok(self.token(Tok::Op(op)));
            }
            if pair == "??" {
                self.pos += 2;
                return Ok(self.token(Tok::Op("??")));
            }
        }
        if ONE_CHAR_OPS.contains(c) {
            self.pos += 1;
            return Ok(self.token(Tok::Op(op_str(c))));
        }
        if c == '"' || c == '\'' {
            self.pos += 1;
            return self.string(c);
        }
        if c.is_ascii_digit() {
            return self.number();
        }
        if c == '`' {
            self.pos += 1;
            let start = self.pos;
            while let Some(ch) = self.peek_char(0) {
                if ch == '`' {
                    let name: String = self.chars[start..self.pos].iter().collect();
                    self.pos += 1;
                    return Ok(self.token(Tok::Name(name)));
                }
                self.pos += 1;
            }
            return Err(JsonataError::new("S0105").at(self.pos));
        }
        if c == '$' {
            self.pos += 1;
            let name = self.name();
            return Ok(self.token(Tok::Var(name)));
        }
        let name = self.name();
        let kind = match name.as_str() {
            "and" => Tok::Op("and"),
            "or" => Tok::Op("or"),
            "in" => Tok::Op("in"),
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "null" => Tok::Null,
            _ => Tok::Name(name),
        };
        Ok(self.token(kind))
    }

    fn token(&self, kind: Tok) -> Token {
        Token {
            kind,
            pos: self.pos,
        }
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while self.peek_char(0).is_some_and(|c| !ends_name(c)) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn number(&mut self) -> Result<Token> {
        let start = self.pos;
        let digits = |lx: &mut Lexer| {
            let from = lx.pos;
            while lx.peek_char(0).is_some_and(|c| c.is_ascii_digit()) {
                lx.pos += 1;
            }
            lx.pos > from
        };
        if self.peek_char(0) == Some('0') {
            self.pos += 1;
        } else {
            digits(self);
        }
        if self.peek_char(0) == Some('.') && self.peek_char(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            digits(self);
        }
        if matches!(self.peek_char(0), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek_char(0), Some('+' | '-')) {
                self.pos += 1;
            }
            if !digits(self) {
                self.pos = save;
            }
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let n: f64 = text.parse().unwrap_or(f64::NAN);
        if !n.is_finite() {
            return Err(JsonataError::new("S0102").at(start).token(text));
        }
        Ok(self.token(Tok::Num(n)))
    }

    fn string(&mut self, quote: char) -> Result<Token> {
        let mut out = String::new();
        // a pending high surrogate from a `\uXXXX` escape
        let mut high: Option<u32> = None;
        loop {
            let Some(c) = self.peek_char(0) else {
                return Err(JsonataError::new("S0101").at(self.pos));
            };
            self.pos += 1;
            if c == quote {
                if high.is_some() {
                    out.push(char::REPLACEMENT_CHARACTER);
                }
                return Ok(self.token(Tok::Str(out)));
            }
            if c != '\\' {
                if high.take().is_some() {
                    out.push(char::REPLACEMENT_CHARACTER);
                }
                out.push(c);
                continue;
            }
            let Some(e) = self.peek_char(0) else {
                return Err(JsonataError::new("S0101").at(self.pos));
            };
            self.pos += 1;
            let simple = match e {
                '"' => Some('"'),
                '\\' => Some('\\'),
                '/' => Some('/'),
                'b' => Some('\u{8}'),
                'f' => Some('\u{c}'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                'u' => None,
                other => {
                    return Err(JsonataError::new("S0103")
                        .at(self.pos)
                        .token(other.to_string()));
                }
            };
            if let Some(ch) = simple {
                if high.take().is_some() {
                    out.push(char::REPLACEMENT_CHARACTER);
                }
                out.push(ch);
                continue;
            }
            let hex: String = (0..4).filter_map(|i| self.peek_char(i)).collect();
            let code = if hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()) {
                u32::from_str_radix(&hex, 16).unwrap_or(0)
            } else {
                return Err(JsonataError::new("S0104").at(self.pos));
            };
            self.pos += 4;
            match (high.take(), code) {
                (Some(h), 0xDC00..=0xDFFF) => {
                    let cp = 0x10000 + ((h - 0xD800) << 10) + (code - 0xDC00);
                    out.push(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                (pending, 0xD800..=0xDBFF) => {
                    if pending.is_some() {
                        out.push(char::REPLACEMENT_CHARACTER);
                    }
                    high = Some(code);
                }
                (pending, _) => {
                    if pending.is_some() {
                        out.push(char::REPLACEMENT_CHARACTER);
                    }
                    out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
        }
    }

    /// Scans a regex literal; the opening `/` is consumed. Slashes inside
    /// brackets or escaped with a backslash do not end it.
    fn regex(&mut self) -> Result<Token> {
        let start = self.pos;
        let mut depth = 0i32;
        while let Some(c) = self.peek_char(0) {
            let escaped = {
                let mut n = 0;
                while self.pos > start + n && self.chars[self.pos - 1 - n] == '\\' {
                    n += 1;
                }
                n % 2 == 1
            };
            if c == '/' && depth == 0 && !escaped {
                let pattern: String = self.chars[start..self.pos].iter().collect();
                if pattern.is_empty() {
                    return Err(JsonataError::new("S0301").at(self.pos));
                }
                self.pos += 1;
                let flag_start = self.pos;
                while matches!(self.peek_char(0), Some('i' | 'm')) {
                    self.pos += 1;
                }
                let flags: String = self.chars[flag_start..self.pos].iter().collect();
                return Ok(self.token(Tok::Regex { pattern, flags }));
            }
            if !escaped {
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth -= 1,
                    _ => {}
                }
            }
            self.pos += 1;
        }
        Err(JsonataError::new("S0302").at(self.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(src: &str) -> Vec<Tok> {
        let mut lx = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lx.next(false).unwrap().kind;
            if t == Tok::End {
                return out;
            }
            out.push(t);
        }
    }

    #[test]
    fn operators_names_and_literals() {
        assert_eq!(
            all("a.`b c`[0..2] and $x ?? $$ /* c */ != 'q\\u0041'"),
            vec![
                Tok::Name("a".into()),
                Tok::Op("."),
                Tok::Name("b c".into()),
                Tok::Op("["),
                Tok::Num(0.0),
                Tok::Op(".."),
                Tok::Num(2.0),
                Tok::Op("]"),
                Tok::Op("and"),
                Tok::Var("x".into()),
                Tok::Op("??"),
                Tok::Var("$".into()),
                Tok::Op("!="),
                Tok::Str("qA".into()),
            ]
        );
    }

    #[test]
    fn surrogate_pairs_combine() {
        assert_eq!(all("'\\uD834\\uDD1E'"), vec![Tok::Str("\u{1D11E}".into())]);
    }

    #[test]
    fn regex_only_where_an_operand_is_expected() {
        let mut lx = Lexer::new("/a[/]b/i");
        assert_eq!(
            lx.next(true).unwrap().kind,
            Tok::Regex {
                pattern: "a[/]b".into(),
                flags: "i".into()
            }
        );
        assert_eq!(all("4/2"), vec![Tok::Num(4.0), Tok::Op("/"), Tok::Num(2.0)]);
    }

    #[test]
    fn lexical_errors() {
        let code = |src: &str| Lexer::new(src).next(true).unwrap_err().code;
        assert_eq!(code("'abc"), "S0101");
        assert_eq!(code("1e999"), "S0102");
        assert_eq!(code("'\\y'"), "S0103");
        assert_eq!(code("'\\u12'"), "S0104");
        assert_eq!(code("`abc"), "S0105");
        assert_eq!(code("/* abc"), "S0106");
        assert_eq!(code("//"), "S0301");
        assert_eq!(code("/abc"), "S0302");
    }
}
