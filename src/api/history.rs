//! Recorded history events in the shape of the model's `HistoryEvent`:
//! `id`, `previousEventId`, `timestamp`, `type` and the details member of
//! that type (`stateEnteredEventDetails`, `taskSucceededEventDetails`, ...).

use super::protocol::epoch_seconds;
use serde_json::{Map, Value as Json, json};
use spate_engine::interp::{EventType, HistoryEvent};
use std::collections::HashMap;

/// The `Resource` of every Task state of a definition, by state name
/// (state names are unique across a whole definition, branches included).
pub fn task_resources(definition: &str) -> HashMap<String, String> {
    fn walk(states: &Json, out: &mut HashMap<String, String>) {
        let Some(states) = states.as_object() else {
            return;
        };
        for (name, state) in states {
            if let Some(resource) = state.get("Resource").and_then(Json::as_str) {
                out.insert(name.clone(), resource.to_string());
            }
            for branch in state
                .get("Branches")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                walk(&branch["States"], out);
            }
            for processor in ["ItemProcessor", "Iterator"] {
                if let Some(p) = state.get(processor) {
                    walk(&p["States"], out);
                }
            }
        }
    }
    let mut out = HashMap::new();
    if let Ok(json) = serde_json::from_str::<Json>(definition) {
        walk(&json["States"], &mut out);
    }
    out
}

/// AWS's `resourceType` and `resource` of a Task's `Resource`:
/// `arn:aws:states:::lambda:invoke` is `lambda` and `invoke`; another ARN is
/// its service and the rest; anything else is reported whole.
fn resource_parts(resource: &str) -> (String, String) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::")
        && let Some((service, action)) = rest.split_once(':')
    {
        return (service.to_string(), action.to_string());
    }
    let fields: Vec<&str> = resource.splitn(6, ':').collect();
    if fields.len() == 6 && fields[0] == "arn" {
        return (fields[2].to_string(), fields[5].to_string());
    }
    ("custom".to_string(), resource.to_string())
}

/// One event as the model's `HistoryEvent`.
pub fn to_aws(
    event: &HistoryEvent,
    previous: Option<u32>,
    include_data: bool,
    resources: &HashMap<String, String>,
    region: &str,
    role_arn: &str,
) -> Json {
    let mut out = Map::new();
    out.insert("timestamp".into(), json!(epoch_seconds(event.timestamp)));
    out.insert("type".into(), json!(event.event_type.to_string()));
    out.insert("id".into(), json!(event.id));
    if let Some(p) = previous {
        out.insert("previousEventId".into(), json!(p));
    }
    let data = |key: &str, details: &mut Map<String, Json>| {
        if include_data && let Some(payload) = &event.payload {
            details.insert(key.into(), json!(payload.to_json()));
            details.insert(format!("{key}Details"), json!({"truncated": false}));
        }
    };
    let error = |details: &mut Map<String, Json>| {
        if let Some(e) = &event.error {
            if let Some(name) = e.error() {
                details.insert("error".into(), json!(name));
            }
            if let Some(cause) = e.cause() {
                details.insert("cause".into(), json!(cause));
            }
        }
    };
    let state = event.state.as_deref().unwrap_or("");
    let (resource_type, resource) = resource_parts(resources.get(state).map_or("", String::as_str));
    let mut details = Map::new();
    let key = match event.event_type {
        EventType::ExecutionStarted => {
            data("input", &mut details);
            details.insert("roleArn".into(), json!(role_arn));
            "executionStartedEventDetails"
        }
        EventType::ExecutionSucceeded => {
            data("output", &mut details);
            "executionSucceededEventDetails"
        }
        EventType::ExecutionFailed => {
            error(&mut details);
            "executionFailedEventDetails"
        }
        EventType::ExecutionTimedOut => {
            error(&mut details);
            "executionTimedOutEventDetails"
        }
        EventType::ExecutionAborted => {
            error(&mut details);
            "executionAbortedEventDetails"
        }
        EventType::StateEntered(_) => {
            details.insert("name".into(), json!(state));
            data("input", &mut details);
            "stateEnteredEventDetails"
        }
        EventType::StateExited(_) => {
            details.insert("name".into(), json!(state));
            data("output", &mut details);
            "stateExitedEventDetails"
        }
        EventType::TaskScheduled => {
            details.insert("resourceType".into(), json!(resource_type));
            details.insert("resource".into(), json!(resource));
            details.insert("region".into(), json!(region));
            let parameters = match (&event.payload, include_data) {
                (Some(p), true) => p.to_json(),
                _ => String::new(),
            };
            details.insert("parameters".into(), json!(parameters));
            "taskScheduledEventDetails"
        }
        EventType::TaskStarted => {
            details.insert("resourceType".into(), json!(resource_type));
            details.insert("resource".into(), json!(resource));
            "taskStartedEventDetails"
        }
        EventType::TaskSucceeded => {
            details.insert("resourceType".into(), json!(resource_type));
            details.insert("resource".into(), json!(resource));
            data("output", &mut details);
            "taskSucceededEventDetails"
        }
        EventType::TaskFailed | EventType::TaskTimedOut => {
            details.insert("resourceType".into(), json!(resource_type));
            details.insert("resource".into(), json!(resource));
            error(&mut details);
            if event.event_type == EventType::TaskFailed {
                "taskFailedEventDetails"
            } else {
                "taskTimedOutEventDetails"
            }
        }
        EventType::LambdaFunctionScheduled => {
            details.insert(
                "resource".into(),
                json!(resources.get(state).cloned().unwrap_or_default()),
            );
            data("input", &mut details);
            "lambdaFunctionScheduledEventDetails"
        }
        EventType::LambdaFunctionSucceeded => {
            data("output", &mut details);
            "lambdaFunctionSucceededEventDetails"
        }
        EventType::LambdaFunctionFailed => {
            error(&mut details);
            "lambdaFunctionFailedEventDetails"
        }
        EventType::LambdaFunctionTimedOut => {
            error(&mut details);
            "lambdaFunctionTimedOutEventDetails"
        }
        EventType::MapIterationStarted
        | EventType::MapIterationSucceeded
        | EventType::MapIterationFailed => {
            details.insert("name".into(), json!(state));
            if let Some(index) = event.map_index {
                details.insert("index".into(), json!(index));
            }
            match event.event_type {
                EventType::MapIterationStarted => "mapIterationStartedEventDetails",
                EventType::MapIterationSucceeded => "mapIterationSucceededEventDetails",
                _ => "mapIterationFailedEventDetails",
            }
        }
        EventType::LambdaFunctionStarted
        | EventType::ParallelStateStarted
        | EventType::ParallelStateSucceeded
        | EventType::ParallelStateFailed
        | EventType::MapStateStarted
        | EventType::MapStateSucceeded
        | EventType::MapStateFailed => "",
    };
    if !key.is_empty() {
        out.insert(key.into(), Json::Object(details));
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_found_in_branches_and_split_as_aws_does() {
        let found = task_resources(
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}],"End":true}}}"#,
        );
        assert_eq!(found["T"], "arn:aws:states:::lambda:invoke");
        assert_eq!(
            resource_parts("arn:aws:states:::lambda:invoke"),
            ("lambda".into(), "invoke".into())
        );
        assert_eq!(
            resource_parts("arn:aws:states:us-east-1:1:activity:work"),
            ("states".into(), "activity:work".into())
        );
    }
}
