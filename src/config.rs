//! The `spate run` configuration file (TOML), which `spate demo` builds in.
//!
//! The file belongs to the binary: its Kafka sections (`[kafka]`,
//! `[embedded]`, `[[pipeline]]`) are validated by `spate_ingest::config`,
//! and its `[runtime]` section (shards, I/O threads, the longest execution,
//! task handler settings) here, since the runtime is the binary's to start.
//! Every problem of the file is reported at once: syntax errors and unknown
//! keys with their line and column, numbers outside their documented range
//! (`config/spate.toml`) with the key, definitions with the JSON pointer of
//! each problem.

use crate::api::settings::ApiSection;
use crate::cli::load::{self, FileKind};
use crate::console::settings::ConsoleSection;
use serde::Deserialize;
use spate_engine::runtime::{Runtime, RuntimeConfig, RuntimeError};
use spate_engine::task::Resources;
use spate_ingest::config::{EmbeddedSection, KafkaSection, PipelineSection, Problem, in_range};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `[runtime]` defaults.
pub mod defaults {
    /// `runtime.io_threads`.
    pub const IO_THREADS: u64 = 1;
    /// `runtime.max_duration_ms`: AWS Express's five minutes.
    pub const MAX_DURATION_MS: u64 = spate_engine::limits::EXPRESS_MAX_DURATION.as_millis() as u64;

    /// `runtime.max_fibers_per_execution`.
    pub const MAX_FIBERS_PER_EXECUTION: u64 =
        spate_engine::runtime::DEFAULT_MAX_FIBERS_PER_EXECUTION as u64;

    /// `runtime.max_bytes_per_execution`: 256 MiB.
    pub const MAX_BYTES_PER_EXECUTION: u64 = spate_engine::runtime::DEFAULT_MAX_BYTES_PER_EXECUTION;

    pub(super) fn io_threads() -> u64 {
        IO_THREADS
    }
    pub(super) fn max_fibers_per_execution() -> u64 {
        MAX_FIBERS_PER_EXECUTION
    }
    pub(super) fn max_bytes_per_execution() -> u64 {
        MAX_BYTES_PER_EXECUTION
    }
    pub(super) fn max_duration_ms() -> u64 {
        MAX_DURATION_MS
    }
}

/// The accepted range of every `[runtime]` number (documented in
/// `config/spate.toml`).
pub mod ranges {
    use std::ops::RangeInclusive;

    /// `runtime.shards`.
    pub const SHARDS: RangeInclusive<u64> = 1..=1024;
    /// `runtime.io_threads`.
    pub const IO_THREADS: RangeInclusive<u64> = 1..=256;
    /// `runtime.max_duration_ms`: up to a year (a Standard workflow's limit).
    pub const MAX_DURATION_MS: RangeInclusive<u64> = 1..=31_536_000_000;
    /// `runtime.max_fibers_per_execution`.
    pub const MAX_FIBERS_PER_EXECUTION: RangeInclusive<u64> = 1..=10_000_000;
    /// `runtime.max_bytes_per_execution`: from AWS's payload limit (256 KiB)
    /// to 1 TiB.
    pub const MAX_BYTES_PER_EXECUTION: RangeInclusive<u64> =
        spate_engine::limits::PAYLOAD_BYTES as u64..=1 << 40;
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kafka: KafkaSection,
    #[serde(default)]
    embedded: EmbeddedSection,
    #[serde(default)]
    runtime: RuntimeSection,
    #[serde(default)]
    admin: AdminSection,
    #[serde(default, rename = "pipeline")]
    pipelines: Vec<PipelineSection>,
    /// The Step Functions-compatible API (checked here; started by the
    /// command that serves it).
    #[serde(default)]
    api: Option<ApiSection>,
    /// The web console (`[console]`).
    #[serde(default)]
    console: ConsoleSection,
}

/// The file as `spate serve` reads it: `[runtime]` and `[api]`; the Kafka
/// sections may be there (the same file as `spate run`'s) and are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    #[serde(default)]
    runtime: RuntimeSection,
    #[serde(default)]
    api: ApiSection,
    #[serde(default)]
    console: ConsoleSection,
    // Accepted (so `spate run`'s file serves too), not used.
    #[serde(default, rename = "kafka")]
    _kafka: Option<toml::Value>,
    #[serde(default, rename = "embedded")]
    _embedded: Option<toml::Value>,
    #[serde(default, rename = "pipeline")]
    _pipeline: Option<toml::Value>,
    #[serde(default, rename = "admin")]
    _admin: Option<toml::Value>,
}

