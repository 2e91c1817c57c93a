//! `kill -9` and restart: nothing is lost, and what repeats is bounded by
//! the executions in flight plus one commit's worth of events (offsets are
//! committed as soon as outcomes are acknowledged, one commit in flight at
//! a time), not by a commit interval.

use super::*;

const PARTITIONS: u32 = 4;
const MAX_IN_FLIGHT: usize = 128;
/// Time one commit's worth of events is counted over: the wait for the
/// producer's acknowledgements, a commit's round trip and the wait for the
/// one in flight (each a few milliseconds to the test broker), with a
/// margin for a loaded machine; the old cadence committed once a second.
const COMMIT_WORTH: Duration = Duration::from_millis(100);

/// Outcome records per execution (the `spate-execution` header).
fn per_execution(records: &[Consumed]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for r in records {
        let name = r
            .header("spate-execution")
            .expect("spate-execution header")
            .to_string();
        *seen.entry(name).or_insert(0) += 1;
    }
    seen
}

/// Outcome records beyond the first for each execution.
fn duplicates(records: &[Consumed]) -> usize {
    per_execution(records).values().map(|n| n - 1).sum()
}

fn outcomes(bootstrap: &str, names: &Names) -> Vec<Consumed> {
    let mut all = Vec::new();
    for topic in [&names.output, &names.dlq] {
        all.extend(
            admin::read_topic(bootstrap, topic, Duration::from_secs(5), |_| false)
                .expect("topic read"),
        );
    }
    all
}

/// Starts `spate run` and waits until it owns partitions; returns it and
/// when that was.
fn start_and_wait_for_partitions(config: &Path, log: &str) -> (Spate, Instant) {
    let spate = Spate::start(config, log);
    wait_for(
        "partitions assigned",
        Duration::from_secs(60),
        || spate.log().contains("partition(s) assigned"),
        || spate.log(),
    );
    (spate, Instant::now())
}

#[test]
fn kill_9_repeats_at_most_the_events_in_flight_and_one_commit() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    const BACKLOG: usize = 40_000;
    const LATER: usize = 20_000;
    let names = Names::new("crash");
    names.create(&bootstrap, PARTITIONS);
    let mut produced = produce(&bootstrap, &names.source, (0..BACKLOG).map(iot_event));
    let scratch = Scratch::new("crash");
    let definition = repo("config/workflows/bench/choice-router.asl.json");
    let config = write_config(
        &scratch,
        &bootstrap,
        &names,
        &definition,
        &format!("max_in_flight = {MAX_IN_FLIGHT}"),
        "",
    );

    // 1. On a backlog, killed 0.3 s after getting its partitions.
    let (mut first, _) = start_and_wait_for_partitions(&config, "first");
    std::thread::sleep(Duration::from_millis(300));
    first.kill();
    let after_first = outcomes(&bootstrap, &names);
    assert_eq!(duplicates(&after_first), 0, "one process repeats nothing");

    // 2. Killed while writing outputs, with events still being written to
    //    its source topic.
    let (mut second, assigned) = start_and_wait_for_partitions(&config, "second");
    let writer = {
        let bootstrap = bootstrap.clone();
        let source = names.source.clone();
        std::thread::spawn(move || {
            produce(
                &bootstrap,
                &source,
                (BACKLOG..BACKLOG + LATER).map(iot_event),
            )
        })
    };
    wait_records(
        &bootstrap,
        &names.output,
        after_first.len() + 10_000,
        Duration::from_secs(120),
        || second.log(),
    );
    second.kill();
    let ran = assigned.elapsed();
    produced.extend(writer.join().expect("the writer thread"));
    let after_second = outcomes(&bootstrap, &names);
    let written = after_second.len() - after_first.len();
    assert!(
        per_execution(&after_second).len() < produced.len(),
        "killed too late to test anything"
    );
    // Outcomes per second while the second process ran (its start-up
    // included: an underestimate, which only tightens the bound).
    let rate = written as f64 / ran.as_secs_f64();
    let bound = MAX_IN_FLIGHT + (rate * COMMIT_WORTH.as_secs_f64()) as usize;

    // 3. A third process finishes the job.
    let mut third = Spate::start(&config, "third");
    let (records, _) = every_event_has_an_outcome(
        &bootstrap,
        &names,
        &produced,
        Duration::from_secs(300),
        || third.log(),
    );
    // What the second process repeated of the first's, and the third of
    // the second's.
    let repeated_first = duplicates(&after_second);
    let repeated_second = duplicates(&records) - repeated_first;
    eprintln!(
        "crash: first killed after {} outcomes, repeated {repeated_first}; second killed after \
         {written} more (~{rate:.0}/s), repeated {repeated_second}; bound {bound} \
         (max_in_flight {MAX_IN_FLIGHT} + {} ms of outcomes)",
        after_first.len(),
        COMMIT_WORTH.as_millis()
    );
    assert!(
        repeated_first <= bound,
        "{repeated_first} repeated after the first kill > {bound}"
    );
    assert!(
        repeated_second <= bound,
        "{repeated_second} repeated after the second kill > {bound}"
    );
    wait_committed(&bootstrap, &names, &produced, Duration::from_secs(60));
    assert!(third.terminate(Duration::from_secs(30)).success());
}
