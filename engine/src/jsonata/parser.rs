//! Pratt parser: source text to a syntax tree ([`Expr`]) that still mirrors
//! the operators as written. [`super::compile`] turns it into the evaluation
//! tree.

use super::error::{JsonataError, Result};
use super::lexer::{Lexer, Tok, Token};
use super::signature::Signature;

/// A syntax tree node with the position (offset just past its token).
#[derive(Debug)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub pos: usize,
    /// `[]` followed this step: keep singleton arrays.
    pub keep_array: bool,
}

/// The syntax tree node kinds.
#[derive(Debug)]
pub(crate) enum ExprKind {
    Name(String),
    Var(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex {
        pattern: String,
        flags: String,
    },
    Wildcard,
    Descendant,
    Parent,
    Neg(Box<Expr>),
    /// `[a, b, c..d]`
    Array(Vec<Expr>),
    /// `{k: v, ...}` on its own
    Object(Vec<(Expr, Expr)>),
    /// An infix operator: arithmetic, comparison, `and`, `or`, `in`, `&`,
    /// `..` (inside array constructors) and `.` (path step).
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// `lhs[rhs]`
    Filter(Box<Expr>, Box<Expr>),
    /// `lhs{k: v}`
    Group(Box<Expr>, Vec<(Expr, Expr)>),
    /// `lhs^(<a, >b)`: terms with their descending flag
    Sort(Box<Expr>, Vec<(bool, Expr)>),
    /// `lhs@$v`
    Focus(Box<Expr>, String),
    /// `lhs#$v`
    Index(Box<Expr>, String),
    /// `$v := rhs`
    Bind(String, Box<Expr>),
    /// `lhs ~> rhs`
    Apply(Box<Expr>, Box<Expr>),
    /// `proc(args)`
    Call(Box<Expr>, Vec<Expr>),
    /// `proc(args)` with at least one `?` (`None`)
    Partial(Box<Expr>, Vec<Option<Expr>>),
    /// `function($a, $b)<sig>{body}`
    Lambda {
        params: Vec<String>,
        signature: Option<Signature>,
        body: Box<Expr>,
    },
    /// `c ? a : b`
    Cond(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    /// `a ?: b`
    Elvis(Box<Expr>, Box<Expr>),
    /// `a ?? b`
    Coalesce(Box<Expr>, Box<Expr>),
    /// `(a; b; c)`
    Block(Vec<Expr>),
    /// `| pattern | update, delete |`
    Transform(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
}

/// Parses a whole expression.
pub(crate) fn parse(source: &str) -> Result<Expr> {
    let mut p = Parser {
        lexer: Lexer::new(source),
        peeked: None,
        depth: 0,
        tree_depth: 0,
    };
    let expr = p.expression(0)?;
    let next = p.peek(false)?;
    if next.kind != Tok::End {
        return Err(JsonataError::new("S0201")
            .at(next.pos)
            .token(next.kind.text()));
    }
    Ok(expr)
}

/// Binding power of an operator in infix position (0: cannot continue an
/// expression).
fn infix_power(tok: &Tok) -> u32 {
    match tok {
        Tok::Op(op) => match *op {
            "." => 75,
            "[" | "(" | "@" | "#" => 80,
            "{" => 70,
            "?" => 20,
            "+" | "-" | "&" => 50,
            "*" | "/" | "%" => 60,
            "=" | "!=" | "<" | "<=" | ">" | ">=" | "^" | "~>" | "?:" | "??" | "in" => 40,
            ":=" => 10,
            "and" => 30,
            "or" => 25,
            _ => 0,
        },
        _ => 0,
    }
}

/// The deepest nesting of sub-expressions (parentheses, prefix operators,
/// constructors, arguments, lambda bodies) an expression may have. Parsing,
/// compiling and evaluating each recurse once per level; past a few dozen
/// levels a hostile `{% ---...-1 %}` of a few KB would overflow a thread's
/// stack (a debug build runs out near 80 levels on a 2 MiB thread), while
/// written expressions nest far less.
const MAX_NESTING: usize = 48;

/// The deepest syntax tree an expression may make. A chain of operators
/// (`a & b & c`, `a.b.c`, `1 % 2 % 3`) is parsed in a loop but makes a tree
/// one level deeper per operator, which compiling, evaluating and dropping
/// the tree recurse through; each operator of a chain in progress counts
/// here, with each nesting level.
const MAX_TREE_DEPTH: usize = 100;

struct Parser {
    lexer: Lexer,
    /// The next token, the offset it started at, and the mode it was read in.
    peeked: Option<(Token, usize, bool)>,
    /// Sub-expressions being parsed, one inside the other.
    depth: usize,
    /// Their nesting plus the operators of the chains they are in: a bound
    /// on the depth of the tree being built.
    tree_depth: usize,
}

impl Parser {
    /// The next token, read as an operand (`operand`) or an operator.
    fn peek(&mut self, operand: bool) -> Result<Token> {
        if let Some((tok, start, mode)) = &self.peeked {
            if *mode == operand || !matches!(tok.kind, Tok::Op("/") | Tok::Regex { .. }) {
                return Ok(tok.clone());
            }
            let start = *start;
            self.lexer.seek(start);
        }
        let start = self.lexer.offset();
        let tok = self.lexer.next(operand)?;
        if let Tok::Op(op @ ("!" | "~")) = tok.kind {
            return Err(JsonataError::new("S0204").at(tok.pos).token(op));
        }
        self.peeked = Some((tok.clone(), start, operand));
        Ok(tok)
    }

    /// Consumes and returns the next token.
    fn take(&mut self, operand: bool) -> Result<Token> {
        let tok = self.peek(operand)?;
        self.peeked = None;
        Ok(tok)
    }

    fn peek_is(&mut self, op: &str, operand: bool) -> Result<bool> {
        Ok(matches!(self.peek(operand)?.kind, Tok::Op(o) if o == op))
    }

    /// Consumes the operator `op` or fails with S0202/S0203.
    fn expect(&mut self, op: &'static str, operand: bool) -> Result<Token> {
        let tok = self.peek(operand)?;
        match &tok.kind {
            Tok::Op(o) if *o == op => {
                self.peeked = None;
                Ok(tok)
            }
            Tok::End => Err(JsonataError::new("S0203")
                .at(tok.pos)
                .value(crate::value::Value::from(op))),
            other => Err(JsonataError::new("S0202")
                .at(tok.pos)
                .token(other.text())
                .value(crate::value::Value::from(op))),
        }
    }

    fn expression(&mut self, rbp: u32) -> Result<Expr> {
        if self.depth >= MAX_NESTING {
            let at = self.lexer.offset();
            return Err(JsonataError::with_text(
                super::error::LIMIT_EXCEEDED,
                format!(
                    "Nesting limit exceeded: the expression nests sub-expressions more than {MAX_NESTING} levels deep"
                ),
            )
            .at(at));
        }
        self.depth += 1;
        self.tree_depth += 1;
        let before = self.tree_depth;
        let expression = self.nested_expression(rbp);
        self.tree_depth = before - 1;
        self.depth -= 1;
        expression
    }

    fn nested_expression(&mut self, rbp: u32) -> Result<Expr> {
        let tok = self.take(true)?;
        let mut left = self.prefix(tok)?;
        loop {
            let next = self.peek(false)?;
            if rbp >= infix_power(&next.kind) {
                return Ok(left);
            }
            self.peeked = None;
            self.tree_depth += 1;
            if self.tree_depth > MAX_TREE_DEPTH {
                return Err(JsonataError::with_text(
                    super::error::LIMIT_EXCEEDED,
                    format!(
                        "Nesting limit exceeded: the expression chains and nests operators more than {MAX_TREE_DEPTH} levels deep"
                    ),
                )
                .at(next.pos));
            }
            left = self.infix(next, left)?;
        }
    }

    fn prefix(&mut self, tok: Token) -> Result<Expr> {
        let pos = tok.pos;
        let node = |kind| Expr {
            kind,
            pos,
            keep_array: false,
        };
        Ok(match tok.kind {
            Tok::Name(n) => node(ExprKind::Name(n)),
            Tok::Var(n) => node(ExprKind::Var(n)),
            Tok::Str(s) => node(ExprKind::Str(s)),
            Tok::Num(n) => node(ExprKind::Num(n)),
            Tok::Bool(b) => node(ExprKind::Bool(b)),
            Tok::Null => node(ExprKind::Null),
            Tok::Regex { pattern, flags } => node(ExprKind::Regex { pattern, flags }),
            Tok::End => return Err(JsonataError::new("S0207").at(pos)),
            Tok::Op(op @ ("and" | "or" | "in")) => node(ExprKind::Name(op.to_string())),
            Tok::Op(op) => match op {
                "-" => node(ExprKind::Neg(Box::new(self.expression(70)?))),
                "*" => node(ExprKind::Wildcard),
                "**" => node(ExprKind::Descendant),
                "%" => node(ExprKind::Parent),
                "(" => {
                    let mut items = Vec::new();
                    while !self.peek_is(")", true)? {
                        items.push(self.expression(0)?);
                        if !self.peek_is(";", false)? {
                            break;
                        }
                        self.take(false)?;
                    }
                    self.expect(")", false)?;
                    node(ExprKind::Block(items))
                }
                "[" => {
                    let mut items = Vec::new();
                    if !self.peek_is("]", true)? {
                        loop {
                            let mut item = self.expression(0)?;
                            if self.peek_is("..", false)? {
                                let range_pos = self.take(false)?.pos;
                                let rhs = self.expression(0)?;
                                item = Expr {
                                    kind: ExprKind::Binary("..", Box::new(item), Box::new(rhs)),
                                    pos: range_pos,
                                    keep_array: false,
                                };
                            }
                            items.push(item);
                            if !self.peek_is(",", false)? {
                                break;
                            }
                            self.take(false)?;
                        }
                    }
                    self.expect("]", false)?;
                    node(ExprKind::Array(items))
                }
                "{" => node(ExprKind::Object(self.object_body()?)),
                "|" => {
                    let pattern = self.expression(0)?;
                    self.expect("|", false)?;
                    let update = self.expression(0)?;
                    let delete = if self.peek_is(",", false)? {
                        self.take(false)?;
                        Some(Box::new(self.expression(0)?))
                    } else {
                        None
                    };
                    self.expect("|", false)?;
                    node(ExprKind::Transform(
                        Box::new(pattern),
                        Box::new(update),
                        delete,
                    ))
                }
                _ => return Err(JsonataError::new("S0211").at(pos).token(op)),
            },
        })
    }

    /// The `k: v, ...}` part of an object constructor or group-by.
    fn object_body(&mut self) -> Result<Vec<(Expr, Expr)>> {
        let mut pairs = Vec::new();
        if !self.peek_is("}", true)? {
            loop {
                let key = self.expression(0)?;
                self.expect(":", false)?;
                let value = self.expression(0)?;
                pairs.push((key, value));
                if !self.peek_is(",", false)? {
                    break;
                }
                self.take(false)?;
            }
        }
        self.expect("}", false)?;
        Ok(pairs)
    }

    fn infix(&mut self, tok: Token, left: Expr) -> Result<Expr> {
        let pos = tok.pos;
        let Tok::Op(op) = tok.kind else {
            return Err(JsonataError::new("S0201").at(pos).token(tok.kind.text()));
        };
        let node = |kind| Expr {
            kind,
            pos,
            keep_array: false,
        };
        let bx = Box::new;
        Ok(match op {
            "." => node(ExprKind::Binary(".", bx(left), bx(self.expression(75)?))),
            "[" => {
                if self.peek_is("]", true)? {
                    self.take(true)?;
                    let mut left = left;
                    let mut step = &mut left;
                    while let ExprKind::Filter(lhs, _) = &mut step.kind {
                        step = lhs;
                    }
                    step.keep_array = true;
                    return Ok(left);
                }
                let rhs = self.expression(0)?;
                self.expect("]", false)?;
                node(ExprKind::Filter(bx(left), bx(rhs)))
            }
            "{" => node(ExprKind::Group(bx(left), self.object_body()?)),
            "(" => self.call(left, pos)?,
            "?" => {
                let then = self.expression(0)?;
                let otherwise = if self.peek_is(":", false)? {
                    self.take(false)?;
                    Some(bx(self.expression(0)?))
                } else {
                    None
                };
                node(ExprKind::Cond(bx(left), bx(then), otherwise))
            }
            "?:" => node(ExprKind::Elvis(bx(left), bx(self.expression(0)?))),
            "??" => node(ExprKind::Coalesce(bx(left), bx(self.expression(0)?))),
            ":=" => {
                let ExprKind::Var(name) = left.kind else {
                    return Err(JsonataError::new("S0212").at(left.pos));
                };
                node(ExprKind::Bind(name, bx(self.expression(9)?)))
            }
            "@" | "#" => {
                let rhs = self.expression(80)?;
                let ExprKind::Var(name) = rhs.kind else {
                    return Err(JsonataError::new("S0214").at(rhs.pos).token(op));
                };
                if op == "@" {
                    node(ExprKind::Focus(bx(left), name))
                } else {
                    node(ExprKind::Index(bx(left), name))
                }
            }
            "~>" => node(ExprKind::Apply(bx(left), bx(self.expression(40)?))),
            "^" => {
                self.expect("(", false)?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if self.peek_is("<", true)? {
                        self.take(true)?;
                    } else if self.peek_is(">", true)? {
                        self.take(true)?;
                        descending = true;
                    }
                    terms.push((descending, self.expression(0)?));
                    if !self.peek_is(",", false)? {
                        break;
                    }
                    self.take(false)?;
                }
                self.expect(")", false)?;
                node(ExprKind::Sort(bx(left), terms))
            }
            _ => {
                let rhs = self.expression(infix_power(&Tok::Op(op)))?;
                node(ExprKind::Binary(op, bx(left), bx(rhs)))
            }
        })
    }

    /// A function call, partial application or lambda definition; `(` has
    /// been consumed.
    fn call(&mut self, procedure: Expr, pos: usize) -> Result<Expr> {
        let mut args: Vec<Option<Expr>> = Vec::new();
        if !self.peek_is(")", true)? {
            loop {
                if self.peek_is("?", true)? {
                    self.take(true)?;
                    args.push(None);
                } else {
                    args.push(Some(self.expression(0)?));
                }
                if !self.peek_is(",", false)? {
                    break;
                }
                self.take(false)?;
            }
        }
        self.expect(")", false)?;
        let is_lambda = matches!(&procedure.kind, ExprKind::Name(n) if n == "function" || n == "λ");
        let node = |kind| Expr {
            kind,
            pos,
            keep_array: false,
        };
        if is_lambda {
            let mut params = Vec::with_capacity(args.len());
            for (i, arg) in args.into_iter().enumerate() {
                match arg {
                    Some(Expr {
                        kind: ExprKind::Var(name),
                        ..
                    }) => params.push(name),
                    other => {
                        let (p, token) = match &other {
                            Some(e) => (e.pos, expr_token(e)),
                            None => (pos, "?".to_string()),
                        };
                        return Err(JsonataError::new("S0208")
                            .at(p)
                            .token(token)
                            .value(crate::value::Value::from(i + 1)));
                    }
                }
            }
            let signature = if self.peek_is("<", false)? {
                let (text, at) = self.signature_text()?;
                Some(Signature::parse(&text).map_err(|mut e| {
                    e.position = Some(at + e.position.unwrap_or(0));
                    e
                })?)
            } else {
                None
            };
            self.expect("{", false)?;
            let body = self.expression(0)?;
            self.expect("}", false)?;
            return Ok(node(ExprKind::Lambda {
                params,
                signature,
                body: Box::new(body),
            }));
        }
        if args.iter().any(Option::is_none) {
            Ok(node(ExprKind::Partial(Box::new(procedure), args)))
        } else {
            Ok(node(ExprKind::Call(
                Box::new(procedure),
                args.into_iter().flatten().collect(),
            )))
        }
    }

    /// Reads a `<...>` function signature as raw text (whitespace removed),
    /// with its starting offset. The `<` has been peeked.
    fn signature_text(&mut self) -> Result<(String, usize)> {
        let (_, start, _) = self.peeked.take().expect("peeked <");
        let chars = self.lexer.chars();
        let mut i = start;
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        let sig_start = i;
        let mut depth = 0usize;
        let mut text = String::new();
        while let Some(&c) = chars.get(i) {
            if c == '{' {
                break;
            }
            i += 1;
            if !c.is_whitespace() {
                text.push(c);
            }
            match c {
                '<' => depth += 1,
                '>' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        let found = chars.get(i).map_or("(end)".to_string(), |c| c.to_string());
        self.lexer.seek(i);
        if depth != 0 {
            return Err(JsonataError::new("S0202")
                .at(i)
                .token(found)
                .value(crate::value::Value::from(">")));
        }
        Ok((text, sig_start))
    }
}

/// The token text jsonata-js reports for an expression in error messages.
fn expr_token(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Name(n) | ExprKind::Var(n) | ExprKind::Str(n) => n.clone(),
        ExprKind::Num(n) => super::numfmt::format_number(*n),
        ExprKind::Binary(op, ..) => (*op).to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(src: &str) -> &'static str {
        parse(src).unwrap_err().code
    }

    #[test]
    fn nesting_is_bounded_instead_of_overflowing_the_stack() {
        let deep =
            |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
        for src in [
            deep("-", "", 5_000),
            deep("(", ")", 5_000),
            deep("[", "]", 5_000),
            deep("$f(", ")", 5_000),
        ] {
            let err = parse(&src).unwrap_err();
            assert_eq!(err.code, "U1001", "{}", &src[..10]);
            assert!(err.message.contains("Nesting limit"), "{}", err.message);
        }
        assert!(parse(&deep("-", "", MAX_NESTING - 2)).is_ok());
        assert!(parse(&deep("(", ")", 20)).is_ok());
        // A chain is a loop in the parser but a deep tree after it.
        let chain = |op: &str, n: usize| vec!["1"; n].join(op);
        for op in ["%", " & ", ".", " + "] {
            assert_eq!(parse(&chain(op, 5_000)).unwrap_err().code, "U1001", "{op}");
            assert!(parse(&chain(op, 90)).is_ok(), "{op}");
        }
    }

    #[test]
    fn syntax_errors_have_jsonata_codes() {
        assert_eq!(code("[1,2)"), "S0202");
        assert_eq!(code("[1!2]"), "S0204");
        assert_eq!(code("@ bar"), "S0211");
        assert_eq!(code("1="), "S0207");
        assert_eq!(code("function(x){$x}(3)"), "S0208");
        assert_eq!(code("x:=1"), "S0212");
        assert_eq!(code("a;"), "S0201");
        assert_eq!(code("$lowercase(\"a\""), "S0203");
        assert_eq!(code("a@b"), "S0214");
    }

    #[test]
    fn precedence() {
        let e = parse("1 + 2 * 3").unwrap();
        let ExprKind::Binary("+", _, rhs) = e.kind else {
            panic!("{e:?}")
        };
        assert!(matches!(rhs.kind, ExprKind::Binary("*", ..)));
        let e = parse("function($x)<n:n>{ $x }").unwrap();
        let ExprKind::Lambda { signature, .. } = e.kind else {
            panic!()
        };
        assert!(signature.is_some());
    }
}
