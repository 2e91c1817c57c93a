//! The `spate run` configuration: a TOML file describing the Kafka cluster
//! and one or more pipelines (topic in, state machine, topic out).
//!
//! Loading is two steps, as raw and validated are different types:
//! [`ConfigFile`] is what the user wrote (serde, unknown keys refused), and
//! [`Config::load`] checks every field and compiles every definition,
//! reporting every problem at once with the file, the field and, for a
//! definition, the JSON pointer of each problem. Defaults live in
//! [`defaults`] and nowhere else; the shipped `config/spate.toml` documents
//! every field with the same text as the doc comments here.

use serde::Deserialize;
use spate_engine::plan::{CompileOptions, Plan, from_definition};
use std::collections::BTreeMap;
use std::fmt;
use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Every default, in one place.
pub mod defaults {
    use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};

    /// `pipeline.max_in_flight`.
    pub const MAX_IN_FLIGHT: NonZeroUsize = NonZeroUsize::new(1024).unwrap();
    /// `pipeline.max_pending_per_partition`. librdkafka hands events over
    /// a partition's fetch at a time (thousands of events), and an event
    /// stays pending until its output is acknowledged, so one partition can
    /// hold every event in flight: the window must cover `max_in_flight`,
    /// the ready reserve and the events awaiting acknowledgement (about
    /// 70 ms of them at 100k events/s). A smaller window pauses partitions
    /// many times a second, and each pause throws away the events
    /// librdkafka prefetched (with 2048, the consumer fetched every event
    /// 3 to 4 times over).
    pub const MAX_PENDING_PER_PARTITION: NonZeroUsize = NonZeroUsize::new(8192).unwrap();
    /// `pipeline.commit_interval_ms`: commit as soon as the previous
    /// commit is confirmed.
    pub const COMMIT_INTERVAL_MS: u64 = 0;
    /// `pipeline.shutdown_grace_ms`.
    pub const SHUTDOWN_GRACE_MS: u64 = 10_000;
    /// `pipeline.rebalance_grace_ms`.
    pub const REBALANCE_GRACE_MS: u64 = 5_000;
    /// `kafka.connect_timeout_ms`.
    pub const CONNECT_TIMEOUT_MS: NonZeroU64 = NonZeroU64::new(5_000).unwrap();
    /// `embedded.partitions`.
    pub const EMBEDDED_PARTITIONS: NonZeroU32 = NonZeroU32::new(8).unwrap();
    /// `runtime.io_threads`.
    pub const IO_THREADS: NonZeroUsize = NonZeroUsize::new(1).unwrap();
    /// `runtime.max_duration_ms`: AWS Express's five minutes.
    pub const MAX_DURATION_MS: NonZeroU64 = NonZeroU64::new(300_000).unwrap();
    /// The value of `kafka.bootstrap_servers` that starts the in-process
    /// cluster.
    pub const EMBEDDED: &str = "embedded";
    /// The largest event accepted as an execution input: AWS's 256 KiB
    /// payload limit.
    pub const MAX_EVENT_BYTES: usize = 256 * 1024;

    pub(super) fn max_in_flight() -> NonZeroUsize {
        MAX_IN_FLIGHT
    }
    pub(super) fn max_pending_per_partition() -> NonZeroUsize {
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
    pub(super) fn connect_timeout_ms() -> NonZeroU64 {
        CONNECT_TIMEOUT_MS
    }
    pub(super) fn embedded_partitions() -> NonZeroU32 {
        EMBEDDED_PARTITIONS
    }
    pub(super) fn io_threads() -> NonZeroUsize {
        IO_THREADS
    }
    pub(super) fn max_duration_ms() -> NonZeroU64 {
        MAX_DURATION_MS
    }
    pub(super) fn yes() -> bool {
        true
    }
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The Kafka cluster every pipeline reads from and writes to.
    pub kafka: KafkaSection,
    /// The in-process cluster used when `kafka.bootstrap_servers = "embedded"`.
    #[serde(default)]
    pub embedded: EmbeddedSection,
    /// The execution runtime shared by the pipelines.
    #[serde(default)]
    pub runtime: RuntimeSection,
    /// The pipelines, one `[[pipeline]]` table each.
    #[serde(default, rename = "pipeline")]
    pub pipelines: Vec<PipelineSection>,
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
    pub connect_timeout_ms: NonZeroU64,
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
    pub partitions: NonZeroU32,
    /// Synthetic IoT events per second written to every pipeline's source
    /// topics (0: none; produce your own events to the printed address).
    #[serde(default)]
    pub generate_events_per_sec: u32,
}

