//! Subcommands, one file each. Every `run` returns the process exit code:
//! 0 success, 1 the thing ran and failed (a failed execution, failing cases),
//! 2 bad usage or input (reported by `main`).

mod conformance;
mod exec;
mod load;

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
    Exec(exec::ExecArgs),
    Conformance(conformance::ConformanceArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Exec(args) => exec::run(args),
        Command::Conformance(args) => conformance::run(args),
    }
}
