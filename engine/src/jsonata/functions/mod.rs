//! The built-in function library, grouped by family, and the table that
//! names them with their signatures.

mod arrays;
mod aws;
mod datetime;
mod encoding;
mod hof;
mod numeric;
mod objects;
mod strings;

use super::error::Result;
use super::eval::Evaluator;
use super::signature::Signature;
use super::val::Val;
use crate::value::Value;
use std::collections::HashMap;
use std::sync::LazyLock;

pub(crate) use numeric::round_half_even;
pub(crate) use strings::string;

/// The implementation of a built-in: validated arguments and the context.
pub(crate) type NativeFn = fn(&mut Evaluator<'_>, Vec<Val>, &Val) -> Result<Val>;

/// A built-in function.
pub(crate) struct Native {
    pub name: &'static str,
    signature: Signature,
    pub imp: NativeFn,
    /// Whether the result is new (counted against the byte budget and
    /// checked for nesting) rather than a part of the arguments.
    pub builds: bool,
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.name)
    }
}

impl Native {
    /// The parsed signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Number of parameters a higher-order function passes (the required
    /// ones, like JavaScript's `Function.length`).
    pub fn arity(&self) -> usize {
        self.signature.required()
    }
}

/// `(name, signature, implementation)` of every built-in.
const TABLE: &[(&str, &str, NativeFn)] = &[
    // aggregates and numbers
    ("sum", "<a<n>:n>", numeric::sum),
    ("count", "<a:n>", arrays::count),
    ("max", "<a<n>:n>", numeric::max),
    ("min", "<a<n>:n>", numeric::min),
    ("average", "<a<n>:n>", numeric::average),
    ("number", "<(nsb)-:n>", numeric::number),
    ("abs", "<n-:n>", numeric::abs),
    ("floor", "<n-:n>", numeric::floor),
    ("ceil", "<n-:n>", numeric::ceil),
    ("round", "<n-n?:n>", numeric::round),
    ("power", "<n-n:n>", numeric::power),
    ("sqrt", "<n-:n>", numeric::sqrt),
    ("formatNumber", "<n-so?:s>", numeric::format_number),
    ("formatBase", "<n-n?:s>", numeric::format_base),
    ("formatInteger", "<n-s:s>", numeric::format_integer),
    ("parseInteger", "<s-s:n>", numeric::parse_integer),
    // strings
    ("string", "<x-b?:s>", strings::string_fn),
    ("substring", "<s-nn?:s>", strings::substring),
    ("substringBefore", "<s-s:s>", strings::substring_before),
    ("substringAfter", "<s-s:s>", strings::substring_after),
    ("lowercase", "<s-:s>", strings::lowercase),
    ("uppercase", "<s-:s>", strings::uppercase),
    ("length", "<s-:n>", strings::length),
    ("trim", "<s-:s>", strings::trim),
    ("pad", "<s-ns?:s>", strings::pad),
    ("match", "<s-f<s:o>n?:a<o>>", strings::match_fn),
    ("contains", "<s-(sf):b>", strings::contains),
    ("replace", "<s-(sf)(sf)n?:s>", strings::replace),
    ("split", "<s-(sf)n?:a<s>>", strings::split),
    ("join", "<a<s>s?:s>", strings::join),
    ("eval", "<sx?:x>", strings::eval),
    ("base64encode", "<s-:s>", encoding::base64_encode),
    ("base64decode", "<s-:s>", encoding::base64_decode),
    (
        "encodeUrlComponent",
        "<s-:s>",
        encoding::encode_url_component,
    ),
    ("encodeUrl", "<s-:s>", encoding::encode_url),
    (
        "decodeUrlComponent",
        "<s-:s>",
        encoding::decode_url_component,
    ),
    ("decodeUrl", "<s-:s>", encoding::decode_url),
    // booleans
    ("boolean", "<x-:b>", objects::boolean_fn),
    ("not", "<x-:b>", objects::not),
    ("exists", "<x:b>", objects::exists),
    // arrays
    ("append", "<xx:a>", arrays::append),
    ("sort", "<af?:a>", arrays::sort),
    ("reverse", "<a:a>", arrays::reverse),
    ("shuffle", "<a:a>", arrays::shuffle),
    ("distinct", "<x:x>", arrays::distinct),
    ("zip", "<a+>", arrays::zip),
    // objects
    ("keys", "<x-:a<s>>", objects::keys),
    ("lookup", "<x-s:x>", objects::lookup),
    ("spread", "<x-:a<o>>", objects::spread),
    ("merge", "<a<o>:o>", objects::merge),
    ("sift", "<o-f?:o>", objects::sift),
    ("each", "<o-f:a>", objects::each),
    ("error", "<s?:x>", objects::error),
    ("assert", "<bs?:x>", objects::assert),
    ("type", "<x:s>", objects::type_of),
    // higher-order
    ("map", "<af>", hof::map),
    ("filter", "<af>", hof::filter),
    ("single", "<af?>", hof::single),
    ("reduce", "<afj?:j>", hof::reduce),
    // date and time
    ("now", "<s?s?:s>", datetime::now),
    ("millis", "<:n>", datetime::millis),
    ("fromMillis", "<n-s?s?:s>", datetime::from_millis),
    ("toMillis", "<s-s?:n>", datetime::to_millis),
    // AWS Step Functions additions
    ("partition", "<an:a>", aws::partition),
    ("range", "<nnn?:a>", aws::range),
    ("hash", "<s-s?:s>", aws::hash),
    ("random", "<n?:n>", aws::random),
    ("uuid", "<:s>", aws::uuid),
    ("parse", "<s-:x>", aws::parse),
];

