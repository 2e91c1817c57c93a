//! `max_bytes_per_execution`: the bytes an execution's fan-outs hold.

use super::*;

/// A Map over `$.xs` whose iterations each start with and return `$.big`.
fn map_of_big_items() -> Arc<Plan> {
    plan(serde_json::json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "ItemsPath": "$.xs", "ItemSelector": {"b.$": "$.big"},
            "ItemProcessor": {"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": true}}},
            "End": true}
    }}))
}

fn config(shards: usize) -> RuntimeConfig {
    RuntimeConfig {
        shards,
        max_bytes_per_execution: 1 << 20,
        clock: RuntimeClock::Virtual,
        ..RuntimeConfig::default()
    }
}

#[test]
fn an_execution_over_its_byte_budget_fails_and_spares_its_neighbours() {
    let big = "x".repeat(200 * 1024);
    let small = plan(serde_json::json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "ItemProcessor": {
            "StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": true}}}, "End": true}
    }}));
    for shards in shapes() {
        let h = Harness::with(config(shards));
        // 20 results of 200 KiB: 4 MB collected before the Map could end
        let xs: Vec<u32> = (0..20).collect();
        h.submit(
            &map_of_big_items(),
            1,
            json!({"xs": xs, "big": big.as_str()}),
        );
        h.submit(&small, 2, json!([1, 2, 3]));
        let mut done = h.collect(2);
        done.sort_by_key(|c| c.tag);
        assert_eq!(done[0].status, Status::Failed);
        let error = done[0].result.as_ref().unwrap_err();
        assert_eq!(error.error(), Some("States.Runtime"));
        let cause = error.cause().unwrap_or_default();
        assert!(
            cause.contains(
                "over the runtime's limit of 1048576 bytes ([runtime] max_bytes_per_execution)"
            ),
            "{cause}"
        );
        assert_eq!(done[1].status, Status::Succeeded, "{:?}", done[1].result);
        assert_eq!(done[1].result, Ok(json!([1, 2, 3])));
        h.assert_idle();
        h.assert_no_more();
    }
}

#[test]
fn the_bytes_of_a_finished_fan_out_are_given_back() {
    // ten Maps in a row, each holding about 400 KiB (two inputs and two
    // results of 100 KiB): 4 MB in all, within 1 MiB only if each Map's
    // bytes are given back when it ends
    let big = "x".repeat(100 * 1024);
    let looped = plan(serde_json::json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "ItemsPath": "$.xs", "ItemSelector": {"b.$": "$.big"},
            "ItemProcessor": {"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": true}}},
            "ResultPath": null, "Next": "Count"},
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)", "xs.$": "$.xs", "big.$": "$.big"},
            "Next": "Again"},
        "Again": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 10, "Next": "Fan"}],
            "Default": "Done"},
        "Done": {"Type": "Succeed", "OutputPath": "$.n"}
    }}));
    for shards in shapes() {
        let h = Harness::with(config(shards));
        h.submit(
            &looped,
            1,
            json!({"n": 0, "xs": [1, 2], "big": big.as_str()}),
        );
        let done = h.collect(1);
        assert_eq!(done[0].result, Ok(json!(10)), "{:?}", done[0].result);
        h.assert_idle();
    }
}
