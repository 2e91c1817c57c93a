//! The answer of StartSyncExecution (the model's
//! `StartSyncExecutionOutput`), written by hand: it is the API's hottest
//! answer, and it carries the input and the output as JSON strings, which
//! the engine's writer escapes in one pass into a buffer sized up front
//! (serde_json grew its buffer and escaped byte by byte, about a sixth of
//! the server's instructions per request).

use spate_engine::error::StatesError;
use spate_engine::time::Timestamp;
use spate_engine::value::{Value, write_json_as_string, write_json_string};

/// What the answer says.
pub struct SyncAnswer<'a> {
    /// `executionArn`.
    pub execution_arn: &'a str,
    /// `stateMachineArn`.
    pub state_machine_arn: &'a str,
    /// `name`.
    pub name: &'a str,
    /// `startDate`.
    pub start: Timestamp,
    /// `stopDate`.
    pub stop: Timestamp,
    /// `status`.
    pub status: &'static str,
    /// The output, or the error and cause.
    pub result: Result<&'a Value, &'a StatesError>,
    /// The input as given.
    pub input: &'a str,
    /// `includedData: METADATA_ONLY` leaves the input and output out.
    pub metadata_only: bool,
    /// `traceHeader`, if given.
    pub trace_header: Option<&'a str>,
    /// `billingDetails.billedDurationInMilliseconds`.
    pub billed_ms: u64,
}

impl SyncAnswer<'_> {
    /// The answer's JSON text.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + 2 * self.input.len());
        let field = |out: &mut Vec<u8>, name: &str| {
            out.push(if out.is_empty() { b'{' } else { b',' });
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
        };
        field(&mut out, "executionArn");
        write_json_string(self.execution_arn, &mut out);
        field(&mut out, "stateMachineArn");
        write_json_string(self.state_machine_arn, &mut out);
        field(&mut out, "name");
        write_json_string(self.name, &mut out);
        field(&mut out, "startDate");
        write_seconds(self.start, &mut out);
        field(&mut out, "stopDate");
        write_seconds(self.stop, &mut out);
        field(&mut out, "status");
        write_json_string(self.status, &mut out);
        if let Err(error) = self.result {
            if let Some(e) = error.error() {
                field(&mut out, "error");
                write_json_string(e, &mut out);
            }
            if let Some(c) = error.cause() {
                field(&mut out, "cause");
                write_json_string(c, &mut out);
            }
        }
        let included: &[u8] = if self.metadata_only {
            b"{\"included\":false}"
        } else {
            b"{\"included\":true}"
        };
        if !self.metadata_only {
            field(&mut out, "input");
            write_json_string(self.input, &mut out);
        }
        field(&mut out, "inputDetails");
        out.extend_from_slice(included);
        if let Ok(output) = self.result {
            if !self.metadata_only {
                field(&mut out, "output");
                write_json_as_string(output, &mut out);
            }
            field(&mut out, "outputDetails");
            out.extend_from_slice(included);
        }
        if let Some(trace) = self.trace_header {
            field(&mut out, "traceHeader");
            write_json_string(trace, &mut out);
        }
        field(&mut out, "billingDetails");
        out.extend_from_slice(b"{\"billedMemoryUsedInMB\":64,\"billedDurationInMilliseconds\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.billed_ms).as_bytes());
        out.extend_from_slice(b"}}");
        out
    }
}

/// Epoch seconds with their milliseconds (`1764700000.123`), as AWS's
/// timestamps are in JSON.
fn write_seconds(t: Timestamp, out: &mut Vec<u8>) {
    let millis = t.unix_millis();
    let (seconds, fraction) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    out.extend_from_slice(itoa::Buffer::new().format(seconds).as_bytes());
    out.push(b'.');
    out.push(b'0' + (fraction / 100) as u8);
    out.push(b'0' + (fraction / 10 % 10) as u8);
    out.push(b'0' + (fraction % 10) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(result: Result<&Value, &StatesError>, metadata_only: bool) -> serde_json::Value {
        let bytes = SyncAnswer {
            execution_arn: "arn:x:express:m:n:u",
            state_machine_arn: "arn:x:stateMachine:m",
            name: "n\"1",
            start: Timestamp::from_unix_nanos(1_764_700_000_005 * 1_000_000),
            stop: Timestamp::from_unix_nanos(1_764_700_000_120 * 1_000_000),
            status: if result.is_ok() {
                "SUCCEEDED"
            } else {
                "FAILED"
            },
            result,
            input: "{\n \"a\": \"x\\\"y\"\n}",
            metadata_only,
            trace_header: Some("Root=1"),
            billed_ms: 200,
        }
        .to_bytes();
        serde_json::from_slice(&bytes).expect("the answer is JSON")
    }

    #[test]
    fn a_success_carries_input_output_and_billing() {
        let output = spate_engine::json!({"b": "q\"\n", "n": [1.5]});
        let got = answer(Ok(&output), false);
        assert_eq!(
            got,
            json!({
                "executionArn": "arn:x:express:m:n:u",
                "stateMachineArn": "arn:x:stateMachine:m",
                "name": "n\"1",
                "startDate": 1_764_700_000.005,
                "stopDate": 1_764_700_000.12,
                "status": "SUCCEEDED",
                "input": "{\n \"a\": \"x\\\"y\"\n}",
                "inputDetails": {"included": true},
                "output": output.to_json(),
                "outputDetails": {"included": true},
                "traceHeader": "Root=1",
                "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 200},
            })
        );
    }

    #[test]
    fn a_failure_carries_error_and_cause_and_metadata_only_leaves_data_out() {
        let error = StatesError::new("Boom", "it \"broke\"");
        let got = answer(Err(&error), true);
        assert_eq!(got["error"], "Boom");
        assert_eq!(got["cause"], "it \"broke\"");
        assert_eq!(got["inputDetails"], json!({"included": false}));
        assert!(
            got.get("input").is_none() && got.get("output").is_none(),
            "{got}"
        );
        assert!(got.get("outputDetails").is_none(), "{got}");
    }
}
