//! The HTTP Task (`arn:aws:states:::http:invoke`) and the HTTP client that
//! every real integration shares.
//!
//! # Arguments (the task's effective input)
//!
//! | field | |
//! | --- | --- |
//! | `ApiEndpoint` | required: an `http` or `https` URL |
//! | `Method` | required: `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, `HEAD` or `OPTIONS` |
//! | `Headers` | object; a value may be a string, number, boolean or an array of them (one header line each) |
//! | `QueryParameters` | object; appended to the URL's own query. A value may be a string, number, boolean or an array (the key repeated: `k=a&k=b`) |
//! | `RequestBody` | any JSON value: sent as JSON (`application/json; charset=UTF-8`), except a string, which is sent as it is (`text/plain; charset=UTF-8`) |
//! | `Transform` | `{"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "INDICES" / "REPEAT" / "COMMAS" / "BRACKETS"}}`: the object `RequestBody` is sent form-encoded (`application/x-www-form-urlencoded`); arrays as `a[0]=x&a[1]=y` (INDICES, the default), `a=x&a=y` (REPEAT), `a=x,y` (COMMAS), `a[]=x&a[]=y` (BRACKETS); nested objects as `o[k]=v` |
//! | `Authentication` / `InvocationConfig` | `{"ConnectionArn": ...}`: on AWS an EventBridge connection holds the credentials. Here a connection with that ARN in [`HttpConfig::connections`] adds its headers and query parameters; an ARN not configured there is ignored (the request is sent without credentials) |
//!
//! A `Content-Type` in `Headers` overrides the default one. As on AWS, some
//! headers may not be set by the task (`Authorization`, `Host`, `Connection`,
//! `Content-Length`-like framing headers, `x-amz-*`, `x-amzn-*`,
//! `x-forwarded-*`, ...); credentials belong in a connection. Any other field,
//! or a field of the wrong type, fails the task with `States.Runtime` naming it.
//!
//! # Result
//!
//! ```json
//! {"Headers": {"content-type": ["application/json"], ...},
//!  "ResponseBody": {...},
//!  "StatusCode": 200,
//!  "StatusText": "OK"}
//! ```
//!
//! Header names are lowercase, each with the array of its values.
//! `ResponseBody` is the parsed body when the response's `Content-Type` is
//! JSON (`application/json`, `*+json`) and it parses, else the body as a
//! string.
//!
//! # Errors
//!
//! * a status outside 2xx: `States.Http.StatusCode.<code>` (redirects are not
//!   followed, so a 3xx fails too), with the result above as compact JSON for
//!   the cause;
//! * no connection, a reset, a TLS failure, or no response within the
//!   configured [`HttpConfig::timeout_seconds`] (60 s, AWS's limit):
//!   `States.Http.Socket`;
//! * no response within the Task's `TimeoutSeconds` (or `HeartbeatSeconds`):
//!   `States.Timeout` (`States.HeartbeatTimeout`) with an empty cause, as
//!   the engine reports it;
//! * a response body over 256 KiB: `States.DataLimitExceeded`.

use super::config::ConfigError;
use super::native::catch_panics;
use super::{TaskCall, TaskHandler, TaskReply};
use crate::error::{StatesError, names};
use crate::value::{Map, Str, Value, parse_json};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

/// The HTTP Task's resource.
pub const HTTP_INVOKE: &str = "arn:aws:states:::http:invoke";

/// The error of a request that got no response.
pub const HTTP_SOCKET: &str = "States.Http.Socket";

/// The error of a non-2xx response is this followed by the status code.
pub const HTTP_STATUS_CODE_PREFIX: &str = "States.Http.StatusCode.";

/// AWS's payload limit, applied to response bodies as they are read.
pub(crate) const RESPONSE_LIMIT: usize = crate::limits::PAYLOAD_BYTES;

/// Settings of the HTTP Task.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// The longest one request may take, connecting and reading the whole
    /// response, in seconds (fractions allowed); past it the task fails with
    /// `States.Http.Socket`. A shorter `TimeoutSeconds` on the Task bounds it
    /// too, failing with `States.Timeout`. Default 60, AWS's limit.
    pub timeout_seconds: f64,
    /// Stand-ins for EventBridge connections, by the `ConnectionArn` a task
    /// names in `Authentication`: what they add to each request.
    pub connections: BTreeMap<String, HttpConnection>,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            timeout_seconds: 60.0,
            connections: BTreeMap::new(),
        }
    }
}

