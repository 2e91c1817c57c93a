//! Dates and times with XPath `format-dateTime` picture strings, for
//! `$fromMillis`, `$toMillis` and `$now`.
//!
//! A picture is literal text with `[...]` markers (`[[` and `]]` escape the
//! brackets). A marker names a component (`Y` year, `M` month, `D` day,
//! `d` day of year, `F` weekday, `W` ISO week, `X` ISO week-year, `w`/`x`
//! week of month and its month, `H`/`h` hours, `P` am/pm, `m`, `s`, `f`
//! fraction, `Z`/`z` time zone, `C` calendar, `E` era), an optional
//! presentation (an integer picture, or `N`/`n`/`Nn` for names), and an
//! optional width `,min-max`. Times are formatted in UTC unless an offset
//! such as `+0530` is given.

use super::error::{JsonataError, Result};
use super::pictures::{Case, IntegerPicture, Style};
use crate::value::Value;
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// One piece of a picture.
#[derive(Debug)]
enum Part {
    Literal(String),
    Marker(Marker),
}

/// How a component is presented.
#[derive(Debug)]
enum Presentation {
    Integer(IntegerPicture),
    Name(Case),
    /// `Z`/`z`: the offset picture (such as `01:01`) and `t` for `Z` at zero.
    Zone {
        picture: String,
        zulu: bool,
    },
}

#[derive(Debug)]
struct Marker {
    component: char,
    presentation: Presentation,
    max_width: Option<usize>,
    /// `Y`: keep this many trailing digits.
    year_digits: Option<usize>,
    /// `f`: number of digits.
    fraction_digits: usize,
    /// Exact digit count when reading a decimal component.
    fixed_digits: Option<usize>,
}

fn default_presentation(component: char) -> &'static str {
    match component {
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => "1",
    }
}

/// Parses a width `min-max` (`*` for unbounded).
fn parse_width(w: &str) -> (Option<usize>, Option<usize>) {
    let (min, max) = w.split_once('-').unwrap_or((w, ""));
    let num = |s: &str| s.trim().parse::<usize>().ok();
    (num(min), num(max))
}

fn parse_marker(text: &str) -> Result<Marker> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut chars = text.chars();
    let component = chars.next().unwrap_or(' ');
    if !"YMDdFWwXxHhPmsfZzCE".contains(component) {
        return Err(JsonataError::new("D3132").value(Value::from(component.to_string())));
    }
    let rest = chars.as_str();
    // the width follows the last comma
    let (mut spec, width) = match rest.rfind(',') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if spec.is_empty() {
        spec = default_presentation(component);
    }
    let (min_width, max_width) = width.map_or((None, None), parse_width);
    let name_case = if spec.starts_with("Nn") {
        Some(Case::Title)
    } else if spec.starts_with('N') {
        Some(Case::Upper)
    } else if spec.starts_with('n') {
        Some(Case::Lower)
    } else {
        None
    };
    let presentation = if let Some(case) = name_case {
        if !"MFPCEx".contains(component) {
            return Err(JsonataError::new("D3133").value(Value::from(component.to_string())));
        }
        Presentation::Name(case)
    } else if component == 'Z' || component == 'z' {
        let zulu = spec.ends_with('t');
        let picture = spec.trim_end_matches('t').to_string();
        if picture.chars().filter(char::is_ascii_digit).count() > 4 {
            return Err(JsonataError::new("D3134"));
        }
        Presentation::Zone { picture, zulu }
    } else {
        // an ordinal or cardinal modifier follows the integer picture
        let (pic, modifier) = match spec.char_indices().last() {
            Some((i, c @ ('o' | 'c'))) if i > 0 => (&spec[..i], Some(c)),
            _ => (spec, None),
        };
        let full = match modifier {
            Some(m) => format!("{pic};{m}"),
            None => pic.to_string(),
        };
        Presentation::Integer(IntegerPicture::parse(&full)?)
    };
    let mut marker = Marker {
        component,
        presentation,
        max_width,
        year_digits: None,
        fraction_digits: 3,
        fixed_digits: None,
    };
    if let Presentation::Integer(ip) = &mut marker.presentation
        && let Style::Decimal(_) = ip.style
    {
        let (mandatory, optional) = digit_counts(spec);
        let mandatory = mandatory
            .max(min_width.unwrap_or(0))
            .min(max_width.unwrap_or(usize::MAX));
        if component == 'Y' {
            marker.year_digits = match max_width {
                Some(max) => Some(max),
                None if mandatory + optional >= 2 => Some(mandatory + optional),
                None => None,
            };
        }
        if component == 'f' {
            marker.fraction_digits = mandatory.max(1);
        } else if optional == 0 && mandatory >= 2 {
            marker.fixed_digits = Some(mandatory);
        }
        let padded = IntegerPicture::parse(&pad_picture(spec, mandatory))?;
        *ip = IntegerPicture {
            style: padded.style,
            ordinal: ip.ordinal,
        };
    }
    Ok(marker)
}

