//! One history event as an AWS Express log record: the JSON object
//! CloudWatch Logs holds for a Step Functions Express execution.
//!
//! ```json
//! {"id": "5", "type": "TaskFailed",
//!  "details": {"resourceType": "lambda", "resource": "invoke",
//!              "error": "Boom", "cause": "it broke"},
//!  "previous_event_id": "4", "event_timestamp": "1764700000123",
//!  "execution_arn": "arn:aws:states:...:execution:orders:in-0-42",
//!  "redrive_count": "0"}
//! ```
//!
//! Every top-level value is a string, as AWS writes them. `details` holds
//! the event's fields under AWS's names: `name` for state events, `input` /
//! `output` (the JSON text) with `inputDetails` / `outputDetails`
//! (`{"truncated": bool}`) when the state machine includes execution data,
//! `error` and `cause` for failures, `resourceType` and `resource` for task
//! events, `index` for Map iterations. `previous_event_id` is the id before
//! the event's own in the execution's numbering (0 for `ExecutionStarted`).

use serde_json::{Map, Value as Json, json};
use spate_engine::interp::{EventType, HistoryEvent};
use spate_engine::value::Value;

/// The longest `input` or `output` a record carries, in bytes of JSON
/// text: AWS truncates larger payloads (248 KB) and says so in
/// `inputDetails` / `outputDetails`.
pub const MAX_PAYLOAD_BYTES: usize = 248 * 1024;

/// The record's top-level fields, in AWS's order, as strings (`details` is
/// a JSON object's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `id`.
    pub id: String,
    /// `type`: the event type's AWS name.
    pub event_type: String,
    /// `details`, as JSON text.
    pub details: String,
    /// `previous_event_id`.
    pub previous_event_id: String,
    /// `event_timestamp`: milliseconds since the Unix epoch.
    pub event_timestamp: String,
    /// `execution_arn`.
    pub execution_arn: String,
    /// `redrive_count` (always 0: Express executions are not redriven).
    pub redrive_count: &'static str,
}

impl Record {
    /// The record of `event`.
    pub fn of(event: &HistoryEvent) -> Record {
        Record {
            id: event.id.to_string(),
            event_type: event.event_type.to_string(),
            details: serde_json::to_string(&details(event)).unwrap_or_default(),
            previous_event_id: event.id.saturating_sub(1).to_string(),
            event_timestamp: event.timestamp.unix_millis().to_string(),
            execution_arn: event.execution_arn.to_string(),
            redrive_count: "0",
        }
    }

    /// The record as one JSON object, fields in AWS's order.
    pub fn to_json(&self) -> Json {
        let details: Json = serde_json::from_str(&self.details).unwrap_or(Json::Null);
        json!({
            "id": self.id,
            "type": self.event_type,
            "details": details,
            "previous_event_id": self.previous_event_id,
            "event_timestamp": self.event_timestamp,
            "execution_arn": self.execution_arn,
            "redrive_count": self.redrive_count,
        })
    }
}

/// Where an event's payload goes in its details.
enum PayloadField {
    Input,
    Output,
    /// `TaskScheduled`'s `parameters` (no details object).
    Parameters,
}

