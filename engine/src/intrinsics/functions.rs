//! The intrinsic functions: one table of (function, name, arity), and the
//! implementations grouped by family. Argument checks live with each function
//! and fail with `States.IntrinsicFailure`.

use crate::error::StatesError;
use crate::value::{Map, Number, Str, Value, write_json};
use base64::Engine as _;
use rand::{RngExt, SeedableRng};

/// An intrinsic function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `States.Format(template, args...)`
    Format,
    /// `States.StringToJson(string)`
    StringToJson,
    /// `States.JsonToString(value)`
    JsonToString,
    /// `States.Array(values...)`
    Array,
    /// `States.ArrayPartition(array, size)`
    ArrayPartition,
    /// `States.ArrayContains(array, value)`
    ArrayContains,
    /// `States.ArrayRange(start, end, step)`
    ArrayRange,
    /// `States.ArrayGetItem(array, index)`
    ArrayGetItem,
    /// `States.ArrayLength(array)`
    ArrayLength,
    /// `States.ArrayUnique(array)`
    ArrayUnique,
    /// `States.Base64Encode(string)`
    Base64Encode,
    /// `States.Base64Decode(string)`
    Base64Decode,
    /// `States.Hash(data, algorithm)`
    Hash,
    /// `States.JsonMerge(object, object, false)`
    JsonMerge,
    /// `States.MathRandom(start, end[, seed])`
    MathRandom,
    /// `States.MathAdd(number, number)`
    MathAdd,
    /// `States.StringSplit(string, delimiters)`
    StringSplit,
    /// `States.UUID()`
    Uuid,
}

/// Name, function, minimum and maximum argument count (`None`: unbounded).
pub(super) const FUNCTIONS: [(&str, Function, usize, Option<usize>); 18] = [
    ("States.Format", Function::Format, 1, None),
    ("States.StringToJson", Function::StringToJson, 1, Some(1)),
    ("States.JsonToString", Function::JsonToString, 1, Some(1)),
    ("States.Array", Function::Array, 0, None),
    (
        "States.ArrayPartition",
        Function::ArrayPartition,
        2,
        Some(2),
    ),
    ("States.ArrayContains", Function::ArrayContains, 2, Some(2)),
    ("States.ArrayRange", Function::ArrayRange, 3, Some(3)),
    ("States.ArrayGetItem", Function::ArrayGetItem, 2, Some(2)),
    ("States.ArrayLength", Function::ArrayLength, 1, Some(1)),
    ("States.ArrayUnique", Function::ArrayUnique, 1, Some(1)),
    ("States.Base64Encode", Function::Base64Encode, 1, Some(1)),
    ("States.Base64Decode", Function::Base64Decode, 1, Some(1)),
    ("States.Hash", Function::Hash, 2, Some(2)),
    ("States.JsonMerge", Function::JsonMerge, 3, Some(3)),
    ("States.MathRandom", Function::MathRandom, 2, Some(3)),
    ("States.MathAdd", Function::MathAdd, 2, Some(2)),
    ("States.StringSplit", Function::StringSplit, 2, Some(2)),
    ("States.UUID", Function::Uuid, 0, Some(0)),
];

/// Inputs above this many characters are refused by the encoding and hash
/// functions, as on AWS.
const MAX_ENCODE_CHARS: usize = 10_000;
/// `States.ArrayRange` produces at most this many items, as on AWS.
const MAX_RANGE_ITEMS: usize = 1_000;

impl Function {
    /// Looks a function up by its full name (`States.Format`).
    pub fn from_name(name: &str) -> Option<Function> {
        FUNCTIONS
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|&(_, f, ..)| f)
    }

    /// The full name (`States.Format`).
    pub fn name(self) -> &'static str {
        FUNCTIONS
            .iter()
            .find(|(_, f, ..)| *f == self)
            .map_or("States.?", |(n, ..)| n)
    }
}

pub(super) fn check_arity(function: Function, count: usize) -> Result<(), String> {
    let (name, _, min, max) = FUNCTIONS
        .iter()
        .find(|(_, f, ..)| *f == function)
        .copied()
        .ok_or("unknown function")?;
    let ok = count >= min && max.is_none_or(|m| count <= m);
    if ok {
        return Ok(());
    }
    let expected = match max {
        Some(m) if m == min => format!("{min}"),
        Some(m) => format!("{min} to {m}"),
        None => format!("at least {min}"),
    };
    Err(format!("{name} takes {expected} argument(s), got {count}"))
}

fn fail(function: Function, message: impl std::fmt::Display) -> StatesError {
    StatesError::intrinsic(format!("{}: {message}", function.name()))
}