/// Mandatory and optional digit counts of a decimal picture.
fn digit_counts(spec: &str) -> (usize, usize) {
    let body = spec.trim_end_matches(['o', 'c']);
    let mandatory = body
        .chars()
        .filter(|&c| super::pictures::digit_value(c).is_some())
        .count();
    let optional = body.chars().filter(|&c| c == '#').count();
    (mandatory, optional)
}

/// A decimal picture widened to `mandatory` digits.
fn pad_picture(spec: &str, mandatory: usize) -> String {
    let body = spec.trim_end_matches(['o', 'c']);
    let (have, _) = digit_counts(body);
    let zero = body
        .chars()
        .find_map(|c| super::pictures::digit_value(c).map(|(z, _)| z))
        .and_then(char::from_u32)
        .unwrap_or('0');
    if mandatory < have {
        // narrowed by a maximum width: plain digits of the same family
        return std::iter::repeat_n(zero, mandatory.max(1)).collect();
    }
    let extra: String = std::iter::repeat_n(zero, mandatory - have).collect();
    let body = body.trim_start_matches('#');
    format!("{extra}{body}")
}

/// Splits a picture into literals and markers (all brackets are checked
/// before any marker is interpreted).
fn parse_picture(picture: &str) -> Result<Vec<Part>> {
    let pieces = split_picture(picture)?;
    pieces
        .into_iter()
        .map(|(marker, text)| {
            Ok(if marker {
                Part::Marker(parse_marker(&text)?)
            } else {
                Part::Literal(text)
            })
        })
        .collect()
}

/// Literal text and marker texts, in order (`true` for a marker).
fn split_picture(picture: &str) -> Result<Vec<(bool, String)>> {
    let chars: Vec<char> = picture.chars().collect();
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '[' && chars.get(i + 1) == Some(&'[') {
            literal.push('[');
            i += 2;
        } else if c == ']' && chars.get(i + 1) == Some(&']') {
            literal.push(']');
            i += 2;
        } else if c == '[' {
            let end = chars[i..]
                .iter()
                .position(|&c| c == ']')
                .ok_or_else(|| JsonataError::new("D3135"))?;
            if !literal.is_empty() {
                parts.push((false, std::mem::take(&mut literal)));
            }
            parts.push((true, chars[i + 1..i + end].iter().collect()));
            i += end + 1;
        } else {
            literal.push(c);
            i += 1;
        }
    }
    if !literal.is_empty() {
        parts.push((false, literal));
    }
    Ok(parts)
}

/// Parses a time-zone offset such as `+0530`, `-05:00`, `0000`, `-5` into
/// minutes.
fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let (sign, body) = match s.chars().next()? {
        '+' => (1, &s[1..]),
        '-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let (h, m) = match body.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None if body.len() <= 2 => (body.parse::<i32>().ok()?, 0),
        None => {
            let (h, m) = body.split_at(body.len() - 2);
            (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)
        }
    };
    Some(sign * (h * 60 + m))
}

