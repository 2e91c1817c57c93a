//! The task-token protocol: `.waitForTaskToken` tasks wait for
//! `send_task_success` / `_failure` / `_heartbeat`, bounded by
//! `TimeoutSeconds` and `HeartbeatSeconds`, with AWS's errors for tokens that
//! are malformed, foreign, late or used twice.

use super::*;
use crate::interp::{EventType, HistoryBuffer};
use crate::task::{CallbackError, TaskToken};
use crossbeam::channel::Sender;

/// Resources whose `notify` integration hands each task token to the test
/// (as a queue or a notification service would to a worker).
fn token_resources() -> (Resources, Receiver<(String, Value)>) {
    let (sender, tokens): (Sender<(String, Value)>, _) = unbounded();
    let mut resources = Resources::new();
    resources.register(
        "notify",
        Arc::new(move |call: TaskCall| {
            let token = call
                .task_token
                .expect("a .waitForTaskToken task has a token");
            sender
                .send((token.to_string(), call.input))
                .expect("the test holds the receiver");
            TaskReply::Ready(Ok(json!("delivered")))
        }),
    );
    (resources, tokens)
}

fn waiting_task(extra: serde_json::Value) -> Arc<Plan> {
    let mut task = serde_json::json!({
        "Type": "Task",
        "Resource": "notify.waitForTaskToken",
        "Parameters": {"token.$": "$$.Task.Token", "job.$": "$.job"},
        "End": true
    });
    if let (Some(task), Some(extra)) = (task.as_object_mut(), extra.as_object()) {
        task.extend(extra.clone());
    }
    plan(serde_json::json!({"StartAt": "Wait", "States": {"Wait": task}}))
}

fn next_token(tokens: &Receiver<(String, Value)>) -> (String, Value) {
    tokens
        .recv_timeout(Duration::from_secs(30))
        .expect("the task hands out its token")
}

#[test]
fn success_and_failure_callbacks_end_the_task() {
    for shards in shapes() {
        let (resources, tokens) = token_resources();
        let h = Harness::new(shards, resources);
        let plan = waiting_task(serde_json::json!({}));
        h.submit(&plan, 1, json!({"job": "a"}));
        h.submit(&plan, 2, json!({"job": "b"}));
        for _ in 0..2 {
            let (token, input) = next_token(&tokens);
            assert_eq!(
                input.get("token").cloned().unwrap_or_default(),
                json!(token.as_str()),
                "$$.Task.Token is the token"
            );
            let handle = h.runtime.handle();
            let reply = if input.get("job") == Some(&json!("a")) {
                handle.send_task_success(&token, json!({"done": "a"}))
            } else {
                handle.send_task_failure(&token, "Worker.Broke", "disk full")
            };
            assert_eq!(reply.wait(), Ok(()));
        }
        let mut done = h.collect(2);
        done.sort_by_key(|c| c.tag);
        assert_eq!(done[0].status, Status::Succeeded);
        assert_eq!(done[0].result.as_ref().unwrap(), &json!({"done": "a"}));
        assert_eq!(done[1].status, Status::Failed);
        let error = done[1].result.as_ref().unwrap_err();
        assert_eq!(
            (error.error(), error.cause()),
            (Some("Worker.Broke"), Some("disk full"))
        );
        h.assert_no_more();
    }
}