/// Calls `function` on evaluated arguments (arity already checked).
pub(super) fn call(function: Function, args: &[Value]) -> Result<Value, StatesError> {
    use Function::*;
    match function {
        Format => format(args),
        StringToJson => string_to_json(&args[0]),
        JsonToString => Ok(Value::from(args[0].to_json())),
        Array => Ok(Value::array(args.to_vec())),
        ArrayPartition => array_partition(&args[0], &args[1]),
        ArrayContains => Ok(Value::Bool(
            array_arg(ArrayContains, &args[0])?.contains(&args[1]),
        )),
        ArrayRange => array_range(&args[0], &args[1], &args[2]),
        ArrayGetItem => array_get_item(&args[0], &args[1]),
        ArrayLength => Ok(Value::from(array_arg(ArrayLength, &args[0])?.len())),
        ArrayUnique => array_unique(&args[0]),
        Base64Encode => base64_encode(&args[0]),
        Base64Decode => base64_decode(&args[0]),
        Hash => hash(&args[0], &args[1]),
        JsonMerge => json_merge(&args[0], &args[1], &args[2]),
        MathRandom => math_random(args),
        MathAdd => math_add(&args[0], &args[1]),
        StringSplit => string_split(&args[0], &args[1]),
        Uuid => Ok(Value::from(uuid::Uuid::new_v4().to_string())),
    }
}

// --- arguments -------------------------------------------------------------

fn array_arg(function: Function, value: &Value) -> Result<&[Value], StatesError> {
    value.as_array().ok_or_else(|| {
        fail(
            function,
            format!("expected an array argument, got {}", value.json_type()),
        )
    })
}

fn string_arg(function: Function, value: &Value) -> Result<&str, StatesError> {
    value.as_str().ok_or_else(|| {
        fail(
            function,
            format!("expected a string argument, got {}", value.json_type()),
        )
    })
}

fn integer_arg(function: Function, what: &str, value: &Value) -> Result<i64, StatesError> {
    value.as_i64().ok_or_else(|| {
        fail(
            function,
            format!("the {what} must be an integer, got {value}"),
        )
    })
}

// --- strings -----------------------------------------------------------------

/// `{}` is a placeholder; `\{`, `\}` and `\\` stand for the character.
fn format(args: &[Value]) -> Result<Value, StatesError> {
    let template = string_arg(Function::Format, &args[0])?;
    let mut values = args[1..].iter();
    let mut out = String::with_capacity(template.len() + 16);
    let mut chars = template.chars().peekable();
    let placeholders = count_placeholders(template);
    if placeholders != args.len() - 1 {
        return Err(fail(
            Function::Format,
            format!(
                "the template has {placeholders} placeholder(s) but {} argument(s) were given",
                args.len() - 1
            ),
        ));
    }
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                if let Some(value) = values.next() {
                    write_java_text(value, &mut out);
                }
            }
            other => out.push(other),
        }
    }
    Ok(Value::from(out))
}

/// Writes a value the way AWS's Java implementation renders it in
/// `States.Format`: strings raw, objects as `{k=v, k2=v2}`, arrays as
/// `[a, b]`, doubles as Java's `Double.toString`.
fn write_java_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Number(Number::Float(f)) => out.push_str(&java_double(*f)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java_text(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java_text(v, out);
            }
            out.push('}');
        }
        other => write_json(other, out),
    }
}

/// Java's `Double.toString`: plain decimal for magnitudes in [1e-3, 1e7),
/// otherwise `d.dddE±n`; always at least one fractional digit.
fn java_double(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let magnitude = f.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        return zmij::Buffer::new().format_finite(f).to_string();
    }
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

fn count_placeholders(template: &str) -> usize {
    let mut count = 0;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                count += 1;
            }
            _ => {}
        }
    }
    count
}

fn string_to_json(value: &Value) -> Result<Value, StatesError> {
    let text = string_arg(Function::StringToJson, value)?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    crate::value::parse_json_str(text).map_err(|e| fail(Function::StringToJson, e))
}

/// Splits on any of the delimiter characters and drops empty pieces.
fn string_split(value: &Value, delimiters: &Value) -> Result<Value, StatesError> {
    let text = string_arg(Function::StringSplit, value)?;
    let delimiters = string_arg(Function::StringSplit, delimiters)?;
    let pieces = text
        .split(|c: char| delimiters.contains(c))
        .filter(|piece| !piece.is_empty())
        .map(Value::from)
        .collect();
    Ok(Value::array(pieces))
}

// --- arrays ------------------------------------------------------------------

fn array_partition(array: &Value, size: &Value) -> Result<Value, StatesError> {
    let items = array_arg(Function::ArrayPartition, array)?;
    let size = integer_arg(Function::ArrayPartition, "chunk size", size)?;
    if size <= 0 {
        return Err(fail(
            Function::ArrayPartition,
            format!("the chunk size must be positive, got {size}"),
        ));
    }
    Ok(Value::array(
        items
            .chunks(size as usize)
            .map(|chunk| Value::array(chunk.to_vec()))
            .collect(),
    ))
}

fn array_range(start: &Value, end: &Value, step: &Value) -> Result<Value, StatesError> {
    let f = Function::ArrayRange;
    let (start, end, step) = (
        integer_arg(f, "start", start)?,
        integer_arg(f, "end", end)?,
        integer_arg(f, "step", step)?,
    );
    if step == 0 {
        return Err(fail(f, "the step must not be 0"));
    }
    let count = if (step > 0 && start > end) || (step < 0 && start < end) {
        0
    } else {
        ((end as i128 - start as i128) / step as i128 + 1) as u128
    };
    if count > MAX_RANGE_ITEMS as u128 {
        return Err(fail(
            f,
            format!("the range has {count} items, above the limit of {MAX_RANGE_ITEMS}"),
        ));
    }
    Ok(Value::array(
        (0..count as i64)
            .map(|i| Value::from(start + i * step))
            .collect(),
    ))
}

