use super::*;

fn settings(size: usize, queue: usize) -> ConsoleSettings {
    ConsoleSettings {
        journal_size: size,
        queue_size: queue,
        ..ConsoleSettings::default()
    }
}

fn ended(name: &str, status: &'static str, key: Option<&str>) -> Ended {
    let start = Timestamp::from_unix_nanos(1_000_000_000_000);
    Ended {
        name: Str::from(name),
        machine: Str::from("m"),
        key: key.map(str::to_string),
        status,
        start,
        stop: start.plus(Duration::from_millis(5)),
        error: (status != "SUCCEEDED").then(|| "E".to_string()),
        cause: None,
        history: None,
        definition: None,
    }
}

/// Files what was offered, as the journal's thread does.
fn filed(journal: &Journal, all: Vec<Ended>) {
    for e in all {
        journal.file(Message::Pipeline(e));
    }
}

fn names(entries: &[Arc<Entry>]) -> Vec<String> {
    entries.iter().map(|e| e.summary().name).collect()
}

#[test]
fn the_ring_is_bounded_and_keeps_failures_preferentially() {
    let journal = Journal::start(&settings(10, 100), "r", "1");
    filed(
        &journal,
        vec![ended("f0", "FAILED", None), ended("f1", "TIMED_OUT", None)],
    );
    filed(
        &journal,
        (0..30)
            .map(|i| ended(&format!("ok{i}"), "SUCCEEDED", None))
            .collect(),
    );
    assert_eq!(journal.len(), 10);
    let all = names(&journal.newest(u64::MAX, 100, &Filter::default()));
    assert!(
        all.contains(&"f0".to_string()) && all.contains(&"f1".to_string()),
        "{all:?}"
    );
    assert_eq!(all[0], "ok29", "newest first");
    assert!(!all.contains(&"ok0".to_string()));
    // Failures fill at most nine tenths; then the oldest of them goes.
    filed(
        &journal,
        (0..20)
            .map(|i| ended(&format!("bad{i}"), "FAILED", None))
            .collect(),
    );
    assert_eq!(journal.len(), 10);
    let all = names(&journal.newest(u64::MAX, 100, &Filter::default()));
    assert!(!all.contains(&"f0".to_string()), "{all:?}");
    assert!(all.contains(&"bad19".to_string()));
    assert_eq!(
        all.iter().filter(|n| n.starts_with("ok")).count(),
        1,
        "{all:?}"
    );
}

#[test]
fn listing_filters_and_pages_by_sequence() {
    let journal = Journal::start(&settings(100, 100), "us-east-1", "123");
    filed(
        &journal,
        (0..10)
            .map(|i| {
                let status = if i % 3 == 0 { "FAILED" } else { "SUCCEEDED" };
                ended(
                    &format!("e{i}"),
                    status,
                    Some(if i % 2 == 0 { "even" } else { "odd" }),
                )
            })
            .collect(),
    );
    let failed = Filter {
        status: Some("FAILED".into()),
        ..Filter::default()
    };
    assert_eq!(
        names(&journal.newest(u64::MAX, 10, &failed)),
        ["e9", "e6", "e3", "e0"]
    );
    let even = Filter {
        key: Some("even".into()),
        error: Some("E".into()),
        ..Filter::default()
    };
    assert_eq!(names(&journal.newest(u64::MAX, 10, &even)), ["e6", "e0"]);
    let first = journal.newest(u64::MAX, 3, &Filter::default());
    assert_eq!(names(&first), ["e9", "e8", "e7"]);
    let next = journal.newest(first[2].seq, 3, &Filter::default());
    assert_eq!(names(&next), ["e6", "e5", "e4"]);
    let arn = "arn:aws:states:us-east-1:123:express:m:e4";
    assert_eq!(journal.get(arn).unwrap().summary().name, "e4");
    let later = Filter {
        started_after: Some(Timestamp::from_unix_nanos(2_000_000_000_000)),
        ..Filter::default()
    };
    assert!(journal.newest(u64::MAX, 10, &later).is_empty());
}

#[test]
fn offers_never_wait_and_drops_are_counted() {
    let journal = Journal::start(&settings(100, 2), "r", "1");
    // The thread files as it goes; offer faster than it can take them by
    // holding the ring (what it files into) meanwhile.
    let held = journal.ring();
    for i in 0..50 {
        journal.offer(ended(&format!("e{i}"), "SUCCEEDED", None));
    }
    drop(held);
    assert!(journal.dropped() >= 45, "dropped {}", journal.dropped());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while journal.len() + journal.dropped() as usize != 50 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(journal.len() + journal.dropped() as usize, 50);
}
