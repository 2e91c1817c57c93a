use super::*;
use crate::json;

struct Doc(Value);

impl PathResolver for Doc {
    fn resolve(&self, path: &Path) -> Result<Value, StatesError> {
        path.select_value(&self.0)
            .map_err(|e| StatesError::runtime(e.to_string()))
    }
}

fn run(call: &str, input: Value) -> Result<Value, StatesError> {
    Intrinsic::parse(call).unwrap().eval(&Doc(input))
}

fn ok(call: &str, input: Value) -> Value {
    run(call, input).unwrap()
}

fn failure(call: &str, input: Value) -> String {
    let err = run(call, input).unwrap_err();
    assert_eq!(err.error(), Some("States.IntrinsicFailure"), "{err}");
    err.cause().unwrap().to_string()
}

#[test]
fn format_interpolates_and_honours_escapes() {
    let input = json!({"name": "Arnav", "n": 3, "o": {"a": 1}, "t": "Hi {}!"});
    assert_eq!(
        ok(
            "States.Format('Hello, my name is {}.', $.name)",
            input.clone()
        ),
        json!("Hello, my name is Arnav.")
    );
    assert_eq!(
        ok("States.Format('{} {} {}', $.n, $.o, null)", input.clone()),
        json!("3 {a=1} null")
    );
    assert_eq!(
        ok(
            "States.Format('{} {} {} {}', 1.5, 1e7, 0.0001, States.Array('x', 2))",
            input.clone()
        ),
        json!("1.5 1.0E7 1.0E-4 [x, 2]")
    );
    assert_eq!(
        ok(
            r"States.Format('\{\} is {} \'quoted\' \\', $.n)",
            input.clone()
        ),
        json!("{} is 3 'quoted' \\")
    );
    assert_eq!(
        ok("States.Format($.t, $.name)", input.clone()),
        json!("Hi Arnav!")
    );
    assert!(
        failure("States.Format('{} {}', $.n)", input)
            .contains("2 placeholder(s) but 1 argument(s)")
    );
}

#[test]
fn json_conversions() {
    let input = json!({"s": "{\"foo\": \"bar\"}", "o": {"a": [1, "x"]}, "blank": " "});
    assert_eq!(
        ok("States.StringToJson($.s)", input.clone()),
        json!({"foo": "bar"})
    );
    assert_eq!(
        ok("States.StringToJson($.blank)", input.clone()),
        json!(null)
    );
    assert_eq!(
        ok("States.JsonToString($.o)", input.clone()),
        json!("{\"a\":[1,\"x\"]}")
    );
    assert_eq!(
        ok(
            "States.JsonMerge($.o, States.StringToJson('{\"b\": 2}'), false)",
            input.clone()
        ),
        json!({"a": [1, "x"], "b": 2})
    );
    assert!(failure("States.JsonMerge($.o, $.o, true)", input.clone()).contains("shallow"));
    assert!(failure("States.StringToJson('{nope')", input).contains("invalid JSON"));
}

#[test]
fn arrays() {
    let input = json!({"a": [1, 2, 3, 4, 5], "dup": [1, 1, "x", "x", {"k": 1}, {"k": 1.0}]});
    assert_eq!(ok("States.Array()", input.clone()), json!([]));
    assert_eq!(
        ok("States.Array($.a[0], 'x', 1.5, true)", input.clone()),
        json!([1, "x", 1.5, true])
    );
    assert_eq!(
        ok("States.ArrayPartition($.a, 2)", input.clone()),
        json!([[1, 2], [3, 4], [5]])
    );
    assert_eq!(
        ok("States.ArrayContains($.a, 3)", input.clone()),
        json!(true)
    );
    assert_eq!(
        ok("States.ArrayRange(1, 9, 2)", input.clone()),
        json!([1, 3, 5, 7, 9])
    );
    assert_eq!(
        ok("States.ArrayRange(5, 1, -2)", input.clone()),
        json!([5, 3, 1])
    );
    assert_eq!(ok("States.ArrayGetItem($.a, 4)", input.clone()), json!(5));
    assert_eq!(ok("States.ArrayLength($.a)", input.clone()), json!(5));
    assert_eq!(
        ok("States.ArrayUnique($.dup)", input.clone()),
        json!([1, "x", {"k": 1}])
    );
    assert!(failure("States.ArrayGetItem($.a, 5)", input.clone()).contains("out of bounds"));
    assert!(failure("States.ArrayPartition($.a, 0)", input.clone()).contains("positive"));
    assert!(failure("States.ArrayRange(0, 2000, 1)", input.clone()).contains("limit of 1000"));
    assert!(failure("States.ArrayRange(0, 2, 0)", input).contains("step"));
}

