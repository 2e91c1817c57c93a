//! The task configuration a resources file holds (mock behaviours, HTTP Task
//! settings, Lambda endpoints) and [`build_resources`], which turns it into
//! a [`Resources`] registry.
//!
//! ```json
//! {
//!   "mocks": {"arn:aws:states:::sqs:sendMessage": {"kind": "return", "value": {}}},
//!   "http": {"timeout_seconds": 10,
//!            "connections": {"arn:aws:events:us-east-1:123456789012:connection/api/x":
//!                              {"headers": {"Authorization": "Bearer dev-token"}}}},
//!   "lambda": {"functions": {"resize": "http://127.0.0.1:9001"},
//!              "default_endpoint": "http://127.0.0.1:9000"}
//! }
//! ```
//!
//! Every section is optional. [`TaskConfig::from_json`] also reads the older
//! flat form, a JSON object mapping each `Resource` to a mock behaviour.

use super::http::{Client, HTTP_INVOKE, HttpConfig, HttpHandler};
use super::lambda::{LAMBDA_ARN_PREFIX, LAMBDA_INVOKE, LambdaConfig, LambdaHandler};
use super::{MockBehaviour, MockHandler, Resources};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Everything the task handlers of a dry run are built from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskConfig {
    /// Mock behaviours by exact `Resource` string. A mock wins over the
    /// HTTP and Lambda handlers for its resource (a mock for
    /// `arn:aws:states:::lambda:invoke` replaces every `lambda:invoke`).
    pub mocks: BTreeMap<String, MockBehaviour>,
    /// The HTTP Task (`arn:aws:states:::http:invoke`).
    pub http: HttpConfig,
    /// The Lambda integrations (`arn:aws:states:::lambda:invoke` and
    /// `arn:aws:lambda:...:function:...`).
    pub lambda: LambdaConfig,
}

/// A configuration that cannot be used, with the place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the problem is: a dotted path such as `lambda.functions.resize`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The sections of a [`TaskConfig`] object.
const SECTIONS: &[&str] = &["mocks", "http", "lambda"];

impl TaskConfig {
    /// Reads a configuration from JSON text. An object whose keys are not all
    /// section names (`mocks`, `http`, `lambda`) is read as the older flat
    /// form: every key a `Resource`, every value a mock behaviour.
    pub fn from_json(text: &str) -> Result<TaskConfig, ConfigError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ConfigError::new("", e.to_string()))?;
        let Some(object) = value.as_object() else {
            return Err(ConfigError::new(
                "",
                "expected a JSON object (with \"mocks\", \"http\", \"lambda\")",
            ));
        };
        let sectioned = object.keys().all(|k| SECTIONS.contains(&k.as_str()));
        if sectioned {
            serde_path_to_error::deserialize(&value).map_err(path_error)
        } else {
            let mocks = serde_path_to_error::deserialize(&value).map_err(path_error)?;
            Ok(TaskConfig {
                mocks,
                ..TaskConfig::default()
            })
        }
    }
}

fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> ConfigError {
    let path = e.path().to_string();
    let field = if path == "." { String::new() } else { path };
    ConfigError::new(field, e.into_inner().to_string())
}

