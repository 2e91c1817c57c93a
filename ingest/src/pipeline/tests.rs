//! The pipeline driven by a fake `Io`: no Kafka, no runtime threads.

use super::*;
use crate::record::header;
use spate_engine::json;
use spate_engine::time::Timestamp;
use std::sync::atomic::Ordering::Relaxed;

#[derive(Default)]
struct FakeIo {
    submitted: Vec<Submission>,
    cancelled: Vec<ExecutionId>,
    produced: Vec<(OutRecord, u64)>,
    runtime_full: bool,
    queue_full: bool,
    next_id: u64,
}

impl Io for FakeIo {
    fn submit(&mut self, submission: Submission) -> Result<ExecutionId, SubmitError> {
        if self.runtime_full {
            return Err(SubmitError::Full(Box::new(submission)));
        }
        self.next_id += 1;
        self.submitted.push(submission);
        Ok(ExecutionId(self.next_id))
    }
    fn cancel(&mut self, id: ExecutionId) {
        self.cancelled.push(id);
    }
    fn produce(&mut self, record: &OutRecord, tag: u64) -> Result<(), Refused> {
        if self.queue_full {
            return Err(Refused::QueueFull);
        }
        self.produced.push((record.clone(), tag));
        Ok(())
    }
}

fn state_machine() -> Arc<spate_engine::registry::StateMachine> {
    let text = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    spate_engine::registry::Registry::default()
        .create("p", text)
        .expect("valid definition")
}

fn settings(edit: impl FnOnce(&mut PipelineSettings)) -> Arc<PipelineSettings> {
    let mut s = PipelineSettings::new("p", "in", Some(state_machine()), "out", "dlq");
    edit(&mut s);
    Arc::new(s)
}

fn pipeline(settings: Arc<PipelineSettings>) -> Pipeline {
    let sink: Arc<dyn CompletionSink> = Arc::new(|_: Completion| {});
    let stats = Arc::new(PipelineStats::new(settings.source_topics.len()));
    let mut pipeline = Pipeline::new(settings, sink, stats);
    pipeline.assign(&[tp(0), tp(1)]);
    pipeline.set_retry_delay(Duration::ZERO);
    pipeline
}

fn tp(partition: i32) -> Tp {
    Tp {
        topic: 0,
        partition,
    }
}

fn meta(partition: i32, offset: i64, key: Option<&str>) -> Meta {
    Meta {
        partition,
        offset,
        key: key.map(|k| k.as_bytes().to_vec().into_boxed_slice()),
        headers: vec![("trace".into(), Some(b"t".to_vec()))],
        timestamp_ms: Some(5),
    }
}

