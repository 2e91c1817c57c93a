//! `spate conformance`: runs ASL conformance cases (definition, input and the
//! result recorded from real AWS) on the sharded runtime, on virtual time,
//! all at once, and compares.
//!
//! Case format: `../shared/conformance/README.md`, plus `"status":
//! "TIMED_OUT"` for an execution that runs past its deadline (AWS reports
//! those apart from failures). Outputs compare as JSON (key order ignored,
//! numbers by value); errors exactly; causes exactly when the case records one.

use super::load;
use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use spate_engine::plan::{CompileOptions, from_definition};
use spate_engine::runtime::{
    Completion, CompletionSink, Runtime, RuntimeClock, RuntimeConfig, Status, Submission,
};
use spate_engine::value::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

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
    /// Shards (worker threads) of the runtime that runs the cases.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    shards: u16,
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
    let runtime = Runtime::start(RuntimeConfig {
        shards: usize::from(args.shards),
        clock: RuntimeClock::Virtual,
        ..RuntimeConfig::default()
    })?;
    let reports = run_cases(&runtime, &files);
    runtime.shutdown(Duration::ZERO);
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

/// Loads every case, submits those that compile to the runtime at once
/// (each with its own mock handlers), and waits for them all.
fn run_cases(runtime: &Runtime, files: &[PathBuf]) -> Vec<Report> {
    let (sender, completions) = crossbeam::channel::unbounded();
    let sink: Arc<dyn CompletionSink> = Arc::new(move |c: Completion| {
        let _ = sender.send(c);
    });
    let mut cases = Vec::with_capacity(files.len());
    let mut actuals: Vec<Option<Actual>> = Vec::with_capacity(files.len());
    let mut pending = 0usize;
    for (index, file) in files.iter().enumerate() {
        let case = load_case(file);
        let actual = match &case {
            Err(_) => Some(Actual::Rejected(String::new())),
            Ok(case) => match submission(case, index as u64, &sink) {
                Err(rejected) => Some(rejected),
                Ok(submission) => match runtime.submit(submission) {
                    Ok(_) => {
                        pending += 1;
                        None
                    }
                    Err(e) => Some(Actual::Rejected(format!("the runtime refused it: {e:?}"))),
                },
            },
        };
        cases.push(case);
        actuals.push(actual);
    }
    for _ in 0..pending {
        let completion = completions
            .recv()
            .expect("the runtime delivers every admitted execution's completion");
        let index = completion.tag as usize;
        actuals[index] = Some(actual_of(completion));
    }
    files
        .iter()
        .zip(cases)
        .zip(actuals)
        .map(|((file, case), actual)| report(file, case, actual.expect("every case ran")))
        .collect()
}

fn load_case(file: &Path) -> anyhow::Result<Case> {
    let text = std::fs::read_to_string(file)?;
    Ok(serde_json::from_str(&text)?)
}

fn report(file: &Path, case: anyhow::Result<Case>, actual: Actual) -> Report {
    let mut report = Report {
        name: file.display().to_string(),
        file: file.display().to_string(),
        passed: false,
        expected: None,
        actual: None,
    };
    match case {
        Err(e) => {
            report.actual =
                Some(serde_json::json!({"harness_error": format!("not a conformance case: {e}")}));
        }
        Ok(case) => {
            report.name = case.name.clone();
            report.expected = Some(expected_json(&case.expect));
            report.passed = matches(&case.expect, &actual);
            report.actual = Some(actual.to_json());
        }
    }
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

/// The case's execution, ready to submit, or why it cannot run.
fn submission(case: &Case, tag: u64, sink: &Arc<dyn CompletionSink>) -> Result<Submission, Actual> {
    let plan = from_definition(&case.definition.to_string(), &CompileOptions::default())
        .map_err(|d| Actual::Rejected(d.to_string()))?;
    let resources = load::mock_resources(case.resources.iter())
        .map_err(|e| Actual::Rejected(format!("{e:#}")))?;
    let mut submission = Submission::new(
        Arc::new(plan),
        "conformance",
        case.input.clone(),
        Arc::clone(sink),
    );
    submission.tag = tag;
    submission.resources = Some(Arc::new(resources));
    Ok(submission)
}

fn actual_of(completion: Completion) -> Actual {
    match (completion.status, completion.result) {
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
