//! The `[api]` section of the configuration file, and the settings it
//! gives: address, ARN region and account, execution store size, data
//! directory, server threads, mock configuration, execution log
//! destination, authentication.

use super::auth::{Auth, AuthSection};
use serde::Deserialize;
use spate_ingest::config::{Problem, in_range};
use spate_ingest::exec_log::LogDestination;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The default address: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8083";
/// Default size of the execution store.
pub const DEFAULT_MAX_EXECUTIONS: u64 = 10_000;

/// The accepted range of each `[api]` number.
pub mod ranges {
    use std::ops::RangeInclusive;
    /// `api.max_executions`.
    pub const MAX_EXECUTIONS: RangeInclusive<u64> = 1..=10_000_000;
    /// `api.threads`.
    pub const THREADS: RangeInclusive<u64> = 1..=256;
}

/// `[api]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// `host:port` to listen on.
    #[serde(default)]
    pub addr: Option<String>,
    /// The region in ARNs (default `us-east-1`).
    #[serde(default)]
    pub region: Option<String>,
    /// The account in ARNs (default `123456789012`).
    #[serde(default)]
    pub account: Option<String>,
    /// Most executions the store keeps.
    #[serde(default)]
    pub max_executions: Option<u64>,
    /// Where state machines and activities persist (none: in memory).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Threads serving HTTP (default: one per core).
    #[serde(default)]
    pub threads: Option<u64>,
    /// A mock configuration in Step Functions Local's format.
    #[serde(default)]
    pub mock_config: Option<PathBuf>,
    /// Where the execution log records of state machines whose
    /// `loggingConfiguration` level is not `OFF` go: `stdout` (default),
    /// `stderr` or `file:PATH`.
    #[serde(default)]
    pub log_destination: Option<String>,
    /// Authentication (`[api.auth]`).
    #[serde(default)]
    pub auth: AuthSection,
}

/// Validated API settings.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Where to listen.
    pub addr: SocketAddr,
    /// ARN region.
    pub region: String,
    /// ARN account.
    pub account: String,
    /// Execution store size.
    pub max_executions: usize,
    /// Data directory.
    pub data_dir: Option<PathBuf>,
    /// HTTP threads.
    pub threads: usize,
    /// Mock configuration file.
    pub mock_config: Option<PathBuf>,
    /// Where execution log records go.
    pub log_destination: LogDestination,
    /// Authentication.
    pub auth: Auth,
}

impl Default for ApiSettings {
    fn default() -> ApiSettings {
        ApiSettings {
            addr: DEFAULT_ADDR.parse().expect("the default address parses"),
            region: "us-east-1".to_string(),
            account: "123456789012".to_string(),
            max_executions: DEFAULT_MAX_EXECUTIONS as usize,
            data_dir: None,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            mock_config: None,
            log_destination: LogDestination::Stdout,
            auth: Auth::None,
        }
    }
}

impl ApiSection {
    /// Makes the paths in the section (data folder, mock configuration,
    /// JWKS file, log file) relative to `base`, the configuration file's folder.
    pub fn resolve_paths(&mut self, base: &std::path::Path) {
        self.data_dir = self.data_dir.take().map(|d| base.join(d));
        self.mock_config = self.mock_config.take().map(|d| base.join(d));
        self.auth.jwks_file = self.auth.jwks_file.take().map(|d| base.join(d));
        if let Some(path) = self
            .log_destination
            .as_deref()
            .and_then(|d| d.strip_prefix("file:"))
            .filter(|p| !p.trim().is_empty())
        {
            self.log_destination = Some(format!("file:{}", base.join(path).display()));
        }
    }

    /// Validates the section; every problem names its key.
    pub fn settings(&self) -> Result<ApiSettings, Vec<Problem>> {
        let mut problems = Vec::new();
        let defaults = ApiSettings::default();
        let addr = match &self.addr {
            None => defaults.addr,
            Some(text) => text.parse().unwrap_or_else(|e| {
                problems.push(Problem::field(
                    "api.addr",
                    format!("'{text}' is not a host:port address: {e}"),
                ));
                defaults.addr
            }),
        };
        let mut ranged = |field: &str, value: Option<u64>, default: usize, range| match value {
            None => default,
            Some(v) => in_range(field, v, range).unwrap_or_else(|p| {
                problems.push(p);
                default as u64
            }) as usize,
        };
        let max_executions = ranged(
            "api.max_executions",
            self.max_executions,
            defaults.max_executions,
            &ranges::MAX_EXECUTIONS,
        );
        let threads = ranged(
            "api.threads",
            self.threads,
            defaults.threads,
            &ranges::THREADS,
        );
        for (field, value) in [("api.region", &self.region), ("api.account", &self.account)] {
            if let Some(v) = value
                && (v.is_empty() || v.contains(':'))
            {
                problems.push(Problem::field(
                    field,
                    format!("'{v}' cannot be part of an ARN"),
                ));
            }
        }
        let log_destination = match &self.log_destination {
            None => defaults.log_destination,
            Some(text) => LogDestination::parse(text).unwrap_or_else(|e| {
                problems.push(Problem::field("api.log_destination", e));
                LogDestination::Stdout
            }),
        };
        let auth = self.auth.auth().unwrap_or_else(|found| {
            problems.extend(found);
            Auth::None
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ApiSettings {
            addr,
            region: self.region.clone().unwrap_or(defaults.region),
            account: self.account.clone().unwrap_or(defaults.account),
            max_executions,
            data_dir: self.data_dir.clone(),
            threads,
            mock_config: self.mock_config.clone(),
            log_destination,
            auth,
        })
    }
}
