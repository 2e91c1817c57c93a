//! Native Rust handlers, registered on `Resources` and run in whole
//! executions.

use spate_engine::error::StatesError;
use spate_engine::plan::{CompileOptions, from_definition};
use spate_engine::runtime::{Completion, Runtime, RuntimeClock, RuntimeConfig, Status};
use spate_engine::task::{Resources, TaskCall};
use spate_engine::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

async fn execute(definition: &str, input: Value, resources: Resources) -> Completion {
    let plan = Arc::new(from_definition(definition, &CompileOptions::default()).unwrap());
    // Virtual time: Retry intervals cost no wall time; the async handler is
    // still awaited for real.
    let config = RuntimeConfig {
        shards: 1,
        resources,
        clock: RuntimeClock::Virtual,
        ..RuntimeConfig::default()
    };
    tokio::task::spawn_blocking(move || Runtime::run_once(config, plan, input).unwrap())
        .await
        .unwrap()
}

const PIPELINE: &str = r#"{
  "StartAt": "Parse",
  "States": {
    "Parse": {"Type": "Task", "Resource": "app:parse", "ResultPath": "$.parsed", "Next": "Enrich"},
    "Enrich": {
      "Type": "Task", "Resource": "app:enrich",
      "Parameters": {"id.$": "$.parsed.id"},
      "ResultSelector": {"owner.$": "$.owner", "attempts.$": "$.attempts"},
      "ResultPath": "$.enriched",
      "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 3}],
      "End": true
    }
  }
}"#;

#[tokio::test]
async fn sync_and_async_handlers_in_an_execution() {
    let attempts = Arc::new(AtomicU32::new(0));
    let mut resources = Resources::new();
    resources.register_fn("app:parse", |input: Value| {
        let raw = input
            .get("raw")
            .and_then(Value::as_str)
            .ok_or_else(|| StatesError::new("ParseError", "no raw field"))?;
        let (kind, id) = raw
            .split_once('-')
            .ok_or_else(|| StatesError::new("ParseError", format!("bad id {raw}")))?;
        Ok(json!({"kind": kind, "id": id}))
    });
    let counter = Arc::clone(&attempts);
    resources.register_async("app:enrich", move |call: TaskCall| {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            if call.retry_count < 2 {
                return Err(StatesError::new("Flaky", "try again"));
            }
            let id = call.input.get("id").and_then(Value::as_str).unwrap_or("");
            Ok(json!({"owner": format!("owner-of-{id}"), "attempts": call.retry_count + 1, "ignored": true}))
        }
    });

    let outcome = execute(PIPELINE, json!({"raw": "order-42"}), resources.clone()).await;
    assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.result);
    assert_eq!(
        outcome.result.unwrap(),
        json!({
            "raw": "order-42",
            "parsed": {"kind": "order", "id": "42"},
            "enriched": {"owner": "owner-of-42", "attempts": 3}
        })
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 3);

    let outcome = execute(PIPELINE, json!({"raw": "nodash"}), resources).await;
    assert_eq!(outcome.status, Status::Failed);
    let error = outcome.result.unwrap_err();
    assert_eq!(error.error(), Some("ParseError"));
    assert_eq!(error.cause(), Some("bad id nodash"));
}

#[tokio::test]
async fn panics_become_task_errors() {
    let definition = r#"{
      "StartAt": "Boom",
      "States": {
        "Boom": {"Type": "Task", "Resource": "boom", "Next": "AsyncBoom",
                 "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.sync", "Next": "AsyncBoom"}]},
        "AsyncBoom": {"Type": "Task", "Resource": "async-boom", "End": true,
                 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.async", "Next": "Done"}]},
        "Done": {"Type": "Succeed"}
      }
    }"#;
    let mut resources = Resources::new();
    resources
        .register_fn("boom", |_| panic!("sync handler bug"))
        .register_async("async-boom", |_call: TaskCall| async move {
            tokio::task::yield_now().await;
            if true {
                panic!("async handler bug");
            }
            Ok(Value::Null)
        });
    let outcome = execute(definition, json!({}), resources).await;
    assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.result);
    let output = outcome.result.unwrap();
    assert_eq!(
        output.get("sync"),
        Some(
            &json!({"Error": "States.TaskFailed", "Cause": "The handler of 'boom' panicked: sync handler bug"})
        )
    );
    assert_eq!(
        output.get("async").and_then(|e| e.get("Cause")),
        Some(&json!(
            "The handler of 'async-boom' panicked: async handler bug"
        ))
    );
}
