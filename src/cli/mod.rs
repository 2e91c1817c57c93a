//! Subcommands, one file each. Every `run` returns the process exit code:
//! 0 success, 1 the thing ran and failed (a failed execution, failing cases),
//! 2 bad usage or input (reported by `main`).

mod jsonata_suite;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Spate runs AWS Step Functions Express workflows (Amazon States Language)
/// at stream speed.
#[derive(Debug, Parser)]
#[command(name = "spate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the JSONata reference test suite against Spate's evaluator.
    JsonataSuite(jsonata_suite::Args),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::JsonataSuite(args) => jsonata_suite::run(args),
    }
}
