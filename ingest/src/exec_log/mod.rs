//! Execution logs, as AWS Step Functions Express workflows have them: per
//! state machine a level (`ALL`, `ERROR`, `FATAL`, `OFF`) and
//! `include_execution_data`, and the history events the level keeps written
//! as AWS's CloudWatch Logs records ([`record`]), one JSON object a line,
//! to standard output, standard error or a file.
//!
//! The level is kept on the registry's state machine
//! ([`StateMachine::set_logging`]), so every way of starting an execution
//! (pipelines, `spate exec`, the API) logs alike; a machine at `OFF` gives
//! its executions no history at all. Events the level does not keep are not
//! even built. Each destination has a [`writer::Writer`] thread: shards hand
//! events over a bounded channel without waiting (a full channel drops and
//! counts), and the thread emits each record through `tracing` to a
//! subscriber of its own that writes it.

pub mod record;
pub mod writer;

use spate_engine::interp::{HistorySink, LogLevel};
use spate_engine::registry::{Logging, StateMachine};
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use writer::{Writer, WriterTotals};

/// Where execution log records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDestination {
    /// `stdout`.
    Stdout,
    /// `stderr`.
    Stderr,
    /// `file:PATH`: appended to, created if missing.
    File(PathBuf),
}

impl LogDestination {
    /// Reads `stdout`, `stderr` or `file:PATH`.
    pub fn parse(text: &str) -> Result<LogDestination, String> {
        match text {
            "stdout" => Ok(LogDestination::Stdout),
            "stderr" => Ok(LogDestination::Stderr),
            _ => match text.strip_prefix("file:") {
                Some(path) if !path.trim().is_empty() => Ok(LogDestination::File(path.into())),
                Some(_) => Err("\"file:\" names no file: give file:PATH".into()),
                None => Err(format!(
                    "\"{text}\" is not a destination: give \"stdout\", \"stderr\" or \"file:PATH\""
                )),
            },
        }
    }

    fn open(&self) -> io::Result<Box<dyn Write + Send>> {
        Ok(match self {
            LogDestination::Stdout => Box::new(io::stdout()),
            LogDestination::Stderr => Box::new(io::stderr()),
            LogDestination::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?,
            ),
        })
    }
}

impl fmt::Display for LogDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogDestination::Stdout => f.write_str("stdout"),
            LogDestination::Stderr => f.write_str("stderr"),
            LogDestination::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// How a state machine's executions log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Which events (default `OFF`).
    pub level: LogLevel,
    /// Whether records carry inputs and outputs (default `false`).
    pub include_execution_data: bool,
    /// Where records go (default standard output).
    pub destination: LogDestination,
}

impl Default for LogSettings {
    fn default() -> LogSettings {
        LogSettings {
            level: LogLevel::Off,
            include_execution_data: false,
            destination: LogDestination::Stdout,
        }
    }
}

/// The writers of a process, one per destination in use.
#[derive(Default)]
pub struct ExecutionLogs {
    writers: Vec<(LogDestination, Writer)>,
}

impl ExecutionLogs {
    /// No writer yet.
    pub fn new() -> ExecutionLogs {
        ExecutionLogs::default()
    }

    /// Makes `machine`'s next executions log as `settings` say, starting
    /// the destination's writer if it is the first to use it. At `OFF` no
    /// writer starts and the machine's executions carry no history.
    pub fn attach(&mut self, machine: &StateMachine, settings: &LogSettings) -> io::Result<()> {
        if settings.level == LogLevel::Off {
            machine.set_logging(None);
            return Ok(());
        }
        let sink = self.sink(&settings.destination)?;
        machine.set_logging(Some(Logging {
            level: settings.level,
            include_execution_data: settings.include_execution_data,
            sink,
        }));
        Ok(())
    }

    /// The sink writing records to `destination`.
    pub fn sink(&mut self, destination: &LogDestination) -> io::Result<Arc<dyn HistorySink>> {
        if let Some((_, writer)) = self.writers.iter().find(|(d, _)| d == destination) {
            return Ok(writer.sender());
        }
        let writer = Writer::start(&destination.to_string(), destination.open()?)?;
        let sink = writer.sender();
        self.writers.push((destination.clone(), writer));
        Ok(sink)
    }

    /// Writes what is queued, flushes and stops every writer; records
    /// written and dropped in all, and each destination's first write
    /// error.
    pub fn shutdown(self) -> (WriterTotals, Vec<String>) {
        let mut totals = WriterTotals::default();
        let mut errors = Vec::new();
        for (destination, writer) in self.writers {
            let (t, error) = writer.stop();
            totals.written += t.written;
            totals.dropped += t.dropped;
            if let Some(e) = error {
                errors.push(format!("execution log {destination}: {e}"));
            }
        }
        (totals, errors)
    }
}

#[cfg(test)]
mod tests;
