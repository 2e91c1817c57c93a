//! The `spate` command line: parses arguments, runs one subcommand, and maps
//! its outcome to an exit code. Errors become `anyhow` only here, at the edge.

mod admin;
mod api;
mod cli;
mod config;
mod console;

use std::process::ExitCode;

// mimalloc: the engine allocates many small, short-lived objects (payloads
// rebuilt at every state) from several threads; mimalloc's thread-local free
// lists are markedly faster than glibc malloc for that pattern.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = <cli::Cli as clap::Parser>::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