/// `details` of `event`.
pub fn details(event: &HistoryEvent) -> Map<String, Json> {
    let mut details = Map::new();
    if let Some(state) = &event.state {
        details.insert("name".into(), Json::from(state.as_str()));
    }
    if let Some(index) = event.map_index
        && matches!(
            event.event_type,
            EventType::MapIterationStarted
                | EventType::MapIterationSucceeded
                | EventType::MapIterationFailed
        )
    {
        details.insert("index".into(), Json::from(index));
    }
    if let Some(resource) = &event.resource {
        if matches!(
            event.event_type,
            EventType::LambdaFunctionScheduled
                | EventType::LambdaFunctionStarted
                | EventType::LambdaFunctionSucceeded
                | EventType::LambdaFunctionFailed
                | EventType::LambdaFunctionTimedOut
        ) {
            if event.event_type == EventType::LambdaFunctionScheduled {
                details.insert("resource".into(), Json::from(resource.as_str()));
            }
        } else {
            let (kind, name) = split_resource(resource);
            if let Some(kind) = kind {
                details.insert("resourceType".into(), Json::from(kind));
            }
            details.insert("resource".into(), Json::from(name));
            if event.event_type == EventType::TaskScheduled
                && let Some(region) = event.execution_arn.split(':').nth(3)
            {
                details.insert("region".into(), Json::from(region));
            }
        }
    }
    if event.event_type == EventType::ExecutionStarted {
        let account = event.execution_arn.split(':').nth(4).unwrap_or_default();
        details.insert(
            "roleArn".into(),
            Json::from(spate_engine::interp::role_arn_in(account)),
        );
    }
    if let Some(payload) = &event.payload
        && let Some(field) = payload_field(event.event_type)
    {
        let (text, truncated) = payload_text(payload);
        match field {
            PayloadField::Input => {
                details.insert("input".into(), Json::from(text));
                details.insert("inputDetails".into(), json!({"truncated": truncated}));
            }
            PayloadField::Output => {
                details.insert("output".into(), Json::from(text));
                details.insert("outputDetails".into(), json!({"truncated": truncated}));
            }
            PayloadField::Parameters => {
                details.insert("parameters".into(), Json::from(text));
            }
        }
    }
    if let Some(error) = &event.error {
        if let Some(name) = error.error() {
            details.insert("error".into(), Json::from(name));
        }
        if let Some(cause) = error.cause() {
            details.insert("cause".into(), Json::from(cause));
        }
    }
    details
}

/// Which details field an event type's payload fills, if any.
fn payload_field(event_type: EventType) -> Option<PayloadField> {
    match event_type {
        EventType::ExecutionStarted
        | EventType::StateEntered(_)
        | EventType::LambdaFunctionScheduled => Some(PayloadField::Input),
        EventType::ExecutionSucceeded
        | EventType::StateExited(_)
        | EventType::TaskSucceeded
        | EventType::LambdaFunctionSucceeded => Some(PayloadField::Output),
        EventType::TaskScheduled => Some(PayloadField::Parameters),
        _ => None,
    }
}

