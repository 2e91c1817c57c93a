//! `jsonata_parse` and `jsonata_eval`: JSONata expressions (text before the
//! first NUL byte) compiled, and evaluated against a document (JSON after
//! the NUL byte, or the sample document) under limits.
//!
//! Invariants: no panic, no overflow of the native stack, no allocation
//! beyond the fuzzer's limit, and an evaluation ends soon after its time
//! budget; a failure carries a JSONata error code; every frame the
//! evaluation made is freed when it ends (closure cycles included).

use crate::expression_and_document;
use spate_engine::Value;
use spate_engine::jsonata::{Jsonata, Limits};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The engine's limits, with a smaller budget of steps and time so one
/// input stays quick to run (the depth and stack limits are the engine's).
fn limits() -> Limits {
    Limits {
        max_steps: 200_000,
        timeout: Some(Duration::from_secs(1)),
        ..Limits::default()
    }
}

/// How far past its time budget an evaluation may end (the clock is read
/// every 1,024 steps, and sanitizers slow everything down).
const LATE: Duration = Duration::from_secs(5);

/// Parses and compiles the expression in `data`.
pub(crate) fn fuzz_parse(data: &[u8]) {
    let (text, _) = expression_and_document(data);
    match Jsonata::compile(&text) {
        Ok(expression) => assert_eq!(expression.source(), text),
        Err(error) => assert!(!error.code.is_empty(), "{error:?}"),
    }
}

/// Compiles the expression in `data` and evaluates it.
pub(crate) fn fuzz_eval(data: &[u8]) {
    let (text, document) = expression_and_document(data);
    let Ok(expression) = Jsonata::compile(&text) else {
        return;
    };
    let bindings = HashMap::from([
        (
            "states".to_string(),
            spate_engine::json!({"context": {"Execution": {"Name": "fuzz"}}}),
        ),
        ("count".to_string(), Value::from(2)),
    ]);
    let limits = limits();
    let started = Instant::now();
    let result = expression.evaluate(Some(&document), &bindings, &limits);
    let budget = limits.timeout.unwrap_or_default() + LATE;
    assert!(
        started.elapsed() <= budget,
        "evaluation took {:?}, past its budget",
        started.elapsed()
    );
    if let Err(error) = result {
        assert!(!error.code.is_empty(), "{error:?}");
    }
    assert_eq!(
        spate_engine::jsonata::live_frames(),
        0,
        "the evaluation left frames alive (a leak)"
    );
}