#[test]
fn encoding_and_hashing() {
    let input = json!({"s": "Data to encode", "b": "RGF0YSB0byBlbmNvZGU="});
    assert_eq!(
        ok("States.Base64Encode($.s)", input.clone()),
        json!("RGF0YSB0byBlbmNvZGU=")
    );
    assert_eq!(
        ok("States.Base64Decode($.b)", input.clone()),
        json!("Data to encode")
    );
    assert_eq!(
        ok("States.Hash('input data', 'MD5')", input.clone()),
        json!("812f45842bc6d66ee14572ce20db8e86")
    );
    assert_eq!(
        ok("States.Hash('abc', 'SHA-256')", input.clone()),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert!(failure("States.Hash('abc', 'CRC32')", input).contains("unsupported algorithm"));
}

#[test]
fn maths() {
    let input = json!({});
    assert_eq!(ok("States.MathAdd(1.5, 1.51)", input.clone()), json!(4));
    assert_eq!(ok("States.MathAdd(-1.5, 0)", input.clone()), json!(-1));
    assert_eq!(ok("States.MathAdd(-2.5, 0)", input.clone()), json!(-2));
    assert_eq!(ok("States.MathAdd(-0.5, 0.5)", input.clone()), json!(1));
    let seeded = ok("States.MathRandom(1, 999, 7)", input.clone());
    assert_eq!(seeded, ok("States.MathRandom(1, 999, 7)", input.clone()));
    let n = ok("States.MathRandom(3, 5)", input).as_i64().unwrap();
    assert!((3..=5).contains(&n));
}

#[test]
fn strings_and_uuid() {
    let input = json!({"csv": "a,,b;c"});
    assert_eq!(
        ok("States.StringSplit($.csv, ',;')", input.clone()),
        json!(["a", "b", "c"])
    );
    let id = ok("States.UUID()", input);
    assert_eq!(id.as_str().unwrap().len(), 36);
}

#[test]
fn nesting_and_paths() {
    let input = json!({"arn": "arn:aws:imagebuilder:us-east-1:123:image-recipe/my-recipe.v1/1.0.0", "a,b": 1});
    assert_eq!(
        ok(
            "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 1), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 1), '.'), 1))",
            input.clone()
        ),
        json!("my-recipe.v1")
    );
    assert_eq!(ok("States.Array($['a,b'])", input), json!([1]));
}

#[test]
fn parse_errors() {
    for bad in [
        "States.Nope()",
        "States.Array(",
        "States.ArrayLength()",
        "States.UUID(1)",
        "States.Array('unclosed)",
        "States.Array('bad \\n escape')",
        "States.Array($.a b)",
        "States.Array() trailing",
    ] {
        assert!(Intrinsic::parse(bad).is_err(), "{bad} should not parse");
    }
    let nested = (0..11).fold("1".to_string(), |inner, _| format!("States.Array({inner})"));
    assert!(
        Intrinsic::parse(&nested)
            .unwrap_err()
            .reason
            .contains("more than 10 nested")
    );
    let err = Intrinsic::parse("States.ArrayLength()").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid intrinsic function call 'States.ArrayLength()': States.ArrayLength takes 1 argument(s), got 0"
    );
}