fn array_get_item(array: &Value, index: &Value) -> Result<Value, StatesError> {
    let items = array_arg(Function::ArrayGetItem, array)?;
    let index = integer_arg(Function::ArrayGetItem, "index", index)?;
    usize::try_from(index)
        .ok()
        .and_then(|i| items.get(i))
        .cloned()
        .ok_or_else(|| {
            fail(
                Function::ArrayGetItem,
                format!(
                    "index {index} is out of bounds for an array of {} items",
                    items.len()
                ),
            )
        })
}

fn array_unique(array: &Value) -> Result<Value, StatesError> {
    let items = array_arg(Function::ArrayUnique, array)?;
    let mut unique: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !unique.contains(item) {
            unique.push(item.clone());
        }
    }
    Ok(Value::array(unique))
}

// --- encoding and hashing ------------------------------------------------------

fn checked_length(function: Function, text: &str) -> Result<(), StatesError> {
    let chars = text.chars().count();
    if chars > MAX_ENCODE_CHARS {
        return Err(fail(
            function,
            format!("the input has {chars} characters, above the limit of {MAX_ENCODE_CHARS}"),
        ));
    }
    Ok(())
}

fn base64_encode(value: &Value) -> Result<Value, StatesError> {
    let text = string_arg(Function::Base64Encode, value)?;
    checked_length(Function::Base64Encode, text)?;
    Ok(Value::from(
        base64::engine::general_purpose::STANDARD.encode(text),
    ))
}

fn base64_decode(value: &Value) -> Result<Value, StatesError> {
    let f = Function::Base64Decode;
    let text = string_arg(f, value)?;
    checked_length(f, text)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| fail(f, format!("the input is not valid base64: {e}")))?;
    String::from_utf8(bytes)
        .map(Value::from)
        .map_err(|_| fail(f, "the decoded bytes are not UTF-8 text"))
}

fn hash(data: &Value, algorithm: &Value) -> Result<Value, StatesError> {
    use sha2::Digest as _;
    let f = Function::Hash;
    let owned;
    let text = match data {
        Value::String(s) => s.as_str(),
        other => {
            owned = other.to_json();
            &owned
        }
    };
    checked_length(f, text)?;
    let bytes = text.as_bytes();
    let digest: Vec<u8> = match string_arg(f, algorithm)? {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        other => {
            return Err(fail(
                f,
                format!(
                    "unsupported algorithm '{other}' (expected MD5, SHA-1, SHA-256, SHA-384 or SHA-512)"
                ),
            ));
        }
    };
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    Ok(Value::from(hex))
}

// --- JSON and maths ------------------------------------------------------------

fn json_merge(a: &Value, b: &Value, deep: &Value) -> Result<Value, StatesError> {
    let f = Function::JsonMerge;
    let (Some(left), Some(right)) = (a.as_object(), b.as_object()) else {
        return Err(fail(f, "both values to merge must be JSON objects"));
    };
    match deep {
        Value::Bool(false) => {}
        Value::Bool(true) => {
            return Err(fail(
                f,
                "only shallow merging is supported: the third argument must be false",
            ));
        }
        other => {
            return Err(fail(
                f,
                format!("the third argument must be the boolean false, got {other}"),
            ));
        }
    }
    let mut merged: Map = left.clone();
    for (k, v) in right.iter() {
        merged.insert(Str::clone(k), v.clone());
    }
    Ok(Value::object(merged))
}

/// Java's `Math.round`: halves go up (towards positive infinity).
fn round_half_up(n: Number) -> i64 {
    match n {
        Number::Int(i) => i,
        Number::Float(f) => (f + 0.5).floor() as i64,
    }
}

fn math_add(a: &Value, b: &Value) -> Result<Value, StatesError> {
    let f = Function::MathAdd;
    let number = |v: &Value| {
        v.as_number()
            .ok_or_else(|| fail(f, format!("expected a number, got {v}")))
    };
    let sum = round_half_up(number(a)?).checked_add(round_half_up(number(b)?));
    sum.map(Value::from)
        .ok_or_else(|| fail(f, "the sum overflows a 64-bit integer"))
}

/// A random integer from `start` to `end` inclusive; a seed makes it repeatable.
fn math_random(args: &[Value]) -> Result<Value, StatesError> {
    let f = Function::MathRandom;
    let start = integer_arg(f, "start", &args[0])?;
    let end = integer_arg(f, "end", &args[1])?;
    if start > end {
        return Err(fail(
            f,
            format!("the start {start} is greater than the end {end}"),
        ));
    }
    let n = match args.get(2) {
        Some(seed) => {
            let seed = integer_arg(f, "seed", seed)?;
            rand::rngs::SmallRng::seed_from_u64(seed as u64).random_range(start..=end)
        }
        None => rand::rng().random_range(start..=end),
    };
    Ok(Value::from(n))
}