/// What a connection adds to the requests of the tasks that name it (on
/// AWS: its authorization and invocation HTTP parameters).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConnection {
    /// Headers, e.g. `{"Authorization": "Bearer ..."}` or an API key header.
    /// They replace a header of the same name set by the task.
    pub headers: BTreeMap<String, String>,
    /// Query parameters, appended after the task's own.
    pub query_parameters: BTreeMap<String, String>,
}

/// Converts a configured number of seconds to a duration.
pub(crate) fn config_seconds(field: &str, seconds: f64) -> Result<Duration, ConfigError> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= 1.0e9 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(ConfigError::new(
            field,
            format!("expected a positive number of seconds, got {seconds}"),
        ))
    }
}

// ---------------------------------------------------------------------------
// The shared client
// ---------------------------------------------------------------------------

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A pooled HTTP/1.1 client (keep-alive, `http` and `https` with the
/// system's root certificates). Cloning shares the pool.
#[derive(Clone)]
pub(crate) struct Client {
    inner: PooledClient<Connector, Full<Bytes>>,
}

/// A response read to the end.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: StatusCode,
    /// The reason phrase when the server sent a non-canonical one.
    pub reason: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Why a request got no (usable) response.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No connection could be made.
    Connect(String),
    /// The connection failed while sending or receiving.
    Io(String),
    /// The response body is longer than the limit.
    TooLarge,
}

impl Client {
    /// A new client with its own connection pool.
    pub(crate) fn new() -> Client {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let inner = PooledClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Client { inner }
    }

    /// Sends `request` and reads the response body, failing once it is
    /// longer than `limit` bytes. Does not bound time: callers wrap it in
    /// `tokio::time::timeout` (dropping the future closes the connection).
    pub(crate) async fn send(
        &self,
        request: Request<Bytes>,
        limit: usize,
    ) -> Result<Response, Failure> {
        let (parts, body) = request.into_parts();
        let response = self
            .inner
            .request(Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|e| {
                if e.is_connect() {
                    Failure::Connect(describe(&e))
                } else {
                    Failure::Io(describe(&e))
                }
            })?;
        let (parts, mut body) = response.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(Failure::TooLarge);
        }
        let mut data = Vec::with_capacity(declared.map_or(0, |n| n as usize));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Failure::Io(describe(&e)))?;
            if let Ok(chunk) = frame.into_data() {
                if data.len() + chunk.len() > limit {
                    return Err(Failure::TooLarge);
                }
                data.extend_from_slice(&chunk);
            }
        }
        let reason = parts
            .extensions
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
        Ok(Response {
            status: parts.status,
            reason,
            headers: parts.headers,
            body: data,
        })
    }
}

/// Fetches `url` (`http` or `https`) with a GET, for what a server reads
/// at start and refreshes (an OIDC issuer's JWKS): the body of a 2xx
/// answer of at most `limit` bytes within `timeout`, else why not.
pub async fn fetch(url: &str, limit: usize, timeout: Duration) -> Result<Vec<u8>, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("{url} is not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("{url} is not an http or https URL"));
    }
    let request = Request::get(uri)
        .body(Bytes::new())
        .map_err(|e| format!("{url}: {e}"))?;
    let response = tokio::time::timeout(timeout, Client::new().send(request, limit))
        .await
        .map_err(|_| format!("{url} did not answer within {}", seconds_text(timeout)))?
        .map_err(|failure| match failure {
            Failure::Connect(why) | Failure::Io(why) => format!("{url}: {why}"),
            Failure::TooLarge => format!("{url} answered with more than {limit} bytes"),
        })?;
    if !response.status.is_success() {
        return Err(format!("{url} answered {}", response.status));
    }
    Ok(response.body)
}

/// TLS with the `ring` provider and the system's root certificates (none
/// found leaves `https` failing with a certificate error, `http` working).
fn tls_config() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// An error and its sources, most specific last: `client error (Connect):
/// tcp connect error: Connection refused (os error 111)`.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