/// The built-ins whose result is one of their arguments or a part of one
/// (or what a function they call built).
const RETURN_PARTS: &[&str] = &["lookup", "single", "reduce", "eval", "error", "assert"];

static NATIVES: LazyLock<HashMap<&'static str, Native>> = LazyLock::new(|| {
    TABLE
        .iter()
        .map(|&(name, sig, imp)| {
            let signature = Signature::parse(sig).expect("built-in signatures are valid");
            (
                name,
                Native {
                    name,
                    signature,
                    imp,
                    builds: !RETURN_PARTS.contains(&name),
                },
            )
        })
        .collect()
});

/// The built-in function called `name`.
pub(crate) fn native(name: &str) -> Option<&'static Native> {
    NATIVES.get(name)
}

/// JSONata truthiness (`$boolean`), with `undefined` as `None`.
pub(crate) fn to_boolean(v: &Val) -> Option<bool> {
    Some(match v {
        Val::Undef => return None,
        Val::J(Value::Null) => false,
        Val::J(Value::Bool(b)) => *b,
        Val::J(Value::Number(n)) => n.as_f64() != 0.0,
        Val::J(Value::String(s)) => !s.is_empty(),
        Val::J(Value::Object(m)) => !m.is_empty(),
        Val::Obj(entries) => !entries.is_empty(),
        Val::Func(_) | Val::Tail(_) => false,
        _ => match v.items() {
            Some(items) => match items.len() {
                0 => false,
                1 => boolean(&items.get(0).unwrap_or_default()),
                _ => items.iter().any(|i| boolean(&i)),
            },
            None => false,
        },
    })
}

/// JSONata truthiness, `undefined` being false.
pub(crate) fn boolean(v: &Val) -> bool {
    to_boolean(v).unwrap_or(false)
}

/// The i-th argument (nothing when absent).
fn arg(args: &[Val], i: usize) -> &Val {
    const UNDEF: &Val = &Val::Undef;
    args.get(i).unwrap_or(UNDEF)
}

/// A number argument, when present.
fn num_arg(args: &[Val], i: usize) -> Option<f64> {
    arg(args, i).as_f64()
}

/// A string argument, when present.
fn str_arg(args: &[Val], i: usize) -> Option<&str> {
    arg(args, i).as_str().map(|s| s.as_str())
}
