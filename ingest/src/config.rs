//! The Kafka side of the `spate run` configuration: the `[kafka]`,
//! `[embedded]` and `[[pipeline]]` sections of the TOML file.
//!
//! The file itself belongs to the `spate` binary, which adds its own
//! sections (`[runtime]`) and hands these over. Raw and validated are
//! different types: the `*Section` structs are what the user wrote (serde,
//! unknown keys refused), and [`Config::from_sections`] checks every field
//! against its documented range and compiles every definition, reporting
//! every problem at once with the field and, for a definition, the JSON
//! pointer of each problem. Defaults live in [`defaults`] and ranges in
//! [`ranges`], nowhere else; the shipped `config/spate.toml` documents every
//! field with the same text as the doc comments here.

use crate::exec_log::{LogDestination, LogSettings};
use serde::Deserialize;
use spate_engine::interp::LogLevel;
use spate_engine::registry::{Registry, RegistryError, StateMachine};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Every default, in one place.
pub mod defaults {
    /// `pipeline.max_in_flight`.
    pub const MAX_IN_FLIGHT: u64 = 1024;
    /// `pipeline.max_pending_per_partition`. librdkafka hands events over
    /// a partition's fetch at a time (thousands of events), and an event
    /// stays pending until its output is acknowledged, so one partition can
    /// hold every event in flight: the window must cover `max_in_flight`,
    /// the ready reserve and the events awaiting acknowledgement (about
    /// 70 ms of them at 100k events/s). A smaller window pauses partitions
    /// many times a second, and each pause throws away the events
    /// librdkafka prefetched (with 2048, the consumer fetched every event
    /// 3 to 4 times over).
    pub const MAX_PENDING_PER_PARTITION: u64 = 8192;
    /// `pipeline.commit_interval_ms`: commit as soon as the previous
    /// commit is confirmed.
    pub const COMMIT_INTERVAL_MS: u64 = 0;
    /// `pipeline.shutdown_grace_ms`.
    pub const SHUTDOWN_GRACE_MS: u64 = 10_000;
    /// `pipeline.rebalance_grace_ms`.
    pub const REBALANCE_GRACE_MS: u64 = 5_000;
    /// `kafka.connect_timeout_ms`.
    pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
    /// `embedded.partitions`.
    pub const EMBEDDED_PARTITIONS: u64 = 8;
    /// The value of `kafka.bootstrap_servers` that starts the in-process
    /// cluster.
    pub const EMBEDDED: &str = "embedded";
    /// The largest event accepted as an execution input: AWS's 256 KiB
    /// payload limit.
    pub const MAX_EVENT_BYTES: usize = spate_engine::limits::PAYLOAD_BYTES;

    pub(super) fn max_in_flight() -> u64 {
        MAX_IN_FLIGHT
    }
    pub(super) fn max_pending_per_partition() -> u64 {
        MAX_PENDING_PER_PARTITION
    }
    pub(super) fn commit_interval_ms() -> u64 {
        COMMIT_INTERVAL_MS
    }
    pub(super) fn shutdown_grace_ms() -> u64 {
        SHUTDOWN_GRACE_MS
    }
    pub(super) fn rebalance_grace_ms() -> u64 {
        REBALANCE_GRACE_MS
    }
    pub(super) fn connect_timeout_ms() -> u64 {
        CONNECT_TIMEOUT_MS
    }
    pub(super) fn embedded_partitions() -> u64 {
        EMBEDDED_PARTITIONS
    }
    pub(super) fn yes() -> bool {
        true
    }
    pub(super) fn log_level() -> String {
        "OFF".into()
    }
    pub(super) fn log_destination() -> String {
        "stdout".into()
    }
}

/// The accepted range of every numeric field, in one place (documented in
/// `config/spate.toml`). The bounds keep every setting to what a process
/// can honour: a value beyond them is a typo, not a wish.
pub mod ranges {
    use std::ops::RangeInclusive;