#[test]
fn heartbeats_keep_a_task_alive_and_a_missed_one_fails_it() {
    let (resources, tokens) = token_resources();
    let h = Harness::new(2, resources);
    let plan = waiting_task(serde_json::json!({"HeartbeatSeconds": 1, "TimeoutSeconds": 60}));
    h.submit(&plan, 1, json!({"job": "kept"}));
    let (token, _) = next_token(&tokens);
    // Beat every 300 ms for three heartbeat intervals, then answer.
    let handle = h.runtime.handle();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(handle.send_task_heartbeat(&token).wait(), Ok(()));
    }
    assert_eq!(
        handle.send_task_success(&token, json!("alive")).wait(),
        Ok(())
    );
    let done = h.collect(1);
    assert_eq!(done[0].status, Status::Succeeded, "{:?}", done[0].result);

    h.submit(&plan, 2, json!({"job": "forgotten"}));
    let (token, _) = next_token(&tokens);
    let done = h.collect(1);
    assert_eq!(done[0].status, Status::Failed);
    let error = done[0].result.as_ref().unwrap_err();
    assert_eq!(error.error(), Some("States.HeartbeatTimeout"));
    assert_eq!(
        handle.send_task_heartbeat(&token).wait(),
        Err(CallbackError::TaskTimedOut),
        "the task's token expired with it"
    );
    h.assert_no_more();
}

#[test]
fn timeout_seconds_bounds_the_wait() {
    let (resources, tokens) = token_resources();
    let h = Harness::new(1, resources);
    let plan = waiting_task(serde_json::json!({"TimeoutSeconds": 1}));
    h.submit(&plan, 1, json!({"job": "slow"}));
    let (token, _) = next_token(&tokens);
    let done = h.collect(1);
    assert_eq!(done[0].status, Status::Failed);
    assert_eq!(
        done[0].result.as_ref().unwrap_err().error(),
        Some("States.Timeout")
    );
    assert_eq!(
        h.runtime
            .handle()
            .send_task_success(&token, json!(1))
            .wait(),
        Err(CallbackError::TaskTimedOut)
    );
    h.assert_no_more();
}

#[test]
fn bad_late_and_repeated_tokens_are_refused_and_change_nothing() {
    let (resources, tokens) = token_resources();
    let h = Harness::new(2, resources);
    let handle = h.runtime.handle();
    assert_eq!(
        handle.send_task_success("not a token", json!(1)).wait(),
        Err(CallbackError::InvalidToken)
    );
    assert_eq!(CallbackError::InvalidToken.aws_code(), "InvalidToken");
    assert_eq!(
        CallbackError::TaskDoesNotExist.aws_code(),
        "TaskDoesNotExist"
    );
    assert_eq!(CallbackError::TaskTimedOut.aws_code(), "TaskTimedOut");
    // Well formed, but issued by no task of this runtime.
    let foreign = TaskToken {
        shard: 0,
        number: 1,
        epoch: 7,
        secret: 42,
    }
    .encode();
    assert_eq!(
        handle.send_task_success(&foreign, json!(1)).wait(),
        Err(CallbackError::TaskDoesNotExist)
    );
    let plan = waiting_task(serde_json::json!({}));
    h.submit(&plan, 1, json!({"job": "once"}));
    let (token, _) = next_token(&tokens);
    // The right shard and number with the wrong secret: a guess.
    let mut guessed = TaskToken::decode(&token).expect("a token Spate issued");
    guessed.secret ^= 1;
    assert_eq!(
        handle.send_task_success(&guessed.encode(), json!(1)).wait(),
        Err(CallbackError::TaskDoesNotExist)
    );
    assert_eq!(
        handle.send_task_success(&token, json!("first")).wait(),
        Ok(())
    );
    assert_eq!(
        handle.send_task_success(&token, json!("second")).wait(),
        Err(CallbackError::TaskTimedOut),
        "a token answered twice"
    );
    let done = h.collect(1);
    assert_eq!(done[0].result.as_ref().unwrap(), &json!("first"));
    // The execution is over: its token is closed.
    assert_eq!(
        handle.send_task_failure(&token, "Late", "").wait(),
        Err(CallbackError::TaskTimedOut)
    );
    h.assert_no_more();
}