/// Which limit bounds an invocation's I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// The Task's `TimeoutSeconds`.
    Task,
    /// The Task's `HeartbeatSeconds`.
    Heartbeat,
    /// The integration's own configured limit.
    Client,
}

/// The time an invocation may take and which limit that is.
pub(crate) fn deadline(call: &TaskCall, client: Duration) -> (Duration, Bound) {
    let mut bound = (client, Bound::Client);
    if let Some(t) = call.timeout
        && t <= bound.0
    {
        bound = (t, Bound::Task);
    }
    if let Some(h) = call.heartbeat
        && h < bound.0
    {
        bound = (h, Bound::Heartbeat);
    }
    bound
}

/// The engine's own error for a Task or heartbeat timeout (empty cause, as
/// the engine reports it), `None` for the integration's limit.
pub(crate) fn engine_timeout(bound: Bound) -> Option<StatesError> {
    match bound {
        Bound::Task => Some(StatesError::new(names::TIMEOUT, "")),
        Bound::Heartbeat => Some(StatesError::new(names::HEARTBEAT_TIMEOUT, "")),
        Bound::Client => None,
    }
}

/// `60 seconds`, `0.25 seconds`.
pub(crate) fn seconds_text(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} seconds", d.as_secs())
    } else {
        format!("{} seconds", d.as_secs_f64())
    }
}