    /// `kafka.connect_timeout_ms`: up to 10 minutes.
    pub const CONNECT_TIMEOUT_MS: RangeInclusive<u64> = 1..=600_000;
    /// `embedded.partitions`.
    pub const EMBEDDED_PARTITIONS: RangeInclusive<u64> = 1..=1024;
    /// `embedded.generate_events_per_sec`.
    pub const GENERATE_EVENTS_PER_SEC: RangeInclusive<u64> = 0..=1_000_000;
    /// `pipeline.max_in_flight`.
    pub const MAX_IN_FLIGHT: RangeInclusive<u64> = 1..=1_000_000;
    /// `pipeline.max_pending_per_partition`.
    pub const MAX_PENDING_PER_PARTITION: RangeInclusive<u64> = 1..=10_000_000;
    /// `pipeline.commit_interval_ms`: up to an hour.
    pub const COMMIT_INTERVAL_MS: RangeInclusive<u64> = 0..=3_600_000;
    /// `pipeline.shutdown_grace_ms` and `pipeline.rebalance_grace_ms`: up to
    /// an hour.
    pub const GRACE_MS: RangeInclusive<u64> = 0..=3_600_000;
}

/// `value` when it lies in `range`; else a problem naming `field`, the value
/// and the range.
pub fn in_range(field: &str, value: u64, range: &RangeInclusive<u64>) -> Result<u64, Problem> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(Problem::field(
            field,
            format!(
                "{value} is out of range {}..={}",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// `[kafka]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSection {
    /// Comma-separated `host:port` list of brokers, or `"embedded"` for an
    /// in-process cluster (nothing to install; data kept in memory).
    pub bootstrap_servers: String,
    /// librdkafka properties for every client (security, SASL, TLS, ...),
    /// passed through unchanged.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyValue>,
    /// librdkafka properties for the consumers only (over `properties`).
    #[serde(default)]
    pub consumer: BTreeMap<String, PropertyValue>,
    /// librdkafka properties for the producers only (over `properties`).
    #[serde(default)]
    pub producer: BTreeMap<String, PropertyValue>,
    /// How long to wait for the cluster's first answer before reporting it
    /// unreachable and trying again.
    #[serde(default = "defaults::connect_timeout_ms")]
    pub connect_timeout_ms: u64,
}

/// A librdkafka property value: TOML strings, integers and booleans are all
/// passed on as text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// `"text"`.
    Text(String),
    /// `100`.
    Integer(i64),
    /// `true`.
    Bool(bool),
}

impl fmt::Display for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Text(s) => f.write_str(s),
            PropertyValue::Integer(i) => write!(f, "{i}"),
            PropertyValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// `[embedded]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedSection {
    /// Partitions of every topic the embedded cluster creates. The embedded
    /// cluster keeps at most 5 MiB per partition and drops older data
    /// silently, so spread a busy topic over enough partitions.
    #[serde(default = "defaults::embedded_partitions")]
    pub partitions: u64,
    /// Synthetic IoT events per second written to every pipeline's source
    /// topics (0: none; produce your own events to the printed address).
    #[serde(default)]
    pub generate_events_per_sec: u64,
}

impl Default for EmbeddedSection {
    fn default() -> EmbeddedSection {
        EmbeddedSection {
            partitions: defaults::EMBEDDED_PARTITIONS,
            generate_events_per_sec: 0,
        }
    }
}

/// `[[pipeline]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSection {
    /// The pipeline's name (in logs, metrics and dead-letter headers).
    pub name: String,
    /// Topics to consume.
    pub source_topics: Vec<String>,
    /// Consumer group (default: `spate-<name>`). Processes sharing it share
    /// the partitions.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Static group membership: this process's `group.instance.id`, unique
    /// in the group; `{host}` stands for the host name. A restarted member
    /// gets its partitions back at once instead of after a rebalance.
    #[serde(default)]
    pub group_instance_id: Option<String>,
    /// The state machine definition (ASL JSON), relative to this file.
    pub definition: PathBuf,
    /// Where each execution's output goes.
    pub output_topic: String,
    /// Where events that could not be processed go, with headers saying why.
    pub dlq_topic: String,
    /// What happens to failed or timed-out executions: `"dlq"` (the event
    /// goes to the dead-letter topic) or `"output"` (an error record goes to
    /// the output topic, its status in the headers).
    #[serde(default)]
    pub on_failure: OnFailure,
    /// Most executions of this pipeline running at once.
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: u64,
    /// Most events of one partition taken and not yet committable (running,
    /// waiting or being published); the partition is paused above it.
    #[serde(default = "defaults::max_pending_per_partition")]
    pub max_pending_per_partition: u64,
    /// The shortest time between the starts of two offset commits (0: a
    /// commit starts as soon as the previous one is confirmed).
    #[serde(default = "defaults::commit_interval_ms")]
    pub commit_interval_ms: u64,
    /// `"none"`: events run concurrently; `"per-key"`: events with the same
    /// key run one after another, in offset order.
    #[serde(default)]
    pub ordering: Ordering,
    /// `"value"`: the event's JSON value is the input; `"envelope"`: the
    /// input is `{key, value, headers, topic, partition, offset, timestamp}`.
    #[serde(default)]
    pub input: InputMode,
    /// Copy each event's headers onto its output record.
    #[serde(default = "defaults::yes")]
    pub forward_headers: bool,
    /// On shutdown, how long running executions may take to finish before
    /// they are cancelled (their events are then read again next time).
    #[serde(default = "defaults::shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    /// When partitions are taken away (rebalance), how long their running
    /// executions may take to finish before they are abandoned.
    #[serde(default = "defaults::rebalance_grace_ms")]
    pub rebalance_grace_ms: u64,
    /// Execution logs of the pipeline's state machine (`[pipeline.logging]`;
    /// default: off).
    #[serde(default)]
    pub logging: LoggingSection,
}

