//! JSONata expressions that used to overflow the stack, exhaust memory or
//! run for minutes (issue 15, items 4-7) now fail their state with
//! `States.QueryEvaluationError` and a JSONata limit error, and the process
//! exits on its own (a crash ends it by a signal, with no exit code).

use crate::common::spate;
use std::path::PathBuf;
use std::process::Output;

/// A one-state JSONata workflow whose `Output` is `{% expression %}`,
/// written to a file of its own in the temporary folder.
fn definition(name: &str, expression: &str) -> PathBuf {
    let definition = serde_json::json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Hostile",
        "States": {
            "Hostile": {"Type": "Pass", "Output": format!("{{% {expression} %}}"), "End": true}
        }
    });
    let dir = std::env::temp_dir().join(format!("spate-hostile-jsonata-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let path = dir.join(format!("{name}.asl.json"));
    std::fs::write(&path, definition.to_string()).expect("definition written");
    path
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `spate exec` on the expression and checks it failed the execution
/// with a JSONata limit error containing `message`, exiting with code 1.
fn fails_with(name: &str, expression: &str, message: &str) {
    let path = definition(name, expression);
    let out = spate(&["exec", path.to_str().expect("utf-8 path")]);
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(1), "{name}: {printed}");
    assert!(
        printed.contains("error: States.QueryEvaluationError"),
        "{name}: {printed}"
    );
    assert!(printed.contains("U1001: "), "{name}: {printed}");
    assert!(printed.contains(message), "{name}: {printed}");
}

const TOO_DEEP: &str =
    "Nesting limit exceeded: the expression builds a value nested more than 1024 levels deep";
const TOO_BIG: &str = "Memory limit exceeded: the values built by the expression take more than";

#[test]
fn deep_values_are_refused_when_built() {
    fails_with(
        "deep-object",
        r#"( $x := $reduce([1..100000], function($acc,$v){ {"a": $acc} }, {}); 1 )"#,
        TOO_DEEP,
    );
    fails_with(
        "string-of-deep-object",
        r#"$string($reduce([1..40000], function($acc,$v){ {"a": $acc} }, {}))"#,
        TOO_DEEP,
    );
    fails_with(
        "deep-arrays",
        "$reduce([1..30000], function($acc,$v){ [[$acc]] }, [])",
        TOO_DEEP,
    );
}

#[test]
fn the_deepest_value_allowed_is_written_out() {
    let path = definition(
        "deepest-allowed",
        r#"$reduce([1..1023], function($acc,$v){ {"a": $acc} }, {})"#,
    );
    let out = spate(&["exec", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // 1,023 objects around an empty one: 1,024 levels, the parser's limit.
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(printed.matches("\"a\":").count(), 1023, "{printed:.200}");
    assert!(printed.contains("{}"), "{printed:.200}");
}

#[test]
fn huge_values_are_refused_before_they_are_built() {
    let cases = [
        ("pad-right", r#"$pad("x", 1000000000)"#),
        ("pad-left", r#"$pad("x", -1000000000)"#),
        (
            "doubled-string",
            r#"$reduce([1..30], function($acc,$v){ $acc & $acc }, "x")"#,
        ),
        ("range-of-ranges", "[1..10000].[1..10000]"),
        ("count-range-of-ranges", "$count([1..10000].[1..10000])"),
        ("merge-a-million", "$merge([1..1000000].{$string($): $})"),
        (
            "chained-closures",
            "$type($reduce([1..1000000], function($acc,$v){ function(){ $acc } }, 0))",
        ),
    ];
    for (name, expression) in cases {
        fails_with(name, expression, TOO_BIG);
    }
}

#[test]
fn merging_many_keys_finishes() {
    let path = definition(
        "merge-many",
        "$count($keys($merge([1..100000].{$string($): $})))",
    );
    let out = spate(&["exec", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "100000");
}

#[test]
fn the_benchmark_survives_a_hostile_workflow() {
    let path = definition(
        "bench-deep",
        r#"( $x := $reduce([1..100000], function($acc,$v){ {"a": $acc} }, {}); 1 )"#,
    );
    let input = path.with_file_name("bench-input.json");
    std::fs::write(&input, "{}").expect("input written");
    let out = spate(&[
        "bench",
        path.to_str().expect("utf-8 path"),
        "--input",
        input.to_str().expect("utf-8 path"),
        "--executions",
        "8",
        "--shards",
        "2",
        "--json",
    ]);
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {printed}"));
    assert_eq!(report["executions"], 8, "{report}");
    assert_eq!(report["failed"], 8, "{report}");
    assert!(printed.contains(TOO_DEEP), "{printed}");
}
