//! Hostile inputs, definitions and configurations: each is made here, and
//! each must end in a clear error naming the problem and where it is, and
//! a normal exit (no abort, no hang, no gigabytes).

use crate::common::spate;
use std::path::PathBuf;
use std::process::Output;

/// A folder of its own under the system's temporary folder, removed on drop.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("spate-hostile-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the scratch folder");
        Scratch(dir)
    }

    /// Writes `bytes` to `name` and returns the file's path as text.
    pub(crate) fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write a scratch file");
        path.to_str().expect("a UTF-8 path").to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code and that standard error holds `expected`.
fn assert_fails(out: &Output, code: i32, expected: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(expected), "`{expected}` not in stderr: {err}");
}

#[test]
fn a_100_mb_input_is_refused_before_it_is_parsed() {
    let dir = Scratch::new("brackets");
    let definition = dir.file("pass.asl.json", PASS);
    let input = dir.file("brackets.json", vec![b'['; 100 * 1024 * 1024]);
    let out = spate(&["exec", &definition, "--input", &input]);
    assert_fails(
        &out,
        2,
        &format!("error: {input}: input is over 262144 bytes (the 256 KiB payload limit)"),
    );
    let out = spate(&["bench", &definition, "--input", &input, "--executions", "1"]);
    assert_fails(&out, 2, "input is over 262144 bytes");
    let out = spate(&["exec", &input]);
    assert_fails(
        &out,
        2,
        &format!("error: {input}: definition is over 1048576 bytes (the 1 MiB definition limit)"),
    );
}