/// `[pipeline.logging]`: execution logs as AWS Express workflows have them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    /// `"ALL"`, `"ERROR"` (failures and the execution's bad end), `"FATAL"`
    /// (the execution's bad end only) or `"OFF"`.
    #[serde(default = "defaults::log_level")]
    pub level: String,
    /// Whether records carry inputs and outputs.
    #[serde(default)]
    pub include_execution_data: bool,
    /// `"stdout"`, `"stderr"` or `"file:PATH"` (PATH relative to the
    /// configuration file's folder; appended to).
    #[serde(default = "defaults::log_destination")]
    pub destination: String,
}

impl Default for LoggingSection {
    fn default() -> LoggingSection {
        LoggingSection {
            level: defaults::log_level(),
            include_execution_data: false,
            destination: defaults::log_destination(),
        }
    }
}

/// What happens to failed executions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// The event goes to the dead-letter topic.
    #[default]
    Dlq,
    /// An error record goes to the output topic.
    Output,
}

/// Execution order within a partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ordering {
    /// Events run concurrently.
    #[default]
    None,
    /// Events with the same key run one after another, in offset order
    /// (events without a key are not ordered).
    PerKey,
}

/// How an event becomes an execution input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputMode {
    /// The event's JSON value.
    #[default]
    Value,
    /// `{key, value, headers, topic, partition, offset, timestamp}`.
    Envelope,
}

/// A validated configuration of the Kafka side.
#[derive(Debug, Clone)]
pub struct Config {
    /// The cluster.
    pub kafka: KafkaSettings,
    /// The embedded cluster's settings.
    pub embedded: EmbeddedSettings,
    /// The pipelines.
    pub pipelines: Vec<PipelineSettings>,
    /// The state machines of the pipelines, by name; pipelines start their
    /// executions through its entries.
    pub registry: Arc<Registry>,
}

/// The embedded cluster's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedSettings {
    /// Partitions of every topic it creates.
    pub partitions: u32,
    /// Synthetic events per second written to every source topic.
    pub generate_events_per_sec: u32,
}

/// Where the cluster is and how to talk to it.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// `host:port,...`, or [`defaults::EMBEDDED`].
    pub bootstrap_servers: String,
    /// Properties for every client.
    pub properties: BTreeMap<String, String>,
    /// Properties for consumers.
    pub consumer: BTreeMap<String, String>,
    /// Properties for producers.
    pub producer: BTreeMap<String, String>,
    /// First-answer timeout.
    pub connect_timeout: Duration,
}

impl KafkaSettings {
    /// Settings for `bootstrap_servers` with no extra properties.
    pub fn new(bootstrap_servers: impl Into<String>) -> KafkaSettings {
        KafkaSettings {
            bootstrap_servers: bootstrap_servers.into(),
            properties: BTreeMap::new(),
            consumer: BTreeMap::new(),
            producer: BTreeMap::new(),
            connect_timeout: Duration::from_millis(defaults::CONNECT_TIMEOUT_MS),
        }
    }

    /// `true` for the in-process cluster.
    pub fn is_embedded(&self) -> bool {
        self.bootstrap_servers == defaults::EMBEDDED
    }
}

