//! Lambda through a fake Runtime Interface Emulator: a server answering
//! `POST /2015-03-31/functions/function/invocations` the way the RIE does
//! (200 with the function's result or its error payload, no
//! `X-Amz-Function-Error` header).

use crate::server::{Server, call, closed_port, json, recorder, respond, run, serve, with_timeout};
use spate_engine::json;
use spate_engine::task::{LAMBDA_INVOKE, LambdaConfig, LambdaHandler};
use spate_engine::value::parse_json_str;
use std::time::Duration;

const RIE_PATH: &str = "/2015-03-31/functions/function/invocations";

/// The error payload of the Python runtime, laid out as it sends it.
const PYTHON_ERROR: &str = r#"{"errorMessage": "Some exception was raised.", "errorType": "CustomException", "requestId": "6b3bbf4f-1c29-4c1d-8ac1-1d3f4c6ff2b1", "stackTrace": ["  File \"/var/task/handler.py\", line 2, in handler\n    raise CustomException(\"Some exception was raised.\")\n"]}"#;

fn handler_for(functions: &[(&str, &Server)]) -> LambdaHandler {
    let mut config = LambdaConfig::default();
    for (name, server) in functions {
        config.functions.insert(name.to_string(), server.url(""));
    }
    LambdaHandler::new(&config).unwrap()
}

fn direct(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")
}

/// An identity function.
async fn echo_function() -> Server {
    serve(|r| async move {
        assert_eq!(r.uri.path(), RIE_PATH);
        assert_eq!(r.method, hyper::Method::POST);
        respond(200, &[], r.body)
    })
    .await
}