/// Reads the `[runtime]` and `[api]` sections of a configuration file for
/// `spate serve`; every problem is reported at once.
pub fn load_serve(
    path: &Path,
) -> Result<(RuntimeSettings, ApiSection, ConsoleSection), ConfigError> {
    let origin = path.display().to_string();
    let fail = |problems| ConfigError {
        origin: origin.clone(),
        problems,
    };
    let text = load::read_text(path, FileKind::Config)
        .map_err(|message| fail(vec![Problem::field("", message)]))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let file: ServeFile = parse_toml(&text).map_err(|p| fail(vec![p]))?;
    let read = |p: &Path, kind| {
        let resolved = base.join(p);
        load::read_text(&resolved, kind).map(|text| (resolved, text))
    };
    let mut problems = Vec::new();
    let runtime = runtime_settings(&file.runtime, &read).map_err(|found| problems.extend(found));
    let mut api = file.api;
    api.resolve_paths(base);
    if let Err(found) = api.settings() {
        problems.extend(found);
    }
    if let Err(found) = file.console.settings() {
        problems.extend(found);
    }
    match runtime {
        Ok(runtime) if problems.is_empty() => Ok((runtime, api, file.console)),
        _ => Err(fail(problems)),
    }
}

/// `[admin]`: the admin HTTP server (`/metrics`, `/health`, `/ready`,
/// `/stats`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminSection {
    /// `host:port` to listen on, or `off`.
    #[serde(default = "default_admin_addr")]
    addr: String,
}

impl Default for AdminSection {
    fn default() -> AdminSection {
        AdminSection {
            addr: default_admin_addr(),
        }
    }
}

fn default_admin_addr() -> String {
    crate::admin::DEFAULT_ADDR.to_string()
}

/// Where the admin server listens: `host:port`, or `off` (`None`).
pub fn admin_addr(text: &str) -> Result<Option<std::net::SocketAddr>, String> {
    if text.trim() == "off" {
        return Ok(None);
    }
    text.trim().parse().map(Some).map_err(|_| {
        format!("{text:?} is not an address (host:port with a numeric host, e.g. 127.0.0.1:9464) nor off")
    })
}

/// `[runtime]`: the execution runtime shared by the pipelines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimeSection {
    /// Worker threads running executions (default: [`default_shards`]).
    #[serde(default)]
    shards: Option<u64>,
    /// Threads running asynchronous task I/O (Kafka produce, HTTP, ...).
    #[serde(default = "defaults::io_threads")]
    io_threads: u64,
    /// Longest an execution may run, whatever its `TimeoutSeconds`.
    #[serde(default = "defaults::max_duration_ms")]
    max_duration_ms: u64,
    /// Most Map iterations and Parallel branches one execution may have
    /// alive at once.
    #[serde(default = "defaults::max_fibers_per_execution")]
    max_fibers_per_execution: u64,
    /// Most bytes one execution's Map iterations, Parallel branches and
    /// their collected results may hold at once.
    #[serde(default = "defaults::max_bytes_per_execution")]
    max_bytes_per_execution: u64,
    /// Task handler settings, a JSON file as for `spate exec --resources`:
    /// mock behaviours by `Resource`, HTTP Task settings, Lambda endpoints.
    #[serde(default)]
    task_config: Option<PathBuf>,
}

impl Default for RuntimeSection {
    fn default() -> RuntimeSection {
        RuntimeSection {
            shards: None,
            io_threads: defaults::IO_THREADS,
            max_duration_ms: defaults::MAX_DURATION_MS,
            max_fibers_per_execution: defaults::MAX_FIBERS_PER_EXECUTION,
            max_bytes_per_execution: defaults::MAX_BYTES_PER_EXECUTION,
            task_config: None,
        }
    }
}

/// The runtime's validated settings.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Shards (`None`: [`default_shards`]).
    pub shards: Option<usize>,
    /// I/O threads.
    pub io_threads: usize,
    /// Longest execution.
    pub max_duration: Duration,
    /// Most live fibers of one execution.
    pub max_fibers_per_execution: u32,
    /// Most bytes held by one execution's fan-outs.
    pub max_bytes_per_execution: u64,
    /// Task configuration file, resolved against the configuration's folder.
    pub task_config: Option<PathBuf>,
}

