//! `spate validate FILE...`: checks definitions against AWS's rules without
//! running them. Prints `FILE: ok`, or one `FILE: /pointer: message` line per
//! problem; exit code 0 when every file is valid, 1 when any has problems,
//! 2 when a file cannot be read.

use super::load::{self, FileKind};
use spate_engine::validate;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `spate validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// State machine definitions (Amazon States Language JSON).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Validates every file, in order, and reports on each.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    let mut code = 0u8;
    for file in &args.files {
        let shown = file.display();
        let text = match load::read_text(file, FileKind::Definition) {
            Ok(text) => text,
            Err(err) => {
                stdout.flush()?;
                eprintln!("error: {shown}: {err}");
                code = 2;
                continue;
            }
        };
        match validate::load(&text) {
            Ok(_) => writeln!(stdout, "{shown}: ok")?,
            Err(problems) => {
                for problem in &problems.0 {
                    writeln!(stdout, "{shown}: {problem}")?;
                }
                code = code.max(1);
            }
        }
    }
    stdout.flush()?;
    Ok(ExitCode::from(code))
}