fn format_offset(minutes: i32, picture: &str, zulu: bool) -> String {
    if zulu && minutes == 0 {
        return "Z".to_string();
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    let (h, m) = (minutes.abs() / 60, minutes.abs() % 60);
    let digits = picture.chars().filter(char::is_ascii_digit).count();
    let separator = picture.chars().find(|c| !c.is_ascii_digit());
    match (separator, digits) {
        (Some(sep), _) => {
            let hour_digits = picture.split(sep).next().map_or(2, str::len);
            format!("{sign}{h:0w$}{sep}{m:02}", w = hour_digits)
        }
        (None, 3 | 4) => format!("{sign}{h:0w$}{m:02}", w = digits - 2),
        (None, d) => {
            if m == 0 {
                format!("{sign}{h:0w$}", w = d.max(1))
            } else {
                format!("{sign}{h:0w$}:{m:02}", w = d.max(1))
            }
        }
    }
}

/// The Thursday of the (Monday-based) week of `date`.
fn week_thursday(date: NaiveDate) -> NaiveDate {
    let from_monday = date.weekday().num_days_from_monday() as i64;
    date + chrono::Duration::days(3 - from_monday)
}

/// The value of a numeric component.
fn component_value(c: char, t: &NaiveDateTime) -> i64 {
    let date = t.date();
    match c {
        'Y' => date.year() as i64,
        'M' => date.month() as i64,
        'D' => date.day() as i64,
        'd' => date.ordinal() as i64,
        'F' => date.weekday().number_from_monday() as i64,
        'W' => date.iso_week().week() as i64,
        'X' => date.iso_week().year() as i64,
        'w' => ((week_thursday(date).day() - 1) / 7 + 1) as i64,
        'x' => week_thursday(date).month() as i64,
        'H' => t.hour() as i64,
        'h' => match t.hour() % 12 {
            0 => 12,
            h => h as i64,
        },
        'm' => t.minute() as i64,
        's' => t.second() as i64,
        'f' => (t.nanosecond() / 1_000_000) as i64,
        _ => 0,
    }
}

fn truncate(s: String, max: Option<usize>) -> String {
    match max {
        Some(m) if s.chars().count() > m => s.chars().take(m).collect(),
        _ => s,
    }
}

fn case(s: &str, c: Case) -> String {
    match c {
        Case::Upper => s.to_uppercase(),
        Case::Lower => s.to_lowercase(),
        Case::Title => s.to_string(),
    }
}

fn format_marker(m: &Marker, t: &NaiveDateTime, offset: i32) -> String {
    match &m.presentation {
        Presentation::Zone { picture, zulu } => {
            let z = format_offset(offset, picture, *zulu);
            if m.component == 'z' {
                format!("GMT{z}")
            } else {
                z
            }
        }
        Presentation::Name(c) => {
            let name = match m.component {
                'M' | 'x' => MONTHS[(component_value(m.component, t) - 1) as usize].to_string(),
                'F' => DAYS[t.date().weekday().num_days_from_monday() as usize].to_string(),
                'P' => if t.hour() < 12 { "am" } else { "pm" }.to_string(),
                _ => "ISO".to_string(),
            };
            let name = match (m.component, c) {
                ('P', Case::Title) => name,
                ('C' | 'E', _) => name,
                _ => case(&name, *c),
            };
            let name = if m.component == 'P' && *c == Case::Upper {
                name.to_uppercase()
            } else {
                name
            };
            truncate(name, m.max_width)
        }
        Presentation::Integer(ip) => {
            if m.component == 'f' {
                let ms = format!("{:03}", component_value('f', t));
                let mut digits: String = ms.chars().take(m.fraction_digits).collect();
                while digits.len() < m.fraction_digits {
                    digits.push('0');
                }
                return digits;
            }
            let mut v = component_value(m.component, t);
            if let Some(n) = m.year_digits {
                v %= 10i64.pow(n as u32);
            }
            ip.format(v as f64)
        }
    }
}

/// `$fromMillis`: formats `millis` with `picture` (ISO 8601 by default) at
/// the offset given as `±HHMM` (UTC by default).
pub(crate) fn format(millis: f64, picture: Option<&str>, zone: Option<&str>) -> Result<String> {
    let offset = zone.and_then(parse_offset).unwrap_or(0);
    let picture = picture.unwrap_or("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]");
    let parts = parse_picture(picture)?;
    let shifted = millis.floor() as i64 + offset as i64 * 60_000;
    let Some(t) = chrono::DateTime::from_timestamp_millis(shifted).map(|d| d.naive_utc()) else {
        return Ok(String::new());
    };
    let mut out = String::new();
    for p in &parts {
        match p {
            Part::Literal(s) => out.push_str(s),
            Part::Marker(m) => out.push_str(&format_marker(m, &t, offset)),
        }
    }
    Ok(out)
}

/// Date-time components read from text.
#[derive(Default, Debug)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    ordinal_day: Option<i64>,
    hour: Option<i64>,
    hour12: Option<i64>,
    pm: Option<bool>,
    minute: Option<i64>,
    second: Option<i64>,
    millis: Option<i64>,
    offset: Option<i32>,
    week_based: bool,
}

