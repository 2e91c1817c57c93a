//! Time for the engine: [`Timestamp`] (wall-clock instants with nanosecond
//! precision, parsed and written in AWS's ISO-8601 profile) and the injectable
//! [`Clock`]: [`SystemClock`] for real runs, [`VirtualClock`] for tests, where
//! Wait states and Retry back-off jump ahead instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant as nanoseconds since the Unix epoch (UTC). Covers the years
/// 1678 to 2261, which is enough for execution times and Wait timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From nanoseconds since the epoch.
    pub const fn from_unix_nanos(nanos: i64) -> Timestamp {
        Timestamp(nanos)
    }

    /// Nanoseconds since the epoch.
    pub const fn unix_nanos(self) -> i64 {
        self.0
    }

    /// Milliseconds since the epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// This instant plus `d` (saturating).
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
        )
    }

    /// Time from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0).max(0) as u64)
    }

    /// Parses AWS's timestamp format: RFC 3339 with an uppercase `T` between
    /// date and time and an uppercase `Z` or a numeric offset, optional
    /// fractional seconds (e.g. `2016-08-18T17:33:00Z`,
    /// `2016-03-05T21:29:29.243167252+01:00`).
    pub fn parse(text: &str) -> Option<Timestamp> {
        Timestamp::parse_checked(text).ok()
    }

    /// Like [`Timestamp::parse`], saying why a text is refused: not in
    /// AWS's format, or outside the years a [`Timestamp`] covers.
    pub fn parse_checked(text: &str) -> Result<Timestamp, TimestampError> {
        parse_rfc3339(text.as_bytes())
    }

    /// `2019-03-26T20:14:13.192Z`: millisecond precision, as in the context object.
    pub fn to_iso_millis(self) -> String {
        let secs = self.0.div_euclid(1_000_000_000);
        let millis = self.0.rem_euclid(1_000_000_000) / 1_000_000;
        let days = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            in_day / 3600,
            in_day % 3600 / 60,
            in_day % 60
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso_millis())
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let slice = b.get(at..at + n)?;
    slice.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// Why a text is not a [`Timestamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Not RFC 3339 as AWS takes it.
    #[error("not a timestamp such as \"2016-08-18T17:33:00Z\"")]
    Malformed,
    /// A valid timestamp outside the years 1677 to 2262.
    #[error(
        "out of range: timestamps must lie between 1677-09-21T00:12:43.145Z and 2262-04-11T23:47:16.854Z"
    )]
    OutOfRange,
}

fn parse_rfc3339(b: &[u8]) -> Result<Timestamp, TimestampError> {
    parse_fields(b)
        .ok_or(TimestampError::Malformed)?
        .ok_or(TimestampError::OutOfRange)
}

/// `None` when `b` is malformed, `Some(None)` when it is out of range.
fn parse_fields(b: &[u8]) -> Option<Option<Timestamp>> {
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 9 {
                nanos = nanos * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        let count = at - start;
        if count == 0 {
            return None;
        }
        for _ in count..9 {
            nanos *= 10;
        }
    }
    let offset_secs = match b.get(at)? {
        b'Z' => {
            at += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            let oh = digits(b, at + 1, 2)?;
            let om = digits(b, at + 4, 2)?;
            if b.get(at + 3) != Some(&b':') || oh > 23 || om > 59 {
                return None;
            }
            at += 6;
            let offset = oh * 3600 + om * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    if at != b.len() {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_secs;
    Some(
        secs.checked_mul(1_000_000_000)
            .and_then(|n| n.checked_add(nanos))
            .map(Timestamp),
    )
}

/// A source of the current wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(since.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to, shared by clones. Drivers advance
/// it to the next timer when nothing else can run, so waits cost no real time.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    nanos: Arc<AtomicI64>,
}

impl VirtualClock {
    /// A clock starting at `start`.
    pub fn starting_at(start: Timestamp) -> VirtualClock {
        VirtualClock {
            nanos: Arc::new(AtomicI64::new(start.0)),
        }
    }

    /// Moves the clock forward to `t` (never backwards).
    pub fn advance_to(&self, t: Timestamp) {
        self.nanos.fetch_max(t.0, Ordering::SeqCst);
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let now = self.now();
        self.advance_to(now.plus(d));
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.nanos.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_aws_profile_only() {
        let t = Timestamp::parse("2016-08-18T17:33:00Z").unwrap();
        assert_eq!(t.unix_millis(), 1_471_541_580_000);
        assert_eq!(t.to_iso_millis(), "2016-08-18T17:33:00.000Z");
        let frac = Timestamp::parse("2016-03-05T21:29:29.243167252Z").unwrap();
        assert_eq!(frac.unix_nanos() % 1_000_000_000, 243_167_252);
        assert_eq!(
            Timestamp::parse("2016-08-18T19:33:00+02:00"),
            Timestamp::parse("2016-08-18T17:33:00Z")
        );
        for bad in [
            "2016-12-05T21:29:29",
            "2016-12-05 21:29:29Z",
            "05-12-2016T21:29:29Z",
            "2016-13-05T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "2016-02-30T00:00:00Z",
            "2016-12-05t21:29:29z",
            "2016-12-05T21:29:29.Z",
            "",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        assert!(Timestamp::parse("2016-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn timestamps_outside_the_covered_years_are_out_of_range() {
        for far in [
            "2300-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1600-01-01T00:00:00Z",
        ] {
            assert_eq!(
                Timestamp::parse_checked(far),
                Err(TimestampError::OutOfRange),
                "{far}"
            );
        }
        assert_eq!(
            Timestamp::parse_checked("2262-04-11T23:47:16.854Z").map(Timestamp::to_iso_millis),
            Ok("2262-04-11T23:47:16.854Z".to_string())
        );
        // The bounds the error message gives.
        assert_eq!(
            Timestamp::from_unix_nanos(i64::MAX).to_iso_millis(),
            "2262-04-11T23:47:16.854Z"
        );
        assert_eq!(
            Timestamp::from_unix_nanos(i64::MIN).to_iso_millis(),
            "1677-09-21T00:12:43.145Z"
        );
        assert_eq!(
            Timestamp::parse_checked("2262-04-11T23:47:17Z"),
            Err(TimestampError::OutOfRange)
        );
        assert_eq!(
            Timestamp::parse_checked("2016-13-01T00:00:00Z"),
            Err(TimestampError::Malformed)
        );
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn virtual_clock_only_moves_forward() {
        let clock = VirtualClock::starting_at(Timestamp::from_unix_nanos(1_000));
        clock.advance(Duration::from_nanos(500));
        assert_eq!(clock.now().unix_nanos(), 1_500);
        clock.advance_to(Timestamp::from_unix_nanos(10));
        assert_eq!(clock.now().unix_nanos(), 1_500);
    }
}
