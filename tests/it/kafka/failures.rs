//! Failures: a second instance taking over from a killed one, the broker
//! stopped for ten seconds, no broker at start-up (`kill -9` and restart:
//! `crash.rs`).

use super::*;

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
