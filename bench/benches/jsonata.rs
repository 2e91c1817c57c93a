//! JSONata evaluation of typical ASL-style expressions against a state
//! input bound as `$states`, compiled once; and a Task's `Arguments` built
//! by five JSONata expressions through the engine's ASL path (a compiled
//! `JsonataTemplate` evaluated with `StatesBindings`), next to the
//! equivalent JSONPath `Parameters` template on the same input.

use criterion::{Criterion, criterion_group, criterion_main};
use spate_engine::interp::{StatesBindings, Variables};
use spate_engine::jsonata::{Jsonata, Limits};
use spate_engine::plan::JsonataTemplate;
use spate_engine::template::{InputOnly, Template};
use spate_engine::{Map, Str, Value, json};
use std::hint::black_box;

const EXPRESSIONS: [&str; 5] = [
    "$states.input.device.id",
    "$states.input.temp * 1.8 + 32",
    "$uppercase($states.input.site)",
    "$count($states.input.readings)",
    "$states.input.readings[value > 20].value",
];

fn input() -> Value {
    json!({
        "device": {"id": "sensor-42", "model": "TX-9"},
        "site": "north-lab",
        "temp": 21.5,
        "readings": [
            {"ts": 1, "value": 18.2},
            {"ts": 2, "value": 21.7},
            {"ts": 3, "value": 19.9},
            {"ts": 4, "value": 23.4},
            {"ts": 5, "value": 20.1}
        ]
    })
}

fn states() -> Map {
    let mut states = Map::new();
    states.insert("input".into(), input());
    let mut bindings = Map::new();
    bindings.insert("states".into(), Value::object(states));
    bindings
}

fn bench_jsonata(c: &mut Criterion) {
    let bindings = states();
    let limits = Limits::default();
    let compiled: Vec<Jsonata> = EXPRESSIONS
        .iter()
        .map(|e| Jsonata::compile(e).expect("valid expression"))
        .collect();
    let mut group = c.benchmark_group("jsonata");
    for (src, expr) in EXPRESSIONS.iter().zip(&compiled) {
        group.bench_function(*src, |b| {
            b.iter(|| expr.evaluate(None, black_box(&bindings), &limits).unwrap())
        });
    }
    group.bench_function("all five", |b| {
        b.iter(|| {
            for expr in &compiled {
                black_box(expr.evaluate(None, &bindings, &limits).unwrap());
            }
        })
    });
    group.bench_function("compile all five", |b| {
        b.iter(|| {
            for src in EXPRESSIONS {
                black_box(Jsonata::compile(black_box(src)).unwrap());
            }
        })
    });
    group.finish();
}

/// Builds a context object the way the interpreter does for each state:
/// the `Execution` and `StateMachine` parts are shared, the `State` part is
/// made fresh.
fn context_builder() -> impl Fn() -> Value {
    let execution = json!({
        "Id": "arn:aws:states:us-east-1:123456789012:execution:M:run-1",
        "Input": input(),
        "Name": "run-1",
        "StartTime": "2024-01-01T00:00:00.000Z"
    });
    let machine =
        json!({"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:M", "Name": "M"});
    move || {
        let mut state = Map::with_capacity(3);
        state.push_unique(
            "EnteredTime".into(),
            Value::from(String::from("2024-01-01T00:00:00.000Z")),
        );
        state.push_unique("Name".into(), Value::from("Enrich"));
        state.push_unique("RetryCount".into(), Value::from(0));
        let mut context = Map::with_capacity(3);
        context.push_unique("Execution".into(), execution.clone());
        context.push_unique("State".into(), Value::object(state));
        context.push_unique("StateMachine".into(), machine.clone());
        Value::object(context)
    }
}

/// A Task's `Arguments` (JSONata) and the same payload as `Parameters`
/// (JSONPath): five dynamic fields and two literals each.
fn bench_task_arguments(c: &mut Criterion) {
    let arguments = JsonataTemplate::compile(
        &json!({
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:enrich",
            "Payload": {
                "deviceId": "{% $states.input.device.id %}",
                "site": "{% $states.input.site %}",
                "values": "{% $states.input.readings.value %}",
                "count": "{% $count($states.input.readings) %}",
                "label": "{% $states.input.site & '/' & $states.input.device.id %}",
                "source": "bench"
            }
        }),
        "Arguments",
    )
    .unwrap();
    let parameters = Template::compile(&json!({
        "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:enrich",
        "Payload": {
            "deviceId.$": "$.device.id",
            "site.$": "$.site",
            "values.$": "$.readings[*].value",
            "count.$": "States.ArrayLength($.readings)",
            "label.$": "States.Format('{}/{}', $.site, $.device.id)",
            "source": "bench"
        }
    }))
    .unwrap();
    let input = input();
    let roots = InputOnly(&input);
    let mut vars = Variables::new();
    vars.assign("Init", [(Str::new("threshold"), json!(20))])
        .unwrap();
    let from_jsonata = arguments.eval(&StatesBindings::new(&input, &vars)).unwrap();
    let from_jsonpath = parameters.eval(&roots).unwrap();
    assert_eq!(from_jsonata, from_jsonpath, "the two payloads are the same");
    assert!(!arguments.needs_context());

    let context = context_builder();
    let mut group = c.benchmark_group("task_arguments");
    group.bench_function("jsonpath_parameters_5_fields", |b| {
        b.iter(|| black_box(parameters.eval(black_box(&roots)).unwrap()))
    });
    group.bench_function("jsonata_arguments_5_expressions", |b| {
        b.iter(|| {
            let bindings = StatesBindings::new(black_box(&input), &vars);
            black_box(arguments.eval(&bindings).unwrap())
        })
    });
    group.bench_function("jsonata_arguments_5_expressions_with_context", |b| {
        b.iter(|| {
            let bindings = StatesBindings::new(black_box(&input), &vars).with_context(&context);
            black_box(arguments.eval(&bindings).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_jsonata, bench_task_arguments);
criterion_main!(benches);
