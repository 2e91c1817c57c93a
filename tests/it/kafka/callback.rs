//! `spate run` with `[api]`: a `.waitForTaskToken` task in a streaming
//! workflow is answered through the Step Functions API's SendTaskSuccess,
//! as a worker reading the task's topic would answer it.

use super::*;
use crate::common::aws_call;

#[test]
fn a_streaming_task_token_is_answered_through_the_api() {
    let Some((bootstrap, _turn)) = broker() else {
        return;
    };
    let names = Names::new("callback");
    names.create(&bootstrap, 1);
    let work = format!("{}-work", names.source);
    admin::create_topics(&bootstrap, &[&work], 1, Duration::from_secs(30)).expect("topic");
    let scratch = Scratch::new("callback");
    let config = write_config(
        &scratch,
        &bootstrap,
        &names,
        &repo("tests/fixtures/kafka/callback.asl.json"),
        "\n[api]\naddr = \"127.0.0.1:0\"",
        "",
    );
    let spate = Spate::start(&config, "spate");
    let mut api = String::new();
    wait_for(
        "the API's address in the log",
        Duration::from_secs(60),
        || {
            let log = spate.log();
            match log.split("Step Functions API at http://").nth(1) {
                Some(rest) => {
                    api = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                    true
                }
                None => false,
            }
        },
        || spate.log(),
    );
    produce(
        &bootstrap,
        &names.source,
        [(
            "k".to_string(),
            format!(r#"{{"job":7,"work_topic":"{work}"}}"#).into_bytes(),
        )],
    );

    // The worker: reads the task from its topic, answers with its token.
    let tasks = admin::read_topic(&bootstrap, &work, Duration::from_secs(120), |r| {
        !r.is_empty()
    })
    .expect("work topic read");
    let task = tasks
        .first()
        .unwrap_or_else(|| panic!("no task\n{}", spate.log()));
    let token = task.header("spate-task-token").expect("the task's token");
    let request = serde_json::json!({"taskToken": token, "output": "{\"answer\":42}"}).to_string();
    assert_eq!(
        aws_call(&api, "SendTaskSuccess", &request),
        (200, "{}".to_string())
    );
    // The same token again: the task has its answer.
    let (status, body) = aws_call(&api, "SendTaskSuccess", &request);
    assert_eq!(status, 400);
    assert!(body.contains("TaskTimedOut"), "{body}");

    let outputs = read_outcomes(&bootstrap, &[&names.output], 1, Duration::from_secs(60));
    let output = outputs
        .first()
        .unwrap_or_else(|| panic!("no output\n{}", spate.log()));
    assert_eq!(output.header("spate-status"), Some("SUCCEEDED"));
    assert_eq!(output.payload.as_deref(), Some(&br#"{"answer":42}"#[..]));
}
