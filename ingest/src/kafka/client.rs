//! librdkafka client settings: Spate's defaults, the user's properties over
//! them, and the few properties at-least-once depends on, forced last.
//! Also the logging every Spate client shares: librdkafka's repeated
//! complaints while a broker is away are printed once per interval, not
//! once per second per connection.

use crate::config::KafkaSettings;
use rdkafka::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consumer defaults (any may be overridden in `[kafka.consumer]`).
pub const CONSUMER_DEFAULTS: &[(&str, &str)] = &[
    // A new group starts at the beginning of the topic: nothing skipped.
    ("auto.offset.reset", "earliest"),
    // Rebalances move only the partitions that change owner.
    ("partition.assignment.strategy", "cooperative-sticky"),
    // librdkafka's 1 s default stalls a consumer whose queue filled up.
    ("fetch.queue.backoff.ms", "10"),
    // Prefetched data is bounded (librdkafka's default is 64 MiB).
    ("queued.max.messages.kbytes", "16384"),
    // Statistics every 2 s give each partition's consumer lag (a metric).
    ("statistics.interval.ms", "2000"),
];

/// Consumer settings Spate owns: offsets are committed by the pipeline,
/// only for events whose outcome is acknowledged.
pub const CONSUMER_FORCED: &[(&str, &str)] = &[
    ("enable.auto.commit", "false"),
    ("enable.auto.offset.store", "false"),
];

/// Producer defaults (any may be overridden in `[kafka.producer]`).
pub const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    // No duplicates or reordering from the producer's own retries.
    ("enable.idempotence", "true"),
    // Small batches: a few milliseconds of latency for far fewer requests.
    ("linger.ms", "5"),
];

fn base(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config.set_log_level(RDKafkaLogLevel::Warning);
    config
}

/// A consumer configuration for `group_id`, a static member named
/// `instance_id` if given (already expanded, see [`group_instance_id`]).
pub fn consumer_config(
    kafka: &KafkaSettings,
    bootstrap: &str,
    group_id: &str,
    instance_id: Option<&str>,
) -> ClientConfig {
    let mut config = base(bootstrap);
    for (k, v) in CONSUMER_DEFAULTS {
        config.set(*k, *v);
    }
    for (k, v) in kafka.properties.iter().chain(&kafka.consumer) {
        config.set(k, v);
    }
    heartbeat_within_session(&mut config);
    config.set("group.id", group_id);
    if let Some(id) = instance_id {
        config.set("group.instance.id", id);
    }
    for (k, v) in CONSUMER_FORCED {
        config.set(*k, *v);
    }
    debug_if_asked(&mut config);
    config
}

/// librdkafka's default `heartbeat.interval.ms`.
const HEARTBEAT_DEFAULT_MS: u64 = 3000;

/// A `session.timeout.ms` set without `heartbeat.interval.ms` gets a
/// heartbeat a third as long (at most librdkafka's 3 s default). With the
/// default heartbeat, a session timeout of 3 s or less is lost about one
/// timeout after every assignment (nothing else counts as a sign of life),
/// and a busy machine only made that look like starvation.
fn heartbeat_within_session(config: &mut ClientConfig) {
    if config.get("heartbeat.interval.ms").is_some() {
        return;
    }
    let Some(session) = config
        .get("session.timeout.ms")
        .and_then(|ms| ms.trim().parse::<u64>().ok())
    else {
        return;
    };
    let heartbeat = (session / 3).clamp(1, HEARTBEAT_DEFAULT_MS);
    if heartbeat < HEARTBEAT_DEFAULT_MS {
        config.set("heartbeat.interval.ms", heartbeat.to_string());
    }
}

/// The placeholder for the host name in `group_instance_id`.
const HOST: &str = "{host}";

/// `group_instance_id` with `{host}` replaced by the host name (the
/// `HOSTNAME` environment variable, else the kernel's).
pub fn group_instance_id(template: &str) -> Result<String, String> {
    if !template.contains(HOST) {
        return Ok(template.to_string());
    }
    let from_env = std::env::var("HOSTNAME").ok();
    let from_kernel = || {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
    };
    match from_env
        .or_else(from_kernel)
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
    {
        Some(host) => Ok(template.replace(HOST, &host)),
        None => Err(format!(
            "group_instance_id \"{template}\" names {HOST}, but the host name is unknown \
             (HOSTNAME is not set and neither /proc/sys/kernel/hostname nor /etc/hostname \
             can be read)"
        )),
    }
}