/// One validated pipeline.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Name.
    pub name: String,
    /// Topics to consume.
    pub source_topics: Vec<String>,
    /// Consumer group.
    pub group_id: String,
    /// Static membership's `group.instance.id` (`{host}`: the host name).
    pub group_instance_id: Option<String>,
    /// The definition's path as resolved (for messages).
    pub definition_path: PathBuf,
    /// The state machine (a registry entry: executions run its latest
    /// version); `None` passes events through unchanged (`spate loadgen
    /// --passthrough`).
    pub state_machine: Option<Arc<StateMachine>>,
    /// Output topic.
    pub output_topic: String,
    /// Dead-letter topic.
    pub dlq_topic: String,
    /// What happens to failed executions.
    pub on_failure: OnFailure,
    /// Executions at once.
    pub max_in_flight: usize,
    /// Pending events per partition before it is paused.
    pub max_pending_per_partition: usize,
    /// Shortest time between the starts of two offset commits.
    pub commit_interval: Duration,
    /// Ordering.
    pub ordering: Ordering,
    /// Input mode.
    pub input: InputMode,
    /// Copy event headers to outputs.
    pub forward_headers: bool,
    /// Shutdown grace.
    pub shutdown_grace: Duration,
    /// Rebalance grace.
    pub rebalance_grace: Duration,
    /// Execution logs of its state machine.
    pub logging: LogSettings,
}

impl PipelineSettings {
    /// A pipeline with every default, for code that builds one without a
    /// file (`spate loadgen`, tests).
    pub fn new(
        name: impl Into<String>,
        source_topic: impl Into<String>,
        state_machine: Option<Arc<StateMachine>>,
        output_topic: impl Into<String>,
        dlq_topic: impl Into<String>,
    ) -> PipelineSettings {
        let name = name.into();
        PipelineSettings {
            group_id: format!("spate-{name}"),
            group_instance_id: None,
            name,
            source_topics: vec![source_topic.into()],
            definition_path: PathBuf::new(),
            state_machine,
            output_topic: output_topic.into(),
            dlq_topic: dlq_topic.into(),
            on_failure: OnFailure::Dlq,
            max_in_flight: defaults::MAX_IN_FLIGHT as usize,
            max_pending_per_partition: defaults::MAX_PENDING_PER_PARTITION as usize,
            commit_interval: Duration::from_millis(defaults::COMMIT_INTERVAL_MS),
            ordering: Ordering::None,
            input: InputMode::Value,
            forward_headers: true,
            shutdown_grace: Duration::from_millis(defaults::SHUTDOWN_GRACE_MS),
            rebalance_grace: Duration::from_millis(defaults::REBALANCE_GRACE_MS),
            logging: LogSettings::default(),
        }
    }
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `line:column` for syntax errors, else empty.
    pub location: String,
    /// The field, as a dotted path (`pipeline[0].max_in_flight`), or empty.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem with `field`, wherever it is in the file.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            location: String::new(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.location.is_empty() {
            write!(f, "{}: ", self.location)?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// librdkafka properties Spate sets itself: at-least-once depends on them.
const RESERVED_CONSUMER_PROPERTIES: &[&str] = &[
    "enable.auto.commit",
    "enable.auto.offset.store",
    "group.id",
    "bootstrap.servers",
];

/// Reads a file named in the configuration (a definition), given as
/// written: its resolved path and text, or why it cannot be read.
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> Result<(PathBuf, String), String>;

impl Config {
    /// Validates the Kafka sections of a configuration file: every field
    /// against its range, every topic name, every librdkafka property, and
    /// every definition (read through `read`). Every problem is returned.
    pub fn from_sections(
        kafka: &KafkaSection,
        embedded: &EmbeddedSection,
        pipelines: &[PipelineSection],
        read: ReadFile<'_>,
    ) -> Result<Config, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut ranged = |field: &str, value: u64, range: &RangeInclusive<u64>| {
            in_range(field, value, range).unwrap_or_else(|p| {
                problems.push(p);
                *range.start()
            })
        };
        let connect_timeout_ms = ranged(
            "kafka.connect_timeout_ms",
            kafka.connect_timeout_ms,
            &ranges::CONNECT_TIMEOUT_MS,
        );
        let embedded = EmbeddedSettings {
            partitions: ranged(
                "embedded.partitions",
                embedded.partitions,
                &ranges::EMBEDDED_PARTITIONS,
            ) as u32,
            generate_events_per_sec: ranged(
                "embedded.generate_events_per_sec",
                embedded.generate_events_per_sec,
                &ranges::GENERATE_EVENTS_PER_SEC,
            ) as u32,
        };
        let mut pipeline_numbers = Vec::new();
        for (i, p) in pipelines.iter().enumerate() {
            let field = |name: &str| format!("pipeline[{i}].{name}");
            pipeline_numbers.push([
                ranged(
                    &field("max_in_flight"),
                    p.max_in_flight,
                    &ranges::MAX_IN_FLIGHT,
                ),
                ranged(
                    &field("max_pending_per_partition"),
                    p.max_pending_per_partition,
                    &ranges::MAX_PENDING_PER_PARTITION,
                ),
                ranged(
                    &field("commit_interval_ms"),
                    p.commit_interval_ms,
                    &ranges::COMMIT_INTERVAL_MS,
                ),
                ranged(
                    &field("shutdown_grace_ms"),
                    p.shutdown_grace_ms,
                    &ranges::GRACE_MS,
                ),
                ranged(
                    &field("rebalance_grace_ms"),
                    p.rebalance_grace_ms,
                    &ranges::GRACE_MS,
                ),
            ]);
        }

