//! Kafka ingest against a real broker: `spate run` processes started,
//! killed and restarted, the broker paused, poison events, backpressure,
//! per-key ordering.
//!
//! The broker is the one `scripts/kafka-broker.sh` starts (`scripts/test.sh`
//! does, and exports `SPATE_KAFKA_BOOTSTRAP`, `SPATE_KAFKA_BROKER_PID` and
//! `SPATE_KAFKA_REQUIRED=1`). Without a broker these tests print why and
//! pass, so `cargo test` alone works anywhere; with `SPATE_KAFKA_REQUIRED`
//! set they fail instead. Each test uses its own topics and group, and the
//! tests take turns (one lock), so timing-sensitive ones (the broker pause)
//! do not disturb the others. Nothing asserts on time: conditions are
//! polled with generous deadlines.

mod backpressure;
mod callback;
mod cli;
mod crash;
mod failures;
mod ordering;
mod pipeline;
mod poison;

use spate_ingest::kafka::admin::{self, Consumed, ToProduce};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static TURN: Mutex<()> = Mutex::new(());

/// A broker to test against, and the turn to use it; `None` (after saying
/// why) when there is none and none is required.
pub fn broker() -> Option<(String, MutexGuard<'static, ()>)> {
    let bootstrap =
        std::env::var("SPATE_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".to_string());
    if !admin::reachable(&bootstrap, Duration::from_secs(2)) {
        if std::env::var_os("SPATE_KAFKA_REQUIRED").is_some_and(|v| v == "1") {
            panic!("SPATE_KAFKA_REQUIRED=1 but no Kafka broker answers at {bootstrap}");
        }
        eprintln!(
            "skipping: no Kafka broker at {bootstrap} (start one with `scripts/kafka-broker.sh start`, \
             or run scripts/test.sh, which does; SPATE_KAFKA_BOOTSTRAP names another)"
        );
        return None;
    }
    let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Some((bootstrap, turn))
}

/// Fresh topic and group names for one test.
pub struct Names {
    pub source: String,
    pub output: String,
    pub dlq: String,
    pub group: String,
}

impl Names {
    pub fn new(test: &str) -> Names {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let base = format!("it-{test}-{}-{nanos}", std::process::id());
        Names {
            source: format!("{base}-in"),
            output: format!("{base}-out"),
            dlq: format!("{base}-dlq"),
            group: format!("{base}-group"),
        }
    }

    /// Creates the three topics.
    pub fn create(&self, bootstrap: &str, partitions: u32) {
        admin::create_topics(
            bootstrap,
            &[&self.source, &self.output, &self.dlq],
            partitions,
            Duration::from_secs(30),
        )
        .expect("topics created");
    }
}

