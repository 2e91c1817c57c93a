//! `config`: a `spate run` file (TOML) through the Kafka sections'
//! validation, as the binary loads it.
//!
//! The `[runtime]` section belongs to the binary (its numbers go through
//! the same `in_range` checks as the Kafka ones); it is accepted here as any
//! table and not validated. Definitions named by a pipeline are read from a
//! small in-memory set: `valid.asl.json`, `invalid.asl.json`, and anything
//! else is a missing file.
//!
//! Invariants: no panic; a refused file lists at least one problem, each
//! naming a field; an accepted one has every pipeline with its plan and
//! every number within its range.

use serde::Deserialize;
use spate_ingest::config::{Config, EmbeddedSection, KafkaSection, PipelineSection, ranges};
use std::path::{Path, PathBuf};

/// The file as the binary reads it, with `[runtime]` left as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kafka: KafkaSection,
    #[serde(default)]
    embedded: EmbeddedSection,
    #[serde(default, rename = "runtime")]
    _runtime: Option<toml::Table>,
    #[serde(default, rename = "pipeline")]
    pipelines: Vec<PipelineSection>,
}

const VALID: &str = r#"{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}"#;
const INVALID: &str = r#"{"StartAt": "Nowhere", "States": {"Done": {"Type": "Pass"}}}"#;

fn read(path: &Path) -> Result<(PathBuf, String), String> {
    let text = match path.to_str() {
        Some("valid.asl.json") => VALID,
        Some("invalid.asl.json") => INVALID,
        _ => return Err("no such file".into()),
    };
    Ok((path.to_path_buf(), text.to_string()))
}

/// Loads `data` as a configuration file.
pub(crate) fn fuzz(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = toml::from_str::<File>(text) else {
        return;
    };
    match Config::from_sections(&file.kafka, &file.embedded, &file.pipelines, &read) {
        Err(problems) => {
            assert!(!problems.is_empty());
            for problem in &problems {
                assert!(
                    !problem.field.is_empty() && !problem.message.is_empty(),
                    "{problem:?}"
                );
            }
        }
        Ok(config) => {
            assert_eq!(config.pipelines.len(), file.pipelines.len());
            assert!(ranges::EMBEDDED_PARTITIONS.contains(&u64::from(config.embedded.partitions)));
            for pipeline in &config.pipelines {
                assert!(
                    pipeline.state_machine.is_some(),
                    "{} has no state machine",
                    pipeline.name
                );
                assert!(ranges::MAX_IN_FLIGHT.contains(&(pipeline.max_in_flight as u64)));
            }
        }
    }
}
