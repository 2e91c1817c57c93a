//! The web console's page: the unit tests of its graph layout and page
//! helpers (Node's test runner, `tests/console/*.test.mjs`), and the page
//! in headless Chromium driven by Playwright (`tests/console/run.mjs`)
//! against a running `spate demo`, end to end: see the IoT workflow's
//! graph, start an execution from the page and see its path, open a failed
//! execution and see its error on the state that failed, TestState on a
//! clicked state, the live view ticking, the search of failed executions.
//! The same scenarios run again with canned GraphQL answers
//! (`tests/console/fake-graphql.mjs`; the page and its files still from the
//! demo), which add the 40-state graph with a diagnostic, stopping a
//! running execution, and the login with an API key or an OIDC token.
//! Screenshots are kept under `target/console-screenshots/`.
//!
//! Needs Node.js, Debian's `chromium` and playwright-core, which
//! `scripts/browser.sh` installs (its folder in `SPATE_BROWSER`). Without
//! them these tests say so and pass, unless `SPATE_BROWSER_REQUIRED=1`
//! (scripts/test.sh sets it) makes them fail.

use crate::admin::start;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Says why a tool is missing and returns None, or panics when required.
fn missing(why: &str) -> Option<PathBuf> {
    if std::env::var_os("SPATE_BROWSER_REQUIRED").is_some_and(|v| v == "1") {
        panic!("SPATE_BROWSER_REQUIRED=1 but {why}");
    }
    eprintln!(
        "skipping: {why} (run `scripts/browser.sh` and set SPATE_BROWSER to the folder it prints, or run scripts/test.sh)"
    );
    None
}

/// Whether `node` runs.
fn node_present() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        || missing("node is not on PATH").is_some()
}

/// The node_modules folder holding playwright-core, with Chromium present.
fn browser() -> Option<PathBuf> {
    if !node_present() {
        return None;
    }
    let Some(dir) = std::env::var_os("SPATE_BROWSER") else {
        return missing("SPATE_BROWSER is not set");
    };
    let modules = PathBuf::from(dir).join("node_modules");
    if !modules.join("playwright-core").is_dir() {
        return missing(&format!("{} holds no playwright-core", modules.display()));
    }
    let chromium = std::env::var("SPATE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return missing(&format!("{chromium} is missing"));
    }
    Some(modules)
}

fn assert_success(what: &str, out: &Output) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "{what} failed:\n{text}");
}

#[test]
fn the_layout_and_page_helpers_pass_their_unit_tests() {
    if !node_present() {
        return;
    }
    let out = Command::new("node")
        .args(["--test", "tests/console/"])
        .current_dir(repo())
        .output()
        .expect("node runs");
    assert_success("node --test tests/console/", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("# fail 0"));
}

/// Runs the browser scenarios against `addr`; `extra` are run.mjs flags.
fn scenarios(modules: &Path, addr: &str, shots: &str, extra: &[&str]) -> Output {
    let shots = repo().join("target/console-screenshots").join(shots);
    Command::new("node")
        .arg("tests/console/run.mjs")
        .args(["--base", &format!("http://{addr}")])
        .arg("--shots")
        .arg(&shots)
        .args(extra)
        .env("NODE_PATH", modules)
        .current_dir(repo())
        .output()
        .expect("node runs")
}

#[test]
fn the_console_page_works_in_chromium_with_canned_graphql() {
    let Some(modules) = browser() else {
        return;
    };
    let demo = start(&[
        "demo",
        "--duration",
        "300",
        "--rate",
        "20",
        "--admin-addr",
        "127.0.0.1:0",
    ]);
    let out = scenarios(&modules, &demo.addr, "canned", &["--fake"]);
    assert_success("the console scenarios with canned GraphQL", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("8 passed, 0 failed"), "{stdout}");
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
}

#[test]
fn the_console_works_end_to_end_against_the_demo() {
    let Some(modules) = browser() else {
        return;
    };
    let demo = start(&[
        "demo",
        "--duration",
        "300",
        "--rate",
        "20",
        "--admin-addr",
        "127.0.0.1:0",
    ]);
    let out = scenarios(&modules, &demo.addr, "demo", &[]);
    assert_success("the console scenarios against spate demo", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("6 passed, 0 failed"), "{stdout}");
}