impl Default for RuntimeSettings {
    fn default() -> RuntimeSettings {
        RuntimeSettings {
            shards: None,
            io_threads: defaults::IO_THREADS as usize,
            max_duration: Duration::from_millis(defaults::MAX_DURATION_MS),
            max_fibers_per_execution: defaults::MAX_FIBERS_PER_EXECUTION as u32,
            max_bytes_per_execution: defaults::MAX_BYTES_PER_EXECUTION,
            task_config: None,
        }
    }
}

impl RuntimeSettings {
    /// Starts the runtime for `pipelines` pipelines admitting
    /// `max_in_flight` executions at once in all.
    pub fn start(
        &self,
        pipelines: usize,
        max_in_flight: usize,
        resources: Resources,
    ) -> Result<Runtime, RuntimeError> {
        Runtime::start(RuntimeConfig {
            shards: self.shards.unwrap_or_else(|| default_shards(pipelines)),
            max_in_flight,
            max_duration: self.max_duration,
            io_threads: self.io_threads,
            resources,
            max_fibers_per_execution: self.max_fibers_per_execution,
            max_bytes_per_execution: self.max_bytes_per_execution,
            ..RuntimeConfig::default()
        })
    }
}

/// Shards when `runtime.shards` is not set: one per core left after the
/// pipelines' threads (each parses events and drives its Kafka clients),
/// at least one. On a small machine a shard per core would make the shards
/// and the pipeline threads take turns on the cores: the Choice router
/// through `spate loadgen` on 2 cores spent 10.1 CPU-seconds per 500k
/// events with 2 shards and 8.3 with 1.
pub fn default_shards(pipelines: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.saturating_sub(pipelines).max(1)
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (for messages).
    pub origin: String,
    /// The cluster, the embedded cluster and the pipelines.
    pub ingest: spate_ingest::config::Config,
    /// The runtime.
    pub runtime: RuntimeSettings,
    /// Where the admin server listens (`None`: off).
    pub admin_addr: Option<std::net::SocketAddr>,
    /// The Step Functions-compatible API beside the pipelines, when the
    /// file has an `[api]` section (checked).
    pub api: Option<ApiSection>,
    /// The web console (`[console]`, checked).
    pub console: crate::console::settings::ConsoleSettings,
}

/// Reads a file the configuration names, given as written and with what it
/// holds: its resolved path and text, or why it cannot be read.
pub type ReadFile<'a> = &'a dyn Fn(&Path, FileKind) -> Result<(PathBuf, String), String>;

impl Config {
    /// Reads and validates a configuration file (at most 1 MiB); relative
    /// paths in it are resolved against its folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        let text = load::read_text(path, FileKind::Config).map_err(|message| ConfigError {
            origin: origin.clone(),
            problems: vec![Problem::field("", message)],
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = Config::parse(&text, &origin, &|p: &Path, kind| {
            let resolved = base.join(p);
            load::read_text(&resolved, kind).map(|text| (resolved, text))
        })?;
        if let Some(api) = &mut config.api {
            api.resolve_paths(base);
        }
        let problems = config.ingest.resolve_log_files(base);
        if !problems.is_empty() {
            return Err(ConfigError { origin, problems });
        }
        Ok(config)
    }

    /// Validates configuration text. `read` reads a file named in it
    /// (definitions, the task configuration).
    pub fn parse(text: &str, origin: &str, read: ReadFile<'_>) -> Result<Config, ConfigError> {
        let fail = |problems| ConfigError {
            origin: origin.to_string(),
            problems,
        };
        let file = parse_file(text).map_err(|p| fail(vec![p]))?;
        let mut problems = Vec::new();
        let ingest = spate_ingest::config::Config::from_sections(
            &file.kafka,
            &file.embedded,
            &file.pipelines,
            &|p: &Path| read(p, FileKind::Definition),
        )
        .map_err(|found| problems.extend(found))
        .ok();
        let runtime = runtime_settings(&file.runtime, read).map_err(|found| problems.extend(found));
        let admin_addr = admin_addr(&file.admin.addr)
            .map_err(|message| problems.push(Problem::field("admin.addr", message)));
        if let Some(Err(found)) = file.api.as_ref().map(ApiSection::settings) {
            problems.extend(found);
        }
        let console = file
            .console
            .settings()
            .map_err(|found| problems.extend(found));
        match (ingest, runtime, admin_addr, console) {
            (Some(ingest), Ok(runtime), Ok(admin_addr), Ok(console)) if problems.is_empty() => {
                Ok(Config {
                    origin: origin.to_string(),
                    ingest,
                    runtime,
                    admin_addr,
                    api: file.api,
                    console,
                })
            }
            _ => Err(fail(problems)),
        }
    }
}

