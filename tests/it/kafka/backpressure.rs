//! A topic filled far faster than the workflow runs: the pipeline pauses
//! partitions instead of reading ahead, so memory stays bounded.

use super::*;

/// The bound this test holds `spate run` to while ~300 MB wait in the topic.
const RSS_BOUND: u64 = 128 * 1024 * 1024;

#[test]
fn a_topic_filled_far_faster_than_the_workflow_keeps_memory_bounded() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    const EVENTS: usize = 30_000;
    let names = Names::new("backpressure");
    names.create(&bootstrap, 4);
    let pad = "x".repeat(10 * 1024);
    produce(
        &bootstrap,
        &names.source,
        (0..EVENTS).map(|i| {
            (
                format!("k{i}"),
                format!(r#"{{"slow":true,"n":{i},"pad":"{pad}"}}"#).into_bytes(),
            )
        }),
    );
    let scratch = Scratch::new("backpressure");
    let config = write_config(
        &scratch,
        &bootstrap,
        &names,
        &repo("tests/fixtures/kafka/slow.asl.json"),
        "max_in_flight = 20\nmax_pending_per_partition = 50",
        &format!(
            "task_config = \"{}\"",
            repo("tests/fixtures/kafka/slower.resources.json").display()
        ),
    );
    let mut spate = Spate::start(&config, "spate");
    // 20 at a time, 200 ms each: at most 100 events/s (slower than the
    // pipeline thread takes events even in a debug build), so the topic
    // waits. Watch memory while the pipeline works through it.
    let mut peak = 0;
    let started = Instant::now();
    let mut progressed = false;
    while started.elapsed() < Duration::from_secs(12) {
        if let Some(rss) = spate.rss() {
            peak = peak.max(rss);
        }
        std::thread::sleep(Duration::from_millis(100));
        if !progressed && started.elapsed() > Duration::from_secs(6) {
            progressed =
                !admin::read_topic(&bootstrap, &names.output, Duration::from_secs(2), |r| {
                    !r.is_empty()
                })
                .expect("output read")
                .is_empty();
        }
    }
    assert!(spate.running(), "log:\n{}", spate.log());
    assert!(progressed, "no output after 6 s; log:\n{}", spate.log());
    let log = spate.log();
    let paused = log.lines().any(|line| {
        line.split(" partitions paused")
            .next()
            .and_then(|head| head.rsplit(' ').next())
            .is_some_and(|n| line.contains(" partitions paused") && !n.starts_with("0/"))
    });
    assert!(paused, "no status line shows a paused partition:\n{log}");
    eprintln!(
        "backpressure: peak RSS {:.1} MiB with {:.0} MB waiting in the topic (bound {} MiB)",
        peak as f64 / (1024.0 * 1024.0),
        (EVENTS * (pad.len() + 30)) as f64 / 1e6,
        RSS_BOUND >> 20
    );
    assert!(peak > 0, "could not read the process's memory");
    assert!(
        peak < RSS_BOUND,
        "peak RSS {peak} over the bound; log:\n{log}"
    );
    assert!(spate.terminate(Duration::from_secs(30)).success());
}
