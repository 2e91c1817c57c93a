//! Functions AWS Step Functions adds to JSONata: `$partition`, `$range`,
//! `$hash`, `$random` (with an optional seed), `$uuid` and `$parse`.
//!
//! Errors of these functions use codes outside jsonata-js's range
//! (`D3150`-`D3155`).

use super::{arg, num_arg, str_arg};
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::eval::Evaluator;
use crate::jsonata::limits::SLOT_BYTES;
use crate::jsonata::val::{Val, num};
use crate::value::Value;
use md5::Digest;

/// Largest array `$range` may produce.
const MAX_RANGE_ITEMS: f64 = 1e7;

/// `$partition(array, size)`: consecutive chunks of `size` items (the last
/// may be shorter).
pub(super) fn partition(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let v = arg(&args, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let size = num_arg(&args, 1).unwrap_or(0.0);
    if size < 1.0 || size.fract() != 0.0 {
        return Err(JsonataError::with_text(
            "D3150",
            format!("The size argument of $partition must be a positive integer, got {size}"),
        ));
    }
    let items = v.to_list();
    let chunks = items
        .chunks(size as usize)
        .map(|c| Val::array(c.to_vec()))
        .collect();
    Ok(Val::array(chunks))
}

/// `$range(start, end, step)`: numbers from `start` to `end` inclusive,
/// `step` apart (default 1; negative counts down), as a sequence (a single
/// number is returned as the number, as on AWS).
pub(super) fn range(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let (Some(start), Some(end)) = (num_arg(&args, 0), num_arg(&args, 1)) else {
        return Ok(Val::Undef);
    };
    let step = num_arg(&args, 2).unwrap_or(1.0);
    if step == 0.0 || !step.is_finite() {
        return Err(JsonataError::with_text(
            "D3151",
            "The step argument of $range must be a non-zero number",
        ));
    }
    let count = ((end - start) / step).floor() + 1.0;
    if count > MAX_RANGE_ITEMS {
        return Err(JsonataError::new("D2014").value(Value::from(count)));
    }
    ev.guard.fits(count.max(0.0) as usize * SLOT_BYTES)?;
    // A sequence, as AWS returns it: one number collapses to the number.
    let items = (0..count.max(0.0) as i64)
        .map(|i| Val::J(num(start + step * i as f64)))
        .collect();
    Ok(Val::seq(items))
}

/// `$hash(text, algorithm)`: hex digest with MD5, SHA-1, SHA-256, SHA-384
/// or SHA-512 of the UTF-8 text.
pub(super) fn hash(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(text) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    let algorithm = str_arg(&args, 1).unwrap_or("SHA-256");
    let bytes = text.as_bytes();
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        other => {
            return Err(JsonataError::with_text(
                "D3152",
                format!(
                    "Unsupported hash algorithm {other:?}: use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
                ),
            ));
        }
    };
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Val::from(hex))
}

/// SplitMix64: a well-mixed 64-bit value from a seed.
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A double in [0, 1) from 53 random bits.
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// `$random()` or `$random(seed)`: a number in [0, 1); the same seed always
/// gives the same number.
pub(super) fn random(ev: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let bits = match num_arg(&args, 0) {
        Some(seed) => splitmix(seed.to_bits()),
        None => ev.next_random(),
    };
    Ok(Val::from(unit(bits)))
}

/// `$uuid()`: a random version 4 UUID (from the operating system's
/// random source).
pub(super) fn uuid(_: &mut Evaluator<'_>, _: Vec<Val>, _: &Val) -> Result<Val> {
    Ok(Val::from(uuid::Uuid::new_v4().hyphenated().to_string()))
}

/// `$parse(text)`: the JSON value written in `text`.
pub(super) fn parse(_: &mut Evaluator<'_>, args: Vec<Val>, _: &Val) -> Result<Val> {
    let Some(text) = str_arg(&args, 0) else {
        return Ok(Val::Undef);
    };
    crate::value::parse_json_str(text)
        .map(Val::J)
        .map_err(|e| JsonataError::with_text("D3153", format!("$parse: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let id = uuid(
            &mut Evaluator::new(&crate::jsonata::NoBindings, &Default::default()),
            vec![],
            &Val::Undef,
        )
        .unwrap();
        let id = id.as_str().unwrap().to_string();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }

    #[test]
    fn seeded_random_is_deterministic_and_in_range() {
        let a = unit(splitmix(42f64.to_bits()));
        assert_eq!(a, unit(splitmix(42f64.to_bits())));
        assert!((0.0..1.0).contains(&a));
        assert_ne!(a, unit(splitmix(43f64.to_bits())));
    }
}
