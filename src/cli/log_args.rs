//! The execution-log options `spate exec` and `spate bench` share.

use clap::Args;
use spate_engine::interp::LogLevel;
use spate_engine::registry::StateMachine;
use spate_ingest::exec_log::{ExecutionLogs, LogDestination, LogSettings};

/// Write each execution's log records, as AWS Step Functions Express
/// writes them to CloudWatch Logs.
#[derive(Debug, Args)]
pub(super) struct LogArgs {
    /// Log level: ALL, ERROR (failures and a failed end), FATAL (a failed,
    /// timed-out or aborted end) or OFF.
    #[arg(long, value_parser = parse_level, default_value = "OFF")]
    pub(super) log_level: LogLevel,
    /// Log records carry inputs and outputs.
    #[arg(long)]
    pub(super) include_execution_data: bool,
    /// Where log records go: stdout, stderr or file:PATH (file:/dev/null
    /// measures the cost without the disk).
    #[arg(long, value_parser = LogDestination::parse, default_value = "stderr")]
    pub(super) log_destination: LogDestination,
}

impl LogArgs {
    /// Execution logs for `machine` as these options ask (none at OFF).
    pub(super) fn attach(&self, machine: &StateMachine) -> anyhow::Result<ExecutionLogs> {
        let mut logs = ExecutionLogs::new();
        logs.attach(
            machine,
            &LogSettings {
                level: self.log_level,
                include_execution_data: self.include_execution_data,
                destination: self.log_destination.clone(),
            },
        )?;
        Ok(logs)
    }
}

/// Reads a log level as AWS spells it.
fn parse_level(text: &str) -> Result<LogLevel, String> {
    LogLevel::from_name(text)
        .ok_or_else(|| format!("\"{text}\" is not a log level: give ALL, ERROR, FATAL or OFF"))
}
