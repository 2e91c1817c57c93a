//! Runner for the JSONata reference test suite (the `groups/` and
//! `datasets/` folders of jsonata-js's `test/test-suite`), shared by the
//! `spate jsonata-suite` command and the integration test.
//!
//! Rules follow the upstream runner: `data` (even `null`) is the input,
//! `dataset: null` means no input; the expected outcome is the first of
//! `undefinedResult`, `result`, `error`, `code`; numbers compare as doubles
//! (telling `-0` from `0`), object keys in any order, and results marked
//! `unordered` as multisets. `timelimit` with `depth` become [`Limits`].

use super::{Jsonata, JsonataError, Limits};
use crate::value::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// As expected.
    Pass,
    /// Not as expected.
    Fail {
        /// What the case expects.
        expected: String,
        /// What happened.
        actual: String,
    },
    /// Not run, for the reason given in the skip list.
    Skip(String),
}

/// One case and its outcome.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// `group/file` for single-case files, `group/file[i]` for arrays.
    pub id: String,
    /// The expression text.
    pub expr: String,
    /// What happened.
    pub outcome: Outcome,
}

/// Parses a list file: one case id per line, `# comment` after it; blank
/// lines and comment lines are ignored. Returns id -> comment.
pub fn parse_list(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let (id, reason) = line.split_once('#').unwrap_or((line, ""));
            Some((id.trim().to_string(), reason.trim().to_string()))
        })
        .collect()
}

fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    Ok(out)
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::value::parse_json_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The byte budget of a suite case. jsonata-js has none, and the suite
/// builds ranges of ten million numbers (`[1..10000000] ~> $count()`),
/// which need 320 MB where Step Functions' default allows 64 MiB.
const SUITE_VALUE_BYTES: usize = 1 << 30;

/// Native stack for the thread running the cases: the suite's own depth
/// limits (up to 500 levels) are what should stop recursion, not the
/// evaluator's stack budget, whose default suits a 2 MiB thread.
const SUITE_STACK: usize = 256 << 20;

/// Runs every case under `dir` (the folder holding `groups/` and
/// `datasets/`). Cases whose id is a key of `skips` are not run.
pub fn run(dir: &Path, skips: &BTreeMap<String, String>) -> Result<Vec<CaseReport>, String> {
    let dir = dir.to_path_buf();
    let skips = skips.clone();
    std::thread::Builder::new()
        .name("jsonata-suite".into())
        .stack_size(SUITE_STACK)
        .spawn(move || run_all(&dir, &skips))
        .map_err(|e| e.to_string())?
        .join()
        .map_err(|_| "the suite runner panicked".to_string())?
}

fn run_all(dir: &Path, skips: &BTreeMap<String, String>) -> Result<Vec<CaseReport>, String> {
    let mut datasets = HashMap::new();
    for path in sorted_entries(&dir.join("datasets"))? {
        if path.extension().is_some_and(|e| e == "json") {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            datasets.insert(name, read_json(&path)?);
        }
    }
    let mut reports = Vec::new();
    for group in sorted_entries(&dir.join("groups"))? {
        if !group.is_dir() {
            continue;
        }
        let group_name = group
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        for file in sorted_entries(&group)? {
            if file.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let stem = file
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let base_id = format!("{group_name}/{stem}");
            let cases = match read_json(&file) {
                Ok(Value::Array(ref cases)) => cases
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("{base_id}[{i}]"), Ok(c.clone())))
                    .collect(),
                Ok(case) => vec![(base_id, Ok(case))],
                Err(e) => vec![(base_id, Err(e))],
            };
            for (id, case) in cases {
                if let Some(reason) = skips.get(&id) {
                    reports.push(CaseReport {
                        id,
                        expr: String::new(),
                        outcome: Outcome::Skip(reason.clone()),
                    });
                    continue;
                }
                let report = match case {
                    Ok(case) => run_case(&id, &case, &group, &datasets),
                    Err(e) => CaseReport {
                        id,
                        expr: String::new(),
                        outcome: Outcome::Fail {
                            expected: "a readable case file".into(),
                            actual: e,
                        },
                    },
                };
                reports.push(report);
            }
        }
    }
    Ok(reports)
}

fn run_case(id: &str, case: &Value, group: &Path, datasets: &HashMap<String, Value>) -> CaseReport {
    let expr = match case.get("expr-file").and_then(|f| f.as_str()) {
        Some(f) => std::fs::read_to_string(group.join(f)).unwrap_or_default(),
        None => case
            .get("expr")
            .and_then(|e| e.as_str())
            .unwrap_or_default()
            .to_string(),
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_case(case, &expr, datasets)
    }))
    .unwrap_or_else(|_| Outcome::Fail {
        expected: expectation(case),
        actual: "panic".into(),
    });
    CaseReport {
        id: id.to_string(),
        expr,
        outcome,
    }
}

/// The expected outcome, as text.
fn expectation(case: &Value) -> String {
    if case.get("undefinedResult").is_some() {
        "undefined".into()
    } else if let Some(r) = case.get("result") {
        r.to_json()
    } else if let Some(e) = case.get("error") {
        format!("error {}", e.to_json())
    } else if let Some(c) = case.get("code") {
        format!("error {}", c.to_json())
    } else {
        "?".into()
    }
}