fn event(pipeline: &mut Pipeline, io: &mut FakeIo, partition: i32, offset: i64, key: Option<&str>) {
    pipeline.on_event(
        io,
        tp(partition),
        meta(partition, offset, key),
        crate::event::decode(Some(format!(r#"{{"offset":{offset}}}"#).as_bytes())),
    );
    pipeline.tick(io);
}

/// The runtime's completion of `s`, as the driver's sink hands it over.
fn completion(
    s: &Submission,
    status: Status,
    result: Result<Value, StatesError>,
) -> JsonCompletion {
    JsonCompletion::from(Completion {
        id: ExecutionId(0),
        name: s.name.clone(),
        tag: s.tag,
        status,
        result,
        queued_at: Timestamp::from_unix_nanos(0),
        started_at: Timestamp::from_unix_nanos(0),
        ended_at: Timestamp::from_unix_nanos(0),
        transitions: 1,
    })
}

/// Completes the submission named `name` successfully, echoing its input.
fn succeed(pipeline: &mut Pipeline, io: &mut FakeIo, name: &str) {
    let i = io
        .submitted
        .iter()
        .position(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} was not submitted"));
    let s = io.submitted.remove(i);
    let c = completion(&s, Status::Succeeded, Ok(s.input.clone()));
    pipeline.on_completion(io, c);
}

/// Acknowledges the produced record from execution `name`.
fn ack(pipeline: &mut Pipeline, io: &mut FakeIo, name: &str) {
    let i = io
        .produced
        .iter()
        .position(|(r, _)| r.header(header::EXECUTION).as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no record for {name}"));
    let (_, tag) = io.produced.remove(i);
    pipeline.on_delivery(io, tag, Ok(()));
}

#[test]
fn out_of_order_completions_commit_in_order() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|_| {}));
    for offset in 10..13 {
        event(&mut pipeline, &mut io, 0, offset, None);
    }
    assert_eq!(io.submitted.len(), 3);
    assert_eq!(io.submitted[0].name, "in-0-10");
    succeed(&mut pipeline, &mut io, "in-0-12");
    succeed(&mut pipeline, &mut io, "in-0-11");
    ack(&mut pipeline, &mut io, "in-0-12");
    ack(&mut pipeline, &mut io, "in-0-11");
    assert!(pipeline.commit_due().is_empty(), "10 is not done");
    succeed(&mut pipeline, &mut io, "in-0-10");
    let (record, _) = &io.produced[0];
    assert_eq!(&*record.topic, "out");
    assert_eq!(record.payload, br#"{"offset":10}"#);
    assert_eq!(record.header("trace").as_deref(), Some("t"), "forwarded");
    assert_eq!(record.header(header::STATUS).as_deref(), Some("SUCCEEDED"));
    assert_eq!(record.header(header::SOURCE_OFFSET).as_deref(), Some("10"));
    ack(&mut pipeline, &mut io, "in-0-10");
    assert_eq!(pipeline.commit_due(), vec![(Arc::from("in"), 0, 13)]);
    assert!(pipeline.commit_due().is_empty(), "only moved positions");
    assert!(pipeline.drained());
}

#[test]
fn poison_events_become_dead_letters_and_the_pipeline_goes_on() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|_| {}));
    pipeline.on_event(
        &mut io,
        tp(0),
        meta(0, 0, Some("k")),
        crate::event::decode(Some(b"{nope")),
    );
    let big = vec![b' '; crate::config::defaults::MAX_EVENT_BYTES + 1];
    pipeline.on_event(
        &mut io,
        tp(0),
        meta(0, 1, None),
        crate::event::decode(Some(&big)),
    );
    event(&mut pipeline, &mut io, 0, 2, None);
    let s = io.submitted.remove(0);
    let failed = completion(
        &s,
        Status::Failed,
        Err(StatesError::new("InvalidEvent", "no device")),
    );
    pipeline.on_completion(&mut io, failed);

    let reasons: Vec<_> = io
        .produced
        .iter()
        .map(|(r, _)| {
            assert_eq!(&*r.topic, "dlq");
            assert!(r.dead_letter);
            (
                r.header(header::DLQ_REASON).unwrap(),
                r.header(header::ERROR).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("invalid-json".to_string(), "InvalidJson".to_string()),
            (
                "too-large".to_string(),
                "States.DataLimitExceeded".to_string()
            ),
            ("execution-failed".to_string(), "InvalidEvent".to_string()),
        ]
    );
    assert_eq!(io.produced[0].0.payload, b"{nope", "the original bytes");
    assert_eq!(io.produced[0].0.key.as_deref(), Some(&b"k"[..]));
    assert_eq!(io.produced[2].0.payload, br#"{"offset":2}"#);
    for name in ["in-0-0", "in-0-1", "in-0-2"] {
        ack(&mut pipeline, &mut io, name);
    }
    assert_eq!(pipeline.commit_due(), vec![(Arc::from("in"), 0, 3)]);
}

/// Bytes that parse to a value which serialises differently: whitespace,
/// key order, `1.0`, a unicode escape.
const UNUSUAL: &[u8] = br#"{ "z": 1.0,  "a" : "caf\u00e9",
  "n": [1, 2e0] }"#;