        let mut invalid = |field: String, message: String| {
            problems.push(Problem::field(field, message));
        };
        if kafka.bootstrap_servers.trim().is_empty() {
            invalid(
                "kafka.bootstrap_servers".into(),
                "is empty: give host:port[,host:port...] or \"embedded\"".into(),
            );
        }
        let flatten = |m: &BTreeMap<String, PropertyValue>| -> BTreeMap<String, String> {
            m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
        };
        for (section, map) in [
            ("kafka.properties", &kafka.properties),
            ("kafka.consumer", &kafka.consumer),
        ] {
            for key in map.keys() {
                if RESERVED_CONSUMER_PROPERTIES.contains(&key.as_str()) {
                    invalid(
                        format!("{section}.\"{key}\""),
                        "is set by Spate (manual commits of completed events only; group.id and bootstrap.servers have their own fields)".into(),
                    );
                }
            }
        }
        if kafka.producer.contains_key("bootstrap.servers") {
            invalid(
                "kafka.producer.\"bootstrap.servers\"".into(),
                "use kafka.bootstrap_servers".into(),
            );
        }

        let settings = KafkaSettings {
            bootstrap_servers: kafka.bootstrap_servers.trim().to_string(),
            properties: flatten(&kafka.properties),
            consumer: flatten(&kafka.consumer),
            producer: flatten(&kafka.producer),
            connect_timeout: Duration::from_millis(connect_timeout_ms),
        };
        for (section, key, message) in crate::kafka::check_properties(&settings) {
            invalid(format!("{section}.\"{key}\""), message);
        }

