//! Picture strings for numbers: `$formatInteger`/`$parseInteger` (XPath
//! `format-integer`: decimal digit patterns with grouping, any Unicode digit
//! family, roman numerals, letters, English words, ordinals) and
//! `$formatNumber` (XPath `format-number`). The integer pictures are also
//! used by the date/time picture components.

use super::error::{JsonataError, Result};
use super::functions::round_half_even;
use super::numfmt::js_string;
use super::val::Val;
use crate::value::Value;

/// Zero digits of the Unicode decimal digit families (each is followed by
/// the digits 1 to 9).
const DIGIT_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66,
    0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90,
    0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
];

/// The zero of the decimal digit family `c` belongs to, and its value.
pub(crate) fn digit_value(c: char) -> Option<(u32, u32)> {
    let cp = c as u32;
    DIGIT_ZEROS
        .iter()
        .find(|&&z| cp >= z && cp <= z + 9)
        .map(|&z| (z, cp - z))
}

fn digit_char(zero: u32, d: u32) -> char {
    char::from_u32(zero + d).unwrap_or('?')
}

/// How an integer is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Style {
    /// Digits of one family, with grouping separators.
    Decimal(Decimal),
    /// `A`/`a`: A, B, ... Z, AA, ...
    Letters { upper: bool },
    /// `I`/`i`: roman numerals.
    Roman { upper: bool },
    /// `W`, `w`, `Ww`: English words.
    Words(Case),
}

/// Letter case of words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Case {
    Upper,
    Lower,
    Title,
}

/// A decimal digit pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decimal {
    zero: u32,
    /// Mandatory digits.
    min_digits: usize,
    /// Mandatory plus optional digits (`#`).
    max_digits: usize,
    /// Separators with their position counted in digits from the right.
    separators: Vec<(usize, char)>,
    /// Repeat interval when the separators are regular.
    regular: Option<(usize, char)>,
}

/// A parsed integer picture: style and whether ordinals are wanted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IntegerPicture {
    pub style: Style,
    pub ordinal: bool,
}

fn unsupported(picture: &str) -> Box<JsonataError> {
    JsonataError::new("D3130").value(Value::from(picture))
}

impl IntegerPicture {
    /// Parses `primary;modifiers`.
    pub fn parse(picture: &str) -> Result<IntegerPicture> {
        let (primary, modifiers) = match picture.rfind(';') {
            Some(i) if i > 0 => (&picture[..i], &picture[i + 1..]),
            _ => (picture, ""),
        };
        let ordinal = modifiers.starts_with('o');
        let style = match primary {
            "A" => Style::Letters { upper: true },
            "a" => Style::Letters { upper: false },
            "I" => Style::Roman { upper: true },
            "i" => Style::Roman { upper: false },
            "W" => Style::Words(Case::Upper),
            "w" => Style::Words(Case::Lower),
            "Ww" => Style::Words(Case::Title),
            _ => Style::Decimal(parse_decimal(primary)?),
        };
        Ok(IntegerPicture { style, ordinal })
    }

    /// Writes `n` (truncated to an integer).
    pub fn format(&self, n: f64) -> String {
        let negative = n < 0.0;
        let n = n.abs().floor();
        let body = match &self.style {
            Style::Decimal(d) => {
                let mut s = format_decimal(d, n);
                if self.ordinal {
                    s.push_str(ordinal_suffix(n));
                }
                s
            }
            Style::Letters { upper } => letters(n as u64, *upper),
            Style::Roman { upper } => {
                let r = roman(n as u64);
                if *upper { r } else { r.to_lowercase() }
            }
            Style::Words(case) => {
                let mut w = words(&integer_digits(n));
                if self.ordinal {
                    w = ordinal_words(&w);
                }
                apply_case(&w, *case)
            }
        };
        if negative { format!("-{body}") } else { body }
    }

