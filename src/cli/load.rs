//! Reading the files the subcommands take: definitions, JSON inputs and
//! resource (task handler) files, with errors that name the file and where
//! in it the problem is.
//!
//! Every file is read with a bound (at most one byte past its limit is
//! read), so `/dev/zero` or a 100 MB file is refused after its first bytes
//! rather than read, or parsed, whole.

use anyhow::{Context, anyhow};
use spate_engine::limits::{DEFINITION_BYTES as MAX_DEFINITION_BYTES, PAYLOAD_BYTES};
use spate_engine::registry::{Registry, RegistryError, StateMachine};
use spate_engine::task::{MockBehaviour, MockHandler, Resources, TaskConfig, build_resources};
use spate_engine::value::{JsonParseError, Value, parse_json};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// What a file holds, which sets how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An execution input: AWS's 256 KiB payload limit.
    Input,
    /// A state machine definition: AWS's 1 MiB definition limit.
    Definition,
    /// A configuration file (`spate run`) or task configuration file.
    Config,
}

/// The largest execution input read, in bytes.
pub const MAX_INPUT_BYTES: usize = PAYLOAD_BYTES;
/// The largest configuration or task configuration file read, in bytes.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

impl FileKind {
    /// The most bytes a file of this kind may hold.
    pub fn limit(self) -> usize {
        match self {
            FileKind::Input => MAX_INPUT_BYTES,
            FileKind::Definition => MAX_DEFINITION_BYTES,
            FileKind::Config => MAX_CONFIG_BYTES,
        }
    }

    fn too_large(self) -> String {
        let (what, why) = match self {
            FileKind::Input => ("input", "the 256 KiB payload limit"),
            FileKind::Definition => ("definition", "the 1 MiB definition limit"),
            FileKind::Config => ("file", "the 1 MiB limit for configuration files"),
        };
        format!("{what} is over {} bytes ({why})", self.limit())
    }
}

/// Reads a file, or standard input for `-`, refusing more than `kind`
/// allows. The error names the file (without it: see [`read_bytes`]).
fn read_limited(path: &Path, kind: FileKind) -> Result<Vec<u8>, String> {
    let limit = kind.limit();
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() > limit {
        return Err(kind.too_large());
    }
    Ok(bytes)
}

/// How a file is named in messages.
pub fn origin(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads a file of `kind` (`-`: standard input) within its size limit.
pub fn read_bytes(path: &Path, kind: FileKind) -> anyhow::Result<Vec<u8>> {
    read_limited(path, kind).map_err(|e| anyhow!("{}: {e}", origin(path)))
}

/// Reads a UTF-8 text file of `kind` within its size limit. Errors name the
/// problem without the file, for callers that name it their own way.
pub fn read_text(path: &Path, kind: FileKind) -> Result<String, String> {
    let bytes = read_limited(path, kind)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = JsonParseError::at(e.as_bytes(), e.utf8_error().valid_up_to(), "");
        format!(
            "not UTF-8: invalid byte at line {} column {} (byte offset {})",
            at.line, at.column, at.offset
        )
    })
}

/// Reads a definition and registers it in `registry` as a state machine
/// named after the file (without its extensions).
pub fn state_machine(registry: &Registry, path: &Path) -> anyhow::Result<Arc<StateMachine>> {
    let text =
        read_text(path, FileKind::Definition).map_err(|e| anyhow!("{}: {e}", origin(path)))?;
    registry
        .create(machine_name(path), &text)
        .map_err(|e| match e {
            RegistryError::InvalidDefinition(d) => anyhow!("{}: {d}", path.display()),
            other => anyhow!("{}: {other}", path.display()),
        })
}

/// A state machine's name from its file's name (see
/// [`name_from_path`](spate_engine::registry::name_from_path)).
fn machine_name(path: &Path) -> &str {
    spate_engine::registry::name_from_path(path).unwrap_or("StateMachine")
}

/// Reads a JSON execution input from a file, or from standard input for `-`.
pub fn json_input(path: &Path) -> anyhow::Result<Value> {
    let bytes = read_bytes(path, FileKind::Input)?;
    parse_json(&bytes).map_err(|e| anyhow!("{}: {e}", origin(path)))
}

/// Reads a task configuration file: mock behaviours by resource, HTTP
/// settings and Lambda endpoints (see `spate_engine::task::TaskConfig`; a
/// plain JSON object of mock behaviours is accepted too).
pub fn resources(path: &Path) -> anyhow::Result<Resources> {
    let text = read_text(path, FileKind::Config).map_err(|e| anyhow!("{}: {e}", origin(path)))?;
    let config = TaskConfig::from_json(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    build_resources(&config).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Builds mock handlers from (resource, behaviour) pairs.
pub fn mock_resources<'a>(
    entries: impl Iterator<Item = (&'a String, &'a serde_json::Value)>,
) -> anyhow::Result<Resources> {
    let mut resources = Resources::new();
    for (resource, behaviour) in entries {
        let behaviour: MockBehaviour = serde_json::from_value(behaviour.clone())
            .with_context(|| format!("resource {resource}: not a valid mock behaviour"))?;
        resources.register(resource.as_str(), Arc::new(MockHandler::new(behaviour)));
    }
    Ok(resources)
}