        if pipelines.is_empty() {
            invalid(
                "pipeline".into(),
                "no [[pipeline]] is defined: nothing to run".into(),
            );
        }
        let mut validated = Vec::new();
        let registry = Arc::new(Registry::default());
        let mut names = std::collections::HashSet::new();
        for (i, (p, numbers)) in pipelines.iter().zip(pipeline_numbers).enumerate() {
            let [
                max_in_flight,
                max_pending_per_partition,
                commit_interval_ms,
                shutdown_grace_ms,
                rebalance_grace_ms,
            ] = numbers;
            let field = |name: &str| format!("pipeline[{i}].{name}");
            if p.name.trim().is_empty() {
                invalid(field("name"), "is empty".into());
            } else if !names.insert(p.name.clone()) {
                invalid(field("name"), format!("\"{}\" names two pipelines", p.name));
            }
            if p.source_topics.is_empty() {
                invalid(field("source_topics"), "lists no topic".into());
            }
            for (j, t) in p.source_topics.iter().enumerate() {
                if let Err(why) = check_topic(t) {
                    invalid(format!("pipeline[{i}].source_topics[{j}]"), why);
                }
            }
            for (name, t) in [
                ("output_topic", &p.output_topic),
                ("dlq_topic", &p.dlq_topic),
            ] {
                if let Err(why) = check_topic(t) {
                    invalid(field(name), why);
                } else if p.source_topics.contains(t) {
                    invalid(
                        field(name),
                        format!(
                            "\"{t}\" is also a source topic: the pipeline would read its own output"
                        ),
                    );
                }
            }
            if p.group_id.as_deref().is_some_and(|g| g.trim().is_empty()) {
                invalid(field("group_id"), "is empty".into());
            }
            if p.group_instance_id
                .as_deref()
                .is_some_and(|g| g.trim().is_empty())
            {
                invalid(field("group_instance_id"), "is empty".into());
            }
            let logging = match check_logging(&p.logging) {
                Ok(logging) => logging,
                Err((name, why)) => {
                    invalid(field(&format!("logging.{name}")), why);
                    LogSettings::default()
                }
            };
            let plan = match read(&p.definition) {
                Err(e) => {
                    invalid(
                        field("definition"),
                        format!("{}: {e}", p.definition.display()),
                    );
                    None
                }
                Ok((resolved, text)) => {
                    let name = state_machine_name(&p.definition, &p.name);
                    match registry.create(&name, &text) {
                        Ok(machine) => Some((resolved, machine)),
                        Err(RegistryError::InvalidDefinition(diagnostics)) => {
                            for d in &diagnostics.0 {
                                invalid(
                                    field("definition"),
                                    format!("{}: {d}", p.definition.display()),
                                );
                            }
                            None
                        }
                        Err(other) => {
                            invalid(
                                field("definition"),
                                format!(
                                    "{}: {other}: another pipeline's definition, from a file of the same name, differs",
                                    p.definition.display()
                                ),
                            );
                            None
                        }
                    }
                }
            };
            if let Some((definition_path, plan)) = plan {
                if let Some(other) = validated.iter().find(|o: &&PipelineSettings| {
                    o.state_machine
                        .as_ref()
                        .is_some_and(|m| Arc::ptr_eq(m, &plan))
                        && o.logging != logging
                }) {
                    invalid(
                        field("logging"),
                        format!(
                            "differs from pipeline \"{}\"'s, which runs the same state machine \"{}\": a state machine logs one way",
                            other.name,
                            plan.name()
                        ),
                    );
                }
                validated.push(PipelineSettings {
                    name: p.name.clone(),
                    source_topics: p.source_topics.clone(),
                    group_id: p
                        .group_id
                        .clone()
                        .unwrap_or_else(|| format!("spate-{}", p.name)),
                    group_instance_id: p.group_instance_id.clone(),
                    definition_path,
                    state_machine: Some(plan),
                    output_topic: p.output_topic.clone(),
                    dlq_topic: p.dlq_topic.clone(),
                    on_failure: p.on_failure,
                    max_in_flight: max_in_flight as usize,
                    max_pending_per_partition: max_pending_per_partition as usize,
                    commit_interval: Duration::from_millis(commit_interval_ms),
                    ordering: p.ordering,
                    input: p.input,
                    forward_headers: p.forward_headers,
                    shutdown_grace: Duration::from_millis(shutdown_grace_ms),
                    rebalance_grace: Duration::from_millis(rebalance_grace_ms),
                    logging,
                });
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Config {
            kafka: settings,
            embedded,
            pipelines: validated,
            registry,
        })
    }
}

impl Config {
    /// Resolves relative execution log files against `base` (the
    /// configuration file's folder, as for definitions); a problem for each
    /// file whose folder does not exist.
    pub fn resolve_log_files(&mut self, base: &Path) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (i, p) in self.pipelines.iter_mut().enumerate() {
            if let LogDestination::File(path) = &mut p.logging.destination {
                *path = base.join(&*path);
                if let Some(folder) = path.parent()
                    && !folder.is_dir()
                {
                    problems.push(Problem::field(
                        format!("pipeline[{i}].logging.destination"),
                        format!("{}: the folder does not exist", folder.display()),
                    ));
                }
            }
        }
        problems
    }
}

/// The state machine's name: the definition's file name without its
/// extensions, else the pipeline's name.
fn state_machine_name(definition: &Path, pipeline: &str) -> String {
    spate_engine::registry::name_from_path(definition)
        .unwrap_or(pipeline)
        .to_string()
}

/// `[pipeline.logging]` validated, or the field that is wrong and why.
fn check_logging(section: &LoggingSection) -> Result<LogSettings, (&'static str, String)> {
    let level = LogLevel::from_name(&section.level).ok_or_else(|| {
        (
            "level",
            format!(
                "\"{}\" is not a log level: give \"ALL\", \"ERROR\", \"FATAL\" or \"OFF\"",
                section.level
            ),
        )
    })?;
    let destination =
        LogDestination::parse(&section.destination).map_err(|e| ("destination", e))?;
    Ok(LogSettings {
        level,
        include_execution_data: section.include_execution_data,
        destination,
    })
}

