//! Checking the user's librdkafka properties without creating a client, so
//! `spate run --check` refuses an unknown name or a bad value, as `spate
//! run` would when it creates its clients.

use crate::config::KafkaSettings;
use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;

/// Every property of `[kafka.properties]`, `[kafka.consumer]` and
/// `[kafka.producer]` librdkafka refuses: `(section, name, why)`.
pub fn check_properties(kafka: &KafkaSettings) -> Vec<(&'static str, String, String)> {
    let mut refused = Vec::new();
    for (section, map) in [
        ("kafka.properties", &kafka.properties),
        ("kafka.consumer", &kafka.consumer),
        ("kafka.producer", &kafka.producer),
    ] {
        for (name, value) in map {
            let mut config = ClientConfig::new();
            config.set(name, value);
            if let Err(e) = config.create_native_config() {
                let why = match e {
                    KafkaError::ClientConfig(_, description, _, _) => description,
                    other => other.to_string(),
                };
                refused.push((section, name.clone(), why));
            }
        }
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_and_bad_values_are_refused() {
        let mut kafka = KafkaSettings::new("127.0.0.1:9092");
        kafka
            .properties
            .insert("security.protocol".into(), "SASL_SSL".into());
        kafka.properties.insert("no.such.thing".into(), "1".into());
        kafka
            .consumer
            .insert("fetch.wait.max.ms".into(), "soon".into());
        kafka.producer.insert("linger.ms".into(), "5".into());
        let refused = check_properties(&kafka);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert_eq!(refused[0].0, "kafka.properties");
        assert_eq!(refused[0].1, "no.such.thing");
        assert!(
            refused[0].2.contains("No such configuration property"),
            "{refused:?}"
        );
        assert_eq!(
            (refused[1].0, refused[1].1.as_str()),
            ("kafka.consumer", "fetch.wait.max.ms")
        );
    }
}
