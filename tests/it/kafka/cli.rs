//! `spate run` and `spate demo` without a broker: configuration errors and
//! the embedded demo.

use crate::common::spate;

#[test]
fn a_wrong_key_is_refused_with_file_line_and_field() {
    let out = spate(&["run", "--config", "ingest/tests/fixtures/wrong-key.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ingest/tests/fixtures/wrong-key.toml:2:1: kafka.bootstrap_server: unknown field `bootstrap_server`"),
        "{stderr}"
    );
}

#[test]
fn the_shipped_configuration_checks() {
    let out = spate(&["run", "--config", "config/spate.toml", "--check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 pipeline(s), every definition valid"));
}

#[test]
fn the_demo_runs_with_nothing_installed() {
    let out = spate(&[
        "demo",
        "--duration",
        "2",
        "--rate",
        "300",
        "--poison-every",
        "100",
        "--admin-addr",
        "off",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("600 events in"), "{stdout}");
    assert!(stdout.contains("594 outputs, 6 dead letters"), "{stdout}");
    assert!(stdout.contains("0 duplicates"), "{stdout}");
}

/// With its admin server and console on (the default), the demo stops
/// without a warning: nothing that holds the runtime, and so the
/// `kafka:produce` task's producer, outlives the embedded cluster (the
/// console's metrics thread did, and the producer logged `AllBrokersDown`).
#[test]
fn the_demo_with_its_console_stops_without_a_warning() {
    let out = spate(&[
        "demo",
        "--duration",
        "2",
        "--rate",
        "300",
        "--admin-addr",
        "127.0.0.1:0",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("WARN") && !stderr.contains("ERROR"),
        "{stderr}"
    );
}