#[test]
fn a_failed_execution_dead_letters_the_value_byte_for_byte() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|_| {}));
    let body = crate::event::decode(Some(UNUSUAL));
    let Body::Json { value, .. } = &body else {
        panic!("{body:?}");
    };
    assert_ne!(value.to_json_bytes(), UNUSUAL, "a test that can fail");
    let mut m = meta(0, 0, Some("k"));
    m.headers.push(("bin".into(), Some(vec![0xff, 0])));
    m.headers.push(("none".into(), None));
    let headers = m.headers.clone();
    pipeline.on_event(&mut io, tp(0), m, body);
    pipeline.tick(&mut io);
    let s = io.submitted.remove(0);
    pipeline.on_completion(
        &mut io,
        completion(&s, Status::Failed, Err(StatesError::new("Boom", "no"))),
    );
    let (r, _) = &io.produced[0];
    assert!(r.dead_letter);
    assert_eq!(r.payload, UNUSUAL);
    assert_eq!(r.key.as_deref(), Some(&b"k"[..]));
    assert_eq!(
        r.headers, headers,
        "the original headers, before Spate's own"
    );
}

#[test]
fn a_refused_output_dead_letters_the_value_byte_for_byte() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|_| {}));
    pipeline.on_event(
        &mut io,
        tp(0),
        meta(0, 0, None),
        crate::event::decode(Some(UNUSUAL)),
    );
    pipeline.tick(&mut io);
    succeed(&mut pipeline, &mut io, "in-0-0");
    let (output, tag) = io.produced.remove(0);
    pipeline.on_delivery(
        &mut io,
        tag,
        Err((DeliveryError::TooLarge("too big".into()), output)),
    );
    let (r, _) = &io.produced[0];
    assert_eq!(
        r.header(header::DLQ_REASON).as_deref(),
        Some("output-rejected")
    );
    assert_eq!(r.payload, UNUSUAL);
}

#[test]
fn failures_can_go_to_the_output_topic() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|s| s.on_failure = OnFailure::Output));
    event(&mut pipeline, &mut io, 1, 0, None);
    let s = io.submitted.remove(0);
    pipeline.on_completion(
        &mut io,
        completion(
            &s,
            Status::TimedOut,
            Err(StatesError::new("States.Timeout", "slow")),
        ),
    );
    let (r, _) = &io.produced[0];
    assert_eq!(&*r.topic, "out");
    assert_eq!(r.header(header::STATUS).as_deref(), Some("TIMED_OUT"));
    assert_eq!(r.header(header::ERROR).as_deref(), Some("States.Timeout"));
    assert_eq!(
        r.payload,
        br#"{"status":"TIMED_OUT","error":"States.Timeout","cause":"slow"}"#
    );
}

#[test]
fn per_key_ordering_runs_one_event_per_key_at_a_time() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|s| s.ordering = Ordering::PerKey));
    event(&mut pipeline, &mut io, 0, 0, Some("a"));
    event(&mut pipeline, &mut io, 0, 1, Some("b"));
    event(&mut pipeline, &mut io, 0, 2, Some("a"));
    event(&mut pipeline, &mut io, 0, 3, Some("a"));
    event(&mut pipeline, &mut io, 0, 4, None);
    let names = |io: &FakeIo| {
        io.submitted
            .iter()
            .map(|s| s.name.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&io), ["in-0-0", "in-0-1", "in-0-4"]);
    assert_eq!(
        io.submitted[0].key,
        io.submitted[1].key.map(|_| event::key_hash(b"a"))
    );
    succeed(&mut pipeline, &mut io, "in-0-0");
    assert_eq!(names(&io), ["in-0-1", "in-0-4", "in-0-2"]);
    succeed(&mut pipeline, &mut io, "in-0-2");
    assert_eq!(names(&io), ["in-0-1", "in-0-4", "in-0-3"]);
    succeed(&mut pipeline, &mut io, "in-0-3");
    succeed(&mut pipeline, &mut io, "in-0-1");
    succeed(&mut pipeline, &mut io, "in-0-4");
    // Outputs of key a in offset order.
    let a: Vec<_> = io
        .produced
        .iter()
        .filter(|(r, _)| r.key.as_deref() == Some(&b"a"[..]))
        .map(|(r, _)| r.header(header::SOURCE_OFFSET).unwrap())
        .collect();
    assert_eq!(a, ["0", "2", "3"]);
}

