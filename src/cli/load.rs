//! Reading the files the subcommands take: definitions, JSON inputs and
//! resource (task handler) files, with errors that name the file and where
//! in it the problem is.

use anyhow::{Context, anyhow};
use spate_engine::plan::{CompileOptions, Plan, from_definition};
use spate_engine::task::{MockBehaviour, MockHandler, Resources, TaskConfig, build_resources};
use spate_engine::value::{Value, parse_json};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Reads, validates and compiles a state machine definition. The state
/// machine is named after the file (without its extensions).
pub fn plan(path: &Path) -> anyhow::Result<Arc<Plan>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.split('.').next().unwrap_or(n))
        .filter(|n| !n.is_empty())
        .unwrap_or("StateMachine");
    let options = CompileOptions {
        name: name.to_string(),
        ..CompileOptions::default()
    };
    let plan = from_definition(&text, &options).map_err(|d| anyhow!("{}: {d}", path.display()))?;
    Ok(Arc::new(plan))
}

/// Reads a JSON document from a file, or from standard input for `-`.
pub fn json_input(path: &Path) -> anyhow::Result<Value> {
    let (mut bytes, origin) = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        (buf, "standard input".to_string())
    } else {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        (bytes, path.display().to_string())
    };
    parse_json(&bytes).map_err(|e| anyhow!("{origin}: {e}"))
}

/// Reads a task configuration file: mock behaviours by resource, HTTP
/// settings and Lambda endpoints (see `spate_engine::task::TaskConfig`; a
/// plain JSON object of mock behaviours is accepted too).
pub fn resources(path: &Path) -> anyhow::Result<Resources> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
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
