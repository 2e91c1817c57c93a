//! `spate serve`: the Step Functions-compatible API on its own (no Kafka),
//! until interrupted.

use crate::api;
use crate::config;
use crate::console::Console;
use clap::Args;
use spate_engine::registry::Registry;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Serve the Step Functions-compatible API (AWS JSON 1.0) for the AWS CLI
/// and SDKs.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long)]
    addr: Option<String>,
    /// Configuration file: its `[runtime]` and `[api]` sections are used.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where state machines and activities persist (default: in memory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A mock configuration in Step Functions Local's format; start an
    /// execution of `<state machine ARN>#<test case>` to use one of its cases.
    #[arg(long)]
    mock_config: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (runtime_settings, mut section, console_section) = match &args.config {
        Some(path) => config::load_serve(path)?,
        None => Default::default(),
    };
    let console_settings = console_section
        .settings()
        .map_err(|problems| anyhow::anyhow!("{}", problems[0]))?;
    if args.addr.is_some() {
        section.addr = args.addr;
    }
    if args.data_dir.is_some() {
        section.data_dir = args.data_dir;
    }
    if args.mock_config.is_some() {
        section.mock_config = args.mock_config;
    }
    let settings = section.settings().map_err(|problems| {
        anyhow::anyhow!(
            "{}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let mut resources = match &runtime_settings.task_config {
        Some(path) => crate::cli::load::resources(path)?,
        None => Default::default(),
    };
    let board = api::ActivityBoard::new(&settings.region, &settings.account);
    board.install(&mut resources);
    let runtime = runtime_settings.start(0, 100_000, resources.clone())?;
    let registry = std::sync::Arc::new(Registry::new(&settings.region, &settings.account));
    let backend = api::Backend {
        registry: std::sync::Arc::clone(&registry),
        runtime: runtime.handle(),
        activities: board,
        resources,
    };
    let api = api::build(&settings, backend)?;
    let console = console_settings.enabled.then(|| {
        Console::start(
            std::sync::Arc::clone(&api),
            &registry,
            runtime.handle(),
            &console_settings,
            (&settings.region, &settings.account),
            None,
        )
    });
    let routes = console.as_ref().map(Console::routes).unwrap_or_default();
    let server = api::listen(&settings, api, routes)?;
    // Written once, and a closed standard output does not stop the server
    // (a caller may read the address and close its end).
    let mut banner = format!("spate serve: listening on http://{}\n", server.addr());
    if console.is_some() {
        banner.push_str(&format!(
            "spate serve: console at http://{0}/console/ (GraphQL at http://{0}/graphql)\n",
            server.addr()
        ));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = std::io::Write::write_all(&mut stdout, banner.as_bytes());
    let _ = std::io::Write::flush(&mut stdout);
    drop(stdout);
    wait_for_interrupt()?;
    eprintln!("spate serve: stopping");
    server.shutdown(Duration::from_secs(5));
    runtime.shutdown(Duration::from_secs(1));
    Ok(ExitCode::SUCCESS)
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_interrupt() -> anyhow::Result<()> {
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    signals.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await
    })?;
    Ok(())
}
