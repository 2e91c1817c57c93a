//! The `arn:spate:::kafka:produce` Task integration, for routing workflows:
//!
//! ```json
//! "Route": {
//!   "Type": "Task",
//!   "Resource": "arn:spate:::kafka:produce",
//!   "Parameters": {
//!     "Topic": "alerts",
//!     "Key.$": "$.device_id",
//!     "Value.$": "$",
//!     "Headers": {"source": "spate"}
//!   },
//!   "End": true
//! }
//! ```
//!
//! `Topic` (string) is required; `Key` (string), `Value` (any JSON: a string
//! is written as its text, anything else as JSON; default `null`),
//! `Headers` (object of strings) and `Partition` (integer) are optional.
//! The task succeeds with `{"Topic", "Partition", "Offset"}` once the
//! cluster acknowledges the record, so the record is safe before the
//! execution's own output is published and its offset committed. It fails
//! with `Kafka.InvalidParameters` for bad parameters and `Kafka.ProduceFailed`
//! when the cluster refuses the record (both retryable with `Retry`).
//!
//! As `arn:spate:::kafka:produce.waitForTaskToken` the record carries the
//! task's token in a `spate-task-token` header, and the Task waits for the
//! callback that brings the token back (whoever consumes the record
//! answers); the record's acknowledgement only delivers the token.

use super::client::{self, Throttle};
use crate::config::KafkaSettings;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, ClientContext};
use spate_engine::error::StatesError;
use spate_engine::task::{TaskCall, TaskHandler, TaskReply};
use spate_engine::value::{Map, Str, Value};
use std::sync::Arc;
use std::time::Duration;

/// The resource string this handler serves.
pub const PRODUCE_RESOURCE: &str = "arn:spate:::kafka:produce";

/// How long a record may wait in the producer's queue when it is full.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// Logs the producer's errors, throttled.
pub struct TaskContext {
    throttle: Throttle,
}

impl ClientContext for TaskContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        self.throttle
            .librdkafka("kafka:produce task", level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.throttle.error("kafka:produce task", &error, reason);
    }
}

/// Produces a record per invocation.
#[derive(Clone)]
pub struct KafkaProduceTask {
    producer: FutureProducer<TaskContext>,
}

impl KafkaProduceTask {
    /// A handler producing to the cluster at `bootstrap`, with the
    /// producer properties of `kafka`.
    pub fn new(kafka: &KafkaSettings, bootstrap: &str) -> Result<KafkaProduceTask, KafkaError> {
        let config: ClientConfig = client::producer_config(kafka, bootstrap);
        Ok(KafkaProduceTask {
            producer: config.create_with_context(TaskContext {
                throttle: Throttle::default(),
            })?,
        })
    }

    /// Registers the handler under [`PRODUCE_RESOURCE`].
    pub fn register(self, resources: &mut spate_engine::task::Resources) {
        resources.register(PRODUCE_RESOURCE, Arc::new(self));
    }
}

fn invalid(cause: impl Into<String>) -> StatesError {
    StatesError::new("Kafka.InvalidParameters", cause)
}

/// The header that carries a `.waitForTaskToken` task's token.
pub const TASK_TOKEN_HEADER: &str = "spate-task-token";

/// The record a call asks for: its parameters, and the task token, if any,
/// as a header.
fn request_for(call: &TaskCall) -> Result<Request, StatesError> {
    let mut request = request(&call.input)?;
    if let Some(token) = &call.task_token {
        request
            .headers
            .push((TASK_TOKEN_HEADER.to_string(), token.to_string()));
    }
    Ok(request)
}

/// The record a call asks for.
struct Request {
    topic: String,
    key: Option<String>,
    payload: Vec<u8>,
    headers: Vec<(String, String)>,
    partition: Option<i32>,
}

