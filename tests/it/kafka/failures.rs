//! Failures: `kill -9` mid-stream and restart, a second instance taking
//! over, the broker stopped for ten seconds, no broker at start-up.

use super::*;

#[test]
fn a_killed_process_restarts_without_losing_anything() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    const EVENTS: usize = 50_000;
    const PARTITIONS: u32 = 4;
    const WINDOW: usize = 256;
    let names = Names::new("crash");
    names.create(&bootstrap, PARTITIONS);
    let produced = produce(&bootstrap, &names.source, (0..EVENTS).map(iot_event));
    let scratch = Scratch::new("crash");
    let definition = repo("config/workflows/bench/choice-router.asl.json");
    let config = write_config(
        &scratch,
        &bootstrap,
        &names,
        &definition,
        &format!("max_in_flight = 128\nmax_pending_per_partition = {WINDOW}"),
        "",
    );
    let started = Instant::now();
    let mut first = Spate::start(&config, "first");
    wait_records(
        &bootstrap,
        &names.output,
        10_000,
        Duration::from_secs(120),
        || first.log(),
    );
    first.kill();
    // Outputs per second while it ran (group join included: an
    // underestimate, which only tightens the bound below).
    let rate = 10_000.0 / started.elapsed().as_secs_f64();
    let killed_at = admin::read_topic(&bootstrap, &names.output, Duration::from_secs(5), |_| false)
        .expect("output read")
        .len();
    assert!(killed_at < EVENTS, "killed too late to test anything");
    let mut second = Spate::start(&config, "second");
    let (_, duplicates) = every_event_has_an_outcome(
        &bootstrap,
        &names,
        &produced,
        Duration::from_secs(300),
        || second.log(),
    );
    // What may repeat: each partition's events not yet committed when the
    // process died: at most its window of unfinished ones plus those
    // acknowledged since the last commit (commit_interval_ms = 200).
    let bound = PARTITIONS as usize * WINDOW + (rate * 0.5) as usize;
    eprintln!(
        "crash: killed after {killed_at} of {EVENTS} outputs (~{rate:.0}/s); {duplicates} duplicates after restart (bound {bound})"
    );
    assert!(duplicates <= bound, "{duplicates} duplicates > {bound}");
    wait_committed(&bootstrap, &names, &produced, Duration::from_secs(60));
    assert!(second.terminate(Duration::from_secs(30)).success());
}

#[test]
fn a_second_instance_takes_over_the_partitions_of_a_killed_one() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    const EVENTS: usize = 40_000;
    let names = Names::new("takeover");
    names.create(&bootstrap, 6);
    let scratch = Scratch::new("takeover");
    let definition = repo("config/workflows/bench/choice-router.asl.json");
    let config = write_config(&scratch, &bootstrap, &names, &definition, "", "");
    let mut a = Spate::start(&config, "a");
    let mut b = Spate::start(&config, "b");
    let assigned = |s: &Spate| s.log().contains("partition(s) assigned");
    wait_for(
        "both instances to own partitions",
        Duration::from_secs(60),
        || assigned(&a) && assigned(&b),
        || format!("a:\n{}\nb:\n{}", a.log(), b.log()),
    );
    let mut produced = produce(&bootstrap, &names.source, (0..EVENTS / 2).map(iot_event));
    wait_records(
        &bootstrap,
        &names.output,
        5_000,
        Duration::from_secs(120),
        || a.log(),
    );
    a.kill();
    produced.extend(produce(
        &bootstrap,
        &names.source,
        (EVENTS / 2..EVENTS).map(iot_event),
    ));
    let (_, duplicates) = every_event_has_an_outcome(
        &bootstrap,
        &names,
        &produced,
        Duration::from_secs(300),
        || b.log(),
    );
    eprintln!("takeover: {duplicates} duplicates after one of two instances was killed");
    assert!(b.running());
    wait_committed(&bootstrap, &names, &produced, Duration::from_secs(60));
    assert!(b.terminate(Duration::from_secs(30)).success());
}

/// Sends SIGCONT to the broker when dropped, so a failing test never leaves
/// it stopped.
struct Resume(u32);

impl Drop for Resume {
    fn drop(&mut self) {
        signal(self.0, "CONT");
    }
}

#[test]
fn a_broker_outage_mid_run_loses_nothing() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    let Some(broker_pid) = std::env::var("SPATE_KAFKA_BROKER_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    else {
        eprintln!("skipping: SPATE_KAFKA_BROKER_PID is not set (scripts/test.sh sets it)");
        return;
    };
    const EVENTS: usize = 30_000;
    let names = Names::new("outage");
    names.create(&bootstrap, 4);
    let mut produced = produce(&bootstrap, &names.source, (0..EVENTS / 2).map(iot_event));
    let scratch = Scratch::new("outage");
    let definition = repo("config/workflows/bench/choice-router.asl.json");
    let config = write_config(&scratch, &bootstrap, &names, &definition, "", "");
    let mut spate = Spate::start(&config, "spate");
    wait_records(
        &bootstrap,
        &names.output,
        1_000,
        Duration::from_secs(120),
        || spate.log(),
    );
    {
        signal(broker_pid, "STOP");
        let _resume = Resume(broker_pid);
        std::thread::sleep(Duration::from_secs(10));
        assert!(
            spate.running(),
            "spate exited during the outage; log:\n{}",
            spate.log()
        );
    }
    produced.extend(produce(
        &bootstrap,
        &names.source,
        (EVENTS / 2..EVENTS).map(iot_event),
    ));
    let (_, duplicates) = every_event_has_an_outcome(
        &bootstrap,
        &names,
        &produced,
        Duration::from_secs(300),
        || spate.log(),
    );
    eprintln!("outage: {duplicates} duplicates after a 10 s broker stop");
    assert!(spate.running());
    wait_committed(&bootstrap, &names, &produced, Duration::from_secs(120));
    assert!(spate.terminate(Duration::from_secs(30)).success());
}

#[test]
fn an_unreachable_broker_at_start_up_is_named_and_retried() {
    // No broker needed: a port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    };
    let address = format!("127.0.0.1:{port}");
    let names = Names::new("unreachable");
    let scratch = Scratch::new("unreachable");
    let definition = repo("config/workflows/bench/choice-router.asl.json");
    let config = write_config(&scratch, &address, &names, &definition, "", "");
    let mut spate = Spate::start(&config, "spate");
    let expected = format!("cannot reach Kafka at {address}");
    wait_for(
        "the error naming the address",
        Duration::from_secs(60),
        || spate.log().contains(&expected),
        || spate.log(),
    );
    wait_for(
        "a retry",
        Duration::from_secs(60),
        || spate.log().matches(&expected).count() >= 2,
        || spate.log(),
    );
    assert!(spate.running(), "spate gave up; log:\n{}", spate.log());
    let status = spate.terminate(Duration::from_secs(30));
    assert!(status.success(), "exit {status:?}; log:\n{}", spate.log());
}
