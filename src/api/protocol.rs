//! The AWS JSON 1.0 protocol: the action named by `X-Amz-Target`
//! (`AWSStepFunctions.<Action>`), request bodies read into the model's input
//! shapes (naming the field at fault when one does not fit), the model's
//! length constraints, timestamps as epoch seconds, and paging tokens.

use super::errors::{AMZ_JSON, ApiError, ApiResult};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use spate_engine::time::Timestamp;

/// The `X-Amz-Target` prefix of every Step Functions action.
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";

/// The actions Spate answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Action {
    CreateStateMachine,
    DescribeStateMachine,
    ListStateMachines,
    UpdateStateMachine,
    DeleteStateMachine,
    PublishStateMachineVersion,
    ListStateMachineVersions,
    ValidateStateMachineDefinition,
    TagResource,
    UntagResource,
    ListTagsForResource,
    StartExecution,
    StartSyncExecution,
    DescribeExecution,
    ListExecutions,
    StopExecution,
    GetExecutionHistory,
    DescribeStateMachineForExecution,
    SendTaskSuccess,
    SendTaskFailure,
    SendTaskHeartbeat,
    CreateActivity,
    DescribeActivity,
    ListActivities,
    DeleteActivity,
    GetActivityTask,
    TestState,
}

impl Action {
    /// Every action, for lookups by name.
    pub const ALL: [Action; 27] = [
        Action::CreateStateMachine,
        Action::DescribeStateMachine,
        Action::ListStateMachines,
        Action::UpdateStateMachine,
        Action::DeleteStateMachine,
        Action::PublishStateMachineVersion,
        Action::ListStateMachineVersions,
        Action::ValidateStateMachineDefinition,
        Action::TagResource,
        Action::UntagResource,
        Action::ListTagsForResource,
        Action::StartExecution,
        Action::StartSyncExecution,
        Action::DescribeExecution,
        Action::ListExecutions,
        Action::StopExecution,
        Action::GetExecutionHistory,
        Action::DescribeStateMachineForExecution,
        Action::SendTaskSuccess,
        Action::SendTaskFailure,
        Action::SendTaskHeartbeat,
        Action::CreateActivity,
        Action::DescribeActivity,
        Action::ListActivities,
        Action::DeleteActivity,
        Action::GetActivityTask,
        Action::TestState,
    ];

    /// The action an `X-Amz-Target` header names, or
    /// `UnknownOperationException` (`MissingAction` without the header).
    pub fn from_headers(headers: &HeaderMap) -> ApiResult<Action> {
        let Some(target) = headers.get("x-amz-target") else {
            return Err(ApiError::new(
                "MissingAction",
                "the X-Amz-Target header is missing (expected AWSStepFunctions.<Action>)",
            ));
        };
        let target = target.to_str().unwrap_or("");
        let name = target.strip_prefix(TARGET_PREFIX).unwrap_or("");
        Action::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                ApiError::new(
                    "UnknownOperationException",
                    format!("unknown or unsupported operation: X-Amz-Target '{target}'"),
                )
            })
    }

    /// Its name, as in `X-Amz-Target`.
    pub fn name(self) -> &'static str {
        match self {
            Action::CreateStateMachine => "CreateStateMachine",
            Action::DescribeStateMachine => "DescribeStateMachine",
            Action::ListStateMachines => "ListStateMachines",
            Action::UpdateStateMachine => "UpdateStateMachine",
            Action::DeleteStateMachine => "DeleteStateMachine",
            Action::PublishStateMachineVersion => "PublishStateMachineVersion",
            Action::ListStateMachineVersions => "ListStateMachineVersions",
            Action::ValidateStateMachineDefinition => "ValidateStateMachineDefinition",
            Action::TagResource => "TagResource",
            Action::UntagResource => "UntagResource",
            Action::ListTagsForResource => "ListTagsForResource",
            Action::StartExecution => "StartExecution",
            Action::StartSyncExecution => "StartSyncExecution",
            Action::DescribeExecution => "DescribeExecution",
            Action::ListExecutions => "ListExecutions",
            Action::StopExecution => "StopExecution",
            Action::GetExecutionHistory => "GetExecutionHistory",
            Action::DescribeStateMachineForExecution => "DescribeStateMachineForExecution",
            Action::SendTaskSuccess => "SendTaskSuccess",
            Action::SendTaskFailure => "SendTaskFailure",
            Action::SendTaskHeartbeat => "SendTaskHeartbeat",
            Action::CreateActivity => "CreateActivity",
            Action::DescribeActivity => "DescribeActivity",
            Action::ListActivities => "ListActivities",
            Action::DeleteActivity => "DeleteActivity",
            Action::GetActivityTask => "GetActivityTask",
            Action::TestState => "TestState",
        }
    }

    /// The largest body the action accepts: definitions may be 1 MiB and
    /// inputs and outputs 256 KiB (AWS's limits, counted in characters of
    /// the unescaped string); escaping may double them, and the envelope
    /// adds a little.
    pub fn body_limit(self) -> usize {
        const ENVELOPE: usize = 16 * 1024;
        match self {
            Action::CreateStateMachine
            | Action::UpdateStateMachine
            | Action::ValidateStateMachineDefinition
            | Action::TestState => 2 * spate_engine::limits::DEFINITION_BYTES + ENVELOPE,
            _ => 2 * spate_engine::limits::PAYLOAD_BYTES + ENVELOPE,
        }
    }
}

