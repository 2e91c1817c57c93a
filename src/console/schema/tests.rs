use super::*;
use crate::api::{self, ActivityBoard, Backend};
use crate::console::settings::ConsoleSettings;
use spate_engine::registry::Registry;
use spate_engine::runtime::{Runtime, RuntimeConfig};
use spate_engine::task::Resources;

/// A console over a registry with one state machine; the runtime is
/// returned so it lives as long as the test.
fn console() -> (Arc<Console>, Runtime) {
    let runtime = Runtime::start(RuntimeConfig {
        shards: 1,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let registry = Arc::new(Registry::default());
    registry
        .create(
            "m",
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
        )
        .unwrap();
    let settings = api::settings::ApiSettings::default();
    let state = api::build(
        &settings,
        Backend {
            registry: Arc::clone(&registry),
            runtime: runtime.handle(),
            activities: ActivityBoard::new("us-east-1", "123456789012"),
            resources: Resources::new(),
        },
    )
    .unwrap();
    let console = Console::start(
        state,
        &registry,
        runtime.handle(),
        &ConsoleSettings::default(),
        ("us-east-1", "123456789012"),
        None,
    );
    (console, runtime)
}

fn run(schema: &ConsoleSchema, scope: Option<Scope>, query: &str) -> async_graphql::Response {
    let request = async_graphql::Request::new(query).data(Granted(scope));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(schema.execute(request))
}

fn codes(response: &async_graphql::Response) -> Vec<String> {
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("code"))
        .map(|v| v.to_string())
        .collect()
}

#[test]
fn depth_and_complexity_are_limited() {
    let (console, _runtime) = console();
    let schema = build(console);
    let fine = run(
        &schema,
        Some(Scope::Read),
        "{ stateMachines { graph { nodes { retry { errorEquals } } } } }",
    );
    assert!(fine.errors.is_empty(), "{:?}", fine.errors);
    let mut deep = String::from("{ __schema { types { fields { type { name ");
    let opened = 8;
    for _ in 0..opened {
        deep.push_str("ofType { name ");
    }
    deep.push_str(&"}".repeat(opened + 5));
    let refused = run(&schema, Some(Scope::Admin), &deep);
    assert!(
        refused.errors[0].message.contains("nested too deep"),
        "{:?}",
        refused.errors
    );
    // Each alias selects two fields.
    let wide: String = (0..MAX_COMPLEXITY / 2 + 1)
        .map(|i| format!("a{i}: stateMachines {{ name }} "))
        .collect();
    let refused = run(&schema, Some(Scope::Admin), &format!("{{ {wide} }}"));
    assert!(
        refused.errors[0].message.contains("too complex"),
        "{:?}",
        refused.errors
    );
}

#[test]
fn scopes_gate_queries_and_mutations() {
    let (console, _runtime) = console();
    let schema = build(console);
    let start = r#"mutation { startExecution(stateMachine: "m") { id } }"#;
    let read = run(&schema, Some(Scope::Read), start);
    assert_eq!(codes(&read), ["\"FORBIDDEN\""]);
    assert!(
        read.errors[0].message.contains("'start' scope"),
        "{:?}",
        read.errors
    );
    assert_eq!(
        codes(&run(&schema, None, "{ stateMachines { name } }")),
        ["\"FORBIDDEN\""]
    );
    let started = run(&schema, Some(Scope::Start), start);
    assert!(started.errors.is_empty(), "{:?}", started.errors);
    let listed = run(
        &schema,
        Some(Scope::Read),
        "{ executions { edges { node { source } } } }",
    );
    assert_eq!(
        listed.data.into_json().unwrap(),
        serde_json::json!({"executions": {"edges": [{"node": {"source": "CONSOLE"}}]}})
    );
    let missing = run(
        &schema,
        Some(Scope::Admin),
        r#"mutation { startExecution(stateMachine: "none") { id } }"#,
    );
    assert_eq!(codes(&missing), ["\"StateMachineDoesNotExist\""]);
}