    /// Reads a number written this way; `None` when the text does not fit.
    pub fn parse_value(&self, s: &str) -> Option<f64> {
        match &self.style {
            Style::Decimal(d) => {
                let mut out = String::new();
                for c in s.chars() {
                    match digit_value(c) {
                        Some((z, v)) if z == d.zero => out.push(char::from_digit(v, 10)?),
                        _ if d.separators.iter().any(|(_, sep)| *sep == c)
                            || d.regular.is_some_and(|(_, sep)| sep == c) => {}
                        _ if self.ordinal && c.is_alphabetic() => {}
                        _ => return None,
                    }
                }
                out.parse().ok()
            }
            Style::Letters { .. } => {
                let mut n = 0u64;
                for c in s.chars() {
                    let v = (c.to_ascii_lowercase() as u64).checked_sub('a' as u64)? + 1;
                    if v > 26 {
                        return None;
                    }
                    n = n * 26 + v;
                }
                Some(n as f64)
            }
            Style::Roman { .. } => parse_roman(s),
            Style::Words(_) => parse_words(s),
        }
    }
}

/// Parses a decimal digit pattern such as `#,##0` or `0001`.
fn parse_decimal(primary: &str) -> Result<Decimal> {
    let mut zero: Option<u32> = None;
    let mut min_digits = 0;
    let mut max_digits = 0;
    let mut marks: Vec<Option<char>> = Vec::new(); // None = digit position
    for c in primary.chars() {
        if let Some((z, _)) = digit_value(c) {
            if zero.is_some_and(|existing| existing != z) {
                return Err(JsonataError::new("D3131"));
            }
            zero = Some(z);
            min_digits += 1;
            max_digits += 1;
            marks.push(None);
        } else if c == '#' {
            max_digits += 1;
            marks.push(None);
        } else if c.is_alphanumeric() {
            return Err(unsupported(primary));
        } else {
            marks.push(Some(c));
        }
    }
    let Some(zero) = zero else {
        return Err(unsupported(primary));
    };
    let mut separators = Vec::new();
    let mut digits_right = 0;
    for m in marks.iter().rev() {
        match m {
            None => digits_right += 1,
            Some(c) => separators.push((digits_right, *c)),
        }
    }
    let regular = match separators.first() {
        Some(&(first, c))
            if first > 0
                && separators
                    .iter()
                    .enumerate()
                    .all(|(i, &(pos, sep))| sep == c && pos == first * (i + 1)) =>
        {
            Some((first, c))
        }
        _ => None,
    };
    Ok(Decimal {
        zero,
        min_digits,
        max_digits,
        separators,
        regular,
    })
}

/// The decimal digits of a non-negative whole number (as JavaScript writes
/// it, so `1e46` is a one and 46 zeros).
fn integer_digits(n: f64) -> String {
    let s = js_string(n);
    match s.split_once("e+") {
        Some((mantissa, exp)) => {
            let exp: usize = exp.parse().unwrap_or(0);
            let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
            let mut out = format!("{int}{frac}");
            out.extend(std::iter::repeat_n('0', exp.saturating_sub(frac.len())));
            out
        }
        None => s.split('.').next().unwrap_or("0").to_string(),
    }
}

fn format_decimal(d: &Decimal, n: f64) -> String {
    let digits = integer_digits(n);
    let mut digits: Vec<char> = digits.chars().collect();
    while digits.len() < d.min_digits {
        digits.insert(0, '0');
    }
    let mut out: Vec<char> = Vec::new();
    for (i, c) in digits.iter().rev().enumerate() {
        if i > 0 {
            let sep = match d.regular {
                Some((every, sep)) if i % every == 0 => Some(sep),
                Some(_) => None,
                None => d.separators.iter().find(|(p, _)| *p == i).map(|(_, s)| *s),
            };
            if let Some(s) = sep {
                out.push(s);
            }
        }
        out.push(digit_char(d.zero, c.to_digit(10).unwrap_or(0)));
    }
    out.iter().rev().collect()
}

fn ordinal_suffix(n: f64) -> &'static str {
    let n = n as u64;
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

fn letters(mut n: u64, upper: bool) -> String {
    let base = if upper { b'A' } else { b'a' };
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push((base + (n % 26) as u8) as char);
        n /= 26;
    }
    out.iter().rev().collect()
}

const ROMAN: &[(u64, &str)] = &[
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
];

