//! Subcommands, one file each. Every `run` returns the process exit code:
//! 0 success, 1 the thing ran and failed (a failed execution, failing cases,
//! an invalid definition), 2 bad usage or unreadable input (reported by `main`).

mod bench;
mod conformance;
mod demo;
mod exec;
mod jsonata_suite;
pub(crate) mod load;
mod loadgen;
mod log_args;
mod run;
mod serve;
mod validate;

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
    /// Run one execution of a state machine and print its output.
    Exec(exec::ExecArgs),
    /// Check state machine definitions against AWS's rules, listing every
    /// problem with the JSON pointer of the field at fault.
    Validate(validate::Args),
    /// Run ASL conformance cases (definition, input, recorded AWS result).
    Conformance(conformance::ConformanceArgs),
    /// Run the JSONata reference test suite against Spate's evaluator.
    JsonataSuite(jsonata_suite::Args),
    /// Run many executions in-process and report throughput and latency.
    Bench(bench::BenchArgs),
    /// Consume Kafka topics, run one execution per event, publish results.
    Run(run::RunArgs),
    /// Run synthetic IoT events through the example workflow on an
    /// embedded Kafka cluster, with live throughput and latency.
    Demo(demo::DemoArgs),
    /// Measure end-to-end throughput and latency through Kafka.
    Loadgen(loadgen::LoadgenArgs),
    /// Serve the Step Functions-compatible API (AWS JSON 1.0) for the AWS
    /// CLI and SDKs.
    Serve(serve::ServeArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Exec(args) => exec::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::JsonataSuite(args) => jsonata_suite::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Run(args) => run::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Loadgen(args) => loadgen::run(args),
        Command::Serve(args) => serve::run(args),
    }
}