#[test]
fn stopping_an_execution_that_waits_for_a_token() {
    let (resources, tokens) = token_resources();
    let h = Harness::new(2, resources);
    let plan = waiting_task(serde_json::json!({}));
    let history = Arc::new(HistoryBuffer::default());
    let id = h
        .runtime
        .submit(Submission {
            history: Some(History::to(history.clone())),
            tag: 1,
            ..Submission::new(plan, "stopped", json!({"job": "x"}), Arc::clone(&h.sink))
        })
        .expect("admitted");
    let (token, _) = next_token(&tokens);
    h.runtime.cancel(id);
    let done = h.collect(1);
    assert_eq!(done[0].status, Status::Aborted);
    let events: Vec<EventType> = history.take().iter().map(|e| e.event_type).collect();
    assert_eq!(
        events.last(),
        Some(&EventType::ExecutionAborted),
        "{events:?}"
    );
    assert_eq!(
        h.runtime
            .handle()
            .send_task_success(&token, json!(1))
            .wait(),
        Err(CallbackError::TaskTimedOut)
    );
    h.assert_no_more();
}

#[test]
fn retry_and_catch_around_a_callback_task() {
    let (resources, tokens) = token_resources();
    let h = Harness::new(2, resources);
    let plan = plan(serde_json::json!({"StartAt": "Wait", "States": {
        "Wait": {
            "Type": "Task", "Resource": "notify.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token", "job.$": "$.job"},
            "Retry": [{"ErrorEquals": ["Worker.Busy"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["Worker.Broke"], "ResultPath": "$.error", "Next": "Caught"}],
            "End": true
        },
        "Caught": {"Type": "Pass", "End": true}
    }}));
    h.submit(&plan, 1, json!({"job": "retried"}));
    let handle = h.runtime.handle();
    let (first, _) = next_token(&tokens);
    assert_eq!(
        handle
            .send_task_failure(&first, "Worker.Busy", "try later")
            .wait(),
        Ok(())
    );
    let (second, _) = next_token(&tokens);
    assert_ne!(first, second, "each attempt gets its own token");
    assert_eq!(
        handle
            .send_task_failure(&second, "Worker.Broke", "gave up")
            .wait(),
        Ok(())
    );
    let done = h.collect(1);
    assert_eq!(done[0].status, Status::Succeeded, "{:?}", done[0].result);
    assert_eq!(
        done[0]
            .result
            .as_ref()
            .unwrap()
            .get("error")
            .cloned()
            .unwrap_or_default(),
        json!({"Error": "Worker.Broke", "Cause": "gave up"})
    );
    h.assert_no_more();
}

#[test]
fn callbacks_from_many_threads_at_once() {
    let (resources, tokens) = token_resources();
    let h = Harness::new(4, resources);
    let plan = waiting_task(serde_json::json!({}));
    let n = 2_000u64;
    for tag in 0..n {
        h.submit(&plan, tag, json!({"job": tag}));
    }
    let all: Vec<(String, Value)> = (0..n).map(|_| next_token(&tokens)).collect();
    let threads: Vec<_> = all
        .chunks(250)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            let handle = h.runtime.handle();
            std::thread::spawn(move || {
                for (token, input) in chunk {
                    handle.send_task_heartbeat(&token).wait().expect("waiting");
                    let reply = handle
                        .send_task_success(&token, input.get("job").cloned().unwrap_or_default());
                    assert_eq!(reply.wait(), Ok(()));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no callback thread panics");
    }
    let done = h.collect(n as usize);
    for c in &done {
        assert_eq!(c.status, Status::Succeeded);
        assert_eq!(c.result.as_ref().unwrap(), &json!(c.tag));
    }
    h.assert_idle();
    h.assert_no_more();
}

#[test]
fn a_failing_integration_fails_the_task_instead_of_waiting() {
    let mut resources = Resources::new();
    resources.register(
        "notify",
        Arc::new(|_: TaskCall| {
            TaskReply::Ready(Err(crate::error::StatesError::new(
                "Queue.Unavailable",
                "no queue",
            )))
        }),
    );
    let h = Harness::new(1, resources);
    h.submit(&waiting_task(serde_json::json!({})), 1, json!({"job": 1}));
    let done = h.collect(1);
    assert_eq!(
        done[0].result.as_ref().unwrap_err().error(),
        Some("Queue.Unavailable")
    );
    h.assert_no_more();
}
