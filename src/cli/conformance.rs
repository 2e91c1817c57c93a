//! `spate conformance`: runs ASL conformance cases (definition, input and the
//! result recorded from real AWS) on a virtual clock and compares.
//!
//! Case format: `../shared/conformance/README.md`, plus `"status":
//! "TIMED_OUT"` for an execution that runs past its deadline (AWS reports
//! those apart from failures). Outputs compare as JSON (key order ignored,
//! numbers by value); errors exactly; causes exactly when the case records one.

use super::load;
use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use spate_engine::interp::{RunOptions, Status, run_execution};
use spate_engine::plan::{CompileOptions, from_definition};
use spate_engine::value::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Run every conformance case found (recursively) in the given folders or
/// files, print each failure, and end with `N passed, M failed`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Case files or folders holding them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print a machine-readable JSON report instead.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    definition: serde_json::Value,
    input: Value,
    expect: Expect,
    #[serde(default)]
    resources: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Expect {
    status: String,
    #[serde(default)]
    output: Option<Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    cause: Option<String>,
}

/// What one case gave.
#[derive(Debug, serde::Serialize)]
struct Report {
    name: String,
    file: String,
    passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual: Option<serde_json::Value>,
}

/// Runs the subcommand.
pub fn run(args: ConformanceArgs) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for path in &args.paths {
        collect_cases(path, &mut files)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    files.sort();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let mut reports = Vec::with_capacity(files.len());
    for file in &files {
        reports.push(runtime.block_on(run_case(file)));
    }
    let passed = reports.iter().filter(|r| r.passed).count();
    let failed = reports.len() - passed;
    if args.json {
        let report = serde_json::json!({"passed": passed, "failed": failed, "cases": reports});
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for r in reports.iter().filter(|r| !r.passed) {
            println!("FAIL {} ({})", r.name, r.file);
            println!(
                "  expected: {}",
                r.expected
                    .as_ref()
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            );
            println!(
                "  actual:   {}",
                r.actual.as_ref().map(|v| v.to_string()).unwrap_or_default()
            );
        }
        println!("{passed} passed, {failed} failed");
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn collect_cases(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        let entry = entry?.path();
        if entry.is_dir() {
            collect_cases(&entry, out)?;
        } else if entry.extension().is_some_and(|e| e == "json") {
            out.push(entry);
        }
    }
    Ok(())
}

async fn run_case(file: &Path) -> Report {
    let mut report = Report {
        name: file.display().to_string(),
        file: file.display().to_string(),
        passed: false,
        expected: None,
        actual: None,
    };
    let case: Case = match std::fs::read_to_string(file)
        .map_err(anyhow::Error::from)
        .and_then(|text| serde_json::from_str(&text).map_err(anyhow::Error::from))
    {
        Ok(case) => case,
        Err(e) => {
            report.actual =
                Some(serde_json::json!({"harness_error": format!("not a conformance case: {e}")}));
            return report;
        }
    };
    report.name = case.name.clone();
    report.expected = Some(expected_json(&case.expect));
    let actual = execute(&case).await;
    report.passed = matches(&case.expect, &actual);
    report.actual = Some(actual.to_json());
    report
}

/// What an execution gave, in the comparable shape.
enum Actual {
    Succeeded(Value),
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
    TimedOut,
    Rejected(String),
}

impl Actual {
    fn to_json(&self) -> serde_json::Value {
        match self {
            Actual::Succeeded(output) => {
                serde_json::json!({"status": "SUCCEEDED", "output": serde_json::Value::from(output)})
            }
            Actual::Failed { error, cause } => {
                serde_json::json!({"status": "FAILED", "error": error, "cause": cause})
            }
            Actual::TimedOut => serde_json::json!({"status": "TIMED_OUT"}),
            Actual::Rejected(why) => serde_json::json!({"status": "REJECTED", "reason": why}),
        }
    }
}

fn expected_json(expect: &Expect) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert("status".into(), expect.status.clone().into());
    if let Some(output) = &expect.output {
        map.insert("output".into(), output.into());
    }
    if expect.status != "SUCCEEDED" {
        map.insert("error".into(), expect.error.clone().into());
    }
    if let Some(cause) = &expect.cause {
        map.insert("cause".into(), cause.clone().into());
    }
    serde_json::Value::Object(map)
}

async fn execute(case: &Case) -> Actual {
    let plan = match from_definition(&case.definition.to_string(), &CompileOptions::default()) {
        Ok(p) => Arc::new(p),
        Err(d) => return Actual::Rejected(d.to_string()),
    };
    let resources = match load::mock_resources(case.resources.iter()) {
        Ok(r) => r,
        Err(e) => return Actual::Rejected(format!("{e:#}")),
    };
    let options = RunOptions::virtual_time(resources);
    let outcome = run_execution(plan, "conformance", case.input.clone(), &options, None).await;
    match (outcome.status, outcome.result) {
        (Status::Succeeded, Ok(output)) => Actual::Succeeded(output),
        (Status::TimedOut, _) => Actual::TimedOut,
        (_, Err(e)) => Actual::Failed {
            error: e.error().map(str::to_string),
            cause: e.cause().map(str::to_string),
        },
        (_, Ok(output)) => Actual::Succeeded(output),
    }
}

fn matches(expect: &Expect, actual: &Actual) -> bool {
    match (expect.status.as_str(), actual) {
        ("SUCCEEDED", Actual::Succeeded(output)) => {
            expect.output.as_ref().is_none_or(|e| e == output)
        }
        ("TIMED_OUT", Actual::TimedOut) => expect
            .error
            .as_deref()
            .is_none_or(|e| e == "States.Timeout"),
        ("FAILED", Actual::Failed { error, cause }) => {
            expect.error == *error
                && expect
                    .cause
                    .as_ref()
                    .is_none_or(|c| Some(c) == cause.as_ref())
        }
        _ => false,
    }
}
