use crate::error::StatesError;
use crate::json;
use crate::plan::{CompileOptions, from_definition};
use crate::runtime::{Runtime, RuntimeClock, RuntimeConfig};
use crate::value::Value;
use std::sync::Arc;

fn run(definition: &str, input: Value) -> Result<Value, StatesError> {
    let plan = Arc::new(
        from_definition(definition, &CompileOptions::default()).unwrap_or_else(|e| panic!("{e}")),
    );
    let config = RuntimeConfig {
        shards: 1,
        clock: RuntimeClock::Virtual,
        ..RuntimeConfig::default()
    };
    Runtime::run_once(config, plan, input)
        .expect("the runtime starts")
        .result
}

#[test]
fn an_oversized_variable_fails_the_state_and_assigns_nothing() {
    let definition = r#"{"QueryLanguage":"JSONata","StartAt":"Big","States":{
        "Big":{"Type":"Pass","Assign":{"small":1,"big":"{% $join($map([1..70000], function($i){'abcd'})) %}"},"End":true}}}"#;
    let err = run(definition, json!({})).unwrap_err();
    assert_eq!(err.error(), Some("States.DataLimitExceeded"));
    assert!(
        !err.cause().unwrap().starts_with("An error occurred"),
        "not a runtime error, so no location prefix: {err}"
    );
    assert!(err.cause().unwrap().contains("'big'"), "{err}");
    // Caught, the failed state's other variables are not set either.
    let definition = r#"{"QueryLanguage":"JSONata","StartAt":"Big","States":{
        "Big":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
               "Assign":{"small":1,"big":"{% $join($map([1..70000], function($i){'abcd'})) %}"},
               "Catch":[{"ErrorEquals":["States.DataLimitExceeded"],"Output":{"error":"{% $states.errorOutput.Error %}","small":"{% $exists($small) %}"},"Next":"Done"}],"End":true},
        "Done":{"Type":"Succeed"}}}"#;
    assert_eq!(
        run(definition, json!({})).unwrap(),
        json!({"error": "States.DataLimitExceeded", "small": false})
    );
}

#[test]
fn distributed_map_iterations_read_no_outer_variables() {
    let definition = r#"{"QueryLanguage":"JSONata","StartAt":"Set","States":{
        "Set":{"Type":"Pass","Assign":{"x":1},"Next":"Each"},
        "Each":{"Type":"Map","Items":[1,2],"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
            "StartAt":"Look","States":{"Look":{"Type":"Pass","Output":"{% $exists($x) %}","End":true}}},
            "Output":{"inner":"{% $states.result %}","outer":"{% $x %}"},"End":true}}}"#;
    assert_eq!(
        run(definition, json!({})).unwrap(),
        json!({"inner": [false, false], "outer": 1})
    );
}

#[test]
fn a_failed_result_path_keeps_the_state_variables_unassigned() {
    // ResultPath cannot write into a string input: the Parallel state
    // fails after its Assign was evaluated, and the caught error leaves
    // the variable unset.
    let definition = r#"{"StartAt":"Set","States":{
        "Set":{"Type":"Pass","Result":"text","Next":"Write"},
        "Write":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
                 "ResultPath":"$.x","Assign":{"written":true},
                 "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"caught.$":"$.Error"},"Next":"Report"}],"End":true},
        "Report":{"Type":"Pass","QueryLanguage":"JSONata","Output":{"written":"{% $exists($written) %}","caught":"{% $caught %}"},"End":true}}}"#;
    assert_eq!(
        run(definition, json!({})).unwrap(),
        json!({"written": false, "caught": "States.ResultPathMatchFailure"})
    );
}
