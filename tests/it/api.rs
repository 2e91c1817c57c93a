//! The Step Functions-compatible API driven by clients nobody here wrote:
//! boto3 and the AWS CLI from PyPI, in the virtual environment
//! `scripts/aws-clients.sh` makes (`target/aws-clients`, or
//! `SPATE_AWS_CLIENTS`). Each test starts its own `spate serve` on a free
//! loopback port and runs one Python script of `tests/api` against it.
//! Without the environment the tests say so and pass, unless
//! `SPATE_API_CLIENTS_REQUIRED=1` (set by `scripts/test.sh`, which makes
//! the environment) makes them fail.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The virtual environment's folder, or `None` (after saying why).
fn clients() -> Option<PathBuf> {
    let dir = std::env::var_os("SPATE_AWS_CLIENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/aws-clients"));
    if dir.join("bin/python").exists() && dir.join("bin/aws").exists() {
        return Some(dir);
    }
    if std::env::var_os("SPATE_API_CLIENTS_REQUIRED").is_some_and(|v| v == "1") {
        panic!(
            "SPATE_API_CLIENTS_REQUIRED=1 but there is no boto3/AWS CLI environment at {}",
            dir.display()
        );
    }
    eprintln!(
        "skipping: no boto3/AWS CLI environment at {} (make it with scripts/aws-clients.sh)",
        dir.display()
    );
    None
}

/// A `spate serve` process, killed when dropped.
struct Server {
    child: Child,
    endpoint: String,
}

