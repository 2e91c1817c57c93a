//! The monitoring mixin in `grafana/` against real Prometheus tools:
//! promtool checks the example configuration and the alerting rules and
//! runs the rules' unit tests; the dashboards are well-formed; and a
//! Prometheus started by `scripts/prometheus.sh` scrapes a `spate demo`
//! under load while every dashboard query, every template variable and
//! every alerting rule's expression is evaluated through its HTTP API,
//! each required to be valid and to return series. One scrape of the
//! demo's `/metrics` must pass `promtool check metrics` and hold every
//! family issue 12 names.
//!
//! Needs `prometheus` and `promtool` (Debian's `prometheus` package, which
//! `scripts/prometheus.sh install` installs). Without them these tests say
//! so and pass, unless `SPATE_PROMETHEUS_REQUIRED=1` (scripts/test.sh sets
//! it) makes them fail.

mod exposition;
mod expressions;
mod http;

use crate::kafka::signal;
use expressions::{compared_quantities, dashboards, label_values, panels, substitute};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `prometheus` and `promtool` run; when they do not, says why
/// and returns false, or panics if `SPATE_PROMETHEUS_REQUIRED=1`.
fn tools_present() -> bool {
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if runs("prometheus") && runs("promtool") {
        return true;
    }
    if std::env::var_os("SPATE_PROMETHEUS_REQUIRED").is_some_and(|v| v == "1") {
        panic!("SPATE_PROMETHEUS_REQUIRED=1 but prometheus or promtool is not on PATH");
    }
    eprintln!(
        "skipping: prometheus or promtool not on PATH (install them with \
         `scripts/prometheus.sh install`, or run scripts/test.sh, which does)"
    );
    false
}

