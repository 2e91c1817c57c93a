//! Embedding the engine with task handlers written in Rust.
//!
//! Compiles a small state machine whose Tasks name application resources,
//! registers a synchronous handler (a pure function of the task's input)
//! and an asynchronous one (which could do I/O), and runs one execution.
//!
//! ```text
//! cargo run -p spate-engine --example native_handler
//! ```

use spate_engine::error::StatesError;
use spate_engine::plan::{CompileOptions, from_definition};
use spate_engine::runtime::{Runtime, RuntimeConfig, Status, Submission};
use spate_engine::task::{Resources, TaskCall};
use spate_engine::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const DEFINITION: &str = r#"{
  "Comment": "Price an order: validate it in Rust, then look up a discount asynchronously",
  "StartAt": "Validate",
  "States": {
    "Validate": {
      "Type": "Task",
      "Resource": "shop:validate",
      "ResultPath": "$.subtotal",
      "Catch": [{"ErrorEquals": ["InvalidOrder"], "ResultPath": "$.error", "Next": "Rejected"}],
      "Next": "Discount"
    },
    "Discount": {
      "Type": "Task",
      "Resource": "shop:discount",
      "Parameters": {"customer.$": "$.customer", "subtotal.$": "$.subtotal"},
      "ResultSelector": {"percent.$": "$.percent", "total.$": "$.total"},
      "ResultPath": "$.price",
      "TimeoutSeconds": 5,
      "End": true
    },
    "Rejected": {"Type": "Fail", "Error": "Rejected", "CausePath": "$.error.Cause"}
  }
}"#;

/// Sums the order lines; fails with `InvalidOrder` for an empty order.
fn validate(order: Value) -> Result<Value, StatesError> {
    let lines = order
        .get("lines")
        .and_then(Value::as_array)
        .filter(|lines| !lines.is_empty())
        .ok_or_else(|| StatesError::new("InvalidOrder", "the order has no lines"))?;
    let mut subtotal = 0.0;
    for line in lines {
        let price = line.get("price").and_then(Value::as_f64).unwrap_or(0.0);
        let quantity = line.get("quantity").and_then(Value::as_f64).unwrap_or(1.0);
        subtotal += price * quantity;
    }
    Ok(Value::from(subtotal))
}

/// Looks up a discount; stands in for a call to another service.
async fn discount(call: TaskCall) -> Result<Value, StatesError> {
    // Real code would do I/O here, bounded by the Task's TimeoutSeconds.
    let budget = call.timeout.unwrap_or(Duration::from_secs(1));
    tokio::time::sleep(Duration::from_millis(5).min(budget)).await;
    let customer = call.input.get("customer").and_then(Value::as_str);
    let subtotal = call
        .input
        .get("subtotal")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let percent = if customer == Some("loyal") { 10.0 } else { 0.0 };
    Ok(json!({
        "percent": percent,
        "total": subtotal * (100.0 - percent) / 100.0,
        "checkedBy": call.state_name.as_str()
    }))
}

/// Runs the two example executions and describes how each ended.
fn run_examples() -> Vec<String> {
    let plan = from_definition(DEFINITION, &CompileOptions::default())
        .unwrap_or_else(|diagnostics| panic!("invalid definition: {diagnostics}"));
    let plan = Arc::new(plan);

    let mut resources = Resources::new();
    resources
        .register_fn("shop:validate", validate)
        .register_async("shop:discount", discount);
    let runtime = Runtime::start(RuntimeConfig {
        shards: 1,
        resources,
        ..RuntimeConfig::default()
    })
    .expect("the runtime starts");
    let handle = runtime.handle();
    let no_sink = Arc::new(|_| {});
    let mut lines = Vec::new();
    for (name, input) in [
        (
            "loyal-customer",
            json!({"customer": "loyal", "lines": [{"price": 12.5, "quantity": 2}, {"price": 5}]}),
        ),
        ("empty-order", json!({"customer": "new", "lines": []})),
    ] {
        let outcome = handle
            .run_to_end(Submission::new(
                Arc::clone(&plan),
                name,
                input,
                no_sink.clone(),
            ))
            .expect("the runtime takes it");
        lines.push(match (outcome.status, outcome.result) {
            (Status::Succeeded, Ok(output)) => format!("{name}: succeeded with {output}"),
            (status, Err(error)) => format!("{name}: {status:?} with {error}"),
            (status, Ok(output)) => format!("{name}: {status:?} with {output}"),
        });
    }
    runtime.shutdown(std::time::Duration::from_secs(1));
    lines
}

fn main() {
    for line in run_examples() {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    // `cargo test` runs this (the example is declared with `test = true`).
    #[test]
    fn the_example_runs() {
        assert_eq!(
            super::run_examples(),
            [
                r#"loyal-customer: succeeded with {"customer":"loyal","lines":[{"price":12.5,"quantity":2},{"price":5}],"subtotal":30.0,"price":{"percent":10.0,"total":27.0}}"#,
                "empty-order: Failed with Rejected: the order has no lines",
            ]
        );
    }
}
