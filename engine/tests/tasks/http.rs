//! The HTTP Task against a local server.

use crate::server::{call, closed_port, json, recorder, respond, run, serve, with_timeout};
use spate_engine::json;
use spate_engine::task::{HTTP_INVOKE, HttpConfig, HttpConnection, HttpHandler};
use spate_engine::value::parse_json_str;
use std::time::Duration;

fn handler() -> HttpHandler {
    HttpHandler::new(&HttpConfig::default()).unwrap()
}

/// A server answering every request with a description of it, as JSON.
async fn echo_server() -> crate::server::Server {
    serve(|r| async move {
        let headers: serde_json::Map<String, serde_json::Value> = r
            .headers
            .keys()
            .map(|k| {
                let values: Vec<String> = r
                    .headers
                    .get_all(k)
                    .iter()
                    .map(|v| v.to_str().unwrap().to_string())
                    .collect();
                (
                    k.as_str().to_string(),
                    serde_json::Value::from(values.join("|")),
                )
            })
            .collect();
        json(
            200,
            serde_json::json!({
                "method": r.method.as_str(),
                "path": r.uri.path(),
                "query": r.uri.query(),
                "headers": headers,
                "body": r.body_text(),
            }),
        )
    })
    .await
}

#[tokio::test]
async fn json_response_is_parsed() {
    let server = serve(|_| async {
        respond(
            200,
            &[
                ("content-type", "application/json; charset=utf-8"),
                ("x-multi", "a"),
                ("x-multi", "b"),
            ],
            r#"{"ok": true, "n": [1, 2.5]}"#,
        )
    })
    .await;
    let result = run(
        &handler(),
        call(
            HTTP_INVOKE,
            json!({"ApiEndpoint": server.url("/thing"), "Method": "GET"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(result.get("StatusCode"), Some(&json!(200)));
    assert_eq!(result.get("StatusText"), Some(&json!("OK")));
    assert_eq!(
        result.get("ResponseBody"),
        Some(&json!({"ok": true, "n": [1, 2.5]}))
    );
    let headers = result.get("Headers").unwrap();
    assert_eq!(headers.get("x-multi"), Some(&json!(["a", "b"])));
    assert_eq!(
        headers.get("content-type"),
        Some(&json!(["application/json; charset=utf-8"]))
    );
}

#[tokio::test]
async fn other_responses_are_strings() {
    let server = serve(|r| async move {
        if r.uri.path() == "/bad-json" {
            respond(200, &[("content-type", "application/json")], "{not json")
        } else {
            respond(201, &[("content-type", "text/plain")], "plain text")
        }
    })
    .await;
    let h = handler();
    let result = run(
        &h,
        call(
            HTTP_INVOKE,
            json!({"ApiEndpoint": server.url("/"), "Method": "POST"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(result.get("StatusCode"), Some(&json!(201)));
    assert_eq!(result.get("StatusText"), Some(&json!("Created")));
    assert_eq!(result.get("ResponseBody"), Some(&json!("plain text")));
    let result = run(
        &h,
        call(
            HTTP_INVOKE,
            json!({"ApiEndpoint": server.url("/bad-json"), "Method": "GET"}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(result.get("ResponseBody"), Some(&json!("{not json")));
}

#[tokio::test]
async fn sends_method_query_headers_and_json_body() {
    let server = echo_server().await;
    let result = run(
        &handler(),
        call(
            HTTP_INVOKE,
            json!({
                "ApiEndpoint": server.url("/items?fixed=1"),
                "Method": "PUT",
                "Headers": {"X-Custom": "v", "X-Many": ["a", "b"], "X-Num": 7},
                "QueryParameters": {"q": "a b&c", "tags": ["x", "y"]},
                "RequestBody": {"name": "é", "list": [1, 2]},
                "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/unconfigured"}
            }),
        ),
    )
    .await
    .unwrap();
    let echo = result.get("ResponseBody").unwrap();
    assert_eq!(echo.get("method"), Some(&json!("PUT")));
    assert_eq!(echo.get("path"), Some(&json!("/items")));
    assert_eq!(
        echo.get("query"),
        Some(&json!("fixed=1&q=a%20b%26c&tags=x&tags=y"))
    );
    let headers = echo.get("headers").unwrap();
    assert_eq!(headers.get("x-custom"), Some(&json!("v")));
    assert_eq!(headers.get("x-many"), Some(&json!("a|b")));
    assert_eq!(headers.get("x-num"), Some(&json!("7")));
    assert_eq!(
        headers.get("content-type"),
        Some(&json!("application/json; charset=UTF-8"))
    );
    assert_eq!(headers.get("authorization"), None);
    let body = parse_json_str(echo.get("body").unwrap().as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"name": "é", "list": [1, 2]}));
}

#[tokio::test]
async fn url_encoded_bodies() {
    let server = echo_server().await;
    let h = handler();
    let body = json!({"a": ["x", "y z"], "n": 1, "o": {"k": true}});
    for (format, expected) in [
        ("INDICES", "a%5B0%5D=x&a%5B1%5D=y%20z&n=1&o%5Bk%5D=true"),
        ("REPEAT", "a=x&a=y%20z&n=1&o%5Bk%5D=true"),
        ("COMMAS", "a=x%2Cy%20z&n=1&o%5Bk%5D=true"),
        ("BRACKETS", "a%5B%5D=x&a%5B%5D=y%20z&n=1&o%5Bk%5D=true"),
    ] {
        let result = run(
            &h,
            call(
                HTTP_INVOKE,
                json!({
                    "ApiEndpoint": server.url("/form"),
                    "Method": "POST",
                    "RequestBody": body.clone(),
                    "Transform": {
                        "RequestBodyEncoding": "URL_ENCODED",
                        "RequestEncodingOptions": {"ArrayFormat": format}
                    }
                }),
            ),
        )
        .await
        .unwrap();
        let echo = result.get("ResponseBody").unwrap();
        assert_eq!(echo.get("body"), Some(&json!(expected)), "{format}");
        assert_eq!(
            echo.get("headers").unwrap().get("content-type"),
            Some(&json!("application/x-www-form-urlencoded")),
            "{format}"
        );
    }
    // INDICES is the default; a Content-Type header wins over the default.
    let result = run(
        &h,
        call(
            HTTP_INVOKE,
            json!({
                "ApiEndpoint": server.url("/form"),
                "Method": "POST",
                "Headers": {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
                "RequestBody": {"a": ["x"]},
                "Transform": {"RequestBodyEncoding": "URL_ENCODED"}
            }),
        ),
    )
    .await
    .unwrap();
    let echo = result.get("ResponseBody").unwrap();
    assert_eq!(echo.get("body"), Some(&json!("a%5B0%5D=x")));
    assert_eq!(
        echo.get("headers").unwrap().get("content-type"),
        Some(&json!("application/x-www-form-urlencoded; charset=UTF-8"))
    );
}

#[tokio::test]
async fn string_bodies_are_sent_as_they_are() {
    let server = echo_server().await;
    let result = run(
        &handler(),
        call(
            HTTP_INVOKE,
            json!({
                "ApiEndpoint": server.url("/"),
                "Method": "POST",
                "Headers": {"Content-Type": "application/xml"},
                "RequestBody": "<a>1</a>"
            }),
        ),
    )
    .await
    .unwrap();
    let echo = result.get("ResponseBody").unwrap();
    assert_eq!(echo.get("body"), Some(&json!("<a>1</a>")));
    assert_eq!(
        echo.get("headers").unwrap().get("content-type"),
        Some(&json!("application/xml"))
    );
}

#[tokio::test]
async fn connections_add_credentials() {
    let server = echo_server().await;
    let mut config = HttpConfig::default();
    config.connections.insert(
        "arn:aws:events:us-east-1:123456789012:connection/api/1".to_string(),
        HttpConnection {
            headers: [("Authorization".to_string(), "Bearer dev".to_string())].into(),
            query_parameters: [("api_key".to_string(), "k1".to_string())].into(),
        },
    );
    let h = HttpHandler::new(&config).unwrap();
    let result = run(
        &h,
        call(
            HTTP_INVOKE,
            json!({
                "ApiEndpoint": server.url("/x"),
                "Method": "GET",
                "QueryParameters": {"q": 1},
                "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/api/1"}
            }),
        ),
    )
    .await
    .unwrap();
    let echo = result.get("ResponseBody").unwrap();
    assert_eq!(echo.get("query"), Some(&json!("q=1&api_key=k1")));
    assert_eq!(
        echo.get("headers").unwrap().get("authorization"),
        Some(&json!("Bearer dev"))
    );
}

#[tokio::test]
async fn non_2xx_fails_with_the_status_code() {
    let server = serve(|_| async {
        respond(
            404,
            &[("content-type", "application/json")],
            r#"{"message":"no such item"}"#,
        )
    })
    .await;
    let err = run(
        &handler(),
        call(
            HTTP_INVOKE,
            json!({"ApiEndpoint": server.url("/missing"), "Method": "GET"}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("States.Http.StatusCode.404"));
    let cause = parse_json_str(err.cause().unwrap()).unwrap();
    assert_eq!(cause.get("StatusCode"), Some(&json!(404)));
    assert_eq!(cause.get("StatusText"), Some(&json!("Not Found")));
    assert_eq!(
        cause.get("ResponseBody"),
        Some(&json!({"message": "no such item"}))
    );
}

#[tokio::test]
async fn connection_refused_is_a_socket_error() {
    let addr = closed_port().await;
    let err = run(
        &handler(),
        call(
            HTTP_INVOKE,
            json!({"ApiEndpoint": format!("http://{addr}/"), "Method": "GET"}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("States.Http.Socket"), "{err}");
}

#[tokio::test]
async fn slow_servers_time_out() {
    let server = serve(|_| async {
        std::future::pending::<()>().await;
        unreachable!()
    })
    .await;
    let input = json!({"ApiEndpoint": server.url("/slow"), "Method": "GET"});
    // The Task's TimeoutSeconds.
    let err = run(
        &handler(),
        with_timeout(call(HTTP_INVOKE, input.clone()), Duration::from_millis(200)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("States.Timeout"), "{err}");
    // The configured limit (AWS's 60 s), without TimeoutSeconds.
    let config = HttpConfig {
        timeout_seconds: 0.2,
        ..HttpConfig::default()
    };
    let err = run(
        &HttpHandler::new(&config).unwrap(),
        call(HTTP_INVOKE, input),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("States.Http.Socket"), "{err}");
}

#[tokio::test]
async fn large_responses_exceed_the_data_limit() {
    let server = serve(|_| async {
        respond(
            200,
            &[("content-type", "text/plain")],
            vec![b'x'; 300 * 1024],
        )
    })
    .await;
    let err = run(
        &handler(),
        call(
            HTTP_INVOKE,
            json!({"ApiEndpoint": server.url("/big"), "Method": "GET"}),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error(), Some("States.DataLimitExceeded"), "{err}");
}

#[tokio::test]
async fn connections_are_reused() {
    let (sent, mut seen) = recorder();
    let server = serve(move |r| {
        let sent = sent.clone();
        async move {
            let _ = sent.send(r);
            respond(200, &[("content-type", "text/plain")], "ok")
        }
    })
    .await;
    let h = handler();
    for _ in 0..5 {
        run(
            &h,
            call(
                HTTP_INVOKE,
                json!({"ApiEndpoint": server.url("/"), "Method": "GET"}),
            ),
        )
        .await
        .unwrap();
    }
    let mut peers = std::collections::HashSet::new();
    for _ in 0..5 {
        peers.insert(seen.recv().await.unwrap().peer);
    }
    assert!(
        peers.len() < 5,
        "every request opened a new connection: {peers:?}"
    );
}

#[test]
fn a_runtime_without_io_fails_the_task_instead_of_hanging() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let err = runtime
        .block_on(run(
            &handler(),
            call(
                HTTP_INVOKE,
                json!({"ApiEndpoint": "http://127.0.0.1:9/", "Method": "GET"}),
            ),
        ))
        .unwrap_err();
    assert_eq!(err.error(), Some("States.TaskFailed"), "{err}");
    assert!(err.cause().unwrap().contains("panicked"), "{err}");
}
