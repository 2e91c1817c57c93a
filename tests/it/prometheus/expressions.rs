//! The PromQL of the monitoring mixin: every dashboard panel's targets and
//! template variables (read from `grafana/dashboards/*.json`), Grafana's
//! variables substituted with real values, and an alerting rule's
//! expression cut into the quantities it compares with thresholds.

use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// One query of one panel.
pub struct Target {
    /// Panel title, for messages.
    pub panel: String,
    /// PromQL as written, Grafana variables included.
    pub expr: String,
}

/// A template variable filled from `label_values(<expr>, <label>)`.
pub struct Variable {
    pub name: String,
    pub query: String,
}

/// One dashboard file.
pub struct Dashboard {
    /// File name, for messages.
    pub file: String,
    pub json: Value,
    /// Query variables, in the order Grafana resolves them.
    pub variables: Vec<Variable>,
    pub targets: Vec<Target>,
}

/// Grafana's built-in interval variables, as the test gives them: Grafana
/// makes `$__rate_interval` at least four scrape intervals, and the test's
/// Prometheus scrapes every second.
pub const BUILT_INS: &[(&str, &str)] = &[
    ("__rate_interval", "5s"),
    ("__interval", "1s"),
    ("__range", "1m"),
];

/// Every dashboard in `grafana/dashboards`, sorted by file name.
pub fn dashboards() -> Vec<Dashboard> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grafana/dashboards");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboards in {}", dir.display());
    files
        .iter()
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(path).expect("dashboard readable");
            let json: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
            let variables = json["templating"]["list"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["type"] == "query")
                .map(|v| Variable {
                    name: v["name"].as_str().unwrap_or_default().to_string(),
                    query: query_text(&v["query"]),
                })
                .collect();
            let targets = panels(&json)
                .into_iter()
                .flat_map(|panel| {
                    let title = panel["title"].as_str().unwrap_or("(untitled)").to_string();
                    panel["targets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(move |t| Target {
                            panel: title.clone(),
                            expr: t["expr"].as_str().unwrap_or_default().to_string(),
                        })
                })
                .collect();
            Dashboard {
                file,
                json,
                variables,
                targets,
            }
        })
        .collect()
}

/// A variable's query: a string, or (newer Grafana) an object with `query`.
fn query_text(query: &Value) -> String {
    query
        .as_str()
        .or_else(|| query["query"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Every panel of a dashboard, those inside collapsed rows included.
pub fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        out.push(panel);
        out.extend(panel["panels"].as_array().into_iter().flatten());
    }
    out
}

/// Replaces Grafana variables (`$name` and `${name}`) with `values` or a
/// built-in interval; an unknown variable is an error naming it.
pub fn substitute(expr: &str, values: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {expr}"))?;
            (&braced[..end], end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        let value = values
            .get(name)
            .map(String::as_str)
            .or_else(|| BUILT_INS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
            .ok_or_else(|| format!("unknown variable ${name} in {expr}"))?;
        out.push_str(value);
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `label_values(<expr>, <label>)` taken apart.
pub fn label_values(query: &str) -> Result<(String, String), String> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")
        .and_then(|q| q.strip_suffix(')'))
        .ok_or_else(|| format!("not label_values(<expr>, <label>): {query}"))?;
    let (expr, label) = inner
        .rsplit_once(',')
        .ok_or_else(|| format!("label_values needs a metric and a label: {query}"))?;
    Ok((expr.trim().to_string(), label.trim().to_string()))
}

/// The quantities an alerting expression compares: it is cut at its
/// top-level `and`, `or` and `unless`, and each part at its last top-level
/// comparison, whose left-hand side is kept (a part without one is kept
/// whole). An alert's expression returns series only while it fires; these
/// return series whenever the metrics they read exist.
pub fn compared_quantities(expr: &str) -> Vec<String> {
    split_top_level(expr)
        .into_iter()
        .map(|part| match last_comparison(part) {
            Some(at) => part[..at].trim().to_string(),
            None => part.trim().to_string(),
        })
        .collect()
}

/// The top-level positions of `expr` (outside brackets and strings), with
/// the byte offset of each.
fn top_level(expr: &str) -> Vec<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut out = Vec::new();
    let mut chars = expr.char_indices();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, _) if depth == 0 => out.push(at),
            (None, _) => {}
        }
    }
    out
}