/// The payload's JSON text, cut to [`MAX_PAYLOAD_BYTES`] (on a character
/// boundary), and whether it was cut.
fn payload_text(payload: &Value) -> (String, bool) {
    let mut text = payload.to_json();
    if text.len() <= MAX_PAYLOAD_BYTES {
        return (text, false);
    }
    let mut end = MAX_PAYLOAD_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

/// AWS's `resourceType` and `resource` of a task resource:
/// `arn:aws:states:::lambda:invoke` is `lambda` and `invoke`,
/// `arn:aws:states:::sqs:sendMessage.waitForTaskToken` is `sqs` and
/// `sendMessage.waitForTaskToken`; another ARN is its service and the whole
/// ARN; anything else (a locally registered handler) has no type.
fn split_resource(resource: &str) -> (Option<&str>, &str) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::")
        && let Some((kind, name)) = rest.split_once(':')
    {
        return (Some(kind), name);
    }
    if resource.starts_with("arn:")
        && let Some(service) = resource.split(':').nth(2)
    {
        return (Some(service), resource);
    }
    (None, resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spate_engine::error::StatesError;
    use spate_engine::json;
    use spate_engine::time::Timestamp;

    const ARN: &str = "arn:aws:states:eu-west-1:111122223333:execution:orders:in-0-42";

    fn event(id: u32, event_type: EventType) -> HistoryEvent {
        HistoryEvent {
            id,
            execution_arn: ARN.into(),
            timestamp: Timestamp::from_unix_nanos(1_764_700_000_123_456_789),
            event_type,
            state: None,
            map_index: None,
            resource: None,
            payload: None,
            error: None,
        }
    }

    #[test]
    fn execution_started_with_and_without_data() {
        let mut started = event(1, EventType::ExecutionStarted);
        let without = Record::of(&started).to_json();
        assert_eq!(
            without,
            serde_json::json!({
                "id": "1",
                "type": "ExecutionStarted",
                "details": {"roleArn": "arn:aws:iam::111122223333:role/spate-execution"},
                "previous_event_id": "0",
                "event_timestamp": "1764700000123",
                "execution_arn": ARN,
                "redrive_count": "0"
            })
        );
        started.payload = Some(json!({"order": 7}));
        let with = Record::of(&started).to_json();
        assert_eq!(
            with["details"],
            serde_json::json!({
                "roleArn": "arn:aws:iam::111122223333:role/spate-execution",
                "input": "{\"order\":7}",
                "inputDetails": {"truncated": false}
            })
        );
        let keys: Vec<&String> = with.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "id",
                "type",
                "details",
                "previous_event_id",
                "event_timestamp",
                "execution_arn",
                "redrive_count"
            ]
        );
    }

    #[test]
    fn task_failed_names_the_resource_error_and_cause() {
        let mut failed = event(5, EventType::TaskFailed);
        failed.resource = Some("arn:aws:states:::lambda:invoke".into());
        failed.error = Some(StatesError::new("Boom", "it broke"));
        assert_eq!(
            Record::of(&failed).to_json(),
            serde_json::json!({
                "id": "5",
                "type": "TaskFailed",
                "details": {
                    "resourceType": "lambda",
                    "resource": "invoke",
                    "error": "Boom",
                    "cause": "it broke"
                },
                "previous_event_id": "4",
                "event_timestamp": "1764700000123",
                "execution_arn": ARN,
                "redrive_count": "0"
            })
        );
    }

    #[test]
    fn execution_failed_carries_error_and_cause_only() {
        let mut failed = event(8, EventType::ExecutionFailed);
        failed.error = Some(StatesError::new("States.TaskFailed", "no luck"));
        assert_eq!(
            Record::of(&failed).to_json()["details"],
            serde_json::json!({"error": "States.TaskFailed", "cause": "no luck"})
        );
    }

    #[test]
    fn state_and_task_events_name_their_fields() {
        let mut entered = event(2, EventType::StateEntered("Pass"));
        entered.state = Some("Shape".into());
        entered.payload = Some(json!([1]));
        assert_eq!(
            Record::of(&entered).to_json()["details"],
            serde_json::json!({"name": "Shape", "input": "[1]", "inputDetails": {"truncated": false}})
        );
        let mut exited = event(3, EventType::StateExited("Pass"));
        exited.state = Some("Shape".into());
        exited.payload = Some(json!("x"));
        assert_eq!(
            Record::of(&exited).to_json()["details"],
            serde_json::json!({"name": "Shape", "output": "\"x\"", "outputDetails": {"truncated": false}})
        );
        let mut scheduled = event(4, EventType::TaskScheduled);
        scheduled.resource = Some("arn:aws:states:::sqs:sendMessage".into());
        scheduled.payload = Some(json!({"QueueUrl": "q"}));
        assert_eq!(
            Record::of(&scheduled).to_json()["details"],
            serde_json::json!({
                "resourceType": "sqs",
                "resource": "sendMessage",
                "region": "eu-west-1",
                "parameters": "{\"QueueUrl\":\"q\"}"
            })
        );
        let mut iteration = event(9, EventType::MapIterationStarted);
        iteration.map_index = Some(3);
        assert_eq!(
            Record::of(&iteration).to_json()["details"],
            serde_json::json!({"index": 3})
        );
    }

    #[test]
    fn large_payloads_are_cut_and_marked_truncated() {
        let mut exited = event(3, EventType::ExecutionSucceeded);
        exited.payload = Some(json!("é".repeat(MAX_PAYLOAD_BYTES)));
        let details = details(&exited);
        let output = details["output"].as_str().unwrap();
        assert!(output.len() <= MAX_PAYLOAD_BYTES && output.len() > MAX_PAYLOAD_BYTES - 4);
        assert_eq!(
            details["outputDetails"],
            serde_json::json!({"truncated": true})
        );
    }

    #[test]
    fn resources_split_as_aws_names_them() {
        assert_eq!(
            split_resource("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            (Some("sqs"), "sendMessage.waitForTaskToken")
        );
        assert_eq!(
            split_resource("arn:aws:lambda:us-east-1:1:function:f"),
            (Some("lambda"), "arn:aws:lambda:us-east-1:1:function:f")
        );
        assert_eq!(split_resource("double"), (None, "double"));
    }
}
