//! Tests of the public API.

use super::*;
use crate::json;

fn eval(src: &str, input: Value) -> Result<Option<Value>, Box<JsonataError>> {
    Ok(Jsonata::compile(src)?.evaluate(Some(&input), &NoBindings, &Limits::default())?)
}

#[test]
fn paths_and_arithmetic() {
    let input = json!({"a": {"b": [1, 2, 3]}, "t": 20});
    assert_eq!(eval("a.b[1]", input.clone()).unwrap(), Some(json!(2)));
    assert_eq!(
        eval("t * 1.8 + 32", input.clone()).unwrap(),
        Some(json!(68))
    );
    assert_eq!(
        eval("a.b[$ > 1]", input.clone()).unwrap(),
        Some(json!([2, 3]))
    );
    assert_eq!(eval("nothing", input).unwrap(), None);
}

#[test]
fn host_bindings_are_variables() {
    let mut vars = HashMap::new();
    vars.insert("states".to_string(), json!({"input": {"site": "lab"}}));
    let expr = Jsonata::compile("$uppercase($states.input.site)").unwrap();
    let out = expr.evaluate(None, &vars, &Limits::default()).unwrap();
    assert_eq!(out, Some(json!("LAB")));
}

#[test]
fn hosts_can_hide_built_in_functions() {
    struct NoEval;
    impl Bindings for NoEval {
        fn lookup(&self, _: &str) -> Option<Value> {
            None
        }
        fn hides_function(&self, name: &str) -> bool {
            name == "eval"
        }
    }
    let limits = Limits::default();
    let err = Jsonata::compile("$eval('1+1')")
        .unwrap()
        .evaluate(None, &NoEval, &limits)
        .unwrap_err();
    assert_eq!(err.code, "T1006");
    let out = Jsonata::compile("$sum([1, 2])")
        .unwrap()
        .evaluate(None, &NoEval, &limits)
        .unwrap();
    assert_eq!(out, Some(json!(3)));
}

#[test]
fn function_results_are_reported() {
    let err = eval("function($x){$x}", json!(null)).unwrap_err();
    assert_eq!(err.code, FUNCTION_RESULT);
}

#[test]
fn compiled_expressions_are_shareable() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Jsonata>();
    let e = Jsonata::compile("1 + 1").unwrap();
    assert_eq!(e.source(), "1 + 1");
}

#[test]
fn tail_calls_run_in_constant_depth() {
    let src = "($even := function($n) { $n = 0 ? true : $odd($n-1) };
               $odd := function($n) { $n = 0 ? false : $even($n-1) };
               $odd(6555))";
    let limits = Limits {
        max_depth: 500,
        ..Limits::default()
    };
    let out = Jsonata::compile(src)
        .unwrap()
        .evaluate(None, &NoBindings, &limits)
        .unwrap();
    assert_eq!(out, Some(json!(true)));
}

#[test]
fn step_budget_stops_infinite_loops() {
    let limits = Limits {
        max_steps: 10_000,
        timeout: None,
        ..Limits::default()
    };
    let err = Jsonata::compile("($inf := function(){$inf()}; $inf())")
        .unwrap()
        .evaluate(None, &NoBindings, &limits)
        .unwrap_err();
    assert_eq!(err.code, LIMIT_EXCEEDED);
}

#[test]
fn deep_recursion_fails_cleanly_on_a_small_stack() {
    // a 2 MiB thread, depth limit far beyond what the stack could hold:
    // the native stack budget must stop it with an error, not a crash
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let limits = Limits {
                max_depth: 10_000_000,
                max_steps: u64::MAX,
                timeout: None,
                ..Limits::default()
            };
            Jsonata::compile("($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(1000000))")
                .unwrap()
                .evaluate(None, &NoBindings, &limits)
                .map_err(Box::new)
        })
        .unwrap();
    let err = handle.join().unwrap().unwrap_err();
    assert_eq!(err.code, LIMIT_EXCEEDED);
    assert!(err.message.contains("Stack overflow"), "{}", err.message);
}

#[test]
fn aws_step_functions_additions() {
    let e = |src: &str| eval(src, json!(null)).unwrap();
    assert_eq!(
        e("$partition([1,2,3,4,5], 2)"),
        Some(json!([[1, 2], [3, 4], [5]]))
    );
    assert_eq!(e("$range(0, 10, 2)"), Some(json!([0, 2, 4, 6, 8, 10])));
    assert_eq!(e("$range(3, 1, -1)"), Some(json!([3, 2, 1])));
    assert_eq!(
        e("$hash('abc', 'SHA-256')"),
        Some(json!(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        ))
    );
    assert_eq!(
        e("$hash('abc', 'MD5')"),
        Some(json!("900150983cd24fb0d6963f7d28e17f72"))
    );
    assert_eq!(
        e("$parse('{\"a\": [1, true]}')"),
        Some(json!({"a": [1, true]}))
    );
    assert_eq!(
        e("$random(7) = $random(7) and $random(7) < 1"),
        Some(json!(true))
    );
    assert_eq!(
        eval("$hash('abc', 'CRC32')", json!(null)).unwrap_err().code,
        "D3152"
    );
}