/// Runs promtool from the repository root, with `stdin` as its input.
fn promtool(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    let mut input = child.stdin.take().expect("promtool's stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .expect("promtool reads its input");
    drop(input);
    child.wait_with_output().expect("promtool runs")
}

fn assert_promtool(args: &[&str], stdin: Option<&[u8]>) {
    let out = promtool(args, stdin);
    assert!(
        out.status.success(),
        "promtool {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files of a folder of the mixin, by extension, sorted.
fn files(dir: &str, ext: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .map(|entry| entry.expect("directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(ext))
        .map(|name| format!("{dir}/{name}"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no *{ext} in {dir}");
    out
}

#[test]
fn promtool_accepts_the_configuration_and_rules_and_the_rule_tests_pass() {
    if !tools_present() {
        return;
    }
    assert_promtool(
        &["check", "config", "grafana/prometheus/prometheus.yml"],
        None,
    );
    let rules = files("grafana/prometheus/rules", ".yml");
    let mut args = vec!["check", "rules"];
    args.extend(rules.iter().map(String::as_str));
    assert_promtool(&args, None);
    let tests = files("grafana/prometheus/tests", ".yml");
    let mut args = vec!["test", "rules"];
    args.extend(tests.iter().map(String::as_str));
    assert_promtool(&args, None);
}

/// What Grafana needs of every dashboard: the datasource variable every
/// panel and query uses, unique panel ids, panels within the 24-column grid
/// and not overlapping, every query's variables defined.
#[test]
fn dashboards_are_well_formed() {
    let mut uids = BTreeSet::new();
    for dashboard in dashboards() {
        let file = &dashboard.file;
        let json = &dashboard.json;
        assert!(json["title"].is_string(), "{file}: no title");
        let uid = json["uid"].as_str().unwrap_or_default();
        assert!(!uid.is_empty() && uid.len() <= 40, "{file}: uid {uid:?}");
        assert!(uids.insert(uid.to_string()), "{file}: uid {uid} used twice");
        let variables = json["templating"]["list"]
            .as_array()
            .expect("templating.list");
        assert!(
            variables.iter().any(|v| v["name"] == "datasource"
                && v["type"] == "datasource"
                && v["query"] == "prometheus"),
            "{file}: no datasource variable of type prometheus"
        );
        let datasource = serde_json::json!({"type": "prometheus", "uid": "${datasource}"});
        let mut names: HashMap<String, String> = HashMap::new();
        for v in variables {
            assert!(
                v["type"] != "query" || v["datasource"] == datasource,
                "{file}: variable {} does not use ${{datasource}}",
                v["name"]
            );
            names.insert(v["name"].as_str().unwrap().to_string(), "x".to_string());
        }
        for v in &dashboard.variables {
            let (expr, _) = label_values(&v.query).unwrap_or_else(|e| panic!("{file}: {e}"));
            substitute(&expr, &names)
                .unwrap_or_else(|e| panic!("{file}: variable {}: {e}", v.name));
        }
        let mut ids = BTreeSet::new();
        let mut boxes: Vec<(String, [i64; 4])> = Vec::new();
        for panel in panels(json) {
            let title = panel["title"].as_str().unwrap_or("(untitled)");
            let id = panel["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("{file}: {title}: no id"));
            assert!(ids.insert(id), "{file}: panel id {id} used twice");
            let pos = &panel["gridPos"];
            let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| {
                pos[k]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{file}: {title}: gridPos.{k}"))
            });
            assert!(
                x >= 0 && w > 0 && h > 0 && x + w <= 24,
                "{file}: {title}: {pos}"
            );
            for (other, [ox, oy, ow, oh]) in &boxes {
                let apart = x + w <= *ox || *ox + ow <= x || y + h <= *oy || *oy + oh <= y;
                assert!(apart, "{file}: {title} overlaps {other}");
            }
            boxes.push((title.to_string(), [x, y, w, h]));
            if panel["type"] == "row" {
                continue;
            }
            assert_eq!(
                panel["datasource"], datasource,
                "{file}: {title}: datasource"
            );
            let targets = panel["targets"]
                .as_array()
                .unwrap_or_else(|| panic!("{file}: {title}: no targets"));
            assert!(!targets.is_empty(), "{file}: {title}: no targets");
            for target in targets {
                assert_eq!(
                    target["datasource"], datasource,
                    "{file}: {title}: target datasource"
                );
                let expr = target["expr"].as_str().unwrap_or_default();
                assert!(!expr.trim().is_empty(), "{file}: {title}: empty expr");
                substitute(expr, &names).unwrap_or_else(|e| panic!("{file}: {title}: {e}"));
            }
        }
    }
}

/// A free TCP port on 127.0.0.1 (free when asked).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A Prometheus started with `scripts/prometheus.sh`, stopped (by PID) when
/// dropped; its folder is removed then, unless the test failed.
struct Prometheus {
    api: http::Api,
    env: Vec<(&'static str, String)>,
    dir: PathBuf,
}

impl Prometheus {
    fn start(targets: &str) -> Prometheus {
        let port = free_port();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("prometheus-{port}"));
        let env = vec![
            ("PROMETHEUS_PORT", port.to_string()),
            ("PROMETHEUS_TARGETS", targets.to_string()),
            ("PROMETHEUS_SCRAPE_INTERVAL", "1s".to_string()),
            ("PROMETHEUS_DIR", dir.display().to_string()),
        ];
        let out = Self::script("start", &env);
        assert!(
            out.status.success(),
            "scripts/prometheus.sh start failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Prometheus {
            api: http::Api {
                addr: format!("127.0.0.1:{port}"),
            },
            env,
            dir,
        }
    }

    fn script(command: &str, env: &[(&'static str, String)]) -> Output {
        Command::new(repo().join("scripts/prometheus.sh"))
            .arg(command)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("scripts/prometheus.sh runs")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = Self::script("stop", &self.env);
        if std::thread::panicking() {
            eprintln!("kept {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A `spate demo` serving its admin server on a free port; stopped with
/// SIGTERM (then SIGKILL) when dropped, its log removed unless the test
/// failed.
struct Demo {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Demo {
    fn start(duration_s: u32, rate: u32) -> Demo {
        let addr = format!("127.0.0.1:{}", free_port());
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("prometheus-demo-{}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("demo log");
        let child = Command::new(env!("CARGO_BIN_EXE_spate"))
            .args(["demo", "--admin-addr", &addr])
            .args(["--duration", &duration_s.to_string()])
            .args(["--rate", &rate.to_string()])
            .args(["--poison-every", "100"])
            .current_dir(repo())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("demo log"))
            .stderr(file)
            .spawn()
            .expect("spate demo starts");
        Demo { child, addr, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One scrape of `/metrics`, once the admin server answers.
    fn scrape(&mut self, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "spate demo exited ({status}) before serving /metrics:\n{}",
                    self.log()
                );
            }
            match http::get(&self.addr, "/metrics") {
                Ok((200, body)) => return body,
                Ok((status, body)) => panic!("GET /metrics: HTTP {status}: {body}"),
                Err(e) if Instant::now() > deadline => {
                    panic!(
                        "no /metrics at {} after {limit:?}: {e}\n{}",
                        self.addr,
                        self.log()
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            signal(self.child.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("kept {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// The first value an instant query returns, as a number.
fn first_value(api: &http::Api, expr: &str) -> Option<f64> {
    let series = api.query(expr).ok()?;
    series.first()?["value"][1].as_str()?.parse().ok()
}

/// Polls until `condition` holds, or panics after `limit` naming `what`.
fn wait_until(
    what: &str,
    limit: Duration,
    context: impl Fn() -> String,
    mut condition: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The values a template variable takes: `label_values(<expr>, <label>)`
/// evaluated after the variables before it.
fn variable_values(
    api: &http::Api,
    query: &str,
    values: &HashMap<String, String>,
) -> Result<Vec<String>, String> {
    let (expr, label) = label_values(query)?;
    let expr = substitute(&expr, values)?;
    let series = api.query(&expr).map_err(|e| format!("{expr}: {e}"))?;
    let found: BTreeSet<String> = series
        .iter()
        .filter_map(|s| s["metric"][label.as_str()].as_str().map(str::to_string))
        .collect();
    Ok(found.into_iter().collect())
}

/// Evaluates `expr`; an error or no series is a problem, told with `what`.
fn check_query(api: &http::Api, what: &str, expr: &str, problems: &mut Vec<String>) {
    match api.query(expr) {
        Ok(series) if series.is_empty() => problems.push(format!("{what}: no series from {expr}")),
        Ok(_) => {}
        Err(e) => problems.push(format!("{what}: {e}\n    in {expr}")),
    }
}

/// Every dashboard's variables and queries against the demo's data.
fn check_dashboards(api: &http::Api, problems: &mut Vec<String>) -> usize {
    let mut checked = 0;
    for dashboard in dashboards() {
        let mut values = HashMap::from([("datasource".to_string(), "unused".to_string())]);
        for v in &dashboard.variables {
            match variable_values(api, &v.query, &values) {
                Ok(found) if !found.is_empty() => {
                    values.insert(v.name.clone(), found[0].clone());
                }
                Ok(_) => problems.push(format!(
                    "{}: variable ${}: no values from {}",
                    dashboard.file, v.name, v.query
                )),
                Err(e) => problems.push(format!("{}: variable ${}: {e}", dashboard.file, v.name)),
            }
        }
        for target in &dashboard.targets {
            let what = format!("{}: panel {:?}", dashboard.file, target.panel);
            match substitute(&target.expr, &values) {
                Ok(expr) => check_query(api, &what, &expr, problems),
                Err(e) => problems.push(format!("{what}: {e}")),
            }
            checked += 1;
        }
    }
    checked
}

/// Every rule Prometheus loaded: evaluated without error by Prometheus
/// itself, valid as a query, and each quantity it compares with a
/// threshold returning series.
fn check_rules(api: &http::Api, problems: &mut Vec<String>) -> usize {
    let rules: Vec<Value> = api.get("rules").expect("GET /api/v1/rules")["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(!rules.is_empty(), "Prometheus loaded no rules");
    for rule in &rules {
        let name = rule["name"].as_str().unwrap_or("?");
        let expr = rule["query"].as_str().unwrap_or_default();
        if rule["health"] != "ok" {
            problems.push(format!(
                "rule {name}: health {} ({})",
                rule["health"], rule["lastError"]
            ));
        }
        if let Err(e) = api.query(expr) {
            problems.push(format!("rule {name}: {e}\n    in {expr}"));
        }
        for quantity in compared_quantities(expr) {
            check_query(api, &format!("rule {name}"), &quantity, problems);
        }
    }
    rules.len()
}

#[test]
fn every_dashboard_query_and_alert_returns_series_from_a_real_demo() {
    if !tools_present() {
        return;
    }
    // Long enough to outlast the checks even on a loaded machine; stopped
    // (SIGTERM) as soon as they are done, about 20 s in.
    let mut demo = Demo::start(60, 300);
    // The first answer may come before the pipeline has its partitions.
    demo.scrape(Duration::from_secs(90));
    let prometheus = Prometheus::start(&demo.addr);
    let api = &prometheus.api;
    let context = || {
        format!(
            "Prometheus log:\n{}\ndemo log:\n{}",
            prometheus.log(),
            demo.log()
        )
    };
    // Enough scrapes for rates over 5 s, and events flowing.
    wait_until(
        "8 scrapes of a demo with executions",
        Duration::from_secs(60),
        context,
        || {
            first_value(api, "count_over_time(spate_executions_in_flight[1m])")
                .is_some_and(|n| n >= 8.0)
                && first_value(api, "sum(spate_executions_started_total)").is_some_and(|n| n > 0.0)
        },
    );

    let metrics = demo.scrape(Duration::from_secs(5));
    let mut problems = exposition::problems(&metrics);
    let check = promtool(&["check", "metrics"], Some(metrics.as_bytes()));
    if !check.status.success() {
        problems.push(format!(
            "promtool check metrics on a scrape of the demo:\n{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        ));
    }
    let queries = check_dashboards(api, &mut problems);
    let rules = check_rules(api, &mut problems);
    assert!(
        problems.is_empty(),
        "{} problem(s) with {queries} dashboard queries and {rules} rules:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    eprintln!("{queries} dashboard queries and {rules} rules return series from a live demo");
}