/// `States.DataLimitExceeded` as AWS words it for a task's result.
pub(crate) fn data_limit(task: &str) -> StatesError {
    StatesError::new(
        names::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{task}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

/// Parses a body as JSON.
pub(crate) fn parse_body(body: &[u8]) -> Option<Value> {
    parse_json(body).ok()
}

// ---------------------------------------------------------------------------
// Query strings and form bodies
// ---------------------------------------------------------------------------

/// How arrays are written in a form-encoded body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayFormat {
    Indices,
    Repeat,
    Commas,
    Brackets,
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// `k1=v1&k2=v2`, encoded.
fn encode_pairs(pairs: &[(String, String)], out: &mut String) {
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode_component(k, out);
        out.push('=');
        encode_component(v, out);
    }
}

/// The text of a scalar in a query string or form (`null` is empty).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.to_string()),
        Value::Number(_) => Some(value.to_json()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Flattens `value` under `key` into name/value pairs.
fn push_pairs(key: &str, value: &Value, format: ArrayFormat, out: &mut Vec<(String, String)>) {
    match value {
        Value::Array(items) => {
            if format == ArrayFormat::Commas {
                let texts: Option<Vec<String>> = items.iter().map(scalar_text).collect();
                if let Some(texts) = texts {
                    out.push((key.to_string(), texts.join(",")));
                    return;
                }
            }
            for (i, item) in items.iter().enumerate() {
                let name = match format {
                    ArrayFormat::Repeat => key.to_string(),
                    ArrayFormat::Brackets => format!("{key}[]"),
                    ArrayFormat::Indices | ArrayFormat::Commas => format!("{key}[{i}]"),
                };
                push_pairs(&name, item, format, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter() {
                push_pairs(&format!("{key}[{k}]"), v, format, out);
            }
        }
        scalar => {
            out.push((key.to_string(), scalar_text(scalar).unwrap_or_default()));
        }
    }
}

// ---------------------------------------------------------------------------
// The HTTP Task
// ---------------------------------------------------------------------------

/// The handler of `arn:aws:states:::http:invoke`. Cloning shares its
/// connection pool.
#[derive(Clone)]
pub struct HttpHandler {
    inner: Arc<HttpInner>,
}

struct HttpInner {
    client: Client,
    timeout: Duration,
    connections: HashMap<String, Connection>,
}

struct Connection {
    headers: HeaderMap,
    query: Vec<(String, String)>,
}

impl std::fmt::Debug for HttpHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHandler")
            .field("timeout", &self.inner.timeout)
            .field("connections", &self.inner.connections.keys())
            .finish()
    }
}

impl HttpHandler {
    /// A handler with its own connection pool.
    pub fn new(config: &HttpConfig) -> Result<HttpHandler, ConfigError> {
        HttpHandler::with_client(config, Client::new())
    }

    /// A handler using `client`'s pool.
    pub(crate) fn with_client(
        config: &HttpConfig,
        client: Client,
    ) -> Result<HttpHandler, ConfigError> {
        let timeout = config_seconds("http.timeout_seconds", config.timeout_seconds)?;
        let mut connections = HashMap::new();
        for (arn, connection) in &config.connections {
            let mut headers = HeaderMap::new();
            for (name, value) in &connection.headers {
                let field = format!("http.connections.{arn}.headers.{name}");
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| ConfigError::new(&field, "not a valid header name"))?;
                let value = HeaderValue::from_str(value)
                    .map_err(|_| ConfigError::new(&field, "not a valid header value"))?;
                headers.insert(name, value);
            }
            let query = connection
                .query_parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            connections.insert(arn.clone(), Connection { headers, query });
        }
        Ok(HttpHandler {
            inner: Arc::new(HttpInner {
                client,
                timeout,
                connections,
            }),
        })
    }
}

impl TaskHandler for HttpHandler {
    fn invoke(&self, call: TaskCall) -> TaskReply {
        let request = match self.inner.request(&call.input) {
            Ok(request) => request,
            Err(error) => return TaskReply::Ready(Err(error)),
        };
        let (after, bound) = deadline(&call, self.inner.timeout);
        let client = self.inner.client.clone();
        // A panic (e.g. a runtime without I/O enabled) fails the task rather
        // than leaving the execution waiting.
        TaskReply::Pending(catch_panics(call.resource, async move {
            let response =
                match tokio::time::timeout(after, client.send(request, RESPONSE_LIMIT)).await {
                    Err(_) => {
                        return Err(engine_timeout(bound).unwrap_or_else(|| {
                            StatesError::new(
                                HTTP_SOCKET,
                                format!(
                                    "The HTTP request got no response within {}",
                                    seconds_text(after)
                                ),
                            )
                        }));
                    }
                    Ok(Err(Failure::TooLarge)) => return Err(data_limit("http")),
                    Ok(Err(Failure::Connect(m) | Failure::Io(m))) => {
                        return Err(StatesError::new(HTTP_SOCKET, m));
                    }
                    Ok(Ok(response)) => response,
                };
            let result = result_value(&response);
            if response.status.is_success() {
                Ok(result)
            } else {
                Err(StatesError::new(
                    format!("{HTTP_STATUS_CODE_PREFIX}{}", response.status.as_u16()),
                    result.to_json(),
                ))
            }
        }))
    }
}

/// Headers a task may not set (AWS's list for the HTTP Task), lowercase.
const FORBIDDEN_HEADERS: &[&str] = &[
    "a-im",
    "accept-charset",
    "accept-datetime",
    "accept-encoding",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-md5",
    "date",
    "expect",
    "forwarded",
    "from",
    "host",
    "http2-settings",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "keep-alive",
    "max-forwards",
    "origin",
    "pragma",
    "proxy-authorization",
    "referer",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "warning",
];

fn forbidden_header(name: &HeaderName) -> bool {
    let name = name.as_str();
    FORBIDDEN_HEADERS.contains(&name)
        || name.starts_with("x-amz-")
        || name.starts_with("x-amzn-")
        || name.starts_with("x-forwarded-")
}

const FIELDS: &[&str] = &[
    "ApiEndpoint",
    "Method",
    "Headers",
    "QueryParameters",
    "RequestBody",
    "Authentication",
    "InvocationConfig",
    "Transform",
];

/// `States.Runtime` for a bad argument.
fn invalid(field: &str, message: impl std::fmt::Display) -> StatesError {
    StatesError::runtime(format!(
        "The HTTP Task's argument '{field}' is invalid: {message}"
    ))
}

/// The object at `field`, `None` when absent or null.
fn object_field<'a>(args: &'a Map, field: &str) -> Result<Option<&'a Map>, StatesError> {
    match args.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(invalid(
            field,
            format_args!("expected an object, got {}", other.json_type()),
        )),
    }
}