impl Server {
    /// Starts `spate serve` on a free port with `args` besides.
    fn start(args: &[&std::ffi::OsStr]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_spate"));
        command.args(["serve", "--addr", "127.0.0.1:0"]).args(args);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spate serve starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        stdout
            .read_line(&mut line)
            .expect("spate serve prints its address");
        // The rest (execution logs go to standard output by default) is
        // read and dropped, so the server never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let endpoint = line
            .trim()
            .strip_prefix("spate serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Server { child, endpoint }
    }

    /// Kills the process as `kill -9` would.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tests/api/<script>` with `args` against `server`; panics with its
/// output unless it succeeds.
fn run_script(clients: &Path, server: &Server, script: &str, args: &[&str]) {
    run_python(clients, &server.endpoint, script, args);
}

/// Runs `tests/api/<script>` with `args`, `SPATE_ENDPOINT` set to `endpoint`.
fn run_python(clients: &Path, endpoint: &str, script: &str, args: &[&str]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api");
    let out = Command::new(clients.join("bin/python"))
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .env("SPATE_ENDPOINT", endpoint)
        .output()
        .expect("python runs");
    let shown = format!(
        "{script} {args:?}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{shown}");
}

fn script_test(script: &str) {
    let Some(clients) = clients() else { return };
    let server = Server::start(&[]);
    run_script(&clients, &server, script, &[]);
}

#[test]
fn state_machines_versions_tags_and_validation() {
    script_test("test_state_machines.py");
}

#[test]
fn executions_history_stop_and_callbacks() {
    script_test("test_executions.py");
}

#[test]
fn malformed_requests_get_aws_errors_and_change_nothing() {
    script_test("test_malformed.py");
}

#[test]
fn the_aws_cli_creates_runs_validates_and_lists() {
    script_test("test_cli.py");
}

#[test]
fn state_machines_survive_kill_9() {
    let Some(clients) = clients() else { return };
    let dir = std::env::temp_dir().join(format!("spate-api-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = ["--data-dir".as_ref(), dir.as_os_str()];
    let server = Server::start(&args);
    run_script(&clients, &server, "restart.py", &["before"]);
    server.kill();
    let server = Server::start(&args);
    run_script(&clients, &server, "restart.py", &["after"]);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_public_address_without_auth_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(["serve", "--addr", "0.0.0.0:0"])
        .output()
        .expect("spate runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0"), "{stderr}");
}

#[test]
fn activity_workers_heartbeats_and_timeouts() {
    script_test("test_activities.py");
}

#[test]
fn mock_configurations_of_step_functions_local_run_unchanged() {
    let Some(clients) = clients() else { return };
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/mock-config.json");
    let server = Server::start(&["--mock-config".as_ref(), config.as_os_str()]);
    run_script(&clients, &server, "test_mocks.py", &[]);
}

/// Writes a `spate serve` configuration with `api_auth` as its
/// `[api.auth]` section; returns its path.
fn auth_config(name: &str, api_auth: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("spate-api-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, format!("[api.auth]\n{api_auth}\n"))
        .expect("the temp folder is writable");
    path
}

#[test]
fn sigv4_checks_signatures_against_configured_keys() {
    let Some(clients) = clients() else { return };
    let config = auth_config(
        "sigv4",
        "mode = \"sigv4\"\naccess_keys = [{ access_key_id = \"AKIDSPATETEST\", secret_access_key = \"spate-test-secret\" }]",
    );
    let server = Server::start(&["--config".as_ref(), config.as_os_str()]);
    run_script(&clients, &server, "test_auth.py", &["sigv4"]);
    let _ = std::fs::remove_file(config);
}

#[test]
fn api_keys_are_checked_and_expire() {
    let Some(clients) = clients() else { return };
    let config = auth_config(
        "api-key",
        "mode = \"api_key\"\napi_keys = [{ key = \"spate-valid-key-0001\" }, { key = \"spate-expired-key-01\", expires = \"2020-01-01T00:00:00Z\" }]",
    );
    let server = Server::start(&["--config".as_ref(), config.as_os_str()]);
    run_script(&clients, &server, "test_auth.py", &["api_key"]);
    let _ = std::fs::remove_file(config);
}

#[test]
fn test_state_runs_one_state_with_inspection_data() {
    script_test("test_test_state.py");
}

/// A fresh folder `spate-api-<name>-<pid>` where `test_jwt.py keygen`
/// wrote an issuer's key pair and JWKS.
fn jwt_keys(clients: &Path, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spate-api-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp folder is writable");
    let folder = dir.to_str().expect("a UTF-8 temp path");
    run_python(clients, "http://unused", "test_jwt.py", &["keygen", folder]);
    dir
}

#[test]
fn jwt_bearer_tokens_are_verified_against_the_jwks() {
    let Some(clients) = clients() else { return };
    let dir = jwt_keys(&clients, "jwt");
    let folder = dir.to_str().expect("a UTF-8 temp path");
    let config = auth_config(
        "jwt",
        &format!(
            "mode = \"jwt\"\njwks_file = \"{}\"\nissuer = \"https://issuer.test\"\naudience = \"spate\"",
            dir.join("jwks.json").display()
        ),
    );
    let server = Server::start(&["--config".as_ref(), config.as_os_str()]);
    run_script(&clients, &server, "test_jwt.py", &["check", folder]);
    drop(server);
    let _ = std::fs::remove_file(config);
    let _ = std::fs::remove_dir_all(dir);
}

/// Serves whatever `body` holds to every request on a free loopback port,
/// on a thread of its own, for as long as the test runs.
fn serve_jwks(body: std::sync::Arc<std::sync::Mutex<String>>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let text = body.lock().unwrap().clone();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    url
}

#[test]
fn jwt_keys_are_fetched_from_a_jwks_url_and_refreshed() {
    let Some(clients) = clients() else { return };
    let dir = jwt_keys(&clients, "jwks-url");
    let folder = dir.to_str().expect("a UTF-8 temp path");
    let full = std::fs::read_to_string(dir.join("jwks.json")).expect("keygen wrote the JWKS");
    // At start the issuer publishes only its HS256 key; the RSA key the
    // checks sign with appears later, as in a key rotation.
    let mut first: serde_json::Value = serde_json::from_str(&full).unwrap();
    first["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|k| k["kty"] != "RSA");
    let served = std::sync::Arc::new(std::sync::Mutex::new(first.to_string()));
    let url = serve_jwks(std::sync::Arc::clone(&served));
    let config = auth_config(
        "jwks-url",
        &format!(
            "mode = \"jwt\"\njwks_url = \"{url}\"\njwks_refresh_seconds = 1\nissuer = \"https://issuer.test\"\naudience = \"spate\""
        ),
    );
    let server = Server::start(&["--config".as_ref(), config.as_os_str()]);
    *served.lock().unwrap() = full;
    std::thread::sleep(std::time::Duration::from_millis(2500));
    run_script(&clients, &server, "test_jwt.py", &["check", folder]);
    drop(server);

    // An issuer that cannot be reached stops the start, naming the JWKS.
    let unreachable = auth_config(
        "jwks-down",
        "mode = \"jwt\"\njwks_url = \"http://127.0.0.1:9/jwks.json\"\nissuer = \"https://issuer.test\"\naudience = \"spate\"",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&unreachable)
        .output()
        .expect("spate serve runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot fetch the JWKS") && stderr.contains("127.0.0.1:9"),
        "{stderr}"
    );
    for path in [config, unreachable] {
        let _ = std::fs::remove_file(path);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn logging_configuration_writes_execution_logs() {
    let Some(clients) = clients() else { return };
    let log = std::env::temp_dir().join(format!("spate-api-exec-log-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let config =
        std::env::temp_dir().join(format!("spate-api-logging-{}.toml", std::process::id()));
    std::fs::write(
        &config,
        format!("[api]\nlog_destination = \"file:{}\"\n", log.display()),
    )
    .expect("the temp folder is writable");
    let server = Server::start(&["--config".as_ref(), config.as_os_str()]);
    let path = log.to_str().expect("a UTF-8 temp path");
    run_script(&clients, &server, "test_logging.py", &[path]);
    drop(server);
    let _ = std::fs::remove_file(config);
    let _ = std::fs::remove_file(log);
}