impl Default for EmbeddedSection {
    fn default() -> EmbeddedSection {
        EmbeddedSection {
            partitions: defaults::EMBEDDED_PARTITIONS,
            generate_events_per_sec: 0,
        }
    }
}

/// `[runtime]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSection {
    /// Worker threads running executions (default: [`default_shards`]).
    #[serde(default)]
    pub shards: Option<NonZeroUsize>,
    /// Threads running asynchronous task I/O (Kafka produce, HTTP, ...).
    #[serde(default = "defaults::io_threads")]
    pub io_threads: NonZeroUsize,
    /// Longest an execution may run, whatever its `TimeoutSeconds`.
    #[serde(default = "defaults::max_duration_ms")]
    pub max_duration_ms: NonZeroU64,
    /// Task handler settings, a JSON file as for `spate exec --resources`:
    /// mock behaviours by `Resource`, HTTP Task settings, Lambda endpoints.
    #[serde(default)]
    pub task_config: Option<PathBuf>,
}

/// Shards when `runtime.shards` is not set: one per core left after the
/// pipelines' threads (each parses events and drives its Kafka clients),
/// at least one. On a
/// small machine a shard per core would make the shards and the pipeline
/// threads take turns on the cores: the Choice router through `spate
/// loadgen` on 2 cores spent 10.1 CPU-seconds per 500k events with 2 shards
/// and 8.3 with 1.
pub fn default_shards(pipelines: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.saturating_sub(pipelines).max(1)
}

impl Default for RuntimeSection {
    fn default() -> RuntimeSection {
        RuntimeSection {
            shards: None,
            io_threads: defaults::IO_THREADS,
            max_duration_ms: defaults::MAX_DURATION_MS,
            task_config: None,
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
    pub max_in_flight: NonZeroUsize,
    /// Most events of one partition taken and not yet committable (running,
    /// waiting or being published); the partition is paused above it.
    #[serde(default = "defaults::max_pending_per_partition")]
    pub max_pending_per_partition: NonZeroUsize,
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

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (for messages).
    pub origin: String,
    /// The cluster.
    pub kafka: KafkaSettings,
    /// The embedded cluster's settings.
    pub embedded: EmbeddedSection,
    /// The runtime.
    pub runtime: RuntimeSettings,
    /// The pipelines.
    pub pipelines: Vec<PipelineSettings>,
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
            connect_timeout: Duration::from_millis(defaults::CONNECT_TIMEOUT_MS.get()),
        }
    }

    /// `true` for the in-process cluster.
    pub fn is_embedded(&self) -> bool {
        self.bootstrap_servers == defaults::EMBEDDED
    }
}

/// The runtime's settings.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Shards (`None`: [`default_shards`]).
    pub shards: Option<usize>,
    /// I/O threads.
    pub io_threads: usize,
    /// Longest execution.
    pub max_duration: Duration,
    /// Task configuration file, resolved against the configuration's folder.
    pub task_config: Option<PathBuf>,
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
    /// The compiled state machine; `None` passes events through unchanged
    /// (`spate loadgen --passthrough`).
    pub plan: Option<Arc<Plan>>,
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
}

impl PipelineSettings {
    /// A pipeline with every default, for code that builds one without a
    /// file (`spate loadgen`, tests).
    pub fn new(
        name: impl Into<String>,
        source_topic: impl Into<String>,
        plan: Option<Arc<Plan>>,
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
            plan,
            output_topic: output_topic.into(),
            dlq_topic: dlq_topic.into(),
            on_failure: OnFailure::Dlq,
            max_in_flight: defaults::MAX_IN_FLIGHT.get(),
            max_pending_per_partition: defaults::MAX_PENDING_PER_PARTITION.get(),
            commit_interval: Duration::from_millis(defaults::COMMIT_INTERVAL_MS),
            ordering: Ordering::None,
            input: InputMode::Value,
            forward_headers: true,
            shutdown_grace: Duration::from_millis(defaults::SHUTDOWN_GRACE_MS),
            rebalance_grace: Duration::from_millis(defaults::REBALANCE_GRACE_MS),
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

/// A configuration that could not be loaded: every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file.
    pub origin: String,
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&self.origin)?;
            if !p.location.is_empty() {
                write!(f, ":{}", p.location)?;
            }
            if !p.field.is_empty() {
                write!(f, ": {}", p.field)?;
            }
            write!(f, ": {}", p.message)?;
        }
        Ok(())
    }
}