/// Kafka's topic name rules: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
fn check_topic(topic: &str) -> Result<(), String> {
    if topic.is_empty() {
        return Err("is empty".into());
    }
    if topic.len() > 249 {
        return Err(format!("\"{topic}\" is longer than Kafka's 249 characters"));
    }
    if topic == "." || topic == ".." {
        return Err(format!("\"{topic}\" is not a valid topic name"));
    }
    if let Some(c) = topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "\"{topic}\" contains {c:?}: Kafka topics use letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFINITION: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;

    /// The Kafka sections as the binary's file holds them.
    #[derive(Deserialize)]
    struct Sections {
        kafka: KafkaSection,
        #[serde(default)]
        embedded: EmbeddedSection,
        #[serde(default, rename = "pipeline")]
        pipelines: Vec<PipelineSection>,
    }

    /// The problems, one line each.
    fn parse(text: &str) -> Result<Config, String> {
        let s: Sections = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        Config::from_sections(
            &s.kafka,
            &s.embedded,
            &s.pipelines,
            &|p: &Path| match p.to_str() {
                Some("ok.asl.json") => Ok((p.to_path_buf(), DEFINITION.to_string())),
                Some("bad.asl.json") => Ok((
                    p.to_path_buf(),
                    r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Nope"}}}"#.to_string(),
                )),
                _ => Err("cannot read: not found".to_string()),
            },
        )
        .map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            lines.join("\n")
        })
    }

    const MINIMAL: &str = r#"
[kafka]
bootstrap_servers = "127.0.0.1:9092"