/// The regex matching one marker's text.
fn marker_regex(m: &Marker) -> String {
    match &m.presentation {
        Presentation::Zone { .. } => {
            let z = r"(?:Z|[+-][0-9]+(?::[0-9]{2})?)";
            if m.component == 'z' {
                format!("GMT{z}")
            } else {
                z.to_string()
            }
        }
        Presentation::Name(_) => {
            let names: Vec<String> = match m.component {
                'M' | 'x' => MONTHS.iter().map(|s| s.to_string()).collect(),
                'F' => DAYS.iter().map(|s| s.to_string()).collect(),
                'P' => vec!["am".into(), "pm".into()],
                _ => vec!["ISO".into()],
            };
            let names: Vec<String> = names
                .into_iter()
                .map(|n| truncate(n, m.max_width))
                .collect();
            format!("(?i:{})", names.join("|"))
        }
        Presentation::Integer(ip) => match &ip.style {
            Style::Decimal(_) => {
                let digits = match (m.max_width, m.fixed_digits) {
                    (Some(max), _) => format!("[0-9]{{1,{max}}}"),
                    (None, Some(n)) => format!("[0-9]{{{n}}}"),
                    (None, None) => "[0-9]+".to_string(),
                };
                if ip.ordinal {
                    format!("{digits}(?:st|nd|rd|th)")
                } else {
                    digits
                }
            }
            Style::Letters { .. } => "(?i:[a-z]+)".to_string(),
            Style::Roman { .. } => "(?i:[mdclxvi]+)".to_string(),
            Style::Words(_) => "(?i:[a-z]+(?:[ ,-]+[a-z]+)*)".to_string(),
        },
    }
}

fn read_marker(m: &Marker, text: &str, f: &mut Fields) -> Option<()> {
    let number = |t: &str| -> Option<i64> {
        match &m.presentation {
            Presentation::Integer(ip) => ip.parse_value(t).map(|v| v as i64),
            _ => None,
        }
    };
    match m.component {
        'Z' | 'z' => {
            let t = text.trim_start_matches("GMT");
            f.offset = Some(if t == "Z" { 0 } else { parse_offset(t)? });
        }
        'P' => f.pm = Some(text.eq_ignore_ascii_case("pm")),
        'M' => {
            f.month = Some(match m.presentation {
                Presentation::Name(_) => {
                    MONTHS
                        .iter()
                        .position(|n| n.to_lowercase().starts_with(&text.to_lowercase()))?
                        as i64
                        + 1
                }
                _ => number(text)?,
            })
        }
        'F' | 'C' | 'E' => {}
        'Y' => f.year = Some(number(text)?),
        'D' => f.day = Some(number(text)?),
        'd' => f.ordinal_day = Some(number(text)?),
        'H' => f.hour = Some(number(text)?),
        'h' => f.hour12 = Some(number(text)?),
        'm' => f.minute = Some(number(text)?),
        's' => f.second = Some(number(text)?),
        'f' => {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            let frac: f64 = format!("0.{digits}").parse().ok()?;
            f.millis = Some((frac * 1000.0).floor() as i64);
        }
        _ => f.week_based = true,
    }
    Some(())
}

