//! A tiny HTTP/1.1 server on an ephemeral port of 127.0.0.1, answering every
//! request with a closure, plus helpers to invoke handlers.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use spate_engine::Value;
use spate_engine::task::{TaskCall, TaskHandler, TaskReply, TaskResult};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The client's address (the same for requests on one connection).
    pub peer: SocketAddr,
}

impl Received {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A running server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Serves `handler` until the returned server is dropped.
pub async fn serve<F, Fut>(handler: F) -> Server
where
    F: Fn(Received) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    let accept = tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                return;
            };
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let handler = Arc::clone(&handler);
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let received = Received {
                            method: parts.method,
                            uri: parts.uri,
                            headers: parts.headers,
                            body,
                            peer,
                        };
                        Ok::<_, Infallible>(handler(received).await)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server { addr, accept }
}

/// A response with a status, headers and a body.
pub fn respond(
    status: u16,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        let name = hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
        response.headers_mut().append(name, value.parse().unwrap());
    }
    response
}

/// A JSON response.
pub fn json(status: u16, body: serde_json::Value) -> Response<Full<Bytes>> {
    respond(
        status,
        &[("content-type", "application/json")],
        body.to_string(),
    )
}

/// An address nothing listens on (a port just released).
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A call of `resource` with `input`.
pub fn call(resource: &str, input: Value) -> TaskCall {
    TaskCall {
        resource: resource.into(),
        input,
        credentials: None,
        timeout: None,
        heartbeat: None,
        execution_name: "test".into(),
        state_name: "Task".into(),
        retry_count: 0,
        invocation: 0,
        task_token: None,
    }
}

/// The same call with a `TimeoutSeconds`.
pub fn with_timeout(mut call: TaskCall, timeout: Duration) -> TaskCall {
    call.timeout = Some(timeout);
    call
}

/// Invokes `handler` and waits for its result.
pub async fn run(handler: &dyn TaskHandler, call: TaskCall) -> TaskResult {
    match handler.invoke(call) {
        TaskReply::Ready(result) | TaskReply::After(_, result) => result,
        TaskReply::Pending(future) => future.await,
    }
}

/// The request the server saw, sent back through a channel.
pub fn recorder() -> (
    tokio::sync::mpsc::UnboundedSender<Received>,
    tokio::sync::mpsc::UnboundedReceiver<Received>,
) {
    tokio::sync::mpsc::unbounded_channel()
}
