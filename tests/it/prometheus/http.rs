//! Just enough HTTP for the Prometheus test: plain GETs on 127.0.0.1 (the
//! admin server's `/metrics`, Prometheus's query API), no dependency.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `GET path` on `addr` (HTTP/1.0, so the answer is neither chunked nor
/// kept alive): the status code and the body.
pub fn get(addr: &str, path: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")
        .map_err(|e| format!("write to {addr}: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("GET {path} on {addr}: no end of headers in {answer:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("GET {path} on {addr}: no status in {head:?}"))?;
    Ok((status, body.to_string()))
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A Prometheus server's HTTP API.
pub struct Api {
    /// host:port.
    pub addr: String,
}

impl Api {
    /// `GET /api/v1/<endpoint>`: the `data` of a successful answer, or the
    /// error Prometheus gives.
    pub fn get(&self, endpoint: &str) -> Result<Value, String> {
        let (status, body) = get(&self.addr, &format!("/api/v1/{endpoint}"))?;
        let answer: Value = serde_json::from_str(&body)
            .map_err(|e| format!("HTTP {status}, not JSON ({e}): {body}"))?;
        if answer["status"] != "success" {
            return Err(format!(
                "HTTP {status}, {}: {}",
                answer["errorType"].as_str().unwrap_or("?"),
                answer["error"].as_str().unwrap_or(&body)
            ));
        }
        Ok(answer["data"].clone())
    }

    /// An instant query: the series it returns (the `result` of a vector or
    /// matrix; a scalar or string counts as one).
    pub fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let data = self.get(&format!("query?query={}", encode(expr)))?;
        match (data["resultType"].as_str(), &data["result"]) {
            (Some("vector" | "matrix"), Value::Array(series)) => Ok(series.clone()),
            (_, other) => Ok(vec![other.clone()]),
        }
    }
}

#[test]
fn encoding_keeps_unreserved_characters_only() {
    assert_eq!(
        encode(r#"rate(x{a=~"b|c"}[5s]) > 0.5"#),
        "rate%28x%7Ba%3D~%22b%7Cc%22%7D%5B5s%5D%29%20%3E%200.5"
    );
}