/// librdkafka properties Spate sets itself: at-least-once depends on them.
const RESERVED_CONSUMER_PROPERTIES: &[&str] = &[
    "enable.auto.commit",
    "enable.auto.offset.store",
    "group.id",
    "bootstrap.servers",
];

impl Config {
    /// Reads and validates a configuration file; relative paths in it are
    /// resolved against its folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: origin.clone(),
            problems: vec![Problem {
                location: String::new(),
                field: String::new(),
                message: format!("cannot read: {e}"),
            }],
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, &origin, &|p: &Path| {
            std::fs::read_to_string(base.join(p)).map(|text| (base.join(p), text))
        })
    }

    /// Validates configuration text. `read` reads a file named in it
    /// (definitions, mock resources), returning its resolved path and text.
    pub fn parse(
        text: &str,
        origin: &str,
        read: &dyn Fn(&Path) -> std::io::Result<(PathBuf, String)>,
    ) -> Result<Config, ConfigError> {
        let fail = |problems| ConfigError {
            origin: origin.to_string(),
            problems,
        };
        let file = parse_file(text).map_err(|p| fail(vec![p]))?;
        let mut problems = Vec::new();
        let mut invalid = |field: String, message: String| {
            problems.push(Problem {
                location: String::new(),
                field,
                message,
            })
        };

        let kafka = &file.kafka;
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

        let task_config = match &file.runtime.task_config {
            Some(p) => match read(p) {
                Ok((resolved, text)) => {
                    if let Err(e) = spate_engine::task::TaskConfig::from_json(&text) {
                        invalid(
                            "runtime.task_config".into(),
                            format!("{}: {e}", p.display()),
                        );
                    }
                    Some(resolved)
                }
                Err(e) => {
                    invalid(
                        "runtime.task_config".into(),
                        format!("cannot read {}: {e}", p.display()),
                    );
                    None
                }
            },
            None => None,
        };

        if file.pipelines.is_empty() {
            invalid(
                "pipeline".into(),
                "no [[pipeline]] is defined: nothing to run".into(),
            );
        }
        let mut pipelines = Vec::new();
        let mut names = std::collections::HashSet::new();
        for (i, p) in file.pipelines.iter().enumerate() {
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
            let plan = match read(&p.definition) {
                Err(e) => {
                    invalid(
                        field("definition"),
                        format!("cannot read {}: {e}", p.definition.display()),
                    );
                    None
                }
                Ok((resolved, text)) => {
                    let options = CompileOptions {
                        name: state_machine_name(&p.definition, &p.name),
                        ..CompileOptions::default()
                    };
                    match from_definition(&text, &options) {
                        Ok(plan) => Some((resolved, Arc::new(plan))),
                        Err(diagnostics) => {
                            for d in &diagnostics.0 {
                                invalid(
                                    field("definition"),
                                    format!("{}: {d}", p.definition.display()),
                                );
                            }
                            None
                        }
                    }
                }
            };
            if let Some((definition_path, plan)) = plan {
                pipelines.push(PipelineSettings {
                    name: p.name.clone(),
                    source_topics: p.source_topics.clone(),
                    group_id: p
                        .group_id
                        .clone()
                        .unwrap_or_else(|| format!("spate-{}", p.name)),
                    group_instance_id: p.group_instance_id.clone(),
                    definition_path,
                    plan: Some(plan),
                    output_topic: p.output_topic.clone(),
                    dlq_topic: p.dlq_topic.clone(),
                    on_failure: p.on_failure,
                    max_in_flight: p.max_in_flight.get(),
                    max_pending_per_partition: p.max_pending_per_partition.get(),
                    commit_interval: Duration::from_millis(p.commit_interval_ms),
                    ordering: p.ordering,
                    input: p.input,
                    forward_headers: p.forward_headers,
                    shutdown_grace: Duration::from_millis(p.shutdown_grace_ms),
                    rebalance_grace: Duration::from_millis(p.rebalance_grace_ms),
                });
            }
        }
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        Ok(Config {
            origin: origin.to_string(),
            kafka: KafkaSettings {
                bootstrap_servers: kafka.bootstrap_servers.trim().to_string(),
                properties: flatten(&kafka.properties),
                consumer: flatten(&kafka.consumer),
                producer: flatten(&kafka.producer),
                connect_timeout: Duration::from_millis(kafka.connect_timeout_ms.get()),
            },
            embedded: file.embedded.clone(),
            runtime: RuntimeSettings {
                shards: file.runtime.shards.map(NonZeroUsize::get),
                io_threads: file.runtime.io_threads.get(),
                max_duration: Duration::from_millis(file.runtime.max_duration_ms.get()),
                task_config,
            },
            pipelines,
        })
    }
}

