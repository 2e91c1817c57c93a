//! Mocked integrations in Step Functions Local's format: a mock
//! configuration file with `StateMachines` → state machine name →
//! `TestCases` → test case → state name → mocked response name, and
//! `MockedResponses` → response name → invocation range (`"0"`, `"1-2"`) →
//! `{"Return": value}` or `{"Throw": {"Error": ..., "Cause": ...}}`.
//! Starting an execution of `<state machine ARN>#<test case>` runs it with
//! that case: each mocked state's n-th invocation (from 0, retries
//! included) answers with the response its range gives; states the case
//! does not mock run their real handlers. A mocked `.waitForTaskToken` or
//! activity task completes with its response, as Step Functions Local does.

use super::errors::{ApiError, ApiResult};
use serde::Deserialize;
use spate_engine::error::StatesError;
use spate_engine::runtime::RuntimeHandle;
use spate_engine::task::{Resources, TaskCall, TaskHandler, TaskReply};
use spate_engine::value::{Value, parse_json_str};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct File {
    #[serde(default)]
    state_machines: HashMap<String, Machine>,
    #[serde(default)]
    mocked_responses: HashMap<String, HashMap<String, Response>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Machine {
    #[serde(default)]
    test_cases: HashMap<String, HashMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Response {
    #[serde(default)]
    r#return: Option<serde_json::Value>,
    #[serde(default)]
    throw: Option<Throw>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Throw {
    #[serde(default)]
    error: String,
    #[serde(default)]
    cause: String,
}

/// One invocation range's answer.
#[derive(Debug, Clone)]
enum Answer {
    Return(Value),
    Throw(StatesError),
}

/// A mocked response: answers by invocation number.
#[derive(Debug)]
struct Mocked {
    ranges: Vec<(u32, u32, Answer)>,
}

/// The states a test case mocks, with their responses.
type Case = HashMap<String, Arc<Mocked>>;

/// A loaded mock configuration.
#[derive(Default)]
pub struct MockConfig {
    cases: HashMap<(String, String), Arc<Case>>,
}

fn range(text: &str) -> Option<(u32, u32)> {
    let (lo, hi) = match text.split_once('-') {
        Some((lo, hi)) => (lo.trim().parse().ok()?, hi.trim().parse().ok()?),
        None => {
            let n = text.trim().parse().ok()?;
            (n, n)
        }
    };
    (lo <= hi).then_some((lo, hi))
}

impl MockConfig {
    /// Reads a mock configuration; every problem names where it is.
    pub fn parse(text: &str) -> Result<MockConfig, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        let mut responses = HashMap::new();
        for (name, by_range) in &file.mocked_responses {
            let mut ranges = Vec::new();
            for (text, response) in by_range {
                let at = format!("MockedResponses.{name}.\"{text}\"");
                let Some((lo, hi)) = range(text) else {
                    problems.push(format!(
                        "{at}: not an invocation number or range like \"1-2\""
                    ));
                    continue;
                };
                let answer = match (&response.r#return, &response.throw) {
                    (Some(value), None) => match parse_json_str(&value.to_string()) {
                        Ok(v) => Answer::Return(v),
                        Err(e) => {
                            problems.push(format!("{at}.Return: {e}"));
                            continue;
                        }
                    },
                    (None, Some(t)) => {
                        Answer::Throw(StatesError::new(t.error.as_str(), t.cause.as_str()))
                    }
                    _ => {
                        problems.push(format!("{at}: needs exactly one of Return and Throw"));
                        continue;
                    }
                };
                ranges.push((lo, hi, answer));
            }
            ranges.sort_by_key(|r| r.0);
            responses.insert(name.clone(), Arc::new(Mocked { ranges }));
        }
        let mut cases = HashMap::new();
        for (machine, m) in &file.state_machines {
            for (case, states) in &m.test_cases {
                let mut mocked = HashMap::new();
                for (state, response) in states {
                    match responses.get(response) {
                        Some(r) => {
                            mocked.insert(state.clone(), Arc::clone(r));
                        }
                        None => problems.push(format!(
                            "StateMachines.{machine}.TestCases.{case}.{state}: no mocked response is named '{response}'"
                        )),
                    }
                }
                cases.insert((machine.clone(), case.clone()), Arc::new(mocked));
            }
        }
        if problems.is_empty() {
            Ok(MockConfig { cases })
        } else {
            problems.sort();
            Err(problems.join("; "))
        }
    }

    /// The task handlers of one execution of `machine` under test case
    /// `case`: its mocked states answer from the configuration, the others
    /// go to `real`.
    pub fn resources_for(
        &self,
        machine: &str,
        case: &str,
        real: &Resources,
        runtime: &RuntimeHandle,
    ) -> ApiResult<Arc<Resources>> {
        let Some(mocked) = self.cases.get(&(machine.to_string(), case.to_string())) else {
            return Err(ApiError::validation(format!(
                "the mock configuration has no test case '{case}' for the state machine '{machine}'"
            )));
        };
        let handler = CaseHandler {
            case: Arc::clone(mocked),
            real: real.clone(),
            runtime: runtime.clone(),
            invocations: Mutex::new(HashMap::new()),
        };
        let mut resources = Resources::new();
        resources.register_prefix("", Arc::new(handler));
        Ok(Arc::new(resources))
    }
}

/// One execution's handler under a test case.
struct CaseHandler {
    case: Arc<Case>,
    real: Resources,
    runtime: RuntimeHandle,
    /// Invocations so far, by state.
    invocations: Mutex<HashMap<String, u32>>,
}

impl TaskHandler for CaseHandler {
    fn invoke(&self, call: TaskCall) -> TaskReply {
        let Some(mocked) = self.case.get(call.state_name.as_str()) else {
            return self.real.invoke(call);
        };
        let n = {
            let mut counts = self.invocations.lock().unwrap_or_else(|p| p.into_inner());
            let n = counts.entry(call.state_name.to_string()).or_insert(0);
            *n += 1;
            *n - 1
        };
        let Some((_, _, answer)) = mocked
            .ranges
            .iter()
            .find(|(lo, hi, _)| (*lo..=*hi).contains(&n))
        else {
            return TaskReply::Ready(Err(StatesError::runtime(format!(
                "the mocked response of state '{}' has no answer for invocation {n}",
                call.state_name
            ))));
        };
        let result = match answer {
            Answer::Return(v) => Ok(v.clone()),
            Answer::Throw(e) => Err(e.clone()),
        };
        match (call.task_token, result) {
            // A callback task completes with its callback: send it.
            (Some(token), Ok(value)) => {
                let runtime = self.runtime.clone();
                TaskReply::Pending(Box::pin(async move {
                    let _ = runtime.send_task_success(&token, value).await;
                    Ok(Value::Null)
                }))
            }
            (_, result) => TaskReply::Ready(result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_their_place() {
        let err = MockConfig::parse(
            r#"{"StateMachines": {"m": {"TestCases": {"c": {"S": "missing"}}}},
                "MockedResponses": {"r": {"x": {"Return": 1}, "0": {"Return": 1, "Throw": {"Error": "E"}}}}}"#,
        )
        .err()
        .unwrap();
        assert!(
            err.contains("MockedResponses.r.\"x\": not an invocation number"),
            "{err}"
        );
        assert!(
            err.contains("MockedResponses.r.\"0\": needs exactly one of Return and Throw"),
            "{err}"
        );
        assert!(
            err.contains("StateMachines.m.TestCases.c.S: no mocked response is named 'missing'"),
            "{err}"
        );
        assert!(MockConfig::parse(r#"{"Bogus": 1}"#).is_err());
        assert_eq!(range("1-3"), Some((1, 3)));
        assert_eq!(range("3-1"), None);
    }
}
