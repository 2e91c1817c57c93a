//! `ordering = "per-key"`: events with the same key run one after another,
//! in offset order, although some are slow and many run at once.

use super::*;

#[test]
fn per_key_ordering_holds_under_concurrency() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    const KEYS: usize = 20;
    const PER_KEY: usize = 50;
    let names = Names::new("order");
    names.create(&bootstrap, 2);
    // Every third event is slow (a 20 ms task): without per-key ordering
    // later events of a key would overtake it.
    let events = (0..KEYS * PER_KEY).map(|i| {
        let (key, seq) = (i % KEYS, i / KEYS);
        (
            format!("key-{key}"),
            format!(r#"{{"key":{key},"seq":{seq},"slow":{}}}"#, (i / 3) % 2 == 0).into_bytes(),
        )
    });
    produce(&bootstrap, &names.source, events);
    let scratch = Scratch::new("order");
    let config = write_config(
        &scratch,
        &bootstrap,
        &names,
        &repo("tests/fixtures/kafka/slow.asl.json"),
        "ordering = \"per-key\"\nmax_in_flight = 64",
        &format!(
            "task_config = \"{}\"",
            repo("tests/fixtures/kafka/slow.resources.json").display()
        ),
    );
    let mut spate = Spate::start(&config, "spate");
    let records = read_outcomes(
        &bootstrap,
        &[&names.output, &names.dlq],
        KEYS * PER_KEY,
        Duration::from_secs(180),
    );
    assert_eq!(
        tally(&records),
        (KEYS * PER_KEY, 0),
        "log:\n{}",
        spate.log()
    );
    // The output topic is partitioned by key, so each key's outputs are in
    // the order they were published.
    let mut seqs: HashMap<String, Vec<i64>> = HashMap::new();
    let mut sorted = records;
    sorted.sort_by_key(|r| (r.partition, r.offset));
    for r in &sorted {
        assert_eq!(r.header("spate-status"), Some("SUCCEEDED"), "{r:?}");
        let text = String::from_utf8(r.payload.clone().unwrap()).unwrap();
        let seq: i64 = text
            .split("\"seq\":")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        seqs.entry(String::from_utf8(r.key.clone().unwrap()).unwrap())
            .or_default()
            .push(seq);
    }
    assert_eq!(seqs.len(), KEYS);
    for (key, seq) in &seqs {
        let expected: Vec<i64> = (0..PER_KEY as i64).collect();
        assert_eq!(seq, &expected, "outputs of {key} out of order");
    }
    assert!(spate.terminate(Duration::from_secs(30)).success());
}
