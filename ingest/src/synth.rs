//! Synthetic IoT events for `spate demo`, `generate_events_per_sec` and
//! `spate loadgen`: the shape of `config/workflows/iot-enrich.input.json`
//! (device id, site, timestamp, temperature, humidity, tags, readings),
//! drawn from a seeded generator so runs are repeatable.

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::fmt::Write as _;

/// Makes events.
#[derive(Debug, Clone)]
pub struct IotEvents {
    rng: SmallRng,
    devices: u32,
    /// One event in this many is malformed (no `device_id`), to show the
    /// dead-letter path; 0 for none.
    poison_every: u64,
}

const SITES: &[&str] = &["plant-1", "plant-7", "lab-2", "depot-4", "yard-9"];
const TAGS: &[&str] = &[
    "line-1",
    "line-3",
    "outdoor",
    "indoor",
    "maintenance",
    "east",
];

impl IotEvents {
    /// Events from `devices` devices; every `poison_every`-th is malformed.
    pub fn new(seed: u64, devices: u32, poison_every: u64) -> IotEvents {
        IotEvents {
            rng: SmallRng::seed_from_u64(seed),
            devices: devices.max(1),
            poison_every,
        }
    }

    /// Event number `n`: its key (the device id) and its JSON text.
    pub fn event(&mut self, n: u64) -> (Vec<u8>, Vec<u8>) {
        let device = format!("dev-{:04}", self.rng.random_range(0..self.devices));
        let site = SITES[self.rng.random_range(0..SITES.len())];
        let temperature = self.rng.random_range(150..800) as f64 / 10.0;
        let humidity = self.rng.random_range(20..99);
        let millis = 1_764_000_000_000u64 + n * 7;
        let mut text = String::with_capacity(256);
        let poison = self.poison_every > 0 && n % self.poison_every == self.poison_every - 1;
        text.push('{');
        if !poison {
            let _ = write!(text, r#""device_id":"{device}","#);
        }
        let _ = write!(
            text,
            r#""site":"{site}","timestamp":"{}","temperature":{temperature},"humidity":{humidity},"tags":["{}","{}"],"readings":["#,
            timestamp(millis),
            TAGS[self.rng.random_range(0..TAGS.len())],
            TAGS[self.rng.random_range(0..TAGS.len())],
        );
        let readings = self.rng.random_range(2..7);
        for i in 0..readings {
            if i > 0 {
                text.push(',');
            }
            let _ = write!(text, "{}", self.rng.random_range(300..700) as f64 / 10.0);
        }
        text.push_str("]}");
        (device.into_bytes(), text.into_bytes())
    }
}

/// Milliseconds since the epoch as an ISO 8601 UTC timestamp.
fn timestamp(millis: u64) -> String {
    let secs = millis / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use spate_engine::value::parse_json;

    #[test]
    fn events_are_json_and_poison_lacks_the_device() {
        let mut events = IotEvents::new(1, 10, 4);
        for n in 0..8 {
            let (key, text) = events.event(n);
            let v = parse_json(&text).expect("valid JSON");
            assert_eq!(v.get("device_id").is_none(), n % 4 == 3, "event {n}");
            assert!(key.starts_with(b"dev-"));
            assert!(v.get("readings").and_then(|r| r.as_array()).is_some());
        }
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    }
}
