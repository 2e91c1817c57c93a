//! Values nested deeper than the JSON nesting limit (1024 levels), built at
//! run time by a definition: each way to build one fails the execution with
//! `States.Runtime` naming the state and the limit, and every consumer of a
//! value at the limit finishes. Before the limit, some of these aborted the
//! process with a stack overflow, so each runs in a `spate exec` of its own.

use crate::common::spate;
use crate::hostile_input::Scratch;
use std::process::Output;

/// The nesting limit of JSON values (`spate_engine::value::MAX_DEPTH`).
const LIMIT: usize = 1024;

/// `{"a":{"a":...0...}}`, `depth` objects deep.
fn nested_objects(depth: usize) -> String {
    format!("{}0{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

/// Runs `definition` on `input` with `spate exec`.
fn exec(test: &str, definition: &str, input: &str) -> Output {
    let dir = Scratch::new(test);
    let definition = dir.file("machine.asl.json", definition);
    let input = dir.file("input.json", input);
    spate(&["exec", &definition, "--input", &input])
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts the execution failed (exit 1, no abort) with `States.Runtime`
/// naming `state`, `what` it built and the limit.
fn assert_too_deep(out: &Output, state: &str, what: &str) {
    let text = text(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("error: States.Runtime"), "{text}");
    let expected = format!(
        "The state '{state}' built {what} nested more than {LIMIT} levels deep (arrays and objects), over the nesting limit for JSON values."
    );
    assert!(text.contains(&expected), "`{expected}` not in: {text}");
}

/// A loop that runs `body` (a state named `Body` going to `Count`) `turns`
/// times, counting in the variable `$n`, then ends.
fn loop_of(body: &str, turns: usize) -> String {
    format!(
        r#"{{"StartAt":"Init","States":{{
            "Init":{{"Type":"Pass","Assign":{{"n":0}},"Next":"Body"}},
            "Body":{body},
            "Count":{{"Type":"Pass","Assign":{{"n.$":"States.MathAdd($n, 1)"}},"Next":"Loop"}},
            "Loop":{{"Type":"Choice","Choices":[{{"Variable":"$n","NumericLessThan":{turns},"Next":"Body"}}],"Default":"Done"}},
            "Done":{{"Type":"Succeed","OutputPath":"$.n"}}}}}}"#
    )
}

#[test]
fn a_result_path_loop_stops_at_the_limit() {
    // each turn writes the old `a` one level deeper
    let body = r#"{"Type":"Pass","Parameters":{"a.$":"$.a"},"ResultPath":"$.a","Next":"Count"}"#;
    let out = exec("result-path-loop", &loop_of(body, 1500), r#"{"a":0}"#);
    assert_too_deep(&out, "Body", "an output");
}

#[test]
fn a_parameters_loop_stops_at_the_limit() {
    let body = r#"{"Type":"Pass","Parameters":{"a.$":"$"},"Next":"Count"}"#;
    let out = exec("parameters-loop", &loop_of(body, 1500), "{}");
    assert_too_deep(&out, "Body", "a result");
}

#[test]
fn a_result_selector_loop_stops_at_the_limit() {
    // each turn wraps the input two levels deeper: `[input]`, then
    // `{"a":{"b":input}}`; from `{}`, the selector's output passes the
    // limit one turn before the Parallel's result does
    let body = r#"{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],
        "ResultSelector":{"a":{"b.$":"$[0]"}},"Next":"Count"}"#;
    let out = exec("result-selector-loop", &loop_of(body, 1500), "{}");
    assert_too_deep(&out, "Body", "an output");
}

#[test]
fn a_variable_wrapped_in_a_loop_stops_at_the_limit() {
    let body = r#"{"Type":"Pass","Assign":{"v":{"a.$":"$v"}},"Next":"Count"}"#;
    let definition = loop_of(body, 1500).replace(r#"{"n":0}"#, r#"{"n":0,"v":0}"#);
    let out = exec("variable-loop", &definition, "{}");
    let text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "The state 'Body' assigned the variable 'v' a value nested more than {LIMIT} levels deep"
        )),
        "{text}"
    );
}

