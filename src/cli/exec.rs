//! `spate exec`: runs one execution and prints its output.

use super::load;
use super::log_args::LogArgs;
use clap::Args;
use spate_engine::interp::{History, HistoryEvent, HistorySink};
use spate_engine::registry::Registry;
use spate_engine::runtime::{Completion, CompletionSink, Runtime, RuntimeConfig};
use spate_engine::task::Resources;
use spate_engine::time::Timestamp;
use spate_engine::value::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Run one execution of a state machine and print its output (or its error
/// and cause, with exit code 1).
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The state machine definition (Amazon States Language JSON).
    definition: PathBuf,
    /// The execution input: a JSON file, or `-` for standard input (default `{}`).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Task handlers: a JSON file with `mocks` (behaviours by `Resource`:
    /// `{"kind": "echo"}`, `{"kind": "return", "value": ...}`, `fail`,
    /// `fail_then`, `sleep`), `http` settings and `lambda` endpoints (functions
    /// served by the Lambda Runtime Interface Emulator). A plain object of mock
    /// behaviours by resource also works.
    #[arg(long)]
    resources: Option<PathBuf>,
    /// Print every state entered and exited, with its input and output, to
    /// standard error as the execution runs.
    #[arg(long, conflicts_with = "log_level")]
    trace: bool,
    #[command(flatten)]
    logs: LogArgs,
}

/// Prints history events to standard error as the runtime records them.
struct TracePrinter {
    started: Mutex<Option<Timestamp>>,
}

impl HistorySink for TracePrinter {
    fn record(&self, event: HistoryEvent) {
        let started = *self
            .started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(event.timestamp);
        let elapsed = event.timestamp.since(started);
        let mut line = format!(
            "[{:>3}] +{:>9.3}ms {}",
            event.id,
            elapsed.as_secs_f64() * 1000.0,
            event.event_type
        );
        if let Some(state) = &event.state {
            line.push_str(&format!(" '{state}'"));
        }
        if let Some(index) = event.map_index {
            line.push_str(&format!(" (item {index})"));
        }
        if let Some(payload) = &event.payload {
            line.push_str(&format!(" {}", payload.to_json()));
        }
        if let Some(error) = &event.error {
            line.push_str(&format!(" error: {error}"));
        }
        eprintln!("{line}");
    }
}

/// Runs the subcommand.
pub fn run(args: ExecArgs) -> anyhow::Result<ExitCode> {
    let registry = Registry::default();
    let machine = load::state_machine(&registry, &args.definition)?;
    let input = match &args.input {
        Some(path) => load::json_input(path)?,
        None => Value::empty_object(),
    };
    let resources = match &args.resources {
        Some(path) => load::resources(path)?,
        None => Resources::new(),
    };
    let runtime = Runtime::start(RuntimeConfig {
        shards: 1,
        resources,
        ..RuntimeConfig::default()
    })?;
    let logs = args.logs.attach(&machine)?;
    let sink: Arc<dyn CompletionSink> = Arc::new(|_: Completion| {});
    let mut submission = machine.submission("exec", input, sink);
    if args.trace {
        submission.history = Some(History::to(Arc::new(TracePrinter {
            started: Mutex::new(None),
        })));
    }
    let completion = runtime
        .handle()
        .run_to_end(submission)
        .map_err(|e| anyhow::anyhow!("the runtime refused the execution: {e:?}"))?;
    runtime.shutdown(Duration::ZERO);
    let (_, errors) = logs.shutdown();
    if let Some(e) = errors.first() {
        anyhow::bail!("{e}");
    }
    match completion.result {
        Ok(output) => {
            println!("{}", output.to_json_pretty());
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("execution {}", completion.status.aws_name());
            eprintln!("error: {}", error.error().unwrap_or("(none)"));
            if let Some(cause) = error.cause() {
                eprintln!("cause: {cause}");
            }
            Ok(ExitCode::from(1))
        }
    }
}