fn describe(result: &Result<Option<Value>, JsonataError>) -> String {
    match result {
        Ok(Some(v)) => v.to_json(),
        Ok(None) => "undefined".into(),
        Err(e) => {
            let mut s = format!("error {e}");
            if let Some(t) = &e.token {
                let _ = write!(s, " [token {t:?}]");
            }
            s
        }
    }
}

fn check_case(case: &Value, expr: &str, datasets: &HashMap<String, Value>) -> Outcome {
    let expected = expectation(case);
    let fail = |actual: String| Outcome::Fail {
        expected: expected.clone(),
        actual,
    };
    let compiled = match Jsonata::compile(expr) {
        Ok(c) => c,
        Err(e) => {
            let code_ok = case.get("code").and_then(|c| c.as_str()) == Some(e.code)
                && case.get("undefinedResult").is_none()
                && case.get("result").is_none()
                && case.get("error").is_none();
            let token_ok = match case.get("token").and_then(|t| t.as_str()) {
                Some(t) => e.token.as_deref() == Some(t),
                None => true,
            };
            return if code_ok && token_ok {
                Outcome::Pass
            } else {
                fail(format!("compile {}", describe(&Err(e))))
            };
        }
    };
    let input = if let Some(d) = case.get("data") {
        Some(d.clone())
    } else {
        match case.get("dataset").and_then(|d| d.as_str()) {
            Some(name) => match datasets.get(name) {
                Some(v) => Some(v.clone()),
                None => return fail(format!("unknown dataset {name}")),
            },
            None => None,
        }
    };
    let mut bindings = Map::new();
    if let Some(b) = case.get("bindings").and_then(|b| b.as_object()) {
        for (k, v) in b {
            bindings.insert(k.clone(), v.clone());
        }
    }
    let mut limits = Limits {
        max_stack_bytes: SUITE_STACK / 2,
        max_value_bytes: SUITE_VALUE_BYTES,
        ..Limits::default()
    };
    if let (Some(depth), Some(ms)) = (
        case.get("depth").and_then(Value::as_i64),
        case.get("timelimit").and_then(Value::as_i64),
    ) {
        limits.max_depth = depth as usize;
        limits.timeout = Some(Duration::from_millis(ms as u64));
    }
    let result = compiled.evaluate(input.as_ref(), &bindings, &limits);
    let pass = if case.get("undefinedResult").is_some() {
        matches!(result, Ok(None))
    } else if let Some(want) = case.get("result") {
        let unordered = case.get("unordered").and_then(|u| u.as_bool()) == Some(true);
        matches!(&result, Ok(Some(v)) if same(want, v, unordered))
    } else if let Some(want) = case.get("error") {
        match &result {
            Err(e) => error_matches(want, e),
            Ok(_) => false,
        }
    } else if let Some(code) = case.get("code").and_then(|c| c.as_str()) {
        matches!(&result, Err(e) if e.code == code)
    } else {
        false
    };
    if pass {
        Outcome::Pass
    } else {
        fail(describe(&result))
    }
}

fn error_matches(want: &Value, e: &JsonataError) -> bool {
    let Some(fields) = want.as_object() else {
        return false;
    };
    fields.iter().all(|(k, v)| match k.as_str() {
        "code" => v.as_str() == Some(e.code),
        "message" => v.as_str() == Some(e.message.as_str()),
        "token" => v.as_str() == e.token.as_deref(),
        "functionName" => v.as_str() == e.function_name.as_deref(),
        "value" => e.value.as_ref().is_some_and(|ev| same(v, ev, false)),
        _ => false,
    })
}

/// Deep equality of an expected JSON value and an actual one: numbers as
/// doubles (with the sign of zero), object keys in any order, arrays in
/// order unless `unordered`.
fn same(want: &Value, got: &Value, unordered: bool) -> bool {
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64(), b.as_f64());
            a == b && a.is_sign_negative() == b.is_sign_negative()
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return false;
            }
            if unordered {
                let mut used = vec![false; b.len()];
                a.iter().all(|x| {
                    let found = b
                        .iter()
                        .enumerate()
                        .find(|(i, y)| !used[*i] && same(x, y, true))
                        .map(|(i, _)| i);
                    found.map(|i| used[i] = true).is_some()
                })
            } else {
                a.iter().zip(b.iter()).all(|(x, y)| same(x, y, false))
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same(v, w, unordered)))
        }
        _ => want == got,
    }
}

/// Counts of a run: passed, failed, skipped.
pub fn tally(reports: &[CaseReport]) -> (usize, usize, usize) {
    reports
        .iter()
        .fold((0, 0, 0), |(p, f, s), r| match r.outcome {
            Outcome::Pass => (p + 1, f, s),
            Outcome::Fail { .. } => (p, f + 1, s),
            Outcome::Skip(_) => (p, f, s + 1),
        })
}

/// The closing line: `N passed, M failed` (`, K skipped` when any were).
pub fn summary(reports: &[CaseReport]) -> String {
    let (p, f, s) = tally(reports);
    if s > 0 {
        format!("{p} passed, {f} failed, {s} skipped")
    } else {
        format!("{p} passed, {f} failed")
    }
}