/// Reads a request body into an input shape. Bodies that are not JSON, and
/// fields of the wrong type, are `SerializationException`; a missing
/// required field is `ValidationException`; both name the field.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let not_json = |e: serde_json::Error| {
        ApiError::new(
            "SerializationException",
            format!("the request body is not valid JSON: {e}"),
        )
    };
    // The common case pays for no path tracking; a failure is read again
    // with it, to name the field.
    if let Ok(parsed) = serde_json::from_slice(body) {
        return Ok(parsed);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            not_json(inner)
        } else if inner.to_string().starts_with("missing field") {
            ApiError::validation(format!("{inner}"))
        } else {
            ApiError::new(
                "SerializationException",
                format!("field '{field}': {inner}"),
            )
        }
    })?;
    deserializer.end().map_err(not_json)?;
    Ok(parsed)
}

/// Checks a string field's length (in characters) against the model's
/// `min` and `max`.
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> ApiResult<()> {
    let n = if value.len() <= max {
        value.chars().count()
    } else {
        value.chars().take(max + 1).count()
    };
    if n < min {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
        )));
    }
    if n > max {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        )));
    }
    Ok(())
}

/// Checks an optional string field's length.
pub fn check_opt_len(field: &str, value: Option<&str>, min: usize, max: usize) -> ApiResult<()> {
    value.map_or(Ok(()), |v| check_len(field, v, min, max))
}

/// Checks `maxResults` (the model's `PageSize`: 0 to 1000) and gives the
/// page size to use (0 means the default, 100).
pub fn page_size(max_results: Option<i64>, max: i64) -> ApiResult<usize> {
    match max_results {
        None | Some(0) => Ok(100.min(max as usize)),
        Some(n) if (0..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and {max}"
        ))),
    }
}

/// A paging token naming where the next page starts.
pub fn encode_token(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// The position a paging token names, or `InvalidToken`.
pub fn decode_token(token: &str) -> ApiResult<String> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::new("InvalidToken", format!("Invalid Token: '{token}'")))
}

/// A timestamp as the protocol writes it: epoch seconds, millisecond precision.
pub fn epoch_seconds(t: Timestamp) -> f64 {
    t.unix_millis() as f64 / 1000.0
}

/// Now, as a timestamp.
pub fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    Timestamp::from_unix_nanos(nanos)
}

/// A 200 with an output shape as its body.
pub fn reply<T: Serialize>(output: &T) -> Response {
    reply_bytes(serde_json::to_vec(output).expect("output shapes serialize"))
}

/// A `200` answer whose body is `json`, already written.
pub fn reply_bytes(json: Vec<u8>) -> Response {
    let mut response = json.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
    response
}

/// `{}`: the output of actions whose output shape has no members.
pub fn empty() -> Response {
    reply(&serde_json::Map::new())
}

/// AWS's rules for names of state machines, executions and activities:
/// 1 to 80 characters, no white space, brackets, wildcards, the special
/// characters `"#%\^|~`$&,;:/` or control characters; `InvalidName` otherwise.
pub fn check_name(name: &str) -> ApiResult<()> {
    let bad = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
    };
    let n = name.chars().count();
    if n == 0 || n > 80 {
        return Err(ApiError::new(
            "InvalidName",
            format!("Invalid Name: '{name}' (a name has 1 to 80 characters)"),
        ));
    }
    if let Some(c) = name.chars().find(|&c| bad(c)) {
        return Err(ApiError::new(
            "InvalidName",
            format!("Invalid Name: '{name}' (the character {c:?} is not allowed)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_actions() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSStepFunctions.StartSyncExecution"),
        );
        assert_eq!(
            Action::from_headers(&headers).unwrap(),
            Action::StartSyncExecution
        );
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSStepFunctions.Nope"),
        );
        assert_eq!(
            Action::from_headers(&headers).unwrap_err().code,
            "UnknownOperationException"
        );
        for action in Action::ALL {
            assert_eq!(format!("{action:?}"), action.name());
        }
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Shape {
        name: String,
        #[serde(default)]
        max: Option<i64>,
    }

    #[test]
    fn bodies_name_the_field_at_fault() {
        assert_eq!(
            parse::<Shape>(b"{").unwrap_err().code,
            "SerializationException"
        );
        let wrong = parse::<Shape>(br#"{"name": 3}"#).unwrap_err();
        assert_eq!(wrong.code, "SerializationException");
        assert!(wrong.message.contains("'name'"), "{}", wrong.message);
        let missing = parse::<Shape>(b"").unwrap_err();
        assert_eq!(missing.code, "ValidationException");
        assert!(missing.message.contains("name"), "{}", missing.message);
        assert!(parse::<Shape>(br#"{"name": "x", "max": 1}"#).is_ok());
    }

    #[test]
    fn names_and_lengths() {
        assert!(check_name("orders-2024_v1.a").is_ok());
        for bad in ["", "a b", "a/b", "a:b", &"x".repeat(81)] {
            assert_eq!(check_name(bad).unwrap_err().code, "InvalidName", "{bad}");
        }
        assert!(check_len("input", "abc", 0, 3).is_ok());
        assert_eq!(
            check_len("input", "abcd", 0, 3).unwrap_err().code,
            "ValidationException"
        );
        assert_eq!(decode_token(&encode_token("b")).unwrap(), "b");
        assert_eq!(decode_token("!!").unwrap_err().code, "InvalidToken");
    }
}