impl HttpInner {
    /// Builds the request from the task's arguments.
    fn request(&self, input: &Value) -> Result<Request<Bytes>, StatesError> {
        let Some(args) = input.as_object() else {
            return Err(StatesError::runtime(format!(
                "The HTTP Task expects an object of arguments (ApiEndpoint, Method, ...), got {}",
                input.json_type()
            )));
        };
        if let Some(unknown) = args.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(StatesError::runtime(format!(
                "The HTTP Task has no argument '{unknown}' (expected {})",
                FIELDS.join(", ")
            )));
        }
        let endpoint = match args.get("ApiEndpoint") {
            Some(Value::String(s)) => s.as_str(),
            None => return Err(invalid("ApiEndpoint", "it is required")),
            Some(other) => {
                return Err(invalid(
                    "ApiEndpoint",
                    format_args!("expected a string, got {}", other.json_type()),
                ));
            }
        };
        let method = match args.get("Method") {
            Some(Value::String(s)) => match s.as_str() {
                "GET" => Method::GET,
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "DELETE" => Method::DELETE,
                "PATCH" => Method::PATCH,
                "HEAD" => Method::HEAD,
                "OPTIONS" => Method::OPTIONS,
                other => {
                    return Err(invalid(
                        "Method",
                        format_args!(
                            "expected GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS, got \"{other}\""
                        ),
                    ));
                }
            },
            None => return Err(invalid("Method", "it is required")),
            Some(other) => {
                return Err(invalid(
                    "Method",
                    format_args!("expected a string, got {}", other.json_type()),
                ));
            }
        };
        let connection = self.connection(args)?;

        let mut query = Vec::new();
        if let Some(params) = object_field(args, "QueryParameters")? {
            for (k, v) in params.iter() {
                push_pairs(k, v, ArrayFormat::Repeat, &mut query);
            }
        }
        if let Some(c) = connection {
            query.extend(c.query.iter().cloned());
        }
        let uri = endpoint_uri(endpoint, &query)?;

