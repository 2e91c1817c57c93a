//! Date and time functions.

use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::eval::Evaluator;
use crate::jsonata::val::Val;

pub(super) fn now(_: &mut Evaluator<'_>, _: Vec<Val>, _: &Val) -> Result<Val> {
    Err(JsonataError::new("D3132"))
}

pub(super) fn millis(ev: &mut Evaluator<'_>, _: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(Val::from(ev.now_millis() as f64))
}

pub(super) fn from_millis(_: &mut Evaluator<'_>, _: Vec<Val>, _: &Val) -> Result<Val> {
    Err(JsonataError::new("D3132"))
}

pub(super) fn to_millis(_: &mut Evaluator<'_>, _: Vec<Val>, _: &Val) -> Result<Val> {
    Err(JsonataError::new("D3132"))
}
