//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A folder of the shared data beside the repository (`../shared/<sub>`,
/// not part of the repository), or beside a folder further up (a git
/// worktree checked out below the main clone's parent).
pub fn shared_dir(sub: &str) -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared").join(sub))
        .find(|dir| dir.is_dir())
}

/// Runs the `spate` binary with `args` from the repository root.
pub fn spate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the spate binary runs")
}

/// Reads a known-failures list: one case id per line, then ` # reason`;
/// blank lines and lines starting with `#` are ignored. Every entry must
/// give a reason.
pub fn known_failures(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (id, reason) = line
                .split_once(" # ")
                .unwrap_or_else(|| panic!("{file}: `{line}` needs a reason after ' # '"));
            assert!(!reason.trim().is_empty(), "{file}: `{line}` needs a reason");
            id.trim().to_string()
        })
        .collect()
}

/// Compares failing case ids with a known-failures list: every failure must
/// be listed, and every listed case must still fail (so the list only shrinks).
pub fn check_against_known(list_file: &str, failing: &[String]) -> Result<(), String> {
    let known = known_failures(list_file);
    let unexpected: Vec<&String> = failing.iter().filter(|f| !known.contains(f)).collect();
    let fixed: Vec<&String> = known.iter().filter(|k| !failing.contains(k)).collect();
    let mut message = String::new();
    if !unexpected.is_empty() {
        message.push_str(&format!(
            "{} case(s) fail that {list_file} does not list:\n",
            unexpected.len()
        ));
        for f in &unexpected {
            message.push_str(&format!("  {f}\n"));
        }
    }
    if !fixed.is_empty() {
        message.push_str(&format!(
            "{} case(s) in {list_file} now pass; remove them from the list:\n",
            fixed.len()
        ));
        for f in &fixed {
            message.push_str(&format!("  {f}\n"));
        }
    }
    if message.is_empty() {
        Ok(())
    } else {
        Err(message)
    }
}

/// Sends `request` (a whole HTTP/1.1 request with `Connection: close`) to
/// `addr` and returns the response's status code and body.
pub fn http_exchange(addr: &str, request: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("the server accepts");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, body.to_string())
}

/// One Step Functions API call (AWS JSON 1.0) to `addr`: the status code
/// and the body.
pub fn aws_call(addr: &str, action: &str, body: &str) -> (u16, String) {
    http_exchange(
        addr,
        &format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSStepFunctions.{action}\r\n\
             Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// Starts `spate args` from the repository root and waits (up to a minute)
/// for a line of its standard output or error holding `marker`; returns the
/// process and the word that follows the marker. Both streams keep being
/// read, so the process never writes to a full or closed pipe.
pub fn start_spate<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    marker: &'static str,
) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_spate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spate starts");
    let (sender, receiver) = std::sync::mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().expect("stderr")),
    ] {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(at) = line.find(marker) {
                    let word: String = line[at + marker.len()..]
                        .trim_start()
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    let _ = sender.send(word);
                }
            }
        });
    }
    let word = receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("spate printed no line with {marker:?}"));
    (child, word)
}