fn split_top_level(expr: &str) -> Vec<&str> {
    let bytes = expr.as_bytes();
    let word_at = |at: usize, word: &str| {
        expr[at..].starts_with(word)
            && (at == 0 || !is_ident(bytes[at - 1]))
            && bytes.get(at + word.len()).is_none_or(|&b| !is_ident(b))
    };
    let mut parts = Vec::new();
    let mut start = 0;
    let mut skip_to = 0;
    for at in top_level(expr) {
        if at < skip_to {
            continue;
        }
        if let Some(word) = ["and", "or", "unless"].into_iter().find(|w| word_at(at, w)) {
            parts.push(&expr[start..at]);
            start = at + word.len();
            skip_to = start;
        }
    }
    parts.push(&expr[start..]);
    parts
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// Byte offset of the last top-level comparison operator.
fn last_comparison(expr: &str) -> Option<usize> {
    let bytes = expr.as_bytes();
    let positions = top_level(expr);
    let mut last = None;
    let mut i = 0;
    while i < positions.len() {
        let at = positions[i];
        let two = bytes.get(at..at + 2);
        if matches!(two, Some(b"==" | b"!=" | b">=" | b"<=")) {
            last = Some(at);
            i += 2;
            continue;
        }
        if matches!(bytes[at], b'>' | b'<') {
            last = Some(at);
        }
        i += 1;
    }
    last
}

#[test]
fn variables_are_substituted_and_unknown_ones_named() {
    let values = HashMap::from([
        ("pipeline".to_string(), "iot".to_string()),
        ("job".to_string(), "spate".to_string()),
    ]);
    assert_eq!(
        substitute(
            r#"rate(x{job=~"$job", pipeline=~"${pipeline}"}[$__rate_interval])"#,
            &values
        )
        .unwrap(),
        r#"rate(x{job=~"spate", pipeline=~"iot"}[5s])"#
    );
    assert_eq!(
        substitute("x{a=\"$nope\"}", &values).unwrap_err(),
        "unknown variable $nope in x{a=\"$nope\"}"
    );
}

#[test]
fn label_values_is_taken_apart() {
    assert_eq!(
        label_values(r#"label_values(up{job=~"$job", a="b,c"}, instance)"#).unwrap(),
        (
            r#"up{job=~"$job", a="b,c"}"#.to_string(),
            "instance".to_string()
        )
    );
    assert!(label_values("query_result(up)").is_err());
}

#[test]
fn an_alert_is_cut_into_what_it_compares() {
    assert_eq!(
        compared_quantities(r#"up{job="spate"} == 0"#),
        [r#"up{job="spate"}"#]
    );
    assert_eq!(
        compared_quantities(
            "sum by (pipeline) (deriv(lag[10m])) > 0\nand\nsum by (pipeline) (lag) > 1000"
        ),
        [
            "sum by (pipeline) (deriv(lag[10m]))",
            "sum by (pipeline) (lag)"
        ]
    );
    assert_eq!(
        compared_quantities(
            r#"sum(rate(f{status=~"failed|timed_out"}[5m])) / sum(rate(f[5m])) >= bool 0.05"#
        ),
        [r#"sum(rate(f{status=~"failed|timed_out"}[5m])) / sum(rate(f[5m]))"#]
    );
    // Comparisons inside brackets and words containing "or" do not cut.
    assert_eq!(
        compared_quantities("count(errors > 1) unless absent(x)"),
        ["count(errors > 1)", "absent(x)"]
    );
}
