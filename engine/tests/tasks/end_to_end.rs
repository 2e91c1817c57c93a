//! Whole executions through `build_resources`: Parameters -> handler ->
//! ResultSelector / Catch, against local servers.

use crate::server::{json, respond, serve};
use spate_engine::plan::{CompileOptions, from_definition};
use spate_engine::runtime::{Completion, Runtime, RuntimeConfig, Status};
use spate_engine::task::{TaskConfig, build_resources};
use spate_engine::value::parse_json_str;
use spate_engine::{Value, json};
use std::sync::Arc;

async fn execute(definition: &str, input: Value, config: &TaskConfig) -> Completion {
    let plan = Arc::new(from_definition(definition, &CompileOptions::default()).unwrap());
    let config = RuntimeConfig {
        shards: 1,
        resources: build_resources(config).unwrap(),
        ..RuntimeConfig::default()
    };
    tokio::task::spawn_blocking(move || Runtime::run_once(config, plan, input).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn http_task_in_a_state_machine() {
    let server = serve(|r| async move {
        if r.uri.path() == "/missing" {
            return respond(404, &[("content-type", "text/plain")], "gone");
        }
        let body = parse_json_str(&r.body_text()).unwrap();
        json(
            200,
            serde_json::json!({
                "received": serde_json::Value::from(&body),
                "auth": r.headers.get("authorization").map(|v| v.to_str().unwrap()),
                "query": r.uri.query(),
            }),
        )
    })
    .await;
    let config = TaskConfig::from_json(
        r#"{"http": {"connections": {"arn:aws:events:us-east-1:123456789012:connection/orders/1":
             {"headers": {"Authorization": "Bearer local"}}}}}"#,
    )
    .unwrap();
    let definition = r#"{
      "StartAt": "Create",
      "States": {
        "Create": {
          "Type": "Task",
          "Resource": "arn:aws:states:::http:invoke",
          "Parameters": {
            "ApiEndpoint.$": "States.Format('{}/orders', $.base)",
            "Method": "POST",
            "QueryParameters": {"source": "spate"},
            "RequestBody": {"item.$": "$.item", "count.$": "$.count"},
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/orders/1"}
          },
          "ResultSelector": {
            "status.$": "$.StatusCode",
            "echo.$": "$.ResponseBody.received",
            "auth.$": "$.ResponseBody.auth",
            "query.$": "$.ResponseBody.query"
          },
          "ResultPath": "$.created",
          "Next": "Lookup"
        },
        "Lookup": {
          "Type": "Task",
          "Resource": "arn:aws:states:::http:invoke",
          "Parameters": {"ApiEndpoint.$": "States.Format('{}/missing', $.base)", "Method": "GET"},
          "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "ResultPath": "$.lookupError", "Next": "Done"}],
          "Next": "Done"
        },
        "Done": {"Type": "Pass", "End": true}
      }
    }"#;
    let base = server.url("");
    let outcome = execute(
        definition,
        json!({"base": base, "item": "book", "count": 2}),
        &config,
    )
    .await;
    assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.result);
    let output = outcome.result.unwrap();
    assert_eq!(
        output.get("created"),
        Some(&json!({
            "status": 200,
            "echo": {"item": "book", "count": 2},
            "auth": "Bearer local",
            "query": "source=spate"
        }))
    );
    let error = output.get("lookupError").unwrap();
    assert_eq!(
        error.get("Error"),
        Some(&json!("States.Http.StatusCode.404"))
    );
    let cause = parse_json_str(error.get("Cause").unwrap().as_str().unwrap()).unwrap();
    assert_eq!(cause.get("ResponseBody"), Some(&json!("gone")));
}

#[tokio::test]
async fn lambda_in_a_state_machine() {
    let function = serve(|r| async move {
        let input = parse_json_str(&r.body_text()).unwrap();
        match input.get("n").and_then(Value::as_i64) {
            Some(n) => json(200, serde_json::json!({"square": n * n})),
            None => respond(
                200,
                &[],
                r#"{"errorMessage": "n is missing", "errorType": "ValueError", "stackTrace": []}"#,
            ),
        }
    })
    .await;
    let mut config = TaskConfig::default();
    config
        .lambda
        .functions
        .insert("square".to_string(), function.url(""));
    let definition = r#"{
      "StartAt": "Optimized",
      "States": {
        "Optimized": {
          "Type": "Task",
          "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "square", "Payload": {"n.$": "$.n"}},
          "ResultSelector": {"square.$": "$.Payload.square", "status.$": "$.StatusCode"},
          "ResultPath": "$.optimized",
          "Next": "Direct"
        },
        "Direct": {
          "Type": "Task",
          "Resource": "arn:aws:lambda:us-east-1:123456789012:function:square",
          "InputPath": "$.bad",
          "ResultPath": "$.direct",
          "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Done"}],
          "Next": "Done"
        },
        "Done": {"Type": "Pass", "End": true}
      }
    }"#;
    let outcome = execute(definition, json!({"n": 7, "bad": {}}), &config).await;
    assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.result);
    let output = outcome.result.unwrap();
    assert_eq!(
        output.get("optimized"),
        Some(&json!({"square": 49, "status": 200}))
    );
    assert_eq!(
        output.get("error"),
        Some(&json!({
            "Error": "ValueError",
            "Cause": r#"{"errorMessage": "n is missing", "errorType": "ValueError", "stackTrace": []}"#
        }))
    );
}