#[test]
fn a_full_partition_window_pauses_and_resumes_at_half() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|s| s.max_pending_per_partition = 4));
    pipeline.take_flow();
    for offset in 0..3 {
        event(&mut pipeline, &mut io, 0, offset, None);
    }
    assert!(pipeline.take_flow().is_empty());
    event(&mut pipeline, &mut io, 0, 3, None);
    assert_eq!(pipeline.take_flow(), [Flow::Pause(tp(0))]);
    for offset in 0..2 {
        succeed(&mut pipeline, &mut io, &format!("in-0-{offset}"));
        ack(&mut pipeline, &mut io, &format!("in-0-{offset}"));
    }
    assert_eq!(pipeline.take_flow(), [Flow::Resume(tp(0))]);
}

#[test]
fn events_are_wanted_while_few_wait_to_start() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|s| s.max_in_flight = 2));
    // Two free execution slots plus the reserve.
    for offset in 0..(2 + READY_RESERVE as i64 - 1) {
        event(&mut pipeline, &mut io, 0, offset, None);
        assert!(pipeline.wants_events(), "after offset {offset}");
    }
    event(&mut pipeline, &mut io, 0, 1 + READY_RESERVE as i64, None);
    assert!(
        !pipeline.wants_events(),
        "the slots and the reserve are taken"
    );
    pipeline.tick(&mut io);
    assert_eq!(io.submitted.len(), 2);
    assert!(!pipeline.wants_events(), "{READY_RESERVE} still wait");
    succeed(&mut pipeline, &mut io, "in-0-0");
    assert_eq!(io.submitted.len(), 2, "the next one started at once");
    assert!(pipeline.wants_events());
}

#[test]
fn a_full_runtime_keeps_events_ready_and_pauses_everything_at_the_safety_limit() {
    let mut io = FakeIo {
        runtime_full: true,
        ..FakeIo::default()
    };
    let mut pipeline = pipeline(settings(|s| {
        s.max_in_flight = 2;
        s.max_pending_per_partition = 10_000;
    }));
    pipeline.take_flow();
    // The limit is 4 x max_in_flight, at least 1024, events that cannot
    // start (2 could, into the free execution slots).
    for offset in 0..1025 {
        event(&mut pipeline, &mut io, (offset % 2) as i32, offset, None);
    }
    assert!(pipeline.take_flow().is_empty());
    event(&mut pipeline, &mut io, 1, 1025, None);
    let mut flow = pipeline.take_flow();
    flow.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(flow, [Flow::Pause(tp(0)), Flow::Pause(tp(1))]);
    assert!(io.submitted.is_empty());
    io.runtime_full = false;
    pipeline.tick(&mut io);
    assert_eq!(io.submitted.len(), 2);
    assert!(pipeline.take_flow().is_empty(), "still 1024 waiting");
    let mut completed = 0;
    while pipeline.take_flow().is_empty() {
        let s = io.submitted.remove(0);
        let name = s.name.to_string();
        let c = completion(&s, Status::Succeeded, Ok(s.input.clone()));
        pipeline.on_completion(&mut io, c);
        ack(&mut pipeline, &mut io, &name);
        completed += 1;
    }
    assert_eq!(completed, 512, "resumed at half the limit");
}

#[test]
fn max_in_flight_bounds_running_executions() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|s| s.max_in_flight = 2));
    for offset in 0..5 {
        event(&mut pipeline, &mut io, 0, offset, None);
    }
    assert_eq!(io.submitted.len(), 2);
    succeed(&mut pipeline, &mut io, "in-0-0");
    assert_eq!(io.submitted.len(), 2);
    assert_eq!(io.submitted[1].name, "in-0-2");
}