/// The state machine's name: the definition's file name without its
/// extensions, else the pipeline's name.
fn state_machine_name(definition: &Path, pipeline: &str) -> String {
    definition
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .filter(|n| !n.is_empty())
        .unwrap_or(pipeline)
        .to_string()
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

/// TOML text to [`ConfigFile`], with the line, column and field of the
/// first problem.
fn parse_file(text: &str) -> Result<ConfigFile, Problem> {
    let deserializer =
        toml::de::Deserializer::parse(text).map_err(|e| toml_problem(text, &e, ""))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        toml_problem(text, e.inner(), &field)
    })
}

fn toml_problem(text: &str, e: &toml::de::Error, field: &str) -> Problem {
    let location = e
        .span()
        .map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("{line}:{column}")
        })
        .unwrap_or_default();
    Problem {
        location,
        field: field.to_string(),
        message: e.message().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFINITION: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "spate.toml", &|p: &Path| match p.to_str() {
            Some("ok.asl.json") => Ok((p.to_path_buf(), DEFINITION.to_string())),
            Some("bad.asl.json") => Ok((
                p.to_path_buf(),
                r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Nope"}}}"#.to_string(),
            )),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not found",
            )),
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
    fn minimal_file_takes_every_default() {
        let c = parse(MINIMAL).unwrap();
        let p = &c.pipelines[0];
        assert_eq!(p.group_id, "spate-iot");
        assert_eq!(p.max_in_flight, defaults::MAX_IN_FLIGHT.get());
        assert_eq!(p.commit_interval, Duration::ZERO);
        assert_eq!(p.ordering, Ordering::None);
        assert_eq!(p.input, InputMode::Value);
        assert_eq!(p.on_failure, OnFailure::Dlq);
        assert!(p.forward_headers);
        assert!(!c.kafka.is_embedded());
        assert_eq!(c.runtime.io_threads, 1);
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
    fn wrong_key_names_line_field_and_the_expected_keys() {
        let text = MINIMAL.replace("output_topic", "output_topik");
        let err = parse(&text).unwrap_err();
        let shown = err.to_string();
        assert_eq!(err.problems.len(), 1, "{shown}");
        assert!(
            shown.starts_with("spate.toml:9:1: pipeline[0].output_topik: unknown field"),
            "{shown}"
        );
        assert!(shown.contains("unknown field `output_topik`"), "{shown}");
        assert!(shown.contains("output_topic"), "{shown}");
    }

    #[test]
    fn wrong_value_type_and_enum_variant() {
        let err = parse(&MINIMAL.replace(
            "dlq_topic = \"dlq\"",
            "dlq_topic = \"dlq\"\nmax_in_flight = 0",
        ))
        .unwrap_err();
        assert!(
            err.to_string().contains("pipeline[0].max_in_flight"),
            "{err}"
        );
        let err = parse(&MINIMAL.replace(
            "dlq_topic = \"dlq\"",
            "dlq_topic = \"dlq\"\nordering = \"by-key\"",
        ))
        .unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("pipeline[0].ordering"), "{shown}");
        assert!(shown.contains("per-key"), "{shown}");
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
        let err = parse(text).unwrap_err();
        let shown = err.to_string();
        for expected in [
            "spate.toml: kafka.bootstrap_servers: is empty",
            "kafka.consumer.\"enable.auto.commit\": is set by Spate",
            "pipeline[0].source_topics[1]: \"bad topic\" contains ' '",
            "pipeline[0].output_topic: \"in\" is also a source topic",
            "pipeline[0].definition: bad.asl.json: /States/P/Next",
            "pipeline[1].name: \"a\" names two pipelines",
            "pipeline[1].source_topics: lists no topic",
            "pipeline[1].definition: cannot read missing.asl.json",
        ] {
            assert!(
                shown.contains(expected),
                "missing `{expected}` in:\n{shown}"
            );
        }
    }

    #[test]
    fn the_shipped_configuration_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        let c = Config::load(&dir.join("spate.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.kafka.is_embedded());
        assert!(!c.pipelines.is_empty());
    }

    #[test]
    fn the_wrong_key_fixture_is_refused() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrong-key.toml");
        let err = Config::load(&path).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.contains("unknown field `bootstrap_server`"),
            "{shown}"
        );
        assert!(shown.contains(":2:1: kafka"), "{shown}");
    }
}
