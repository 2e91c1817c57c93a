//! Filter expressions: `[?(@.price < 10 && @.tags)]`.
//!
//! Operators follow Jayway: `== != < <= > >=`, `=~` (whole-string regex
//! match), `in`, `nin`, `subsetof`, `anyof`, `noneof`, `size`, `empty`, with
//! `&&`, `||`, `!` and parentheses. `@` is the item under test, `$` the
//! document root. A bare operand tests that a path exists.

use super::parse::Parser;
use super::{Path, Root, Segment};
use crate::value::{Str, Value};
use regex::Regex;

/// A parsed filter.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    expr: Expr,
}

#[derive(Debug, Clone)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Exists(Operand),
    Compare(Operand, Op, Operand),
}

#[derive(Debug, Clone)]
enum Operand {
    /// `@...`: a path from the item under test
    Item(Box<Path>),
    /// `$...`: a path from the document root
    Root(Box<Path>),
    Literal(Value),
    Regex(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Matches,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Size,
    Empty,
}

pub(super) fn parse_filter(p: &mut Parser<'_>) -> Result<Filter, String> {
    let expr = or(p)?;
    Ok(Filter { expr })
}

fn or(p: &mut Parser<'_>) -> Result<Expr, String> {
    let mut items = vec![and(p)?];
    loop {
        p.skip_spaces();
        if p.eat_str("||") {
            items.push(and(p)?);
        } else {
            break;
        }
    }
    Ok(if items.len() == 1 {
        items.pop().unwrap_or(Expr::And(vec![]))
    } else {
        Expr::Or(items)
    })
}

fn and(p: &mut Parser<'_>) -> Result<Expr, String> {
    let mut items = vec![unary(p)?];
    loop {
        p.skip_spaces();
        if p.eat_str("&&") {
            items.push(unary(p)?);
        } else {
            break;
        }
    }
    Ok(if items.len() == 1 {
        items.pop().unwrap_or(Expr::And(vec![]))
    } else {
        Expr::And(items)
    })
}

fn unary(p: &mut Parser<'_>) -> Result<Expr, String> {
    p.skip_spaces();
    if p.peek() == Some('!') && p.peek_at(1) != Some('=') {
        p.bump();
        return Ok(Expr::Not(Box::new(unary(p)?)));
    }
    if p.eat('(') {
        let inner = or(p)?;
        p.skip_spaces();
        p.expect(')')?;
        return Ok(inner);
    }
    let left = operand(p)?;
    p.skip_spaces();
    match operator(p) {
        Some(op) => {
            p.skip_spaces();
            let right = operand(p)?;
            Ok(Expr::Compare(left, op, right))
        }
        None => Ok(Expr::Exists(left)),
    }
}

fn operator(p: &mut Parser<'_>) -> Option<Op> {
    const SYMBOLS: [(&str, Op); 7] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=~", Op::Matches),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    for (text, op) in SYMBOLS {
        if p.eat_str(text) {
            return Some(op);
        }
    }
    const WORDS: [(&str, Op); 7] = [
        ("subsetof", Op::SubsetOf),
        ("anyof", Op::AnyOf),
        ("noneof", Op::NoneOf),
        ("size", Op::Size),
        ("empty", Op::Empty),
        ("nin", Op::Nin),
        ("in", Op::In),
    ];
    let rest = &p.src[p.pos..];
    for (word, op) in WORDS {
        if rest.starts_with(word) && !rest[word.len()..].starts_with(|c: char| c.is_alphanumeric())
        {
            p.pos += word.len();
            return Some(op);
        }
    }
    None
}

fn operand(p: &mut Parser<'_>) -> Result<Operand, String> {
    p.skip_spaces();
    match p.peek() {
        Some('@') | Some('$') => {
            let start = p.pos;
            let from_item = p.bump() == Some('@');
            let (segments, function) = p.segments(true)?;
            let definite = segments
                .iter()
                .all(|s| matches!(s, Segment::Key(_) | Segment::Index(_)));
            let path = Box::new(Path {
                source: Str::new(&p.src[start..p.pos]),
                root: Root::Input,
                segments,
                function,
                definite,
                context_field: None,
            });
            Ok(if from_item {
                Operand::Item(path)
            } else {
                Operand::Root(path)
            })
        }
        Some('\'') | Some('"') => Ok(Operand::Literal(Value::String(p.quoted()?))),
        Some('/') => regex_literal(p),
        Some('[') | Some('{') => json_literal(p),
        Some(c) if c == '-' || c.is_ascii_digit() => number(p),
        Some(_) => {
            for (word, value) in [
                ("true", Value::Bool(true)),
                ("false", Value::Bool(false)),
                ("null", Value::Null),
            ] {
                if p.eat_str(word) {
                    return Ok(Operand::Literal(value));
                }
            }
            Err(format!(
                "unexpected '{}' in filter at position {}",
                p.peek().unwrap_or(' '),
                p.pos
            ))
        }
        None => Err("the filter ended early".to_string()),
    }
}