/// A folder for one test's files, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "spate-it-{test}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SPATE_IT_KEEP=1 keeps configurations and logs for a look.
        if std::env::var_os("SPATE_IT_KEEP").is_some() {
            eprintln!("kept {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A file of the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Writes a `spate run` configuration with the test broker's settings
/// (short session timeout and fetch wait, as the broker needs) and one
/// pipeline; `extra` adds lines to the pipeline table, `runtime` to
/// `[runtime]`.
pub fn write_config(
    scratch: &Scratch,
    bootstrap: &str,
    names: &Names,
    definition: &Path,
    extra: &str,
    runtime: &str,
) -> PathBuf {
    let text = format!(
        r#"[kafka]
bootstrap_servers = "{bootstrap}"

[kafka.consumer]
"session.timeout.ms" = 2000
"heartbeat.interval.ms" = 500
"fetch.wait.max.ms" = 10

[runtime]
{runtime}

[[pipeline]]
name = "it"
source_topics = ["{source}"]
group_id = "{group}"
definition = "{definition}"
output_topic = "{output}"
dlq_topic = "{dlq}"
shutdown_grace_ms = 5000
{extra}
"#,
        source = names.source,
        group = names.group,
        output = names.output,
        dlq = names.dlq,
        definition = definition.display(),
    );
    let path = scratch.0.join("spate.toml");
    std::fs::write(&path, text).expect("config written");
    path
}

/// A running `spate run`; killed (SIGKILL) if still running when dropped.
pub struct Spate {
    pub child: Child,
    pub log: PathBuf,
}

impl Spate {
    pub fn start(config: &Path, log_name: &str) -> Spate {
        let log = config.with_file_name(format!("{log_name}.log"));
        let stderr = File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_spate"))
            .args(["run", "--config"])
            .arg(config)
            .args(["--status-interval-secs", "1", "--admin-addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spate starts");
        Spate { child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        signal(self.pid(), "TERM");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!(
                    "spate did not exit within {timeout:?} of SIGTERM; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resident memory now (Linux), in bytes.
    pub fn rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    }
}

impl Drop for Spate {
    fn drop(&mut self) {
        if self.running() {
            self.kill();
        }
    }
}

/// Sends a signal with kill(1).
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name} {pid} failed");
}

/// Polls `condition` every 100 ms until it holds, or panics after `limit`
/// saying what was awaited (and `context()`).
pub fn wait_for(
    what: &str,
    limit: Duration,
    mut condition: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + limit;
    while !condition() {
        if Instant::now() > deadline {
            panic!(
                "timed out after {limit:?} waiting for {what}\n{}",
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes events with the given (key, value) pairs to `topic`; returns
/// where they landed.
pub fn produce(
    bootstrap: &str,
    topic: &str,
    events: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Vec<(i32, i64)> {
    admin::produce(
        bootstrap,
        topic,
        events.into_iter().map(|(key, payload)| ToProduce {
            key: Some(key.into_bytes()),
            payload,
            ..ToProduce::default()
        }),
    )
    .expect("events written")
}

/// The source (partition, offset) a record of the output or dead-letter
/// topic came from.
pub fn source_of(record: &Consumed) -> (i32, i64) {
    let partition = record
        .header("spate-source-partition")
        .and_then(|p| p.parse().ok())
        .expect("spate-source-partition header");
    let offset = record
        .header("spate-source-offset")
        .and_then(|p| p.parse().ok())
        .expect("spate-source-offset header");
    (partition, offset)
}

/// Reads `topics` until they hold outcomes for `expected` distinct source
/// events (or `limit` passes); returns every record read.
pub fn read_outcomes(
    bootstrap: &str,
    topics: &[&str],
    expected: usize,
    limit: Duration,
) -> Vec<Consumed> {
    let mut all = Vec::new();
    let deadline = Instant::now() + limit;
    // Re-read from the start until complete: outputs keep arriving.
    loop {
        all.clear();
        for topic in topics {
            all.extend(
                admin::read_topic(bootstrap, topic, Duration::from_secs(5), |_| false)
                    .expect("topic read"),
            );
        }
        let distinct: HashSet<(i32, i64)> = all.iter().map(source_of).collect();
        if distinct.len() >= expected || Instant::now() > deadline {
            return all;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Reads the output and dead-letter topics until every written event has an
/// outcome (or `limit` passes), asserts none is missing and each of them is
/// counted once, and returns every record read and the number of
/// duplicates. `log` is the Spate process's log, shown on failure.
pub fn every_event_has_an_outcome(
    bootstrap: &str,
    names: &Names,
    produced: &[(i32, i64)],
    limit: Duration,
    log: impl Fn() -> String,
) -> (Vec<Consumed>, usize) {
    let records = read_outcomes(
        bootstrap,
        &[&names.output, &names.dlq],
        produced.len(),
        limit,
    );
    assert_eq!(
        missing(produced, &records),
        [],
        "events without an outcome; log:\n{}",
        log()
    );
    let (distinct, duplicates) = tally(&records);
    assert_eq!(distinct, produced.len());
    (records, duplicates)
}

/// Counts distinct source events and duplicates among outcome records.
pub fn tally(records: &[Consumed]) -> (usize, usize) {
    let mut seen = HashMap::new();
    for r in records {
        *seen.entry(source_of(r)).or_insert(0usize) += 1;
    }
    let duplicates = seen.values().map(|n| n - 1).sum();
    (seen.len(), duplicates)
}

/// The written events (partition, offset) that have no outcome.
pub fn missing(produced: &[(i32, i64)], records: &[Consumed]) -> Vec<(i32, i64)> {
    let have: HashSet<(i32, i64)> = records.iter().map(source_of).collect();
    let mut missing: Vec<(i32, i64)> = produced
        .iter()
        .filter(|po| !have.contains(po))
        .copied()
        .collect();
    missing.sort();
    missing
}

/// One past the highest offset written to each partition (the test broker
/// answers ListOffsets wrongly, so this counts what the test wrote).
pub fn ends(produced: &[(i32, i64)]) -> HashMap<i32, i64> {
    let mut ends = HashMap::new();
    for &(p, o) in produced {
        let end = ends.entry(p).or_insert(0);
        *end = (*end).max(o + 1);
    }
    ends
}

/// Waits until the group has committed, for every partition written to,
/// the offset after the last event written.
pub fn wait_committed(bootstrap: &str, names: &Names, produced: &[(i32, i64)], limit: Duration) {
    let ends = ends(produced);
    let last = std::cell::RefCell::new(Vec::new());
    wait_for(
        "offsets committed up to the end of every partition",
        limit,
        || {
            let committed = admin::committed_offsets(
                bootstrap,
                &names.group,
                &names.source,
                Duration::from_secs(10),
            )
            .expect("committed offsets");
            let done = ends
                .iter()
                .all(|(p, end)| committed.iter().any(|(q, c)| q == p && *c == Some(*end)));
            *last.borrow_mut() = committed;
            done
        },
        || format!("written up to {ends:?}, committed {:?}", last.borrow()),
    );
}

/// Waits until `topic` holds at least `n` records.
pub fn wait_records(
    bootstrap: &str,
    topic: &str,
    n: usize,
    limit: Duration,
    log: impl Fn() -> String,
) {
    let read = admin::read_topic(bootstrap, topic, limit, |r| r.len() >= n).expect("topic read");
    assert!(
        read.len() >= n,
        "{topic} holds {} of {n} records after {limit:?}\n{}",
        read.len(),
        log()
    );
}

/// The choice-router benchmark event with a device key.
pub fn iot_event(n: usize) -> (String, Vec<u8>) {
    let key = format!("dev-{:04}", n % 1000);
    let value = format!(
        r#"{{"device_id":"{key}","site":"plant-{}","timestamp":"2026-11-24T14:00:00Z","temperature":{},"humidity":61,"battery":0.87,"tags":["line-3"],"readings":[41.2,63.8],"n":{n}}}"#,
        n % 7,
        20 + n % 60
    );
    (key, value.into_bytes())
}
