//! Events that cannot be processed land in the dead-letter topic with
//! headers saying why, and the pipeline goes on.

use super::*;

#[test]
fn poison_events_land_in_the_dlq_with_their_error_and_the_pipeline_goes_on() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    let names = Names::new("poison");
    names.create(&bootstrap, 1);
    // Serialised again, these bytes would differ (spaces, key order, 1.0,
    // 2e0, a unicode escape): the dead letter must carry them unchanged.
    let failing: &[u8] = br#"{ "site" : "plant-1",  "readings":[1.0, 2e0], "note":"caf\u00e9" }"#;
    let oversize = format!(r#"{{"device_id":"d","pad":"{}"}}"#, "x".repeat(300 * 1024));
    let events: Vec<(String, Vec<u8>)> = vec![
        ("ok".into(), iot_event(1).1),
        ("bad-json".into(), b"{\"device_id\": ".to_vec()),
        ("too-large".into(), oversize.into_bytes()),
        // iot-enrich's Validate Choice reads $.device_id: missing, the
        // execution fails with States.Runtime (as on AWS).
        ("fails".into(), failing.to_vec()),
        ("ok-too".into(), iot_event(2).1),
    ];
    let mut produced = produce(&bootstrap, &names.source, events);
    let scratch = Scratch::new("poison");
    let definition = repo("config/workflows/iot-enrich.asl.json");
    let config = write_config(&scratch, &bootstrap, &names, &definition, "", "");
    let mut spate = Spate::start(&config, "spate");

    let records = read_outcomes(
        &bootstrap,
        &[&names.output, &names.dlq],
        5,
        Duration::from_secs(120),
    );
    assert_eq!(tally(&records).0, 5, "log:\n{}", spate.log());
    let by_offset = |offset: i64| {
        records
            .iter()
            .find(|r| source_of(r) == (0, offset))
            .unwrap_or_else(|| panic!("no outcome for offset {offset}"))
    };
    for offset in [0, 4] {
        assert_eq!(by_offset(offset).header("spate-status"), Some("SUCCEEDED"));
    }
    let expect = [
        (
            1,
            "invalid-json",
            "InvalidJson",
            "invalid JSON at line 1 column 15 (byte offset 14): EOF while parsing a value",
        ),
        (
            2,
            "too-large",
            "States.DataLimitExceeded",
            "over the 262144 byte payload limit",
        ),
        (
            3,
            "execution-failed",
            "States.Runtime",
            "No results for path: $['device_id']",
        ),
    ];
    for (offset, reason, error, cause) in expect {
        let r = by_offset(offset);
        assert_eq!(r.header("spate-dlq-reason"), Some(reason), "{r:?}");
        assert_eq!(r.header("spate-error"), Some(error));
        assert!(
            r.header("spate-cause").unwrap().contains(cause),
            "{:?}",
            r.header("spate-cause")
        );
        assert_eq!(r.header("spate-source-topic"), Some(names.source.as_str()));
        assert_eq!(r.header("spate-pipeline"), Some("it"));
        assert!(r.key.is_some());
    }
    assert_eq!(
        by_offset(1).payload.as_deref(),
        Some(&b"{\"device_id\": "[..]),
        "the dead letter carries the event as received"
    );
    assert_eq!(
        by_offset(3).payload.as_deref(),
        Some(failing),
        "a failed execution's dead letter carries the event byte for byte"
    );
    assert_eq!(by_offset(3).key.as_deref(), Some(&b"fails"[..]));
    // And it keeps going.
    produced.extend(produce(&bootstrap, &names.source, [iot_event(3)]));
    let records = read_outcomes(
        &bootstrap,
        &[&names.output, &names.dlq],
        6,
        Duration::from_secs(60),
    );
    assert_eq!(tally(&records), (6, 0));
    assert_eq!(missing(&produced, &records), []);
    wait_committed(&bootstrap, &names, &produced, Duration::from_secs(30));
    assert!(spate.terminate(Duration::from_secs(30)).success());
}