fn roman(mut n: u64) -> String {
    let mut out = String::new();
    for &(v, s) in ROMAN {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

fn parse_roman(s: &str) -> Option<f64> {
    let value = |c: char| {
        ROMAN
            .iter()
            .find(|(_, r)| r.len() == 1 && r.starts_with(c.to_ascii_uppercase()))
            .map(|(v, _)| *v as i64)
    };
    let vals: Option<Vec<i64>> = s.chars().map(value).collect();
    let vals = vals?;
    let mut total = 0i64;
    for (i, v) in vals.iter().enumerate() {
        if vals.get(i + 1).is_some_and(|next| next > v) {
            total -= v;
        } else {
            total += v;
        }
    }
    Some(total as f64)
}

const SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "ten", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(usize, &str); 4] = [
    (12, "trillion"),
    (9, "billion"),
    (6, "million"),
    (3, "thousand"),
];

/// English words for a number given as decimal digits.
fn words(digits: &str) -> String {
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return SMALL[0].to_string();
    }
    if digits.len() <= 3 {
        let n: usize = digits.parse().unwrap_or(0);
        return if n < 20 {
            SMALL[n].to_string()
        } else if n < 100 {
            match n % 10 {
                0 => TENS[n / 10].to_string(),
                r => format!("{}-{}", TENS[n / 10], SMALL[r]),
            }
        } else {
            match n % 100 {
                0 => format!("{} hundred", SMALL[n / 100]),
                r => format!("{} hundred and {}", SMALL[n / 100], words(&r.to_string())),
            }
        };
    }
    let (size, name) = SCALES
        .iter()
        .find(|(size, _)| digits.len() > *size)
        .copied()
        .unwrap_or((3, "thousand"));
    let split = digits.len() - size;
    let (major, rest) = digits.split_at(split);
    let mut out = format!("{} {name}", words(major));
    let rest = rest.trim_start_matches('0');
    if !rest.is_empty() {
        let small = rest.len() <= 2;
        out.push_str(if small { " and " } else { ", " });
        out.push_str(&words(rest));
    }
    out
}

/// Turns the last word into its ordinal form.
fn ordinal_words(w: &str) -> String {
    let cut = w.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = w.split_at(cut);
    let ord = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        l if l.ends_with('y') => format!("{}ieth", &l[..l.len() - 1]),
        l => format!("{l}th"),
    };
    format!("{head}{ord}")
}

fn apply_case(w: &str, case: Case) -> String {
    match case {
        Case::Upper => w.to_uppercase(),
        Case::Lower => w.to_string(),
        Case::Title => {
            let mut out = String::with_capacity(w.len());
            let mut start = true;
            let mut word = String::new();
            let flush = |word: &mut String, out: &mut String| {
                if word == "and" {
                    out.push_str(word);
                } else {
                    let mut cs = word.chars();
                    if let Some(f) = cs.next() {
                        out.extend(f.to_uppercase());
                        out.push_str(cs.as_str());
                    }
                }
                word.clear();
            };
            for c in w.chars() {
                if c.is_alphabetic() {
                    word.push(c);
                    start = false;
                } else {
                    flush(&mut word, &mut out);
                    out.push(c);
                    start = true;
                }
            }
            let _ = start;
            flush(&mut word, &mut out);
            out
        }
    }
}

/// The value of an English number word (cardinal or ordinal).
fn word_value(w: &str) -> Option<u64> {
    let w = w.to_lowercase();
    let ordinal = |base: &str| -> Option<u64> {
        match base {
            "first" => Some(1),
            "second" => Some(2),
            "third" => Some(3),
            "fifth" => Some(5),
            "eighth" => Some(8),
            "ninth" => Some(9),
            "twelfth" => Some(12),
            _ => None,
        }
    };
    if let Some(v) = ordinal(&w) {
        return Some(v);
    }
    let lookup = |s: &str| -> Option<u64> {
        if let Some(i) = SMALL.iter().position(|x| *x == s) {
            return Some(i as u64);
        }
        if let Some(i) = TENS.iter().position(|x| !x.is_empty() && *x == s) {
            return Some(i as u64 * 10);
        }
        match s {
            "hundred" => Some(100),
            "thousand" => Some(1_000),
            "million" => Some(1_000_000),
            "billion" => Some(1_000_000_000),
            "trillion" => Some(1_000_000_000_000),
            _ => None,
        }
    };
    if let Some(v) = lookup(&w) {
        return Some(v);
    }
    if let Some(base) = w.strip_suffix("ieth") {
        return lookup(&format!("{base}y"));
    }
    w.strip_suffix("th").and_then(lookup)
}