        let mut headers = HeaderMap::new();
        if let Some(given) = object_field(args, "Headers")? {
            for (k, v) in given.iter() {
                let name = HeaderName::from_bytes(k.as_bytes())
                    .map_err(|_| invalid("Headers", format_args!("'{k}' is not a header name")))?;
                if forbidden_header(&name) {
                    return Err(invalid(
                        "Headers",
                        format_args!(
                            "the header '{k}' cannot be set by an HTTP Task (credentials belong in a connection)"
                        ),
                    ));
                }
                let values: Vec<&Value> = match v {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                for value in values {
                    let text = match value {
                        Value::Array(_) | Value::Object(_) | Value::Null => None,
                        scalar => scalar_text(scalar),
                    };
                    let value = text
                        .and_then(|t| HeaderValue::from_str(&t).ok())
                        .ok_or_else(|| {
                            invalid(
                                "Headers",
                                format_args!(
                                    "the value of '{k}' must be a string, number, boolean or an array of them, without control characters"
                                ),
                            )
                        })?;
                    headers.append(name.clone(), value);
                }
            }
        }
        if let Some(c) = connection {
            for name in c.headers.keys() {
                headers.remove(name);
            }
            for (name, value) in c.headers.iter() {
                headers.append(name.clone(), value.clone());
            }
        }

        let (body, content_type) = self.body(args)?;
        if let Some(content_type) = content_type
            && !headers.contains_key(CONTENT_TYPE)
        {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(concat!(
                "spate/",
                env!("CARGO_PKG_VERSION"),
                " (Amazon|StepFunctions|HttpInvoke)"
            )),
        );

        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// The configured connection named by `Authentication.ConnectionArn`
    /// (or `InvocationConfig.ConnectionArn`), if any.
    fn connection(&self, args: &Map) -> Result<Option<&Connection>, StatesError> {
        for field in ["Authentication", "InvocationConfig"] {
            let Some(section) = object_field(args, field)? else {
                continue;
            };
            match section.get("ConnectionArn") {
                None | Some(Value::Null) => {}
                Some(Value::String(arn)) => {
                    if let Some(c) = self.connections.get(arn.as_str()) {
                        return Ok(Some(c));
                    }
                }
                Some(other) => {
                    return Err(invalid(
                        field,
                        format_args!(
                            "expected ConnectionArn to be a string, got {}",
                            other.json_type()
                        ),
                    ));
                }
            }
        }
        Ok(None)
    }

    /// The encoded body and its default content type.
    fn body(&self, args: &Map) -> Result<(Bytes, Option<&'static str>), StatesError> {
        let mut form = None;
        if let Some(transform) = object_field(args, "Transform")? {
            if let Some(k) = transform
                .keys()
                .find(|k| !matches!(k.as_str(), "RequestBodyEncoding" | "RequestEncodingOptions"))
            {
                return Err(invalid(
                    "Transform",
                    format_args!(
                        "unknown field '{k}' (expected RequestBodyEncoding, RequestEncodingOptions)"
                    ),
                ));
            }
            let encoding = match transform.get("RequestBodyEncoding") {
                None | Some(Value::Null) => "NONE",
                Some(Value::String(s)) => s.as_str(),
                Some(other) => {
                    return Err(invalid(
                        "Transform",
                        format_args!(
                            "expected RequestBodyEncoding to be a string, got {}",
                            other.json_type()
                        ),
                    ));
                }
            };
            let format = match transform.get("RequestEncodingOptions") {
                None | Some(Value::Null) => ArrayFormat::Indices,
                Some(Value::Object(options)) => match options.get("ArrayFormat") {
                    None | Some(Value::Null) => ArrayFormat::Indices,
                    Some(Value::String(s)) => match s.as_str() {
                        "INDICES" => ArrayFormat::Indices,
                        "REPEAT" => ArrayFormat::Repeat,
                        "COMMAS" => ArrayFormat::Commas,
                        "BRACKETS" => ArrayFormat::Brackets,
                        other => {
                            return Err(invalid(
                                "Transform",
                                format_args!(
                                    "expected ArrayFormat INDICES, REPEAT, COMMAS or BRACKETS, got \"{other}\""
                                ),
                            ));
                        }
                    },
                    Some(other) => {
                        return Err(invalid(
                            "Transform",
                            format_args!(
                                "expected ArrayFormat to be a string, got {}",
                                other.json_type()
                            ),
                        ));
                    }
                },
                Some(other) => {
                    return Err(invalid(
                        "Transform",
                        format_args!(
                            "expected RequestEncodingOptions to be an object, got {}",
                            other.json_type()
                        ),
                    ));
                }
            };
            match encoding {
                "NONE" => {}
                "URL_ENCODED" => form = Some(format),
                other => {
                    return Err(invalid(
                        "Transform",
                        format_args!(
                            "expected RequestBodyEncoding NONE or URL_ENCODED, got \"{other}\""
                        ),
                    ));
                }
            }
        }
        let body = match args.get("RequestBody") {
            None => return Ok((Bytes::new(), None)),
            Some(body) => body,
        };
        match (form, body) {
            (Some(_), Value::String(s)) => Ok((
                Bytes::from(s.to_string()),
                Some("application/x-www-form-urlencoded"),
            )),
            (Some(format), Value::Object(map)) => {
                let mut pairs = Vec::new();
                for (k, v) in map.iter() {
                    push_pairs(k, v, format, &mut pairs);
                }
                let mut text = String::new();
                encode_pairs(&pairs, &mut text);
                Ok((Bytes::from(text), Some("application/x-www-form-urlencoded")))
            }
            (Some(_), other) => Err(invalid(
                "RequestBody",
                format_args!(
                    "a URL_ENCODED body must be an object or a string, got {}",
                    other.json_type()
                ),
            )),
            (None, Value::String(s)) => Ok((
                Bytes::from(s.to_string()),
                Some("text/plain; charset=UTF-8"),
            )),
            (None, other) => Ok((
                Bytes::from(other.to_json()),
                Some("application/json; charset=UTF-8"),
            )),
        }
    }
}

/// `ApiEndpoint` with `query` appended to its own query string.
fn endpoint_uri(endpoint: &str, query: &[(String, String)]) -> Result<Uri, StatesError> {
    let uri: Uri = endpoint.parse().map_err(|e| {
        invalid(
            "ApiEndpoint",
            format_args!("\"{endpoint}\" is not a URL ({e})"),
        )
    })?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(invalid(
                "ApiEndpoint",
                format_args!("\"{endpoint}\" is not an http or https URL"),
            ));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid(
            "ApiEndpoint",
            format_args!("\"{endpoint}\" has no host"),
        ));
    }
    if query.is_empty() {
        return Ok(uri);
    }
    let mut query_text = uri.query().unwrap_or_default().to_string();
    encode_pairs(query, &mut query_text);
    let path_and_query = format!("{}?{query_text}", uri.path());
    let mut parts = uri.into_parts();
    parts.path_and_query = Some(
        path_and_query
            .parse()
            .map_err(|e| invalid("QueryParameters", format_args!("{e}")))?,
    );
    Uri::from_parts(parts).map_err(|e| invalid("ApiEndpoint", format_args!("{e}")))
}

