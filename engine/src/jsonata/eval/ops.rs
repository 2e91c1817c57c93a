//! Binary operators: arithmetic, comparison, boolean, `&`, `in` and ranges.

use super::Evaluator;
use crate::jsonata::ast::{BinOp, Node};
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::frame::Frame;
use crate::jsonata::functions;
use crate::jsonata::limits::SLOT_BYTES;
use crate::jsonata::val::{Val, deep_equal};
use crate::value::Value;
use std::rc::Rc;

/// Largest number of items a range may produce.
const MAX_RANGE: f64 = 1e7;

impl<'h> Evaluator<'h> {
    pub(super) fn binary(
        &mut self,
        op: BinOp,
        l: &Node,
        r: &Node,
        pos: usize,
        input: &Val,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        let lhs = self.eval(l, input, env)?;
        match op {
            BinOp::And => {
                return Ok(Val::from(
                    functions::boolean(&lhs) && functions::boolean(&self.eval(r, input, env)?),
                ));
            }
            BinOp::Or => {
                return Ok(Val::from(
                    functions::boolean(&lhs) || functions::boolean(&self.eval(r, input, env)?),
                ));
            }
            _ => {}
        }
        let rhs = self.eval(r, input, env)?;
        let err = |code: &'static str| JsonataError::new(code).at(pos).token(op.symbol());
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let side = |e: Box<JsonataError>, code: &'static str, v: &Val| {
                    if e.code == "T2001" {
                        err(code).value(v.detail())
                    } else {
                        e
                    }
                };
                let a = numeric(&lhs, pos).map_err(|e| side(e, "T2001", &lhs))?;
                let b = numeric(&rhs, pos).map_err(|e| side(e, "T2002", &rhs))?;
                let (Some(a), Some(b)) = (a, b) else {
                    return Ok(Val::Undef);
                };
                let n = match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    _ => a % b,
                };
                Ok(Val::from(n))
            }
            BinOp::Eq | BinOp::Ne => {
                if lhs.is_undef() || rhs.is_undef() {
                    return Ok(Val::from(false));
                }
                let eq = deep_equal(&lhs, &rhs);
                Ok(Val::from(if op == BinOp::Eq { eq } else { !eq }))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let comparable =
                    |v: &Val| v.is_undef() || v.as_f64().is_some() || v.as_str().is_some();
                if !comparable(&lhs) || !comparable(&rhs) {
                    let bad = if comparable(&lhs) { &rhs } else { &lhs };
                    return Err(err("T2010").value(bad.detail()));
                }
                if lhs.is_undef() || rhs.is_undef() {
                    return Ok(Val::Undef);
                }
                let ord = match (lhs.as_f64(), rhs.as_f64(), lhs.as_str(), rhs.as_str()) {
                    (Some(a), Some(b), _, _) => a.partial_cmp(&b),
                    (_, _, Some(a), Some(b)) => Some(super::path::cmp_str(a, b).cmp(&0)),
                    _ => {
                        return Err(err("T2009").value(lhs.detail()).extra(
                            "value2",
                            rhs.detail().map_or("undefined".into(), |v| {
                                crate::jsonata::numfmt::stringify(&v)
                            }),
                        ));
                    }
                };
                use std::cmp::Ordering::*;
                let b = match (op, ord) {
                    (_, None) => false,
                    (BinOp::Lt, Some(o)) => o == Less,
                    (BinOp::Le, Some(o)) => o != Greater,
                    (BinOp::Gt, Some(o)) => o == Greater,
                    (_, Some(o)) => o != Less,
                };
                Ok(Val::from(b))
            }
            BinOp::Concat => {
                let mut s = String::new();
                for v in [&lhs, &rhs] {
                    if !v.is_undef() {
                        let text =
                            functions::string(v, false, &self.guard).map_err(|e| e.or_at(pos))?;
                        self.guard.fits(s.len() + text.len())?;
                        s.push_str(&text);
                    }
                }
                self.built(Val::from(s))
            }
            BinOp::In => {
                if lhs.is_undef() || rhs.is_undef() {
                    return Ok(Val::from(false));
                }
                let found = match rhs.items() {
                    Some(items) => items.iter().any(|v| strict_equal(&lhs, &v)),
                    None => strict_equal(&lhs, &rhs),
                };
                Ok(Val::from(found))
            }
            BinOp::Range => {
                let int = |v: &Val| v.is_undef() || v.as_f64().is_some_and(|n| n.fract() == 0.0);
                if !int(&lhs) {
                    return Err(JsonataError::new("T2003").at(pos).value(lhs.detail()));
                }
                if !int(&rhs) {
                    return Err(JsonataError::new("T2004").at(pos).value(rhs.detail()));
                }
                let (Some(a), Some(b)) = (lhs.as_f64(), rhs.as_f64()) else {
                    return Ok(Val::Undef);
                };
                if a > b {
                    return Ok(Val::Undef);
                }
                let size = b - a + 1.0;
                if size > MAX_RANGE {
                    return Err(JsonataError::new("D2014").at(pos).value(Value::from(size)));
                }
                self.guard.charge(size as usize * SLOT_BYTES)?;
                let items: Vec<Value> = (0..size as i64)
                    .map(|i| crate::jsonata::val::num(a + i as f64))
                    .collect();
                Ok(Val::J(Value::array(items)))
            }
            BinOp::And | BinOp::Or => unreachable!("handled above"),
        }
    }
}

/// The number of an operand: `Ok(None)` for undefined, `Err` with code
/// `T2001` for a non-number (the caller sets the side), D1001 for infinity.
fn numeric(v: &Val, pos: usize) -> Result<Option<f64>> {
    match v {
        Val::Undef => Ok(None),
        _ => match v.as_f64() {
            Some(n) if n.is_finite() => Ok(Some(n)),
            Some(n) => Err(JsonataError::new("D1001").at(pos).value(Value::from(n))),
            None => Err(JsonataError::new("T2001")),
        },
    }
}

/// JavaScript `===`: values for scalars, identity for arrays and objects.
fn strict_equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::J(x), Val::J(y)) => match (x, y) {
            (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
                x.ptr_eq(y)
            }
            _ => x == y,
        },
        (Val::Func(f), Val::Func(g)) => Rc::ptr_eq(f, g),
        _ => false,
    }
}