/// A decimal digit string for `digits × 10^zeros + other`.
fn add_digits(a: &str, b: &str) -> String {
    let (a, b): (Vec<u8>, Vec<u8>) = (a.bytes().rev().collect(), b.bytes().rev().collect());
    let mut out = Vec::new();
    let mut carry = 0;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).map_or(0, |c| c - b'0') + b.get(i).map_or(0, |c| c - b'0') + carry;
        out.push(b'0' + x % 10);
        carry = x / 10;
    }
    if carry > 0 {
        out.push(b'0' + carry);
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn parse_words(s: &str) -> Option<f64> {
    // total and the group being built, as decimal digit strings (values
    // reach 1e46)
    let mut total = String::from("0");
    let mut current: u64 = 0;
    let mut last_scale = 0usize;
    let mut any = false;
    for w in s.split([' ', ',', '-']).filter(|w| !w.is_empty()) {
        if w.eq_ignore_ascii_case("and") {
            continue;
        }
        let v = word_value(w)?;
        any = true;
        if v == 100 {
            current *= 100;
        } else if v >= 1000 {
            let zeros = v.ilog10() as usize;
            let group = format!("{current}{}", "0".repeat(zeros));
            if zeros >= last_scale && last_scale > 0 {
                total = add_digits(&total, &current.to_string());
                total.push_str(&"0".repeat(zeros));
            } else {
                total = add_digits(&total, &group);
            }
            last_scale = zeros;
            current = 0;
        } else {
            current += v;
        }
    }
    if !any {
        return None;
    }
    let total = add_digits(&total, &current.to_string());
    total.parse().ok()
}

/// `$formatInteger(x, picture)`.
pub(crate) fn format_integer(x: f64, picture: &str) -> Result<String> {
    Ok(IntegerPicture::parse(picture)?.format(x))
}

/// `$parseInteger(s, picture)`.
pub(crate) fn parse_integer(s: &str, picture: &str) -> Result<Option<f64>> {
    Ok(IntegerPicture::parse(picture)?.parse_value(s))
}

/// The decimal format properties of `$formatNumber`.
struct Props {
    decimal: char,
    grouping: char,
    exponent: char,
    minus: String,
    percent: String,
    per_mille: String,
    zero: u32,
    digit: char,
    pattern: char,
}

impl Props {
    fn from_options(options: &Val) -> Props {
        let get = |key: &str, default: &str| -> String {
            options
                .field(key)
                .as_str()
                .map_or(default.to_string(), |s| s.to_string())
        };
        let first = |s: String, d: char| s.chars().next().unwrap_or(d);
        Props {
            decimal: first(get("decimal-separator", "."), '.'),
            grouping: first(get("grouping-separator", ","), ','),
            exponent: first(get("exponent-separator", "e"), 'e'),
            minus: get("minus-sign", "-"),
            percent: get("percent", "%"),
            per_mille: get("per-mille", "\u{2030}"),
            zero: first(get("zero-digit", "0"), '0') as u32,
            digit: first(get("digit", "#"), '#'),
            pattern: first(get("pattern-separator", ";"), ';'),
        }
    }

    fn is_family_digit(&self, c: char) -> bool {
        (c as u32) >= self.zero && (c as u32) <= self.zero + 9
    }

    fn is_active(&self, c: char) -> bool {
        self.is_family_digit(c)
            || c == self.decimal
            || c == self.exponent
            || c == self.grouping
            || c == self.digit
            || c == self.pattern
    }
}

/// The parts of one sub-picture.
struct SubPicture {
    text: Vec<char>,
    prefix: String,
    suffix: String,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fraction: Vec<char>,
}

fn split_sub_picture(text: &str, p: &Props) -> SubPicture {
    let chars: Vec<char> = text.chars().collect();
    let is_marker = |c: char| p.is_active(c) && c != p.exponent;
    // without any active character, the whole sub-picture counts as active
    let start = chars.iter().position(|&c| is_marker(c)).unwrap_or(0);
    let end = chars
        .iter()
        .rposition(|&c| is_marker(c))
        .map_or(chars.len(), |i| i + 1);
    let prefix: String = chars[..start].iter().collect();
    let suffix: String = chars[end..].iter().collect();
    let active: Vec<char> = chars[start..end].to_vec();
    let exp_at = active.iter().position(|&c| c == p.exponent);
    let (mantissa, exponent) = match exp_at {
        Some(i) => (active[..i].to_vec(), Some(active[i + 1..].to_vec())),
        None => (active.clone(), None),
    };
    let (integer, fraction) = match mantissa.iter().position(|&c| c == p.decimal) {
        Some(i) => (mantissa[..i].to_vec(), mantissa[i + 1..].to_vec()),
        None => (mantissa.clone(), Vec::new()),
    };
    SubPicture {
        text: chars,
        prefix,
        suffix,
        active,
        mantissa,
        exponent,
        integer,
        fraction,
    }
}

fn count_str(hay: &[char], needle: &str) -> usize {
    let hay: String = hay.iter().collect();
    if needle.is_empty() {
        0
    } else {
        hay.matches(needle).count()
    }
}

/// The XPath rules for a sub-picture; the last rule broken is reported.
fn validate(s: &SubPicture, p: &Props) -> Result<()> {
    let mut error = None;
    let text = &s.text;
    if text.iter().filter(|&&c| c == p.decimal).count() > 1 {
        error = Some("D3081");
    }
    if count_str(text, &p.percent) > 1 {
        error = Some("D3082");
    }
    if count_str(text, &p.per_mille) > 1 {
        error = Some("D3083");
    }
    if count_str(text, &p.percent) > 0 && count_str(text, &p.per_mille) > 0 {
        error = Some("D3084");
    }
    if !s
        .mantissa
        .iter()
        .any(|&c| p.is_family_digit(c) || c == p.digit)
    {
        error = Some("D3085");
    }
    if s.active.iter().any(|&c| !p.is_active(c)) {
        error = Some("D3086");
    }
    match text.iter().position(|&c| c == p.decimal) {
        Some(i) => {
            let before = i.checked_sub(1).and_then(|j| text.get(j));
            if before == Some(&p.grouping) || text.get(i + 1) == Some(&p.grouping) {
                error = Some("D3087");
            }
        }
        None => {
            if s.integer.last() == Some(&p.grouping) {
                error = Some("D3088");
            }
        }
    }
    if text
        .windows(2)
        .any(|w| w[0] == p.grouping && w[1] == p.grouping)
    {
        error = Some("D3089");
    }
    if let Some(i) = s.integer.iter().position(|&c| c == p.digit)
        && s.integer[..i].iter().any(|&c| p.is_family_digit(c))
    {
        error = Some("D3090");
    }
    if let Some(i) = s.fraction.iter().rposition(|&c| c == p.digit)
        && s.fraction[i..].iter().any(|&c| p.is_family_digit(c))
    {
        error = Some("D3091");
    }
    if let Some(exp) = &s.exponent {
        if !exp.is_empty() && (count_str(text, &p.percent) > 0 || count_str(text, &p.per_mille) > 0)
        {
            error = Some("D3092");
        }
        if exp.is_empty() || exp.iter().any(|&c| !p.is_family_digit(c)) {
            error = Some("D3093");
        }
    }
    match error {
        Some(code) => Err(JsonataError::new(code)),
        None => Ok(()),
    }
}

/// What formatting needs from a sub-picture.
struct Layout {
    prefix: String,
    suffix: String,
    text: String,
    grouping: Vec<usize>,
    regular: usize,
    fraction_grouping: Vec<usize>,
    min_int: usize,
    scaling: i32,
    min_frac: usize,
    max_frac: usize,
    min_exp: usize,
    has_exponent: bool,
}

fn analyse(s: &SubPicture, p: &Props) -> Layout {
    let digitish = |c: &char| p.is_family_digit(*c) || *c == p.digit;
    let mut grouping = Vec::new();
    for (i, &c) in s.integer.iter().enumerate() {
        if c == p.grouping {
            grouping.push(s.integer[i..].iter().filter(|c| digitish(c)).count());
        }
    }
    let regular = if grouping.is_empty() {
        0
    } else {
        fn gcd(a: usize, b: usize) -> usize {
            if b == 0 { a } else { gcd(b, a % b) }
        }
        let factor = grouping.iter().copied().reduce(gcd).unwrap_or(0);
        if factor > 0 && (1..=grouping.len()).all(|k| grouping.contains(&(k * factor))) {
            factor
        } else {
            0
        }
    };
    let mut fraction_grouping = Vec::new();
    for (i, &c) in s.fraction.iter().enumerate() {
        if c == p.grouping {
            fraction_grouping.push(s.fraction[..i].iter().filter(|c| digitish(c)).count());
        }
    }
    let mut min_int = s.integer.iter().filter(|&&c| p.is_family_digit(c)).count();
    let scaling = min_int as i32;
    let mut min_frac = s.fraction.iter().filter(|&&c| p.is_family_digit(c)).count();
    let mut max_frac = s.fraction.iter().filter(|c| digitish(c)).count();
    let has_exponent = s.exponent.is_some();
    if min_int == 0 && max_frac == 0 {
        if has_exponent {
            min_frac = 1;
            max_frac = 1;
        } else {
            min_int = 1;
        }
    }
    if has_exponent && min_int == 0 && s.integer.contains(&p.digit) {
        min_int = 1;
    }
    if min_int == 0 && min_frac == 0 {
        min_frac = 1;
    }
    let min_exp = s
        .exponent
        .as_ref()
        .map_or(0, |e| e.iter().filter(|&&c| p.is_family_digit(c)).count());
    Layout {
        prefix: s.prefix.clone(),
        suffix: s.suffix.clone(),
        text: s.text.iter().collect(),
        grouping,
        regular,
        fraction_grouping,
        min_int,
        scaling,
        min_frac,
        max_frac,
        min_exp,
        has_exponent,
    }
}

/// `$formatNumber(x, picture, options)`.
pub(crate) fn format_number(x: f64, picture: &str, options: &Val) -> Result<String> {
    let p = Props::from_options(options);
    let subs: Vec<&str> = picture.split(p.pattern).collect();
    if subs.len() > 2 {
        return Err(JsonataError::new("D3080"));
    }
    let parts: Vec<SubPicture> = subs.iter().map(|s| split_sub_picture(s, &p)).collect();
    for part in &parts {
        validate(part, &p)?;
    }
    let mut layouts: Vec<Layout> = parts.iter().map(|s| analyse(s, &p)).collect();
    let pic = if x < 0.0 {
        if layouts.len() == 1 {
            let mut neg = analyse(&parts[0], &p);
            neg.prefix = format!("{}{}", p.minus, neg.prefix);
            neg
        } else {
            layouts.remove(1)
        }
    } else {
        layouts.remove(0)
    };
    let adjusted = if pic.text.contains(p.percent.as_str()) {
        x * 100.0
    } else if pic.text.contains(p.per_mille.as_str()) {
        x * 1000.0
    } else {
        x
    };
    let mut mantissa = adjusted.abs();
    let mut exponent = 0i32;
    if pic.has_exponent && mantissa != 0.0 {
        let max = 10f64.powi(pic.scaling);
        let min = 10f64.powi(pic.scaling - 1);
        while mantissa < min {
            mantissa *= 10.0;
            exponent -= 1;
        }
        while mantissa > max {
            mantissa /= 10.0;
            exponent += 1;
        }
    }
    let rounded = round_half_even(mantissa, pic.max_frac as i32);
    let zero = char::from_u32(p.zero).unwrap_or('0');
    let to_family = |s: String| -> String {
        s.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => digit_char(p.zero, d),
                None => c,
            })
            .collect()
    };
    let fixed = to_family(format!("{:.*}", pic.max_frac, rounded));
    let mut s: Vec<char> = match fixed.find('.') {
        Some(_) => fixed
            .replacen('.', &p.decimal.to_string(), 1)
            .chars()
            .collect(),
        None => format!("{fixed}{}", p.decimal).chars().collect(),
    };
    while s.first() == Some(&zero) {
        s.remove(0);
    }
    while s.last() == Some(&zero) {
        s.pop();
    }
    let mut dot = s.iter().position(|&c| c == p.decimal).unwrap_or(s.len());
    let pad_left = pic.min_int.saturating_sub(dot);
    let frac_len = s.len() - dot - 1;
    let pad_right = pic.min_frac.saturating_sub(frac_len);
    for _ in 0..pad_left {
        s.insert(0, zero);
    }
    s.extend(std::iter::repeat_n(zero, pad_right));
    dot = s.iter().position(|&c| c == p.decimal).unwrap_or(s.len());
    if let Some(groups) = dot.saturating_sub(1).checked_div(pic.regular) {
        for g in 1..=groups {
            s.insert(dot - g * pic.regular, p.grouping);
        }
    } else {
        for &pos in &pic.grouping {
            if pos <= dot {
                s.insert(dot - pos, p.grouping);
                dot += 1;
            }
        }
    }
    dot = s.iter().position(|&c| c == p.decimal).unwrap_or(s.len());
    for &pos in &pic.fraction_grouping {
        let at = pos + dot + 1;
        if at <= s.len() {
            s.insert(at, p.grouping);
        }
    }
    if s.last() == Some(&p.decimal) {
        s.pop();
    }
    let mut out: String = s.into_iter().collect();
    if pic.has_exponent {
        let mut e = to_family(exponent.unsigned_abs().to_string());
        let len = e.chars().count();
        if len < pic.min_exp {
            e = format!("{}{e}", zero.to_string().repeat(pic.min_exp - len));
        }
        out.push(p.exponent);
        if exponent < 0 {
            out.push_str(&p.minus);
        }
        out.push_str(&e);
    }
    Ok(format!("{}{out}{}", pic.prefix, pic.suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fi(n: f64, p: &str) -> String {
        format_integer(n, p).unwrap()
    }

    #[test]
    fn integer_pictures() {
        assert_eq!(fi(1234567890.0, "#,##0"), "1,234,567,890");
        assert_eq!(fi(1234567890.0, "#:###,##0"), "1234:567,890");
        assert_eq!(fi(1234567890.0, "##,##,##0"), "12345,67,890");
        assert_eq!(fi(-3.0, "0000"), "-0003");
        assert_eq!(fi(123.0, "000;o"), "123rd");
        assert_eq!(
            fi(12340.0, "###\u{661}"),
            "\u{661}\u{662}\u{663}\u{664}\u{660}"
        );
        assert_eq!(fi(1984.0, "I"), "MCMLXXXIV");
        assert_eq!(fi(123456.0, "A"), "FZPH");
        assert_eq!(fi(555.0, "Ww"), "Five Hundred and Fifty-Five");
        assert_eq!(fi(1e46, "w"), "ten billion trillion trillion trillion");
        assert_eq!(
            fi(3731.0, "w;o"),
            "three thousand, seven hundred and thirty-first"
        );
        assert_eq!(
            format_integer(1.0, "##0\u{ff10}").unwrap_err().code,
            "D3131"
        );
    }

    #[test]
    fn parsing_integers() {
        let p = |s: &str, pic: &str| parse_integer(s, pic).unwrap();
        assert_eq!(p("12,345,678", "#,##0"), Some(12345678.0));
        assert_eq!(p("xcix", "i"), Some(99.0));
        assert_eq!(p("FZPH", "A"), Some(123456.0));
        assert_eq!(p("one thousand trillion", "w"), Some(1e15));
        assert_eq!(p("ten billion trillion trillion trillion", "w"), Some(1e46));
        assert_eq!(p("Seven Hundred and Thirty-Third", "Ww;o"), Some(733.0));
        assert_eq!(parse_integer("50", "#").unwrap_err().code, "D3130");
    }

    #[test]
    fn number_pictures() {
        let f = |n: f64, p: &str| format_number(n, p, &Val::Undef).unwrap();
        assert_eq!(f(12345.6, "#,###.00"), "12,345.60");
        assert_eq!(f(123412345678.9, "9,9,99.99"), "123412345,6,78.90");
        assert_eq!(f(1234.56789, "9,999.999,999"), "1,234.567,890");
        assert_eq!(f(1234.5678, "00.000e000"), "12.346e002");
        assert_eq!(f(0.234, "0.0e0"), "2.3e-1");
        assert_eq!(f(-42.0, "0e0"), "-4e1");
        assert_eq!(f(1e20, "#,######"), "100,000000,000000,000000");
        let e = |p: &str| format_number(20.0, p, &Val::Undef).unwrap_err().code;
        assert_eq!(e("#0.#0e0"), "D3091");
        assert_eq!(e("%%"), "D3086");
    }
}
