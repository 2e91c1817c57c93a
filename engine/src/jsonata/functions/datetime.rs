//! Date and time functions; the picture-string work is in
//! [`crate::jsonata::datetime`].

use super::{num_arg, str_arg};
use crate::jsonata::datetime;
use crate::jsonata::error::Result;
use crate::jsonata::eval::Evaluator;
use crate::jsonata::val::Val;

/// `$now(picture, timezone)`: the evaluation's timestamp as text.
pub(super) fn now(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let millis = ev.now_millis() as f64;
    Ok(Val::from(datetime::format(
        millis,
        str_arg(&args, 0),
        str_arg(&args, 1),
    )?))
}

/// `$millis()`: the evaluation's timestamp in milliseconds.
pub(super) fn millis(ev: &mut Evaluator<'_>, _: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(Val::from(ev.now_millis() as f64))
}

/// `$fromMillis(millis, picture, timezone)`.
pub(super) fn from_millis(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(ms) = num_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    Ok(Val::from(datetime::format(
        ms,
        str_arg(&args, 1),
        str_arg(&args, 2),
    )?))
}

/// `$toMillis(timestamp, picture)`.
pub(super) fn to_millis(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(text) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    match str_arg(&args, 1) {
        Some(picture) => {
            let now = ev.now_millis();
            Ok(datetime::parse(text, picture, now)?.map_or(Val::Undef, Val::from))
        }
        None => Ok(Val::from(datetime::parse_iso(text)?)),
    }
}