[[pipeline]]
name = "iot"
source_topics = ["in"]
definition = "ok.asl.json"
output_topic = "out"
dlq_topic = "dlq"
"#;

    #[test]
    fn minimal_sections_take_every_default() {
        let c = parse(MINIMAL).unwrap();
        let p = &c.pipelines[0];
        assert_eq!(p.group_id, "spate-iot");
        assert_eq!(p.max_in_flight as u64, defaults::MAX_IN_FLIGHT);
        assert_eq!(p.commit_interval, Duration::ZERO);
        assert_eq!(p.ordering, Ordering::None);
        assert_eq!(p.input, InputMode::Value);
        assert_eq!(p.on_failure, OnFailure::Dlq);
        assert!(p.forward_headers);
        assert!(!c.kafka.is_embedded());
        assert_eq!(c.embedded.partitions as u64, defaults::EMBEDDED_PARTITIONS);
    }

    #[test]
    fn properties_accept_text_numbers_and_booleans() {
        let text = MINIMAL.replace(
            "[[pipeline]]",
            "[kafka.properties]\n\"security.protocol\" = \"SASL_SSL\"\n[kafka.consumer]\n\"fetch.wait.max.ms\" = 10\n\"check.crcs\" = true\n\n[[pipeline]]",
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.kafka.properties["security.protocol"], "SASL_SSL");
        assert_eq!(c.kafka.consumer["fetch.wait.max.ms"], "10");
        assert_eq!(c.kafka.consumer["check.crcs"], "true");
    }

    #[test]
    fn unknown_librdkafka_properties_are_refused() {
        let text = MINIMAL.replace(
            "[[pipeline]]",
            "[kafka.properties]\n\"no.such.property\" = \"x\"\n\n[[pipeline]]",
        );
        let shown = parse(&text).unwrap_err();
        assert!(
            shown.starts_with(
                "kafka.properties.\"no.such.property\": No such configuration property"
            ),
            "{shown}"
        );
    }

    #[test]
    fn every_number_is_checked_against_its_range() {
        let text = MINIMAL
            .replace(
                "[[pipeline]]",
                "connect_timeout_ms = 0\n[embedded]\npartitions = 1000000000000\ngenerate_events_per_sec = 1000000000000\n\n[[pipeline]]",
            )
            .replace(
                "dlq_topic = \"dlq\"",
                "dlq_topic = \"dlq\"\nmax_in_flight = 1000000000000\nmax_pending_per_partition = 0\ncommit_interval_ms = 3600001\nshutdown_grace_ms = 99999999999\nrebalance_grace_ms = 99999999999",
            );
        let shown = parse(&text).unwrap_err();
        assert_eq!(
            shown.lines().collect::<Vec<_>>(),
            [
                "kafka.connect_timeout_ms: 0 is out of range 1..=600000",
                "embedded.partitions: 1000000000000 is out of range 1..=1024",
                "embedded.generate_events_per_sec: 1000000000000 is out of range 0..=1000000",
                "pipeline[0].max_in_flight: 1000000000000 is out of range 1..=1000000",
                "pipeline[0].max_pending_per_partition: 0 is out of range 1..=10000000",
                "pipeline[0].commit_interval_ms: 3600001 is out of range 0..=3600000",
                "pipeline[0].shutdown_grace_ms: 99999999999 is out of range 0..=3600000",
                "pipeline[0].rebalance_grace_ms: 99999999999 is out of range 0..=3600000",
            ]
        );
    }

    #[test]
    fn logging_defaults_to_off_and_is_read_from_its_section() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.pipelines[0].logging, LogSettings::default());
        assert_eq!(c.pipelines[0].logging.level, LogLevel::Off);
        let text = format!(
            "{MINIMAL}\n[pipeline.logging]\nlevel = \"ERROR\"\ninclude_execution_data = true\ndestination = \"file:exec.log\"\n"
        );
        let c = parse(&text).unwrap();
        assert_eq!(
            c.pipelines[0].logging,
            LogSettings {
                level: LogLevel::Error,
                include_execution_data: true,
                destination: LogDestination::File("exec.log".into()),
            }
        );
    }

    #[test]
    fn bad_logging_settings_name_their_field() {
        for (section, expected) in [
            (
                "level = \"error\"",
                "pipeline[0].logging.level: \"error\" is not a log level: give \"ALL\", \"ERROR\", \"FATAL\" or \"OFF\"",
            ),
            (
                "destination = \"syslog\"",
                "pipeline[0].logging.destination: \"syslog\" is not a destination",
            ),
        ] {
            let shown = parse(&format!("{MINIMAL}\n[pipeline.logging]\n{section}\n")).unwrap_err();
            assert!(shown.starts_with(expected), "{shown}");
        }
        let two = format!(
            "{MINIMAL}\n[pipeline.logging]\nlevel = \"ALL\"\n\n{}",
            MINIMAL
                .split("[[pipeline]]")
                .nth(1)
                .map(|p| format!(
                    "[[pipeline]]{}",
                    p.replace("\"iot\"", "\"iot2\"")
                        .replace("\"out\"", "\"out2\"")
                ))
                .unwrap()
        );
        let mut c = parse(&format!(
            "{MINIMAL}\n[pipeline.logging]\ndestination = \"file:logs/x.log\"\n"
        ))
        .unwrap();
        let problems = c.resolve_log_files(Path::new("/no/such/folder"));
        assert_eq!(
            c.pipelines[0].logging.destination,
            LogDestination::File("/no/such/folder/logs/x.log".into())
        );
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["pipeline[0].logging.destination: /no/such/folder/logs: the folder does not exist"]
        );
        let shown = parse(&two).unwrap_err();
        assert!(
            shown.contains("pipeline[1].logging: differs from pipeline \"iot\"'s"),
            "{shown}"
        );
    }

    #[test]
    fn every_semantic_problem_at_once() {
        let text = r#"
[kafka]
bootstrap_servers = ""
[kafka.consumer]
"enable.auto.commit" = true

[[pipeline]]
name = "a"
source_topics = ["in", "bad topic"]
definition = "bad.asl.json"
output_topic = "in"
dlq_topic = "dlq"

[[pipeline]]
name = "a"
source_topics = []
definition = "missing.asl.json"
output_topic = "out"
dlq_topic = "dlq"
"#;
        let shown = parse(text).unwrap_err();
        for expected in [
            "kafka.bootstrap_servers: is empty",
            "kafka.consumer.\"enable.auto.commit\": is set by Spate",
            "pipeline[0].source_topics[1]: \"bad topic\" contains ' '",
            "pipeline[0].output_topic: \"in\" is also a source topic",
            "pipeline[0].definition: bad.asl.json: /States/P/Next",
            "pipeline[1].name: \"a\" names two pipelines",
            "pipeline[1].source_topics: lists no topic",
            "pipeline[1].definition: missing.asl.json: cannot read: not found",
        ] {
            assert!(
                shown.contains(expected),
                "missing `{expected}` in:\n{shown}"
            );
        }
    }
}