/// `$toMillis(text, picture)`: `None` when the text does not match.
pub(crate) fn parse(text: &str, picture: &str, now_millis: i64) -> Result<Option<f64>> {
    let parts = parse_picture(picture)?;
    let mut pattern = String::from("^");
    let mut markers = Vec::new();
    for p in &parts {
        match p {
            Part::Literal(s) => pattern.push_str(&regex::escape(s)),
            Part::Marker(m) => {
                pattern.push('(');
                pattern.push_str(&marker_regex(m));
                pattern.push(')');
                markers.push(m);
            }
        }
    }
    pattern.push('$');
    let re = regex::Regex::new(&pattern).map_err(|_| JsonataError::new("D3136"))?;
    let Some(caps) = re.captures(text) else {
        return Ok(None);
    };
    let mut f = Fields::default();
    for (i, m) in markers.iter().enumerate() {
        let t = caps.get(i + 1).map_or("", |c| c.as_str());
        if read_marker(m, t, &mut f).is_none() {
            return Ok(None);
        }
    }
    if markers.is_empty() {
        return Ok(None);
    }
    if f.week_based {
        return Err(JsonataError::new("D3136"));
    }
    if let Some(h) = f.hour12 {
        let h = h % 12;
        f.hour = Some(if f.pm == Some(true) { h + 12 } else { h });
    }
    // the components present must leave no gaps between the largest and
    // the smallest
    let present = if f.ordinal_day.is_some() {
        vec![
            f.year.is_some(),
            true,
            f.hour.is_some(),
            f.minute.is_some(),
            f.second.is_some(),
            f.millis.is_some(),
        ]
    } else {
        vec![
            f.year.is_some(),
            f.month.is_some(),
            f.day.is_some(),
            f.hour.is_some(),
            f.minute.is_some(),
            f.second.is_some(),
            f.millis.is_some(),
        ]
    };
    let first = present.iter().position(|&p| p);
    let last = present.iter().rposition(|&p| p);
    if let (Some(a), Some(b)) = (first, last)
        && present[a..=b].iter().any(|&p| !p)
    {
        return Err(JsonataError::new("D3136"));
    }
    let today = chrono::DateTime::from_timestamp_millis(now_millis)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let date_given =
        f.year.is_some() || f.month.is_some() || f.day.is_some() || f.ordinal_day.is_some();
    let year = f.year.unwrap_or(today.year() as i64) as i32;
    let date = if let Some(od) = f.ordinal_day {
        NaiveDate::from_yo_opt(year, od as u32)
    } else if date_given {
        NaiveDate::from_ymd_opt(year, f.month.unwrap_or(1) as u32, f.day.unwrap_or(1) as u32)
    } else {
        Some(today)
    };
    let Some(date) = date else {
        return Ok(None);
    };
    let Some(t) = date.and_hms_milli_opt(
        f.hour.unwrap_or(0) as u32,
        f.minute.unwrap_or(0) as u32,
        f.second.unwrap_or(0) as u32,
        f.millis.unwrap_or(0) as u32,
    ) else {
        return Ok(None);
    };
    let millis = t.and_utc().timestamp_millis() - f.offset.unwrap_or(0) as i64 * 60_000;
    Ok(Some(millis as f64))
}

