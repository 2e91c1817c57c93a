//! The `[console]` section of the configuration file: whether the console
//! is served, and how much execution history it keeps.

use serde::Deserialize;
use spate_ingest::config::{Problem, in_range};

/// The accepted range of each `[console]` number.
pub mod ranges {
    use std::ops::RangeInclusive;
    /// `console.journal_size`.
    pub const JOURNAL_SIZE: RangeInclusive<u64> = 1..=1_000_000;
    /// `console.queue_size`.
    pub const QUEUE_SIZE: RangeInclusive<u64> = 1..=1_000_000;
}

/// `[console]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    /// Serve the console (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Most executions the journal keeps.
    #[serde(default)]
    pub journal_size: Option<u64>,
    /// Share of pipeline executions recorded with their history (0 to 1).
    #[serde(default)]
    pub history_sample_rate: Option<f64>,
    /// Pipeline execution summaries waiting to be filed before more are
    /// dropped.
    #[serde(default)]
    pub queue_size: Option<u64>,
    /// The JWT claim holding a token's console scopes (default `scope`).
    #[serde(default)]
    pub scope_claim: Option<String>,
}

/// Validated console settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleSettings {
    /// Whether the console is served.
    pub enabled: bool,
    /// Journal size.
    pub journal_size: usize,
    /// Share of pipeline executions recorded with history.
    pub history_sample_rate: f64,
    /// Queue of offered summaries.
    pub queue_size: usize,
    /// The JWT claim holding scopes.
    pub scope_claim: String,
}

impl Default for ConsoleSettings {
    fn default() -> ConsoleSettings {
        ConsoleSettings {
            enabled: true,
            journal_size: 10_000,
            history_sample_rate: 0.01,
            queue_size: 65_536,
            scope_claim: "scope".to_string(),
        }
    }
}

impl ConsoleSection {
    /// Validates the section; every problem names its key.
    pub fn settings(&self) -> Result<ConsoleSettings, Vec<Problem>> {
        let defaults = ConsoleSettings::default();
        let mut problems = Vec::new();
        let mut ranged = |field: &str, value: Option<u64>, default: usize, range| match value {
            None => default,
            Some(v) => in_range(field, v, range).unwrap_or_else(|p| {
                problems.push(p);
                default as u64
            }) as usize,
        };
        let journal_size = ranged(
            "console.journal_size",
            self.journal_size,
            defaults.journal_size,
            &ranges::JOURNAL_SIZE,
        );
        let queue_size = ranged(
            "console.queue_size",
            self.queue_size,
            defaults.queue_size,
            &ranges::QUEUE_SIZE,
        );
        let history_sample_rate = match self.history_sample_rate {
            None => defaults.history_sample_rate,
            Some(r) if (0.0..=1.0).contains(&r) => r,
            Some(r) => {
                problems.push(Problem::field(
                    "console.history_sample_rate",
                    format!("{r} is out of range 0..=1 (a share of executions)"),
                ));
                defaults.history_sample_rate
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ConsoleSettings {
            enabled: self.enabled.unwrap_or(true),
            journal_size,
            history_sample_rate,
            queue_size,
            scope_claim: self.scope_claim.clone().unwrap_or(defaults.scope_claim),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_ranges() {
        assert_eq!(
            ConsoleSection::default().settings().unwrap(),
            ConsoleSettings::default()
        );
        let bad = ConsoleSection {
            enabled: None,
            journal_size: Some(0),
            history_sample_rate: Some(1.5),
            queue_size: Some(2_000_000),
            scope_claim: None,
        };
        let shown: Vec<String> = bad
            .settings()
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(shown[0].contains("console.journal_size"), "{shown:?}");
        assert!(shown[1].contains("console.queue_size"), "{shown:?}");
        assert!(
            shown[2].contains("console.history_sample_rate"),
            "{shown:?}"
        );
    }
}