/// The HTTP Task's result for a response.
fn result_value(response: &Response) -> Value {
    let mut headers = Map::with_capacity(response.headers.keys_len());
    for name in response.headers.keys() {
        let values = response
            .headers
            .get_all(name)
            .iter()
            .map(|v| Value::string(String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.insert(Str::new(name.as_str()), Value::array(values));
    }
    let is_json = response
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/json")
                || essence.to_ascii_lowercase().ends_with("+json")
        })
        .unwrap_or(false);
    let body = is_json
        .then(|| parse_body(&response.body))
        .flatten()
        .unwrap_or_else(|| Value::string(String::from_utf8_lossy(&response.body)));
    let status_text = response
        .reason
        .clone()
        .or_else(|| response.status.canonical_reason().map(str::to_string))
        .unwrap_or_default();
    let mut out = Map::with_capacity(4);
    out.insert(Str::new("Headers"), Value::object(headers));
    out.insert(Str::new("ResponseBody"), body);
    out.insert(
        Str::new("StatusCode"),
        Value::from(i64::from(response.status.as_u16())),
    );
    out.insert(Str::new("StatusText"), Value::string(status_text));
    Value::object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn form(body: Value, format: ArrayFormat) -> String {
        let mut pairs = Vec::new();
        for (k, v) in body.as_object().unwrap().iter() {
            push_pairs(k, v, format, &mut pairs);
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn array_formats() {
        let body = json!({"a": ["x", "y"], "n": 1, "o": {"k": true}});
        assert_eq!(
            form(body.clone(), ArrayFormat::Indices),
            "a[0]=x&a[1]=y&n=1&o[k]=true"
        );
        assert_eq!(
            form(body.clone(), ArrayFormat::Repeat),
            "a=x&a=y&n=1&o[k]=true"
        );
        assert_eq!(
            form(body.clone(), ArrayFormat::Commas),
            "a=x,y&n=1&o[k]=true"
        );
        assert_eq!(
            form(body, ArrayFormat::Brackets),
            "a[]=x&a[]=y&n=1&o[k]=true"
        );
    }

    #[test]
    fn percent_encoding() {
        let mut out = String::new();
        encode_pairs(
            &[
                ("a b".into(), "x&y=z/é".into()),
                ("k[0]".into(), "~-._".into()),
            ],
            &mut out,
        );
        assert_eq!(out, "a%20b=x%26y%3Dz%2F%C3%A9&k%5B0%5D=~-._");
    }

    #[test]
    fn endpoint_keeps_its_query() {
        let uri = endpoint_uri(
            "http://example.com/p?x=1",
            &[("y".to_string(), "2 3".to_string())],
        )
        .unwrap();
        assert_eq!(uri.to_string(), "http://example.com/p?x=1&y=2%203");
        let uri = endpoint_uri("https://example.com", &[("y".into(), "2".into())]).unwrap();
        assert_eq!(uri.to_string(), "https://example.com/?y=2");
        for bad in [
            "ftp://example.com/",
            "example.com/x",
            "http://",
            "not a url",
        ] {
            let err = endpoint_uri(bad, &[]).unwrap_err();
            assert!(err.is_runtime(), "{bad}: {err}");
            assert!(err.cause().unwrap().contains("ApiEndpoint"), "{err}");
        }
    }

    fn handler() -> HttpInner {
        let mut config = HttpConfig::default();
        config.connections.insert(
            "arn:conn".to_string(),
            HttpConnection {
                headers: [("Authorization".to_string(), "Bearer t".to_string())].into(),
                query_parameters: [("key".to_string(), "k".to_string())].into(),
            },
        );
        Arc::try_unwrap(
            HttpHandler::with_client(&config, Client::new())
                .unwrap()
                .inner,
        )
        .ok()
        .unwrap()
    }

    #[test]
    fn builds_requests() {
        let inner = handler();
        let request = inner
            .request(&json!({
                "ApiEndpoint": "http://h/p",
                "Method": "POST",
                "Headers": {"X-One": "1", "X-Many": ["a", 2]},
                "QueryParameters": {"q": ["a", "b"], "n": 3},
                "RequestBody": {"a": [1, 2]},
                "Authentication": {"ConnectionArn": "arn:conn"}
            }))
            .unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri().to_string(), "http://h/p?q=a&q=b&n=3&key=k");
        assert_eq!(request.headers()["x-one"], "1");
        let many: Vec<_> = request.headers().get_all("x-many").iter().collect();
        assert_eq!(many, ["a", "2"]);
        assert_eq!(request.headers()["authorization"], "Bearer t");
        assert_eq!(
            request.headers()["content-type"],
            "application/json; charset=UTF-8"
        );
        assert_eq!(request.body().as_ref(), br#"{"a":[1,2]}"#);
    }

    #[test]
    fn rejects_bad_arguments() {
        let inner = handler();
        let cases = [
            (json!("x"), "object of arguments"),
            (json!({"Method": "GET"}), "'ApiEndpoint'"),
            (json!({"ApiEndpoint": "http://h"}), "'Method'"),
            (
                json!({"ApiEndpoint": "http://h", "Method": "get"}),
                "'Method'",
            ),
            (
                json!({"ApiEndpoint": "http://h", "Method": "GET", "Headers": []}),
                "'Headers'",
            ),
            (
                json!({"ApiEndpoint": "http://h", "Method": "GET", "Headers": {"Authorization": "x"}}),
                "'Authorization' cannot be set",
            ),
            (
                json!({"ApiEndpoint": "http://h", "Method": "GET", "Headers": {"X-A": {"b": 1}}}),
                "'Headers'",
            ),
            (
                json!({"ApiEndpoint": "http://h", "Method": "GET", "Body": 1}),
                "no argument 'Body'",
            ),
            (
                json!({"ApiEndpoint": "http://h", "Method": "GET", "Transform": {"RequestBodyEncoding": "XML"}}),
                "'Transform'",
            ),
            (
                json!({"ApiEndpoint": "http://h", "Method": "POST", "RequestBody": [1],
                       "Transform": {"RequestBodyEncoding": "URL_ENCODED"}}),
                "'RequestBody'",
            ),
        ];
        for (input, expected) in cases {
            let err = inner.request(&input).unwrap_err();
            assert!(err.is_runtime(), "{input}: {err}");
            assert!(
                err.cause().unwrap().contains(expected),
                "{input}: {err} should mention {expected}"
            );
        }
    }

    #[test]
    fn deadlines_pick_the_tightest_limit() {
        let mut call = TaskCall {
            resource: Str::new(HTTP_INVOKE),
            input: Value::Null,
            credentials: None,
            timeout: None,
            heartbeat: None,
            execution_name: Str::new("e"),
            state_name: Str::new("s"),
            retry_count: 0,
            invocation: 0,
            task_token: None,
        };
        let client = Duration::from_secs(60);
        assert_eq!(deadline(&call, client), (client, Bound::Client));
        call.timeout = Some(Duration::from_secs(5));
        assert_eq!(
            deadline(&call, client),
            (Duration::from_secs(5), Bound::Task)
        );
        call.heartbeat = Some(Duration::from_secs(2));
        assert_eq!(
            deadline(&call, client),
            (Duration::from_secs(2), Bound::Heartbeat)
        );
        call.timeout = Some(Duration::from_secs(100));
        call.heartbeat = None;
        assert_eq!(deadline(&call, client), (client, Bound::Client));
    }

    #[test]
    fn config_rejects_bad_timeouts() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(config_seconds("t", bad).is_err(), "{bad}");
        }
        assert_eq!(
            config_seconds("t", 0.5).unwrap(),
            Duration::from_millis(500)
        );
    }
}