/// Builds the handlers of `config`: the HTTP Task under
/// `arn:aws:states:::http:invoke`, Lambda under
/// `arn:aws:states:::lambda:invoke` and every `arn:aws:lambda:` resource,
/// and each mock under its exact resource (so mocks win). The HTTP and
/// Lambda handlers share one connection pool. Building needs no runtime;
/// invoking needs a Tokio runtime with I/O and time enabled.
pub fn build_resources(config: &TaskConfig) -> Result<Resources, ConfigError> {
    let client = Client::new();
    let http = HttpHandler::with_client(&config.http, client.clone())?;
    let lambda = Arc::new(LambdaHandler::with_client(&config.lambda, client)?);
    let mut resources = Resources::new();
    resources
        .register(HTTP_INVOKE, Arc::new(http))
        .register(LAMBDA_INVOKE, lambda.clone())
        .register_prefix(LAMBDA_ARN_PREFIX, lambda);
    for (resource, behaviour) in &config.mocks {
        resources.register(
            resource.as_str(),
            Arc::new(MockHandler::new(behaviour.clone())),
        );
    }
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{TaskCall, TaskReply};
    use crate::value::{Str, Value};
    use std::time::Duration;

    #[test]
    fn reads_the_sectioned_form() {
        let config = TaskConfig::from_json(
            r#"{"mocks": {"arn:x": {"kind": "echo"}},
                "http": {"timeout_seconds": 2.5},
                "lambda": {"functions": {"f": "http://127.0.0.1:9000"}, "region": "eu-west-1"}}"#,
        )
        .unwrap();
        assert_eq!(config.mocks["arn:x"], MockBehaviour::Echo);
        assert_eq!(config.http.timeout_seconds, 2.5);
        assert_eq!(config.lambda.functions["f"], "http://127.0.0.1:9000");
        assert_eq!(config.lambda.region, "eu-west-1");
        assert_eq!(config.lambda.account, "123456789012");
    }

    #[test]
    fn reads_the_flat_form() {
        let config = TaskConfig::from_json(r#"{"arn:x": {"kind": "echo"}}"#).unwrap();
        assert_eq!(config.mocks.len(), 1);
        assert_eq!(config.http, HttpConfig::default());
        assert_eq!(TaskConfig::from_json("{}").unwrap(), TaskConfig::default());
    }

    #[test]
    fn errors_name_the_field() {
        let err = TaskConfig::from_json(r#"{"lambda": {"functoins": {}}}"#).unwrap_err();
        assert_eq!(err.field, "lambda.functoins");
        assert!(err.message.contains("functoins"), "{err}");
        let err = TaskConfig::from_json(r#"{"http": {"timeout_seconds": "x"}}"#).unwrap_err();
        assert_eq!(err.field, "http.timeout_seconds");
        let err = TaskConfig::from_json(r#"{"arn:x": {"kind": "nope"}}"#).unwrap_err();
        assert_eq!(err.field, "arn:x.kind");
        assert!(TaskConfig::from_json("[]").is_err());

        let mut config = TaskConfig::default();
        config
            .lambda
            .functions
            .insert("f".to_string(), "not a url".to_string());
        let err = build_resources(&config).unwrap_err();
        assert_eq!(err.field, "lambda.functions.f", "{err}");
        let mut config = TaskConfig::default();
        config.http.timeout_seconds = 0.0;
        assert_eq!(
            build_resources(&config).unwrap_err().field,
            "http.timeout_seconds"
        );
    }

    #[test]
    fn mocks_win_over_the_generic_handlers() {
        let mut config = TaskConfig::default();
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:mocked";
        config.mocks.insert(
            arn.to_string(),
            MockBehaviour::Return {
                value: crate::json!("mocked"),
            },
        );
        let resources = build_resources(&config).unwrap();
        let call = |resource: &str| TaskCall {
            resource: Str::new(resource),
            input: Value::empty_object(),
            credentials: None,
            timeout: Some(Duration::from_secs(1)),
            heartbeat: None,
            execution_name: Str::new("e"),
            state_name: Str::new("s"),
            retry_count: 0,
            invocation: 0,
            task_token: None,
        };
        match resources.invoke(call(arn)) {
            TaskReply::Ready(r) => assert_eq!(r.unwrap(), crate::json!("mocked")),
            other => panic!("{other:?}"),
        }
        // Another function of the same prefix goes to the Lambda handler,
        // which knows no endpoint for it.
        match resources.invoke(call("arn:aws:lambda:us-east-1:123456789012:function:other")) {
            TaskReply::Ready(r) => assert_eq!(
                r.unwrap_err().error(),
                Some("Lambda.ResourceNotFoundException")
            ),
            other => panic!("{other:?}"),
        }
        assert!(resources.lookup(HTTP_INVOKE).is_some());
        assert!(resources.lookup(LAMBDA_INVOKE).is_some());
    }
}