fn number(p: &mut Parser<'_>) -> Result<Operand, String> {
    let start = p.pos;
    while matches!(p.peek(), Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
    {
        p.bump();
    }
    let text = &p.src[start..p.pos];
    crate::value::parse_json_str(text)
        .ok()
        .filter(|v| v.as_number().is_some())
        .map(Operand::Literal)
        .ok_or_else(|| format!("'{text}' is not a number"))
}

fn regex_literal(p: &mut Parser<'_>) -> Result<Operand, String> {
    p.bump();
    let mut pattern = String::new();
    loop {
        match p.bump() {
            None => return Err("unclosed regular expression".to_string()),
            Some('\\') if p.peek() == Some('/') => {
                p.bump();
                pattern.push('/');
            }
            Some('/') => break,
            Some(c) => pattern.push(c),
        }
    }
    let mut flags = String::new();
    while matches!(p.peek(), Some(c) if c.is_ascii_alphabetic()) {
        flags.push(p.bump().unwrap_or_default());
    }
    let prefix = if flags.contains('i') { "(?i)" } else { "" };
    Regex::new(&format!("{prefix}^(?:{pattern})$"))
        .map(Operand::Regex)
        .map_err(|e| format!("invalid regular expression /{pattern}/: {e}"))
}

/// A JSON array or object literal; single-quoted strings are accepted as Jayway does.
fn json_literal(p: &mut Parser<'_>) -> Result<Operand, String> {
    let start = p.pos;
    let mut depth = 0usize;
    let mut text = String::new();
    loop {
        let c = p.bump().ok_or("unclosed literal in filter")?;
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            '\'' | '"' => {
                p.pos -= c.len_utf8();
                let s = p.quoted()?;
                crate::value::write_json(&Value::String(s), &mut text);
                continue;
            }
            _ => {}
        }
        text.push(c);
        if depth == 0 {
            break;
        }
    }
    crate::value::parse_json_str(&text)
        .map(Operand::Literal)
        .map_err(|e| format!("invalid literal '{}' in filter: {e}", &p.src[start..p.pos]))
}

impl Filter {
    /// `true` when `item` passes the filter; `root` is the document for `$` paths.
    pub(crate) fn matches(&self, item: &Value, root: &Value) -> bool {
        eval(&self.expr, item, root)
    }
}

fn eval(expr: &Expr, item: &Value, root: &Value) -> bool {
    match expr {
        Expr::Or(items) => items.iter().any(|e| eval(e, item, root)),
        Expr::And(items) => items.iter().all(|e| eval(e, item, root)),
        Expr::Not(inner) => !eval(inner, item, root),
        Expr::Exists(operand) => resolve(operand, item, root).is_some(),
        Expr::Compare(left, op, right) => compare(left, *op, right, item, root),
    }
}

/// The value of an operand, or `None` when its path selects nothing.
fn resolve(operand: &Operand, item: &Value, root: &Value) -> Option<Value> {
    match operand {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Regex(_) => None,
        Operand::Item(path) | Operand::Root(path) => {
            let base = if matches!(operand, Operand::Item(_)) {
                item
            } else {
                root
            };
            match path.select(base).ok()? {
                super::Selection::One(v) => Some(v),
                super::Selection::Many(items) if path.function.is_some() => {
                    items.into_iter().next()
                }
                super::Selection::Many(items) => Some(Value::array(items)),
            }
        }
    }
}

fn compare(left: &Operand, op: Op, right: &Operand, item: &Value, root: &Value) -> bool {
    if op == Op::Matches {
        let (Some(Value::String(ref s)), Operand::Regex(re)) = (resolve(left, item, root), right)
        else {
            return false;
        };
        return re.is_match(s.as_str());
    }
    let (Some(l), Some(r)) = (resolve(left, item, root), resolve(right, item, root)) else {
        return op == Op::Ne && matches!(left, Operand::Item(_) | Operand::Root(_));
    };
    match op {
        Op::Eq => l == r,
        Op::Ne => l != r,
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let ordering = match (&l, &r) {
                (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
                (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
                _ => None,
            };
            let Some(ordering) = ordering else {
                return false;
            };
            match op {
                Op::Lt => ordering.is_lt(),
                Op::Le => ordering.is_le(),
                Op::Gt => ordering.is_gt(),
                _ => ordering.is_ge(),
            }
        }
        Op::In => r.as_array().is_some_and(|items| items.contains(&l)),
        Op::Nin => r.as_array().is_some_and(|items| !items.contains(&l)),
        Op::SubsetOf => match (l.as_array(), r.as_array()) {
            (Some(a), Some(b)) => a.iter().all(|x| b.contains(x)),
            _ => false,
        },
        Op::AnyOf => match (l.as_array(), r.as_array()) {
            (Some(a), Some(b)) => a.iter().any(|x| b.contains(x)),
            _ => false,
        },
        Op::NoneOf => match (l.as_array(), r.as_array()) {
            (Some(a), Some(b)) => !a.iter().any(|x| b.contains(x)),
            _ => false,
        },
        Op::Size => {
            let len = match &l {
                Value::Array(items) => items.len(),
                Value::String(s) => s.chars().count(),
                _ => return false,
            };
            r.as_i64() == Some(len as i64)
        }
        Op::Empty => {
            let is_empty = match &l {
                Value::Array(items) => items.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => return false,
            };
            r.as_bool() == Some(is_empty)
        }
        Op::Matches => false,
    }
}
