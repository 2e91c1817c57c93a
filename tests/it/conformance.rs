//! The ASL conformance corpus (`../shared/conformance/cases`, results
//! recorded from real AWS) through `spate conformance --json`. A case may only
//! fail if `tests/conformance-known-failures.txt` lists it with a reason, and
//! a listed case that passes fails the test, so the list only shrinks. Every
//! run is made on one shard and on two: the runtime that hosts production
//! executions is the one the corpus checks.

use crate::common::{check_against_known, shared_dir, spate};

const SHARDS: [&str; 2] = ["1", "2"];

#[test]
fn conformance_corpus_matches_aws() {
    let Some(dir) = shared_dir("conformance/cases") else {
        println!("skipped: ../shared/conformance not found");
        return;
    };
    let dir = dir.to_string_lossy().into_owned();
    for shards in SHARDS {
        corpus_matches_aws(&dir, shards);
    }
}

fn corpus_matches_aws(dir: &str, shards: &str) {
    let output = spate(&["conformance", dir, "--json", "--shards", shards]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "spate conformance --json printed no report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let cases = report["cases"].as_array().expect("cases array");
    assert!(
        cases.len() >= 900,
        "expected the whole corpus, found {} cases",
        cases.len()
    );
    let failing: Vec<String> = cases
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().expect("case name").to_string())
        .collect();
    if let Err(message) = check_against_known("tests/conformance-known-failures.txt", &failing) {
        panic!("on {shards} shard(s): {message}");
    }
}

#[test]
fn own_cases_pass() {
    for shards in SHARDS {
        own_cases_pass_on(shards);
    }
}

fn own_cases_pass_on(shards: &str) {
    let output = spate(&["conformance", "tests/cases", "--shards", shards]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "on {shards} shard(s): {stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    let passed: usize = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected summary line: {last}"));
    assert!(
        passed >= 40,
        "expected every case under tests/cases to run, got: {last}"
    );
}