#[test]
fn revocation_drops_unstarted_cancels_late_and_ignores_stale_completions() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|s| s.max_in_flight = 2));
    for offset in 0..4 {
        event(&mut pipeline, &mut io, 0, offset, None);
    }
    event(&mut pipeline, &mut io, 1, 0, None);
    assert_eq!(io.submitted.len(), 2);
    succeed(&mut pipeline, &mut io, "in-0-0");
    ack(&mut pipeline, &mut io, "in-0-0");
    pipeline.begin_revoke(&[tp(0)]);
    assert_eq!(pipeline.busy(&[tp(0)]), 2, "in-0-1 and in-0-2 run");
    succeed(&mut pipeline, &mut io, "in-0-1");
    assert_eq!(pipeline.busy(&[tp(0)]), 2, "in-0-1 is being published");
    ack(&mut pipeline, &mut io, "in-0-1");
    assert_eq!(pipeline.busy(&[tp(0)]), 1);
    let positions = pipeline.finish_revoke(&mut io, &[tp(0)]);
    assert_eq!(positions, vec![(Arc::from("in"), 0, 2)]);
    assert_eq!(io.cancelled.len(), 1);
    // The cancelled execution's completion arrives later and is ignored;
    // its runtime slot then goes to partition 1 (in-0-3 was dropped).
    let s = io.submitted.remove(0);
    assert_eq!(s.name, "in-0-2");
    pipeline.on_completion(
        &mut io,
        completion(&s, Status::Aborted, Err(StatesError::runtime("x"))),
    );
    assert_eq!(pipeline.assigned(), [tp(1)]);
    assert_eq!(io.submitted.len(), 1);
    assert_eq!(io.submitted[0].name, "in-1-0");
    assert!(io.produced.is_empty());
    // Reassigned: a fresh partition state.
    pipeline.assign(&[tp(0)]);
    event(&mut pipeline, &mut io, 0, 2, None);
    succeed(&mut pipeline, &mut io, "in-1-0");
    succeed(&mut pipeline, &mut io, "in-0-2");
    ack(&mut pipeline, &mut io, "in-0-2");
    assert_eq!(
        pipeline.positions(Some(&[tp(0)])),
        vec![(Arc::from("in"), 0, 3)]
    );
}

#[test]
fn shutdown_commits_only_what_is_safe() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|s| s.max_in_flight = 1));
    for offset in 0..3 {
        event(&mut pipeline, &mut io, 0, offset, None);
    }
    succeed(&mut pipeline, &mut io, "in-0-0");
    ack(&mut pipeline, &mut io, "in-0-0");
    pipeline.begin_shutdown();
    assert!(pipeline.take_flow().contains(&Flow::Pause(tp(0))));
    event(&mut pipeline, &mut io, 0, 3, None);
    assert!(!pipeline.drained(), "in-0-1 runs");
    pipeline.abandon(&mut io);
    let s = io.submitted.remove(0);
    pipeline.on_completion(
        &mut io,
        completion(&s, Status::Aborted, Err(StatesError::runtime("x"))),
    );
    assert!(pipeline.drained());
    assert_eq!(pipeline.positions(None), vec![(Arc::from("in"), 0, 1)]);
}

#[test]
fn delivery_failures_are_retried_and_oversize_outputs_become_dead_letters() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|_| {}));
    event(&mut pipeline, &mut io, 0, 0, None);
    event(&mut pipeline, &mut io, 0, 1, None);
    succeed(&mut pipeline, &mut io, "in-0-0");
    succeed(&mut pipeline, &mut io, "in-0-1");
    let (r0, t0) = io.produced.remove(0);
    pipeline.on_delivery(
        &mut io,
        t0,
        Err((DeliveryError::Other("timed out".into()), r0.clone())),
    );
    let (r1, t1) = io.produced.remove(0);
    pipeline.on_delivery(
        &mut io,
        t1,
        Err((DeliveryError::TooLarge("too big".into()), r1)),
    );
    // Retried as-is, and the oversize one as a dead letter.
    assert_eq!(io.produced.len(), 2);
    assert_eq!(io.produced[0].0, r0);
    assert_eq!(io.produced[1].0.topic.as_ref(), "dlq");
    assert_eq!(
        io.produced[1].0.header(header::DLQ_REASON).as_deref(),
        Some("output-rejected")
    );
    ack(&mut pipeline, &mut io, "in-0-0");
    ack(&mut pipeline, &mut io, "in-0-1");
    assert_eq!(pipeline.commit_due(), vec![(Arc::from("in"), 0, 2)]);
}

