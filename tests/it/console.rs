//! The web console's GraphQL API driven by a client nobody here wrote:
//! `gql` from PyPI (HTTP through requests, subscriptions through websockets
//! with the `graphql-transport-ws` protocol), in the virtual environment
//! `scripts/graphql-clients.sh` makes (`target/graphql-clients`, or
//! `SPATE_GRAPHQL_CLIENTS`). Each test starts its own `spate serve` or
//! `spate demo` and runs `tests/console/test_graphql.py` against it.
//! Without the environment the tests say so and pass, unless
//! `SPATE_GRAPHQL_CLIENTS_REQUIRED=1` (set by `scripts/test.sh`) makes them
//! fail.

use crate::common::start_spate;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// The virtual environment's folder, or `None` (after saying why).
fn clients() -> Option<PathBuf> {
    let dir = std::env::var_os("SPATE_GRAPHQL_CLIENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/graphql-clients"));
    if dir.join("bin/python").exists() {
        return Some(dir);
    }
    if std::env::var_os("SPATE_GRAPHQL_CLIENTS_REQUIRED").is_some_and(|v| v == "1") {
        panic!(
            "SPATE_GRAPHQL_CLIENTS_REQUIRED=1 but there is no gql environment at {}",
            dir.display()
        );
    }
    eprintln!(
        "skipping: no gql environment at {} (make it with scripts/graphql-clients.sh)",
        dir.display()
    );
    None
}

/// A `spate` process, killed when dropped, with the URL it printed.
struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `spate args` and waits for a line of its output holding
/// `marker` followed by a URL.
fn start(args: &[&std::ffi::OsStr], marker: &'static str) -> Running {
    let (child, url) = start_spate(args, marker);
    Running { child, url }
}

/// Runs the script in `mode` against `url`; panics with its output unless
/// it succeeds.
fn run_script(clients: &Path, mode: &str, url: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console/test_graphql.py");
    let output = Command::new(clients.join("bin/python"))
        .arg(&script)
        .args([mode, url.trim_end_matches('/')])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "test_graphql.py {mode} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(Into::into).collect()
}

#[test]
fn graphql_queries_mutations_and_subscriptions_on_serve() {
    let Some(clients) = clients() else { return };
    let args = os(&["serve", "--addr", "127.0.0.1:0"]);
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let server = start(&refs, "listening on");
    run_script(&clients, "serve", &server.url);
}

#[test]
fn graphql_refuses_missing_credentials_and_low_scopes() {
    let Some(clients) = clients() else { return };
    let dir = std::env::temp_dir().join(format!("spate-console-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        "[api]\n[api.auth]\nmode = \"api_key\"\n\
         [[api.auth.api_keys]]\nkey = \"read-key-0123456789\"\nscopes = [\"read\"]\n\
         [[api.auth.api_keys]]\nkey = \"start-key-0123456789\"\nscopes = [\"start\"]\n\
         [[api.auth.api_keys]]\nkey = \"admin-key-0123456789\"\n",
    )
    .expect("config written");
    let mut args = os(&["serve", "--addr", "127.0.0.1:0", "--config"]);
    args.push(config.into_os_string());
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let server = start(&refs, "listening on");
    run_script(&clients, "auth", &server.url);
}

#[test]
fn graphql_on_the_demo_lists_pipeline_executions_and_starts_without_api() {
    let Some(clients) = clients() else { return };
    let args = os(&[
        "demo",
        "--duration",
        "60",
        "--rate",
        "200",
        "--admin-addr",
        "127.0.0.1:0",
    ]);
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let demo = start(&refs, "web console at");
    let url = demo
        .url
        .strip_suffix("/console/")
        .expect("the console's page URL")
        .to_string();
    run_script(&clients, "demo", &url);
}
