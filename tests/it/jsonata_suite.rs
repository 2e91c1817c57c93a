//! Runs the JSONata reference suite (from `../shared/conformance/jsonata`)
//! and compares the failures with `tests/jsonata-known-failures.txt`: an
//! unlisted failure fails the test, and so does a listed case that passes
//! (the list may only shrink).

use crate::common::shared_dir;
use spate_engine::jsonata::suite::{self, Outcome};
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn jsonata_reference_suite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(dir) = shared_dir("conformance/jsonata") else {
        println!("skipped: ../shared/conformance not found");
        return;
    };
    let skips =
        suite::parse_list(&std::fs::read_to_string(root.join("tests/jsonata-skips.txt")).unwrap());
    let known = suite::parse_list(
        &std::fs::read_to_string(root.join("tests/jsonata-known-failures.txt")).unwrap(),
    );
    let reports = suite::run(&dir, &skips).expect("suite readable");
    let failed: BTreeSet<&str> = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail { .. }))
        .map(|r| r.id.as_str())
        .collect();
    let mut problems = Vec::new();
    for r in &reports {
        if let Outcome::Fail { expected, actual } = &r.outcome
            && !known.contains_key(&r.id)
        {
            problems.push(format!(
                "new failure {}\n  expr:     {}\n  expected: {expected}\n  actual:   {actual}",
                r.id,
                r.expr.trim()
            ));
        }
    }
    for id in known.keys() {
        if !failed.contains(id.as_str()) {
            problems.push(format!(
                "{id} passes now: remove it from tests/jsonata-known-failures.txt"
            ));
        }
    }
    for id in skips.keys() {
        if !reports.iter().any(|r| &r.id == id) {
            problems.push(format!(
                "{id} in tests/jsonata-skips.txt is not a case of the suite"
            ));
        }
    }
    println!("{}", suite::summary(&reports));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