fn request(input: &Value) -> Result<Request, StatesError> {
    let Some(params) = input.as_object() else {
        return Err(invalid(format!(
            "the parameters must be an object with Topic and Value, got {}",
            input.json_type()
        )));
    };
    for (name, _) in params.iter() {
        if !matches!(
            name.as_str(),
            "Topic" | "Key" | "Value" | "Headers" | "Partition"
        ) {
            return Err(invalid(format!(
                "unknown parameter {name:?}: expected Topic, Key, Value, Headers, Partition"
            )));
        }
    }
    let topic = match params.get("Topic") {
        Some(Value::String(t)) if !t.is_empty() => t.to_string(),
        Some(other) => {
            return Err(invalid(format!(
                "Topic must be a non-empty string, got {other}"
            )));
        }
        None => return Err(invalid("Topic is required")),
    };
    let key = match params.get("Key") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.to_string()),
        Some(other) => return Err(invalid(format!("Key must be a string, got {other}"))),
    };
    let payload = match params.get("Value") {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        Some(v) => v.to_json_bytes(),
        None => b"null".to_vec(),
    };
    let mut headers = Vec::new();
    match params.get("Headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map.iter() {
                match value {
                    Value::String(v) => headers.push((name.to_string(), v.to_string())),
                    other => {
                        return Err(invalid(format!(
                            "header {name:?} must be a string, got {other}"
                        )));
                    }
                }
            }
        }
        Some(other) => return Err(invalid(format!("Headers must be an object, got {other}"))),
    }
    let partition = match params.get("Partition") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(p) if (0..=i64::from(i32::MAX)).contains(&p) => Some(p as i32),
            _ => {
                return Err(invalid(format!(
                    "Partition must be a non-negative integer, got {v}"
                )));
            }
        },
    };
    Ok(Request {
        topic,
        key,
        payload,
        headers,
        partition,
    })
}

impl TaskHandler for KafkaProduceTask {
    fn invoke(&self, call: TaskCall) -> TaskReply {
        let request = match request_for(&call) {
            Ok(r) => r,
            Err(e) => return TaskReply::Ready(Err(e)),
        };
        let producer = self.producer.clone();
        TaskReply::Pending(Box::pin(async move {
            let mut headers = OwnedHeaders::new_with_capacity(request.headers.len());
            for (k, v) in &request.headers {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            let mut record: FutureRecord<'_, str, [u8]> = FutureRecord::to(&request.topic)
                .payload(&request.payload[..])
                .headers(headers);
            if let Some(k) = &request.key {
                record = record.key(k.as_str());
            }
            if let Some(p) = request.partition {
                record = record.partition(p);
            }
            match producer.send(record, QUEUE_TIMEOUT).await {
                Ok(delivery) => {
                    let mut out = Map::with_capacity(3);
                    out.insert(Str::new("Topic"), Value::string(&request.topic));
                    out.insert(
                        Str::new("Partition"),
                        Value::from(i64::from(delivery.partition)),
                    );
                    out.insert(Str::new("Offset"), Value::from(delivery.offset));
                    Ok(Value::object(out))
                }
                Err((e, _)) => Err(StatesError::new(
                    "Kafka.ProduceFailed",
                    format!("producing to {} failed: {e}", request.topic),
                )),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spate_engine::json;

    #[test]
    fn a_waiting_task_sends_its_token_in_a_header() {
        let mut call = TaskCall {
            resource: Str::new("arn:spate:::kafka:produce.waitForTaskToken"),
            input: json!({"Topic": "jobs", "Value": {"n": 1}, "Headers": {"h": "v"}}),
            credentials: None,
            timeout: None,
            heartbeat: None,
            execution_name: Str::new("e"),
            state_name: Str::new("s"),
            retry_count: 0,
            invocation: 0,
            task_token: Some(Str::new("opaque-token")),
        };
        let r = request_for(&call).unwrap();
        assert_eq!(
            r.headers,
            [
                ("h".to_string(), "v".to_string()),
                (TASK_TOKEN_HEADER.to_string(), "opaque-token".to_string())
            ]
        );
        call.task_token = None;
        assert_eq!(request_for(&call).unwrap().headers.len(), 1);
    }

    #[test]
    fn parameters_are_checked() {
        let r = request(&json!({"Topic": "t", "Key": "k", "Value": {"a": 1},
                                "Headers": {"h": "v"}, "Partition": 2}))
        .unwrap();
        assert_eq!(r.topic, "t");
        assert_eq!(r.key.as_deref(), Some("k"));
        assert_eq!(r.payload, br#"{"a":1}"#);
        assert_eq!(r.headers, [("h".to_string(), "v".to_string())]);
        assert_eq!(r.partition, Some(2));
        assert_eq!(
            request(&json!({"Topic": "t", "Value": "text"}))
                .unwrap()
                .payload,
            b"text"
        );
        for bad in [
            json!("x"),
            json!({"Value": 1}),
            json!({"Topic": ""}),
            json!({"Topic": "t", "Key": 1}),
            json!({"Topic": "t", "Headers": {"h": 1}}),
            json!({"Topic": "t", "Partition": -1}),
            json!({"Topic": "t", "Topik": 1}),
        ] {
            let e = request(&bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!(e.error(), Some("Kafka.InvalidParameters"), "{bad}");
        }
    }
}