#[test]
fn dev_zero_is_read_only_up_to_the_limit() {
    let dir = Scratch::new("zero");
    let definition = dir.file("pass.asl.json", PASS);
    let out = spate(&["exec", &definition, "--input", "/dev/zero"]);
    assert_fails(
        &out,
        2,
        "error: /dev/zero: input is over 262144 bytes (the 256 KiB payload limit)",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(["exec", &definition, "--input", "-"])
        .stdin(std::fs::File::open("/dev/zero").expect("/dev/zero opens"))
        .output()
        .expect("the spate binary runs");
    assert_fails(
        &out,
        2,
        "error: standard input: input is over 262144 bytes (the 256 KiB payload limit)",
    );
    let out = spate(&["validate", "/dev/zero"]);
    assert_fails(
        &out,
        2,
        "error: /dev/zero: definition is over 1048576 bytes",
    );
    let out = spate(&["run", "--config", "/dev/zero", "--check"]);
    assert_fails(
        &out,
        2,
        "/dev/zero: file is over 1048576 bytes (the 1 MiB limit for configuration files)",
    );
}

#[test]
fn nested_deep_scans_over_a_deep_input_fail_with_the_bound() {
    let dir = Scratch::new("deep-scan");
    let definition = dir.file(
        "scan.asl.json",
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"all.$":"$..*..*..*"},"End":true}}}"#,
    );
    // 1,000 objects nested in one another: about 6 KB.
    let input = dir.file(
        "deep.json",
        "{\"a\":".repeat(1000) + "1" + &"}".repeat(1000),
    );
    let out = spate(&["exec", &definition, "--input", &input]);
    assert_fails(&out, 1, "error: States.DataLimitExceeded");
    assert_fails(
        &out,
        1,
        "cause: The JSONPath '$..*..*..*' selects more than 262144 values, more than the 256 KiB payload limit can hold",
    );
    let out = spate(&[
        "bench",
        &definition,
        "--input",
        &input,
        "--executions",
        "2",
        "--concurrency",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let report = stdout(&out);
    assert!(report.contains("(2 failed)"), "{report}");
    assert!(
        stderr(&out).contains("first failure: States.DataLimitExceeded"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_inputs_name_the_problem_and_the_place() {
    let dir = Scratch::new("malformed");
    let definition = dir.file("pass.asl.json", PASS);
    for (name, text, expected) in [
        (
            "trailing.json",
            r#"{"a":1} x"#,
            "invalid JSON at line 1 column 9 (byte offset 8): trailing characters",
        ),
        (
            "surrogate.json",
            r#"{"a":"\ud800"}"#,
            "invalid JSON at line 1 column 13 (byte offset 12): lone UTF-16 surrogate escape",
        ),
        (
            "unfinished.json",
            r#"{"a":[1,2"#,
            "invalid JSON at line 1 column 10 (byte offset 9): EOF while parsing a list",
        ),
        (
            "lines.json",
            "{\n  \"a\": 1,\n  \"b\": tru\n}",
            "invalid JSON at line 3 column 11 (byte offset 22): expected ident",
        ),
    ] {
        let input = dir.file(name, text);
        let out = spate(&["exec", &definition, "--input", &input]);
        assert_fails(&out, 2, &format!("error: {input}: {expected}"));
    }
}

#[test]
fn a_byte_order_mark_and_big_integers_are_accepted_as_aws_does() {
    let dir = Scratch::new("accepted");
    let definition = dir.file("pass.asl.json", PASS);
    let input = dir.file("bom.json", b"\xEF\xBB\xBF{\"a\":1}");
    let out = spate(&["exec", &definition, "--input", &input]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out).split_whitespace().collect::<String>(),
        r#"{"a":1}"#
    );
    let input = dir.file("big.json", r#"{"n":123456789012345678901234567890}"#);
    let out = spate(&["exec", &definition, "--input", &input]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).contains("1.2345678901234568e29"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn definition_problems_are_named_with_their_place() {
    let dir = Scratch::new("definitions");
    let not_utf8 = dir.file(
        "latin1.asl.json",
        b"{\"Comment\":\"caf\xe9\",\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}",
    );
    let out = spate(&["validate", &not_utf8]);
    assert_fails(
        &out,
        2,
        &format!("error: {not_utf8}: not UTF-8: invalid byte at line 1 column 16 (byte offset 15)"),
    );
    let twice = dir.file(
        "twice.asl.json",
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Q","Next":"P"},"Q":{"Type":"Succeed"},"P":{"Type":"Succeed"}}}"#,
    );
    let out = spate(&["validate", &twice]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        [
            format!("{twice}: /States/P/Next: key `Next` is given twice in the same object"),
            format!(
                "{twice}: /States/P: state name `P` is used twice (state names must be unique)"
            ),
        ]
    );
    let far = dir.file(
        "far.asl.json",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2300-01-01T00:00:00Z","End":true}}}"#,
    );
    let out = spate(&["validate", &far]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out)
            .contains("/States/W/Timestamp: `Timestamp` \"2300-01-01T00:00:00Z\" is out of range"),
        "{}",
        stdout(&out)
    );
    let big = dir.file(
        "big.asl.json",
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":123456789012345678901234567890,"End":true}}}"#,
    );
    let out = spate(&["exec", &big]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).contains("1.2345678901234568e29"),
        "{}",
        stdout(&out)
    );
}

/// A configuration for the embedded cluster with one pipeline running
/// `pass.asl.json`, with `extra` added before the pipeline.
fn config(dir: &Scratch, extra: &str) -> String {
    dir.file("pass.asl.json", PASS);
    dir.file(
        "spate.toml",
        format!(
            "[kafka]\nbootstrap_servers = \"embedded\"\n{extra}\n\n[[pipeline]]\nname = \"p\"\nsource_topics = [\"in\"]\ndefinition = \"pass.asl.json\"\noutput_topic = \"out\"\ndlq_topic = \"dlq\"\n"
        ),
    )
}

#[test]
fn run_check_refuses_numbers_out_of_range_naming_the_key() {
    let dir = Scratch::new("huge-numbers");
    let file = config(
        &dir,
        "[runtime]\nshards = 1000000000000\nio_threads = 1000000000000\nmax_bytes_per_execution = 1000",
    );
    let out = spate(&["run", "--config", &file, "--check"]);
    assert_fails(
        &out,
        2,
        &format!("{file}: runtime.shards: 1000000000000 is out of range 1..=1024"),
    );
    assert_fails(
        &out,
        2,
        &format!("{file}: runtime.io_threads: 1000000000000 is out of range 1..=256"),
    );
    assert_fails(
        &out,
        2,
        &format!(
            "{file}: runtime.max_bytes_per_execution: 1000 is out of range 262144..=1099511627776"
        ),
    );
    // Without --check, the same file stops before anything is started.
    let out = spate(&["run", "--config", &file]);
    assert_fails(&out, 2, "runtime.shards: 1000000000000 is out of range");
}

#[test]
fn run_check_refuses_unknown_kafka_properties() {
    let dir = Scratch::new("properties");
    let file = config(&dir, "[kafka.properties]\n\"no.such.property\" = \"x\"");
    let out = spate(&["run", "--config", &file, "--check"]);
    assert_fails(
        &out,
        2,
        &format!("{file}: kafka.properties.\"no.such.property\": No such configuration property"),
    );
}

#[test]
fn a_configuration_that_is_not_utf8_names_the_byte() {
    let dir = Scratch::new("config-utf8");
    let file = dir.file(
        "spate.toml",
        b"[kafka]\nbootstrap_servers = \"emb\xffedded\"\n",
    );
    let out = spate(&["run", "--config", &file, "--check"]);
    assert_fails(
        &out,
        2,
        &format!("{file}: not UTF-8: invalid byte at line 2 column 25 (byte offset 32)"),
    );
}

#[test]
fn a_bad_admin_address_is_refused_naming_the_key_or_flag() {
    let dir = Scratch::new("admin-addr");
    let file = config(&dir, "[admin]\naddr = \"localhost:nine\"");
    let out = spate(&["run", "--config", &file, "--check"]);
    assert_fails(
        &out,
        2,
        &format!("{file}: admin.addr: \"localhost:nine\" is not an address"),
    );
    let file = config(&dir, "");
    let out = spate(&["run", "--config", &file, "--admin-addr", "9464"]);
    assert_fails(&out, 2, "--admin-addr: \"9464\" is not an address");
}
