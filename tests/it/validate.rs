//! `spate validate` and the validator behind it: every definition AWS
//! accepted in the conformance corpus validates cleanly, and the command
//! prints one line per problem with the file and the JSON pointer.

use crate::common::{shared_dir, spate};
use std::path::{Path, PathBuf};
use std::process::Output;

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            out.push(path);
        }
    }
}

#[test]
fn every_definition_aws_accepted_validates() {
    let Some(dir) = shared_dir("conformance/cases") else {
        println!("skipped: ../shared/conformance not found");
        return;
    };
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    assert!(!files.is_empty(), "no cases under {}", dir.display());
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable case");
        let case: serde_json::Value = serde_json::from_str(&text).expect("case is JSON");
        let Some(definition) = case.get("definition") else {
            continue;
        };
        let definition = serde_json::to_string(definition).expect("definition serializes");
        if let Err(problems) = spate_engine::validate::load(&definition) {
            for problem in &problems.0 {
                failures.push(format!("{}: {problem}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in definitions AWS accepted:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{} definitions validated", files.len());
}

/// Runs `spate validate ARGS...` from the repository root.
fn spate_validate(args: &[&str]) -> Output {
    let mut all = vec!["validate"];
    all.extend_from_slice(args);
    spate(&all)
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

const VALID: &str = "tests/fixtures/valid/order_pipeline.json";
const BROKEN: &str = "tests/fixtures/invalid/many_problems.json";
const NOT_JSON: &str = "tests/fixtures/invalid/not_json.json";
const UNKNOWN_FIELDS: &str = "tests/fixtures/invalid/unknown_fields.json";
const JSONATA: &str = "tests/fixtures/invalid/jsonata_mixups.json";

#[test]
fn a_valid_file_is_ok() {
    let out = spate_validate(&[VALID]);
    assert_eq!(lines(&out.stdout), [format!("{VALID}: ok")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_problem_gets_a_line_with_its_pointer() {
    let out = spate_validate(&[BROKEN]);
    let expected = [
        "/Version: `Version` must be \"1.0\", found \"2.0\"",
        "/States/Fetch/TimeoutSeconds: `TimeoutSeconds` must be an integer from 1 to 99999999, found 0",
        "/States/Fetch/Retry/0/ErrorEquals/0: `States.ALL` must be in the last retrier",
        "/States/Fetch/Retry/1/BackoffRate: `BackoffRate` must be a number of at least 1.0, found 0.5",
        "/States/Route/Choices/1/Next: no state named `Shipp`",
        "/States/Route/Choices/0/NumericGreaterThan: `NumericGreaterThan` must be a number, found \"10\"",
        "/States/Route/Choices/2/And/0/Next: `Next` is only allowed on a top-level Choice rule, not inside `And`, `Or` or `Not`",
        "/States/Fan/Branches/0/States/Wrap/End: set either `Next` or `\"End\": true`, not both",
        "/States/Fan/Branches/0/States/Wrap/Parameters/id.$: expected a path (`$...`) or an intrinsic function call (`States.Name(...)`), found \"order.id\"",
        "/States/Fan/Branches/1/States/Pause/Seconds: `Seconds` must be an integer from 0 to 99999999, found -1",
        "/States/Fan/Branches/1/States/Forgotten: unreachable state: no transition from `StartAt` leads here",
        "/States/Each/ItemReader: `ItemReader` is not supported by Spate: it reads the items from Amazon S3, which the engine cannot reach (pass the items in the state input and use `ItemsPath` or `Items`)",
        "/States/Each/ItemProcessor/States/Bill/Catch/0/Next: state `Ship` belongs to another `States` object (transitions cannot cross into or out of a Parallel branch or Map item processor)",
        "/States/Each/ItemProcessor/States/Bill/ResultPath: invalid reference path '$.bills[*]': a reference path may only use names and single array indexes (no wildcards, slices, filters or functions)",
    ]
    .map(|line| format!("{BROKEN}: {line}"));
    assert_eq!(lines(&out.stdout), expected);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn jsonata_mixups_are_reported() {
    let out = spate_validate(&[JSONATA]);
    let expected = [
        "/States/Start/QueryLanguage: a state cannot use `JSONPath` when the state machine's `QueryLanguage` is `JSONata`",
        "/States/Call/Parameters: `Parameters` is a JSONPath field and cannot be used in a JSONata state (use `Arguments` instead)",
        "/States/Call/OutputPath: `OutputPath` is a JSONPath field and cannot be used in a JSONata state (use `Output` instead)",
        "/States/Call/TimeoutSeconds: `TimeoutSeconds` must be an integer from 1 to 99999999 or a JSONata expression `{% ... %}`, found \"ten\"",
        "/States/Call/Assign/1st: \"1st\" is not a valid variable name (a letter or `_`, then letters, digits or `_`)",
        "/States/Decide/Choices/0/Condition: `Condition` must be a JSONata expression `{% ... %}` or a boolean, found \"$.ok\"",
        "/States/Decide/Choices/1/Variable: `Variable` is a JSONPath field and cannot be used in a JSONata state (use `Condition` instead)",
        "/States/Decide/Choices/1/BooleanEquals: `BooleanEquals` is a JSONPath field and cannot be used in a JSONata state (use `Condition` instead)",
        "/States/Decide/Choices/1: missing required field `Condition`",
    ]
    .map(|line| format!("{JSONATA}: {line}"));
    assert_eq!(lines(&out.stdout), expected);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn structural_problems_are_reported_with_pointers() {
    let out = spate_validate(&[UNKNOWN_FIELDS, NOT_JSON]);
    let stdout = lines(&out.stdout);
    assert_eq!(
        stdout[..2],
        [
            format!("{UNKNOWN_FIELDS}: /States/Start/Nxt: unknown field `Nxt`"),
            format!(
                "{UNKNOWN_FIELDS}: /States/Start/Branches/0/States/Inner/Type: unknown state type `Sleep` (expected Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map)"
            ),
        ]
    );
    assert_eq!(stdout.len(), 3, "{stdout:?}");
    assert!(
        stdout[2].starts_with(&format!("{NOT_JSON}: /: invalid JSON at line 3")),
        "{}",
        stdout[2]
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn files_are_reported_in_order_and_the_worst_outcome_wins() {
    let missing = "tests/fixtures/invalid/does_not_exist.json";
    let out = spate_validate(&[VALID, missing, BROKEN]);
    let stdout = lines(&out.stdout);
    assert_eq!(stdout[0], format!("{VALID}: ok"));
    assert!(stdout[1].starts_with(&format!("{BROKEN}: /Version: ")));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{missing}: cannot read: ")),
        "stderr: {stderr}"
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn at_least_one_file_is_required() {
    let out = spate_validate(&[]);
    assert_eq!(out.status.code(), Some(2));
}