#[test]
fn a_full_producer_queue_holds_records_until_it_drains() {
    let mut io = FakeIo {
        queue_full: true,
        ..FakeIo::default()
    };
    let mut pipeline = pipeline(settings(|_| {}));
    event(&mut pipeline, &mut io, 0, 0, None);
    succeed(&mut pipeline, &mut io, "in-0-0");
    assert!(io.produced.is_empty());
    assert_eq!(pipeline.unacknowledged(), 1);
    io.queue_full = false;
    pipeline.tick(&mut io);
    ack(&mut pipeline, &mut io, "in-0-0");
    assert!(pipeline.drained());
}

#[test]
fn passthrough_publishes_the_event_itself() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(Arc::new(PipelineSettings::new(
        "p", "in", None, "out", "dlq",
    )));
    event(&mut pipeline, &mut io, 0, 0, None);
    assert!(io.submitted.is_empty());
    assert_eq!(io.produced[0].0.payload, br#"{"offset":0}"#);
}

#[test]
fn envelope_input_and_duplicates() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|s| s.input = InputMode::Envelope));
    event(&mut pipeline, &mut io, 0, 7, Some("k"));
    event(&mut pipeline, &mut io, 0, 7, Some("k"));
    assert_eq!(io.submitted.len(), 1, "the repeated offset is ignored");
    assert_eq!(
        io.submitted[0].input,
        json!({"key": "k", "value": {"offset": 7}, "headers": {"trace": "t"},
               "topic": "in", "partition": 0, "offset": 7, "timestamp": 5})
    );
}

#[test]
fn stages_topics_and_dead_letter_reasons_are_counted() {
    let mut io = FakeIo::default();
    let mut pipeline = pipeline(settings(|_| {}));
    let stats = Arc::clone(pipeline.stats());
    pipeline.on_event(
        &mut io,
        tp(0),
        meta(0, 0, None),
        crate::event::decode(Some(b"{nope")),
    );
    event(&mut pipeline, &mut io, 1, 0, None);
    let s = io.submitted.remove(0);
    let now = SystemClock.now();
    let c = JsonCompletion::from(Completion {
        id: ExecutionId(0),
        name: s.name.clone(),
        tag: s.tag,
        status: Status::Succeeded,
        result: Ok(s.input),
        queued_at: now,
        started_at: now,
        ended_at: now.plus(Duration::from_millis(3)),
        transitions: 1,
    });
    pipeline.on_completion(&mut io, c);
    while let Some((_, tag)) = io.produced.pop() {
        pipeline.on_delivery(&mut io, tag, Ok(()));
    }
    pipeline.publish_gauges();

    assert_eq!(stats.consumed_by_topic[0].load(Relaxed), 2);
    let reasons: Vec<u64> = stats
        .dead_letters_by_reason
        .iter()
        .map(|c| c.load(Relaxed))
        .collect();
    assert_eq!(reasons, [1, 0, 0, 0, 0], "one invalid-json dead letter");
    let counts: Vec<u64> = stats.stages.iter().map(|b| b.snapshot().count()).collect();
    // fetch and end-to-end for both events (both carry a timestamp), queue
    // and execution for the one that ran, publish for both.
    assert_eq!(counts, [2, 1, 1, 2, 2]);
    let execution = stats.stages[Stage::Execution as usize].snapshot();
    assert_eq!(execution.sum_nanos, 3_000_000);
    assert_eq!(stats.take_latency().len(), 2, "merged by publish_gauges");
    assert!(stats.last_progress_ms.load(Relaxed) > 0);
}
