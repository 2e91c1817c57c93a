//! The main path: every event gets exactly one outcome and every offset is
//! committed; the kafka:produce task routes events to other topics.

use super::*;

#[test]
fn hundred_thousand_events_get_one_outcome_each_and_are_committed() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    const EVENTS: usize = 100_000;
    let names = Names::new("100k");
    names.create(&bootstrap, 8);
    let produced = produce(&bootstrap, &names.source, (0..EVENTS).map(iot_event));
    let scratch = Scratch::new("100k");
    let definition = repo("config/workflows/bench/choice-router.asl.json");
    let config = write_config(&scratch, &bootstrap, &names, &definition, "", "");
    let mut spate = Spate::start(&config, "spate");

    let (records, duplicates) = every_event_has_an_outcome(
        &bootstrap,
        &names,
        &produced,
        Duration::from_secs(300),
        || spate.log(),
    );
    assert_eq!(duplicates, 0, "a clean run publishes each outcome once");
    let dead: Vec<_> = records
        .iter()
        .filter(|r| r.header("spate-dlq-reason").is_some())
        .collect();
    assert!(
        dead.is_empty(),
        "unexpected dead letters: {:?}",
        dead.first()
    );
    let sample = records
        .iter()
        .find(|r| source_of(r) == (0, 0))
        .expect("offset 0 of partition 0");
    assert_eq!(sample.header("spate-status"), Some("SUCCEEDED"));
    assert_eq!(
        sample.header("spate-execution"),
        Some(&*format!("{}-0-0", names.source))
    );
    assert!(sample.key.is_some(), "outputs keep the event's key");

    wait_committed(&bootstrap, &names, &produced, Duration::from_secs(60));
    let status = spate.terminate(Duration::from_secs(30));
    assert!(status.success(), "exit {status:?}; log:\n{}", spate.log());
}

#[test]
fn the_produce_task_routes_events_to_other_topics() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    let names = Names::new("route");
    names.create(&bootstrap, 2);
    let routed = format!("{}-routed", names.source);
    admin::create_topics(&bootstrap, &[&routed], 2, Duration::from_secs(30)).expect("topic");
    produce(
        &bootstrap,
        &names.source,
        (0..20).map(|i| {
            (
                format!("k{i}"),
                format!(r#"{{"id":"e{i}","route":"{routed}"}}"#).into_bytes(),
            )
        }),
    );
    let scratch = Scratch::new("route");
    let config = write_config(
        &scratch,
        &bootstrap,
        &names,
        &repo("tests/fixtures/kafka/route.asl.json"),
        "",
        "",
    );
    let mut spate = Spate::start(&config, "spate");
    let outputs = read_outcomes(
        &bootstrap,
        &[&names.output, &names.dlq],
        20,
        Duration::from_secs(120),
    );
    assert_eq!(tally(&outputs), (20, 0), "log:\n{}", spate.log());
    for r in &outputs {
        assert_eq!(r.header("spate-status"), Some("SUCCEEDED"), "{r:?}");
        let text = String::from_utf8(r.payload.clone().unwrap()).unwrap();
        assert!(text.contains(&format!(r#""Topic":"{routed}""#)), "{text}");
    }
    let routed_records = admin::read_topic(&bootstrap, &routed, Duration::from_secs(30), |r| {
        r.len() >= 20
    })
    .expect("routed topic read");
    assert_eq!(routed_records.len(), 20);
    assert!(
        routed_records
            .iter()
            .all(|r| r.header("routed-by") == Some("spate"))
    );
    let mut ids: Vec<String> = routed_records
        .iter()
        .map(|r| String::from_utf8(r.key.clone().unwrap()).unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    assert!(spate.terminate(Duration::from_secs(30)).success());
}