/// `$toMillis(text)` without a picture: an ISO 8601 date or date-time
/// (`YYYY[-MM[-DD[Thh:mm[:ss[.fff]]]]]` with `Z` or `±hh[:]mm`).
pub(crate) fn parse_iso(text: &str) -> Result<f64> {
    let bad = || JsonataError::new("D3110").value(Value::from(text));
    let re = iso_regex();
    let caps = re.captures(text).ok_or_else(bad)?;
    let num = |i: usize, default: u32| -> u32 {
        caps.get(i)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(default)
    };
    let year: i32 = caps[1].parse().map_err(|_| bad())?;
    let date = NaiveDate::from_ymd_opt(year, num(2, 1), num(3, 1)).ok_or_else(bad)?;
    let millis = caps.get(7).map_or(0, |m| {
        let digits = m.as_str();
        let frac: f64 = format!("0.{digits}").parse().unwrap_or(0.0);
        (frac * 1000.0).round() as u32
    });
    let t = date
        .and_hms_milli_opt(num(4, 0), num(5, 0), num(6, 0), millis)
        .ok_or_else(bad)?;
    let offset = match caps.get(8).map(|m| m.as_str()) {
        None | Some("Z") => 0,
        Some(z) => parse_offset(z).ok_or_else(bad)?,
    };
    Ok((t.and_utc().timestamp_millis() - offset as i64 * 60_000) as f64)
}

fn iso_regex() -> &'static regex::Regex {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$",
        )
        .expect("valid regex")
    });
    &RE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(ms: f64, p: &str) -> String {
        format(ms, Some(p), None).unwrap()
    }

    #[test]
    fn formats_pictures() {
        assert_eq!(
            format(1509380732935.0, None, None).unwrap(),
            "2017-10-30T16:25:32.935Z"
        );
        assert_eq!(
            f(1521801216617.0, "[FNn], [D1o] [MNn] [Y]"),
            "Friday, 23rd March 2018"
        );
        assert_eq!(f(1521801216617.0, "[D#1,2]/[M1,2]/[Y,2]"), "23/03/18");
        assert_eq!(f(1521801216617.0, "[D#1,2]/[M1,2]/[Y0001,2]"), "23/03/2018");
        assert_eq!(
            f(1521801216617.0, "[FNn,3-3], [D1o] [MNn,3-3] [Y] [C]"),
            "Fri, 23rd Mar 2018 ISO"
        );
        assert_eq!(
            f(1204405500000.0, "[F], [D]/[M]/[Y] [h]:[m]:[s] [P]"),
            "saturday, 1/3/2008 9:05:00 pm"
        );
        assert_eq!(
            f(1359720000000.0, "Week: [w] of [xNn]"),
            "Week: 5 of January"
        );
        assert_eq!(
            format(1531310400000.0, Some("[H01]:[m][Z0]"), Some("+0530")).unwrap(),
            "17:30+5:30"
        );
        assert_eq!(
            format(0.0, Some("[Z010101t]"), None).unwrap_err().code,
            "D3134"
        );
    }

    #[test]
    fn parses_pictures_and_iso() {
        let p = |t: &str, pic: &str| parse(t, pic, 0).unwrap();
        assert_eq!(p("20180205", "[Y0001][M01][D01]"), Some(1517788800000.0));
        assert_eq!(
            p("27th 3 1976", "[D1o] [M#1] [Y0001]"),
            Some(196732800000.0)
        );
        assert_eq!(
            p("4/4/2018 12:06 am", "[D1]/[M1]/[Y0001] [h]:[m] [P]"),
            Some(1522800360000.0)
        );
        assert_eq!(
            p(
                "Twentieth of August, two thousand and seventeen",
                "[DW] of [MNn], [Yw]"
            ),
            Some(1503187200000.0)
        );
        assert_eq!(parse("2018-22", "[Y]-[D]", 0).unwrap_err().code, "D3136");
        assert_eq!(parse_iso("2018").unwrap(), 1514764800000.0);
        assert_eq!(
            parse_iso("2018-02-01T09:42:13.123+0000").unwrap(),
            1517478133123.0
        );
        assert_eq!(parse_iso("2018-02-03 11:15:33").unwrap_err().code, "D3110");
    }
}
