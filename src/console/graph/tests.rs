use super::*;

fn graph(text: &str) -> Graph {
    Graph::of_text(text).expect("a JSON object")
}

fn edge<'a>(g: &'a Graph, from: &str, to: &str) -> &'a Edge {
    g.edges
        .iter()
        .find(|e| e.from == from && e.to == to)
        .unwrap_or_else(|| panic!("no edge {from} -> {to} in {:?}", g.edges))
}

#[test]
fn the_shipped_iot_workflow() {
    let text = include_str!("../../../config/workflows/iot-enrich.asl.json");
    let g = graph(text);
    assert_eq!(g.start_at, "/States/Validate");
    let validate = g.node_named("Validate").unwrap();
    assert!(validate.start && !validate.end);
    assert_eq!(validate.kind, "Choice");
    let label = edge(&g, "/States/Validate", "/States/Route").label.clone();
    assert_eq!(
        label.as_deref(),
        Some("$.device_id is string && $.site is string && $.readings is present")
    );
    let route = edge(&g, "/States/Route", "/States/Critical");
    assert_eq!(route.kind, EdgeKind::Choice);
    assert_eq!(route.label.as_deref(), Some("$.temperature >= 70"));
    assert_eq!(
        edge(&g, "/States/Route", "/States/Maintenance")
            .label
            .as_deref(),
        Some("$.tags[0] == \"maintenance\"")
    );
    assert_eq!(
        edge(&g, "/States/Route", "/States/Normal").kind,
        EdgeKind::Default
    );
    assert!(g.node_named("Rejected").unwrap().end, "a Fail state ends");
    let alert = g.node_named("RaiseAlert").unwrap();
    assert_eq!(alert.resource.as_deref(), Some("arn:spate:::kafka:produce"));
    assert_eq!(
        alert.retry,
        [RetryRule {
            error_equals: vec!["Kafka.ProduceFailed".into()],
            interval_seconds: Some(1.0),
            max_attempts: Some(3),
            backoff_rate: Some(2.0),
        }]
    );
    let processor = g
        .branches
        .iter()
        .find(|b| b.state == "/States/Readings")
        .unwrap();
    assert_eq!(processor.id, "/States/Readings/ItemProcessor");
    assert_eq!(
        processor.start_at,
        "/States/Readings/ItemProcessor/States/Classify"
    );
    let classify = g.node_named("Classify").unwrap();
    assert_eq!(
        classify.branch.as_deref(),
        Some("/States/Readings/ItemProcessor")
    );
    assert!(classify.start);
    // Every edge joins two nodes of the graph.
    for e in &g.edges {
        assert!(g.nodes.iter().any(|n| n.id == e.from), "{e:?}");
        assert!(g.nodes.iter().any(|n| n.id == e.to), "{e:?}");
    }
}

const NESTED: &str = r#"{
  "StartAt": "P",
  "States": {
    "P": {
      "Type": "Parallel",
      "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}], "End": true}}}
      ],
      "Catch": [{"ErrorEquals": ["States.ALL", "Custom.Error"], "Next": "Recover"}],
      "Next": "M"
    },
    "M": {
      "Type": "Map",
      "Iterator": {"StartAt": "Step/1", "States": {"Step/1": {"Type": "Pass", "End": true}}},
      "Next": "J"
    },
    "J": {
      "Type": "Choice",
      "QueryLanguage": "JSONata",
      "Choices": [{"Condition": "{% $states.input.n > 3 and $exists($states.input.k) %}", "Next": "Done"}],
      "Default": "Recover"
    },
    "Recover": {"Type": "Choice", "Choices": [
      {"Not": {"Variable": "$.x", "StringEqualsPath": "$.y"}, "Next": "Done"},
      {"Or": [{"Variable": "$.a", "NumericLessThan": 1}, {"And": [{"Variable": "$.b", "BooleanEquals": true}, {"Variable": "$.c", "IsNull": false}]}], "Next": "Done"}
    ], "Default": "Done"},
    "Done": {"Type": "Succeed"}
  }
}"#;

#[test]
fn map_parallel_catch_retry_and_choice() {
    let g = graph(NESTED);
    let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "/States/P",
            "/States/P/Branches/0/States/A",
            "/States/P/Branches/1/States/B",
            "/States/M",
            "/States/M/Iterator/States/Step~11",
            "/States/J",
            "/States/Recover",
            "/States/Done",
        ]
    );
    let branches: Vec<(&str, &str, usize)> = g
        .branches
        .iter()
        .map(|b| (b.id.as_str(), b.state.as_str(), b.index))
        .collect();
    assert_eq!(
        branches,
        [
            ("/States/P/Branches/0", "/States/P", 0),
            ("/States/P/Branches/1", "/States/P", 1),
            ("/States/M/Iterator", "/States/M", 0),
        ]
    );
    let catch = edge(&g, "/States/P", "/States/Recover");
    assert_eq!(catch.kind, EdgeKind::Catch);
    assert_eq!(catch.label.as_deref(), Some("States.ALL, Custom.Error"));
    assert_eq!(g.node_named("B").unwrap().retry[0].max_attempts, Some(2));
    assert!(g.node_named("A").unwrap().end);
    assert_eq!(
        edge(&g, "/States/J", "/States/Done").label.as_deref(),
        Some("$states.input.n > 3 and $exists($states.input.k)")
    );
    let labels: Vec<&str> = g
        .edges
        .iter()
        .filter(|e| e.from == "/States/Recover" && e.kind == EdgeKind::Choice)
        .filter_map(|e| e.label.as_deref())
        .collect();
    assert_eq!(
        labels,
        [
            "!($.x == $.y)",
            "$.a < 1 || ($.b == true && $.c is not null)"
        ]
    );
    assert_eq!(
        g.node_at("/States/P/Branches/1/States/B/Retry/0/MaxAttempts")
            .map(|n| n.name.as_str()),
        Some("B")
    );
    assert_eq!(g.node_at("/States/Pother").map(|n| n.name.as_str()), None);
    assert_eq!(g.node_at("/StartAt"), None);
}

#[test]
fn forty_states() {
    let mut states = serde_json::Map::new();
    for i in 0..40 {
        let state = if i == 39 {
            serde_json::json!({"Type": "Succeed"})
        } else if i % 10 == 5 {
            serde_json::json!({"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": i, "Next": format!("S{}", i + 2)}
            ], "Default": format!("S{}", i + 1)})
        } else {
            serde_json::json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
        };
        states.insert(format!("S{i}"), state);
    }
    let definition = serde_json::json!({"StartAt": "S0", "States": states});
    let g = Graph::of(&definition);
    assert_eq!(g.nodes.len(), 40);
    assert_eq!(g.edges.len(), 39 + 4);
    assert_eq!(g.nodes.iter().filter(|n| n.start).count(), 1);
    assert_eq!(g.nodes.iter().filter(|n| n.end).count(), 1);
    assert_eq!(
        edge(&g, "/States/S15", "/States/S17").label.as_deref(),
        Some("$.n > 15")
    );
}

#[test]
fn text_that_is_not_an_object_has_no_graph() {
    assert!(Graph::of_text("[1]").is_none());
    assert!(Graph::of_text("{").is_none());
    assert!(graph("{}").nodes.is_empty());
}