/// librdkafka's `debug` property needs its debug log lines let through.
fn debug_if_asked(config: &mut ClientConfig) {
    if config.get("debug").is_some() {
        config.set_log_level(RDKafkaLogLevel::Debug);
    }
}

/// A producer configuration.
pub fn producer_config(kafka: &KafkaSettings, bootstrap: &str) -> ClientConfig {
    let mut config = base(bootstrap);
    for (k, v) in PRODUCER_DEFAULTS {
        config.set(*k, *v);
    }
    for (k, v) in kafka.properties.iter().chain(&kafka.producer) {
        config.set(k, v);
    }
    debug_if_asked(&mut config);
    config
}

/// How often one repeated message is printed.
const REPEAT_INTERVAL: Duration = Duration::from_secs(10);

/// Prints a message at most once per [`REPEAT_INTERVAL`], saying how many
/// were held back.
#[derive(Default)]
pub struct Throttle {
    seen: Mutex<HashMap<String, (Instant, u64)>>,
}

impl Throttle {
    /// Logs `message` at `level` unless it was logged recently.
    pub fn log(&self, level: log::Level, message: &str) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let now = Instant::now();
        if seen.len() > 1000 {
            seen.clear();
        }
        match seen.get_mut(message) {
            Some((last, held)) if now.duration_since(*last) < REPEAT_INTERVAL => {
                *held += 1;
            }
            Some((last, held)) => {
                let more = std::mem::take(held);
                *last = now;
                if more > 0 {
                    log::log!(level, "{message} (and {more} more times)");
                } else {
                    log::log!(level, "{message}");
                }
            }
            None => {
                seen.insert(message.to_string(), (now, 0));
                log::log!(level, "{message}");
            }
        }
    }

    /// librdkafka's log lines: errors and warnings throttled, the rest at
    /// debug level.
    pub fn librdkafka(&self, who: &str, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if facility == "CONFWARN" {
            // Properties shared by every client that only one kind uses
            // (a consumer setting in [kafka.properties]): harmless.
            log::debug!("{who}: kafka: {facility}: {message}");
            return;
        }
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error
            | RDKafkaLogLevel::Warning => self.log(
                log::Level::Warn,
                &format!("{who}: kafka: {facility}: {message}"),
            ),
            _ => log::debug!("{who}: kafka: {facility}: {message}"),
        }
    }

    /// librdkafka's global errors (brokers down, authentication, ...).
    pub fn error(&self, who: &str, error: &KafkaError, reason: &str) {
        self.log(
            log::Level::Warn,
            &format!("{who}: kafka: {error}: {reason}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_placeholder_is_replaced_and_a_plain_id_kept() {
        assert_eq!(group_instance_id("spate-1").as_deref(), Ok("spate-1"));
        let id = group_instance_id("spate-{host}-a").expect("a host name");
        assert!(id.starts_with("spate-") && id.ends_with("-a"), "{id}");
        assert!(!id.contains(HOST) && id.len() > "spate--a".len(), "{id}");
    }

    #[test]
    fn a_short_session_gets_a_heartbeat_within_it() {
        let mut kafka = KafkaSettings::new("127.0.0.1:9092");
        let heartbeat = |kafka: &KafkaSettings| {
            consumer_config(kafka, "127.0.0.1:9092", "g", None)
                .get("heartbeat.interval.ms")
                .map(str::to_string)
        };
        assert_eq!(heartbeat(&kafka), None, "librdkafka's defaults fit");
        kafka
            .consumer
            .insert("session.timeout.ms".into(), "2000".into());
        assert_eq!(heartbeat(&kafka).as_deref(), Some("666"));
        kafka
            .consumer
            .insert("session.timeout.ms".into(), "45000".into());
        assert_eq!(heartbeat(&kafka), None, "the default 3 s is short enough");
        kafka
            .properties
            .insert("heartbeat.interval.ms".into(), "100".into());
        kafka
            .consumer
            .insert("session.timeout.ms".into(), "2000".into());
        assert_eq!(heartbeat(&kafka).as_deref(), Some("100"), "the user's own");
    }

    #[test]
    fn a_static_member_sets_group_instance_id() {
        let kafka = KafkaSettings::new("127.0.0.1:9092");
        let config = consumer_config(&kafka, "127.0.0.1:9092", "g", Some("host-1"));
        assert_eq!(config.get("group.instance.id"), Some("host-1"));
        let config = consumer_config(&kafka, "127.0.0.1:9092", "g", None);
        assert_eq!(config.get("group.instance.id"), None);
    }
}