#[tokio::test]
async fn lambda_invoke_result_has_aws_shape() {
    let server = echo_function().await;
    let h = handler_for(&[("id_function", &server)]);
    let result = run(
        &h,
        call(
            LAMBDA_INVOKE,
            json!({"FunctionName": "id_function", "Payload": {"a": [1, "x"]}}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(result.get("ExecutedVersion"), Some(&json!("$LATEST")));
    assert_eq!(result.get("Payload"), Some(&json!({"a": [1, "x"]})));
    assert_eq!(result.get("StatusCode"), Some(&json!(200)));
    let keys: Vec<&str> = result
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "ExecutedVersion",
            "Payload",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
            "StatusCode"
        ]
    );
    let metadata = result.get("SdkHttpMetadata").unwrap();
    assert_eq!(metadata.get("HttpStatusCode"), Some(&json!(200)));
    // The header names of AWS's own answer, in its order.
    let names = |v: &spate_engine::Value| -> Vec<String> {
        v.as_object()
            .unwrap()
            .keys()
            .map(|k| k.to_string())
            .collect()
    };
    assert_eq!(
        names(metadata.get("AllHttpHeaders").unwrap()),
        [
            "X-Amz-Executed-Version",
            "x-amzn-Remapped-Content-Length",
            "Connection",
            "x-amzn-RequestId",
            "Content-Length",
            "Date",
            "X-Amzn-Trace-Id",
            "Content-Type"
        ]
    );
    assert_eq!(
        names(metadata.get("HttpHeaders").unwrap()),
        [
            "Connection",
            "Content-Length",
            "Content-Type",
            "Date",
            "X-Amz-Executed-Version",
            "x-amzn-Remapped-Content-Length",
            "x-amzn-RequestId",
            "X-Amzn-Trace-Id"
        ]
    );
    let headers = metadata.get("HttpHeaders").unwrap();
    assert_eq!(headers.get("Content-Length"), Some(&json!("13")));
    assert_eq!(
        headers.get("Content-Type"),
        Some(&json!("application/json"))
    );
    assert_eq!(
        headers.get("X-Amz-Executed-Version"),
        Some(&json!("$LATEST"))
    );
    assert_eq!(
        metadata
            .get("AllHttpHeaders")
            .unwrap()
            .get("Content-Length"),
        Some(&json!(["13"]))
    );
    let request_id = result
        .get("SdkResponseMetadata")
        .and_then(|m| m.get("RequestId"))
        .and_then(|v| v.as_str())
        .unwrap();
    assert_eq!(
        headers.get("x-amzn-RequestId").and_then(|v| v.as_str()),
        Some(request_id)
    );
    assert_eq!(request_id.len(), 36);
}

#[tokio::test]
async fn lambda_invoke_payload_forms() {
    let (sent, mut seen) = recorder();
    let server = serve(move |r| {
        let sent = sent.clone();
        async move {
            let body = r.body.clone();
            let _ = sent.send(r);
            respond(200, &[], body)
        }
    })
    .await;
    let h = handler_for(&[("id_function", &server)]);
    // A string payload is sent as it is (AWS: "\"HelloWorld\"" -> "HelloWorld").
    let result = run(
        &h,
        call(
            LAMBDA_INVOKE,
            json!({"FunctionName": "id_function", "Payload": "\"HelloWorld\""}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(result.get("Payload"), Some(&json!("HelloWorld")));
    assert_eq!(seen.recv().await.unwrap().body_text(), "\"HelloWorld\"");
    // No payload, or null, sends {}.
    for input in [
        json!({"FunctionName": "id_function"}),
        json!({"FunctionName": "id_function", "Payload": null}),
    ] {
        let result = run(&h, call(LAMBDA_INVOKE, input)).await.unwrap();
        assert_eq!(result.get("Payload"), Some(&json!({})));
        assert_eq!(seen.recv().await.unwrap().body_text(), "{}");
    }
    // Headers passed on.
    run(
        &h,
        call(
            LAMBDA_INVOKE,
            json!({"FunctionName": "id_function", "Payload": 1, "ClientContext": "e30=", "LogType": "Tail"}),
        ),
    )
    .await
    .unwrap();
    let r = seen.recv().await.unwrap();
    assert_eq!(r.headers["x-amz-client-context"], "e30=");
    assert_eq!(r.headers["x-amz-log-type"], "Tail");
    assert_eq!(r.headers["x-amz-invocation-type"], "RequestResponse");
    assert_eq!(r.body_text(), "1");
}

#[tokio::test]
async fn direct_lambda_result_is_the_payload() {
    let (sent, mut seen) = recorder();
    let server = serve(move |r| {
        let sent = sent.clone();
        async move {
            let input = parse_json_str(&r.body_text()).unwrap();
            let _ = sent.send(r);
            json(
                200,
                serde_json::json!({"got": serde_json::Value::from(&input), "ok": true}),
            )
        }
    })
    .await;
    let h = handler_for(&[("worker", &server)]);
    let result = run(&h, call(&direct("worker"), json!({"a": 1})))
        .await
        .unwrap();
    assert_eq!(result, json!({"got": {"a": 1}, "ok": true}));
    let r = seen.recv().await.unwrap();
    assert_eq!(r.uri.path(), RIE_PATH);
    assert_eq!(r.body_text(), r#"{"a":1}"#);
    // JSON scalars go through as they are.
    for value in [json!("HelloWorld"), json!(0), json!(true), json!([])] {
        let server = echo_function().await;
        let h = handler_for(&[("id_function", &server)]);
        assert_eq!(
            run(&h, call(&direct("id_function"), value.clone()))
                .await
                .unwrap(),
            value
        );
    }
}

#[tokio::test]
async fn function_errors_use_the_error_type() {
    let server = serve(|_| async { respond(200, &[], PYTHON_ERROR) }).await;
    let h = handler_for(&[("raise_exception", &server)]);
    // Direct Lambda: the payload as received.
    let err = run(&h, call(&direct("raise_exception"), json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.error(), Some("CustomException"));
    assert_eq!(err.cause(), Some(PYTHON_ERROR));
    // lambda:invoke: the payload re-serialized compactly.
    let err = run(
        &h,
        call(LAMBDA_INVOKE, json!({"FunctionName": "raise_exception"})),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("CustomException"));
    assert_eq!(
        err.cause(),
        Some(parse_json_str(PYTHON_ERROR).unwrap().to_json().as_str())
    );
    assert!(err.cause().unwrap().starts_with(
        r#"{"errorMessage":"Some exception was raised.","errorType":"CustomException""#
    ));
}

#[tokio::test]
async fn the_function_error_header_marks_any_payload() {
    let server = serve(|_| async {
        respond(
            200,
            &[("x-amz-function-error", "Handled")],
            r#"{"errorType":"Error","errorMessage":"failure","trace":["Error: failure"],"extra":1}"#,
        )
    })
    .await;
    let h = handler_for(&[("f", &server)]);
    let err = run(&h, call(&direct("f"), json!({}))).await.unwrap_err();
    assert_eq!(err.error(), Some("Error"));
}

#[tokio::test]
async fn errors_without_a_type_are_unknown() {
    let unhandled = serve(|_| async {
        respond(
            200,
            &[("x-amz-function-error", "Unhandled")],
            r#"{"errorMessage":"2024-01-01T00:00:00.000Z 1 Task timed out after 3.00 seconds"}"#,
        )
    })
    .await;
    // The RIE's own timeout answer is not JSON.
    let rie_timeout =
        serve(|_| async { respond(200, &[], "Task timed out after 1.00 seconds") }).await;
    // And when the runtime dies it answers nothing.
    let crashed = serve(|_| async { respond(200, &[], "") }).await;
    let h = handler_for(&[("a", &unhandled), ("b", &rie_timeout), ("c", &crashed)]);
    for name in ["a", "b", "c"] {
        let err = run(&h, call(LAMBDA_INVOKE, json!({"FunctionName": name})))
            .await
            .unwrap_err();
        assert_eq!(err.error(), Some("Lambda.Unknown"), "{name}: {err}");
    }
    let err = run(&h, call(&direct("b"), json!({}))).await.unwrap_err();
    assert_eq!(err.cause(), Some("Task timed out after 1.00 seconds"));
}

#[tokio::test]
async fn body_error_detection_can_be_turned_off() {
    let server = serve(|_| async { respond(200, &[], r#"{"errorMessage":"just data"}"#) }).await;
    let mut config = LambdaConfig::default();
    config.functions.insert("f".to_string(), server.url(""));
    config.detect_errors_in_body = false;
    let h = LambdaHandler::new(&config).unwrap();
    let result = run(&h, call(&direct("f"), json!({}))).await.unwrap();
    assert_eq!(result, json!({"errorMessage": "just data"}));
}

#[tokio::test]
async fn unknown_functions_are_not_found() {
    let h = LambdaHandler::new(&LambdaConfig::default()).unwrap();
    let err = run(&h, call(LAMBDA_INVOKE, json!({"FunctionName": "nope"})))
        .await
        .unwrap_err();
    assert_eq!(err.error(), Some("Lambda.ResourceNotFoundException"));
    let cause = err.cause().unwrap();
    assert!(
        cause.starts_with("Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: "),
        "{cause}"
    );
    assert!(cause.ends_with("; Proxy: null)"), "{cause}");
    let err = run(
        &h,
        call(
            "arn:aws:lambda:eu-west-1:111111111111:function:other:prod",
            json!({}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("Lambda.ResourceNotFoundException"));
    assert!(
        err.cause().unwrap().starts_with(
            "Function not found: arn:aws:lambda:eu-west-1:111111111111:function:other:prod ("
        ),
        "{err}"
    );
}

#[tokio::test]
async fn default_endpoint_and_qualifiers() {
    let (sent, mut seen) = recorder();
    let tagged = |tag: &'static str| {
        let sent = sent.clone();
        move |r: crate::server::Received| {
            let sent = sent.clone();
            async move {
                let _ = sent.send(r);
                json(200, serde_json::json!(tag))
            }
        }
    };
    let prod = serve(tagged("prod")).await;
    let plain = serve(tagged("plain")).await;
    let fallback = serve(tagged("default")).await;
    let mut config = LambdaConfig::default();
    config.functions.insert("f:prod".to_string(), prod.url(""));
    config.functions.insert(
        "arn:aws:lambda:us-east-1:123456789012:function:f".to_string(),
        plain.url(""),
    );
    config.default_endpoint = Some(fallback.url("/custom/{name}/invoke"));
    let h = LambdaHandler::new(&config).unwrap();
    let cases = [
        (
            json!({"FunctionName": "f", "Qualifier": "prod"}),
            "prod",
            "$LATEST",
        ),
        (json!({"FunctionName": "f:prod"}), "prod", "$LATEST"),
        (
            json!({"FunctionName": "123456789012:function:f:7"}),
            "plain",
            "7",
        ),
        (json!({"FunctionName": "f"}), "plain", "$LATEST"),
        (json!({"FunctionName": "g"}), "default", "$LATEST"),
    ];
    for (input, expected, version) in cases {
        let result = run(&h, call(LAMBDA_INVOKE, input.clone())).await.unwrap();
        assert_eq!(result.get("Payload"), Some(&json!(expected)), "{input}");
        assert_eq!(
            result.get("ExecutedVersion"),
            Some(&json!(version)),
            "{input}"
        );
        seen.recv().await.unwrap();
    }
    // The default endpoint's path is used as given, with the name filled in.
    run(&h, call(&direct("g"), json!({}))).await.unwrap();
    assert_eq!(seen.recv().await.unwrap().uri.path(), "/custom/g/invoke");
    // A qualifier that contradicts the name's.
    let err = run(
        &h,
        call(
            LAMBDA_INVOKE,
            json!({"FunctionName": "f:prod", "Qualifier": "dev"}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("Lambda.InvalidParameterValueException"));
}

#[tokio::test]
async fn unreachable_endpoints_are_client_errors() {
    let addr = closed_port().await;
    let mut config = LambdaConfig::default();
    config
        .functions
        .insert("f".to_string(), format!("http://{addr}"));
    let h = LambdaHandler::new(&config).unwrap();
    for c in [
        call(LAMBDA_INVOKE, json!({"FunctionName": "f"})),
        call(&direct("f"), json!({})),
    ] {
        let err = run(&h, c).await.unwrap_err();
        assert_eq!(err.error(), Some("Lambda.SdkClientException"), "{err}");
        assert!(
            err.cause()
                .unwrap()
                .starts_with("Unable to execute HTTP request: "),
            "{err}"
        );
    }
}

#[tokio::test]
async fn service_errors_by_status() {
    let server = serve(|r| async move {
        match r.uri.path() {
            "/500/2015-03-31/functions/function/invocations" => respond(500, &[], ""),
            "/429/2015-03-31/functions/function/invocations" => {
                json(429, serde_json::json!({"message": "Rate exceeded"}))
            }
            "/400/2015-03-31/functions/function/invocations" => respond(400, &[], "busy"),
            _ => json(
                502,
                serde_json::json!({"errorType": "Runtime.ImportModuleError", "errorMessage": "Unable to import module 'handler'"}),
            ),
        }
    })
    .await;
    let mut config = LambdaConfig::default();
    for code in ["500", "429", "400", "502"] {
        config.functions.insert(
            format!("f{code}"),
            server.url(&format!("/{code}{RIE_PATH}")),
        );
    }
    let h = LambdaHandler::new(&config).unwrap();
    for (name, error) in [
        ("f500", "Lambda.ServiceException"),
        ("f429", "Lambda.TooManyRequestsException"),
        ("f400", "Lambda.AWSLambdaException"),
        ("f502", "Runtime.ImportModuleError"),
    ] {
        let err = run(&h, call(LAMBDA_INVOKE, json!({"FunctionName": name})))
            .await
            .unwrap_err();
        assert_eq!(err.error(), Some(error), "{name}: {err}");
    }
    let err = run(&h, call(LAMBDA_INVOKE, json!({"FunctionName": "f429"})))
        .await
        .unwrap_err();
    let cause = err.cause().unwrap();
    assert!(
        cause.starts_with("Rate exceeded (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; Request ID: "),
        "{cause}"
    );
}

#[tokio::test]
async fn large_responses_exceed_the_data_limit() {
    let server = serve(|_| async {
        let big = format!("\"{}\"", "é".repeat(140 * 1024));
        respond(200, &[], big)
    })
    .await;
    let h = handler_for(&[("large_output_string", &server)]);
    let err = run(
        &h,
        call(
            LAMBDA_INVOKE,
            json!({"FunctionName": "large_output_string"}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("States.DataLimitExceeded"));
    assert_eq!(
        err.cause(),
        Some(
            "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit."
        )
    );
    let resource = direct("large_output_string");
    let err = run(&h, call(&resource, json!({}))).await.unwrap_err();
    assert_eq!(err.error(), Some("States.DataLimitExceeded"));
    assert!(err.cause().unwrap().contains(&format!("'{resource}'")));
}

#[tokio::test]
async fn event_invocations_return_at_once() {
    let (sent, mut seen) = recorder();
    let server = serve(move |r| {
        let sent = sent.clone();
        async move {
            let _ = sent.send(r);
            respond(200, &[], "null")
        }
    })
    .await;
    let h = handler_for(&[("f", &server)]);
    let result = run(
        &h,
        call(
            LAMBDA_INVOKE,
            json!({"FunctionName": "f", "InvocationType": "Event", "Payload": {"e": 1}}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(result.get("StatusCode"), Some(&json!(202)));
    assert_eq!(result.get("Payload"), Some(&json!("")));
    assert_eq!(result.get("ExecutedVersion"), None);
    // The function still gets the event.
    let r = seen.recv().await.unwrap();
    assert_eq!(r.body_text(), r#"{"e":1}"#);
    assert_eq!(r.headers["x-amz-invocation-type"], "Event");
    // DryRun only checks the function exists.
    let result = run(
        &h,
        call(
            LAMBDA_INVOKE,
            json!({"FunctionName": "f", "InvocationType": "DryRun"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(result.get("StatusCode"), Some(&json!(204)));
    let err = run(
        &h,
        call(
            LAMBDA_INVOKE,
            json!({"FunctionName": "g", "InvocationType": "Event"}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("Lambda.ResourceNotFoundException"));
}

#[tokio::test]
async fn slow_functions_time_out() {
    let server = serve(|_| async {
        std::future::pending::<()>().await;
        unreachable!()
    })
    .await;
    let h = handler_for(&[("wait_60_seconds", &server)]);
    let err = run(
        &h,
        with_timeout(
            call(LAMBDA_INVOKE, json!({"FunctionName": "wait_60_seconds"})),
            Duration::from_millis(200),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("States.Timeout"));
    let mut config = LambdaConfig::default();
    config
        .functions
        .insert("wait_60_seconds".to_string(), server.url(""));
    config.timeout_seconds = 0.2;
    let h = LambdaHandler::new(&config).unwrap();
    let err = run(&h, call(&direct("wait_60_seconds"), json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.error(), Some("Lambda.SdkClientException"));
}

#[tokio::test]
async fn bad_arguments_are_runtime_errors() {
    let server = echo_function().await;
    let h = handler_for(&[("f", &server)]);
    for (input, field) in [
        (json!({}), "FunctionName"),
        (json!({"FunctionName": 3}), "FunctionName"),
        (json!({"FunctionName": "a b"}), "FunctionName"),
        (
            json!({"FunctionName": "f", "InvocationType": "Later"}),
            "InvocationType",
        ),
        (json!({"FunctionName": "f", "LogType": "All"}), "LogType"),
        (json!({"FunctionName": "f", "Paylod": {}}), "Paylod"),
        (json!([1]), "object of arguments"),
    ] {
        let err = run(&h, call(LAMBDA_INVOKE, input.clone()))
            .await
            .unwrap_err();
        assert!(err.is_runtime(), "{input}: {err}");
        assert!(err.cause().unwrap().contains(field), "{input}: {err}");
    }
    let err = run(&h, call("arn:aws:lambda:us-east-1:1:layer:x", json!({})))
        .await
        .unwrap_err();
    assert!(err.is_runtime(), "{err}");
}
