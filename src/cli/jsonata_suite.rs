//! `spate jsonata-suite DIR`: runs the JSONata reference test suite against
//! Spate's evaluator and prints every failure and a summary line.

use spate_engine::jsonata::suite::{self, Outcome};
use std::path::PathBuf;
use std::process::ExitCode;

/// Cases skipped because they depend on JavaScript itself (with reasons).
const SKIPS: &str = include_str!("../../tests/jsonata-skips.txt");

/// Arguments of `spate jsonata-suite`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The suite folder, holding `groups/` and `datasets/`.
    dir: PathBuf,
}

/// Runs the suite: exit code 0 when no case failed, 1 otherwise.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let skips = suite::parse_list(SKIPS);
    let reports = suite::run(&args.dir, &skips).map_err(anyhow::Error::msg)?;
    for r in &reports {
        if let Outcome::Fail { expected, actual } = &r.outcome {
            println!(
                "FAIL {}\n  expr:     {}\n  expected: {expected}\n  actual:   {actual}",
                r.id,
                r.expr.trim()
            );
        }
    }
    println!("{}", suite::summary(&reports));
    let (_, failed, _) = suite::tally(&reports);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