/// Validates `[runtime]`.
fn runtime_settings(
    section: &RuntimeSection,
    read: ReadFile<'_>,
) -> Result<RuntimeSettings, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut ranged = |field: &str, value: u64, range| {
        in_range(field, value, range).unwrap_or_else(|p| {
            problems.push(p);
            1
        })
    };
    let shards = section
        .shards
        .map(|n| ranged("runtime.shards", n, &ranges::SHARDS) as usize);
    let io_threads = ranged(
        "runtime.io_threads",
        section.io_threads,
        &ranges::IO_THREADS,
    );
    let max_duration_ms = ranged(
        "runtime.max_duration_ms",
        section.max_duration_ms,
        &ranges::MAX_DURATION_MS,
    );
    let max_fibers_per_execution = ranged(
        "runtime.max_fibers_per_execution",
        section.max_fibers_per_execution,
        &ranges::MAX_FIBERS_PER_EXECUTION,
    );
    let max_bytes_per_execution = ranged(
        "runtime.max_bytes_per_execution",
        section.max_bytes_per_execution,
        &ranges::MAX_BYTES_PER_EXECUTION,
    );
    let task_config = section.task_config.as_ref().and_then(|p| {
        let checked = read(p, FileKind::Config).and_then(|(resolved, text)| {
            spate_engine::task::TaskConfig::from_json(&text)
                .map(|_| resolved)
                .map_err(|e| e.to_string())
        });
        checked
            .map_err(|e| {
                problems.push(Problem::field(
                    "runtime.task_config",
                    format!("{}: {e}", p.display()),
                ))
            })
            .ok()
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(RuntimeSettings {
        shards,
        io_threads: io_threads as usize,
        max_duration: Duration::from_millis(max_duration_ms),
        max_fibers_per_execution: max_fibers_per_execution as u32,
        max_bytes_per_execution,
        task_config,
    })
}

/// A configuration that could not be loaded: every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl std::error::Error for ConfigError {}

/// TOML text to [`File`], with the line, column and field of the first
/// problem.
fn parse_file(text: &str) -> Result<File, Problem> {
    parse_toml(text)
}

/// TOML text to `T`, with the line, column and field of the first problem.
fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Problem> {
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
        Config::parse(text, "spate.toml", &|p: &Path, _| match p.to_str() {
            Some("ok.asl.json") => Ok((p.to_path_buf(), DEFINITION.to_string())),
            Some("mocks.json") => Ok((p.to_path_buf(), r#"{"mocks":{}}"#.to_string())),
            _ => Err("cannot read: not found".to_string()),
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

    fn with_runtime(lines: &str) -> String {
        MINIMAL.replace(
            "[[pipeline]]",
            &format!("[runtime]\n{lines}\n\n[[pipeline]]"),
        )
    }

    #[test]
    fn minimal_file_takes_every_default() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.runtime.shards, None);
        assert_eq!(c.runtime.io_threads, 1);
        assert_eq!(c.runtime.max_duration, Duration::from_secs(300));
        assert_eq!(c.ingest.pipelines[0].group_id, "spate-iot");
    }

    #[test]
    fn runtime_settings_are_read() {
        let c = parse(&with_runtime(
            "shards = 3\nio_threads = 2\nmax_duration_ms = 1000\ntask_config = \"mocks.json\"",
        ))
        .unwrap();
        assert_eq!(c.runtime.shards, Some(3));
        assert_eq!(c.runtime.io_threads, 2);
        assert_eq!(c.runtime.max_duration, Duration::from_secs(1));
        assert_eq!(c.runtime.task_config, Some(PathBuf::from("mocks.json")));
    }

    #[test]
    fn runtime_numbers_out_of_range_name_the_key() {
        let err = parse(&with_runtime(
            "shards = 1000000000000\nio_threads = 1000000000000\nmax_duration_ms = 0\ntask_config = \"none.json\"",
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string().lines().collect::<Vec<_>>(),
            [
                "spate.toml: runtime.shards: 1000000000000 is out of range 1..=1024",
                "spate.toml: runtime.io_threads: 1000000000000 is out of range 1..=256",
                "spate.toml: runtime.max_duration_ms: 0 is out of range 1..=31536000000",
                "spate.toml: runtime.task_config: none.json: cannot read: not found",
            ]
        );
    }

    #[test]
    fn the_api_section_is_checked_with_the_rest() {
        let text = format!(
            "{MINIMAL}\n[api]\nmax_executions = 0\naddr = \"nowhere\"\n[api.auth]\nmode = \"magic\"\n"
        );
        let shown = parse(&text).unwrap_err().to_string();
        assert!(
            shown.contains("api.addr: 'nowhere' is not a host:port address"),
            "{shown}"
        );
        assert!(
            shown.contains("api.max_executions: 0 is out of range"),
            "{shown}"
        );
        assert!(
            shown.contains("api.auth.mode: 'magic' is not one of"),
            "{shown}"
        );
        let fine = format!("{MINIMAL}\n[api]\naddr = \"127.0.0.1:9000\"\n");
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn the_console_section_is_checked_with_the_rest() {
        let text = format!("{MINIMAL}\n[console]\njournal_size = 0\nhistory_sample_rate = 2.0\n");
        let shown = parse(&text).unwrap_err().to_string();
        assert!(
            shown.contains("console.journal_size: 0 is out of range 1..=1000000"),
            "{shown}"
        );
        assert!(
            shown.contains("console.history_sample_rate: 2 is out of range 0..=1"),
            "{shown}"
        );
        let fine = format!("{MINIMAL}\n[console]\njournal_size = 50\nhistory_sample_rate = 0.5\n");
        let c = parse(&fine).unwrap();
        assert_eq!(c.console.journal_size, 50);
        assert_eq!(c.console.history_sample_rate, 0.5);
        assert!(c.console.enabled);
    }

    #[test]
    fn serve_reads_runtime_and_api_and_resolves_paths() {
        let dir = std::env::temp_dir().join(format!("spate-serve-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("serve.toml");
        std::fs::write(
            &path,
            format!("{MINIMAL}\n[runtime]\nshards = 1\n[api]\ndata_dir = \"state\"\nthreads = 3\n"),
        )
        .unwrap();
        let (runtime, api, _) = load_serve(&path).unwrap();
        assert_eq!(runtime.shards, Some(1));
        assert_eq!(api.data_dir, Some(dir.join("state")));
        assert_eq!(api.settings().unwrap().threads, 3);
        std::fs::write(&path, "[api]\nthreadz = 3\n").unwrap();
        let shown = load_serve(&path).unwrap_err().to_string();
        assert!(shown.contains("unknown field `threadz`"), "{shown}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn problems_of_every_section_come_together() {
        let text = with_runtime("shards = 0").replace(
            "dlq_topic = \"dlq\"",
            "dlq_topic = \"dlq\"\nmax_in_flight = 0",
        );
        let shown = parse(&text).unwrap_err().to_string();
        assert_eq!(
            shown.lines().collect::<Vec<_>>(),
            [
                "spate.toml: pipeline[0].max_in_flight: 0 is out of range 1..=1000000",
                "spate.toml: runtime.shards: 0 is out of range 1..=1024",
            ]
        );
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
        assert!(shown.contains("output_topic"), "{shown}");
        let shown = parse(&with_runtime("threads = 2")).unwrap_err().to_string();
        assert!(
            shown.starts_with("spate.toml:6:1: runtime.threads: unknown field `threads`"),
            "{shown}"
        );
    }

    #[test]
    fn wrong_value_type_and_enum_variant() {
        let shown = parse(&with_runtime("shards = -1")).unwrap_err().to_string();
        assert!(shown.contains("runtime.shards"), "{shown}");
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
    fn the_byte_budget_is_read_with_its_default() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.runtime.max_bytes_per_execution, 256 << 20);
        let c = parse(&format!(
            "[runtime]\nmax_bytes_per_execution = 1048576\n{MINIMAL}"
        ))
        .unwrap();
        assert_eq!(c.runtime.max_bytes_per_execution, 1 << 20);
    }

    #[test]
    fn the_shipped_configuration_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let c = Config::load(&dir.join("spate.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.ingest.kafka.is_embedded());
        assert!(!c.ingest.pipelines.is_empty());
    }

    #[test]
    fn the_wrong_key_fixture_is_refused() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ingest/tests/fixtures/wrong-key.toml");
        let shown = Config::load(&path).unwrap_err().to_string();
        assert!(
            shown.contains("unknown field `bootstrap_server`"),
            "{shown}"
        );
        assert!(shown.contains(":2:1: kafka"), "{shown}");
    }
}