#[test]
fn a_result_path_of_200_000_steps_fails_in_one_step() {
    // before the limit: a stack overflow writing through the path
    let path = format!("${}", ".a".repeat(200_000));
    let definition = format!(
        r#"{{"StartAt":"Deep","States":{{"Deep":{{"Type":"Pass","ResultPath":"{path}","End":true}}}}}}"#
    );
    let out = exec("result-path-steps", &definition, "{}");
    assert_too_deep(&out, "Deep", "an output");
}

#[test]
fn intrinsics_that_nest_stop_at_the_limit() {
    let text = serde_json::to_string(&nested_objects(LIMIT)).unwrap();
    let list = format!("{}0{}", "[".repeat(LIMIT - 1), "]".repeat(LIMIT - 1));
    let input = format!(r#"{{"s":{text},"l":{list}}}"#);
    for (name, parameters) in [
        ("Parse", r#"{"v.$":"States.StringToJson($.s)"}"#),
        ("Partition", r#"{"v.$":"States.ArrayPartition($.l, 1)"}"#),
        ("Wrap", r#"{"v.$":"States.Array($.l)"}"#),
    ] {
        let definition = format!(
            r#"{{"StartAt":"{name}","States":{{"{name}":{{"Type":"Pass","Parameters":{parameters},"End":true}}}}}}"#
        );
        let out = exec(&format!("intrinsic-{name}"), &definition, &input);
        assert_too_deep(&out, name, "a result");
    }
}

#[test]
fn map_and_parallel_inputs_and_results_stop_at_the_limit() {
    let input = format!("[{}]", nested_objects(LIMIT - 1));
    let pass = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let wrap =
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"w.$":"$"},"End":true}}}"#;
    let cases = [
        (
            format!(
                r#"{{"Type":"Map","ItemSelector":{{"v":{{"w.$":"$$.Map.Item.Value"}}}},"ItemProcessor":{pass},"End":true}}"#
            ),
            "an iteration input",
        ),
        (
            format!(r#"{{"Type":"Map","ItemProcessor":{wrap},"End":true}}"#),
            "a result",
        ),
        (
            format!(
                r#"{{"Type":"Parallel","Parameters":{{"w.$":"$"}},"Branches":[{pass}],"End":true}}"#
            ),
            "a branch input",
        ),
    ];
    for (i, (state, what)) in cases.iter().enumerate() {
        let definition = format!(r#"{{"StartAt":"Fan","States":{{"Fan":{state}}}}}"#);
        let out = exec(&format!("fan-{i}"), &definition, &input);
        assert_too_deep(&out, "Fan", what);
    }
}

#[test]
fn every_consumer_reads_a_value_at_the_limit() {
    let input = nested_objects(LIMIT);
    let consumers = [
        r#"{"Type":"Pass","Parameters":{"v.$":"$..zzz"},"End":true}"#,
        r#"{"Type":"Pass","Parameters":{"v.$":"$..[?(@.a == 1)]"},"End":true}"#,
        r#"{"Type":"Pass","Parameters":{"v.$":"States.JsonToString($)"},"End":true}"#,
        r#"{"Type":"Pass","Parameters":{"v.$":"States.ArrayContains(States.Array($.a), $.a)"},"End":true}"#,
        r#"{"Type":"Pass","Parameters":{"v.$":"States.ArrayUnique(States.Array($.a.a, $.a.a))"},"ResultPath":null,"End":true}"#,
        r#"{"Type":"Pass","Parameters":{"v.$":"States.JsonMerge($.a, $.a, false)"},"ResultPath":null,"End":true}"#,
        r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $count($states.input.**) %}","End":true}"#,
        r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $count($spread($states.input.a)) %}","End":true}"#,
        r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $count($lookup($states.input, 'zz')) %}","End":true}"#,
        r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $length($string($states.input)) %}","End":true}"#,
        r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input = $states.input %}","End":true}"#,
        r#"{"Type":"Choice","Choices":[{"Variable":"$..zzz","IsPresent":true,"Next":"Other"}],"Default":"Other"},"Other":{"Type":"Pass","Result":1,"End":true}"#,
    ];
    for (i, consumer) in consumers.iter().enumerate() {
        let definition = format!(r#"{{"StartAt":"Use","States":{{"Use":{consumer}}}}}"#);
        let out = exec(&format!("consumer-{i}"), &definition, &input);
        assert_eq!(out.status.code(), Some(0), "{consumer}: {}", text(&out));
    }
}
