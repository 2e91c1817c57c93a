//! The Lambda integrations, invoking functions served by the AWS Lambda
//! Runtime Interface Emulator (RIE) or anything speaking its API.
//!
//! Two resources:
//!
//! * `arn:aws:states:::lambda:invoke` (the optimized integration): the
//!   arguments are `FunctionName` (a name, `name:qualifier`, a partial ARN
//!   `ACCOUNT:function:NAME[:QUALIFIER]` or a full ARN), `Payload` (any JSON;
//!   a string is sent as it is, as on AWS; absent or `null` sends `{}`),
//!   `InvocationType` (`RequestResponse`, the default; `Event`, which
//!   returns at once with status 202 and invokes in the background; `DryRun`,
//!   which only resolves the function, status 204), `Qualifier`,
//!   `ClientContext` and `LogType` (both passed on as headers; no log tail
//!   comes back). The result has AWS's shape: `ExecutedVersion`, the parsed
//!   `Payload`, `SdkHttpMetadata` (headers shaped like Lambda's own, not the
//!   emulator's), `SdkResponseMetadata` and `StatusCode`.
//! * `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` (direct
//!   Lambda): the task's input is the payload and the result is the
//!   function's response itself.
//!
//! Functions are found in [`LambdaConfig::functions`] by name and
//! qualifier, then by name, then [`LambdaConfig::default_endpoint`] serves
//! the rest; an unknown function fails with
//! `Lambda.ResourceNotFoundException`. The request is
//! `POST {endpoint}/2015-03-31/functions/function/invocations` with the
//! payload as its body.
//!
//! # Errors
//!
//! * A function error fails the task with the error payload's `errorType`
//!   (`Lambda.Unknown` when it has none), the cause being the payload: as
//!   received for direct Lambda, re-serialized compactly for
//!   `lambda:invoke` (AWS's layouts). Lambda marks a function error with the
//!   `X-Amz-Function-Error` header; the RIE does not (it answers 200 with
//!   the error payload), so a 200 response that is an error payload (an
//!   object of `errorMessage`/`errorType`/`stackTrace`/`trace`/`requestId`/
//!   `cause` only, with a string `errorMessage` or `errorType`) counts as one
//!   too, unless [`LambdaConfig::detect_errors_in_body`] is off. A 502 with
//!   an error payload (the RIE's report of a failed init) is a function
//!   error as well. A body that is not JSON (the RIE's `Task timed out
//!   after ...`, or nothing when the runtime died) fails with
//!   `Lambda.Unknown`, as AWS reports timeouts and crashes.
//! * The endpoint refuses the connection or drops it, or gives no answer
//!   within [`LambdaConfig::timeout_seconds`]: `Lambda.SdkClientException`
//!   (the name AWS's Java SDK gives client-side failures).
//! * The endpoint answers 5xx: `Lambda.ServiceException`; 429:
//!   `Lambda.TooManyRequestsException`; 404:
//!   `Lambda.ResourceNotFoundException`; other 4xx (the RIE answers 400 while
//!   it is busy with another invocation): `Lambda.AWSLambdaException`.
//!   Causes read like AWS's: `... (Service: AWSLambda; Status Code: 502;
//!   Error Code: ServiceException; Request ID: ...; Proxy: null)`.
//! * The Task's `TimeoutSeconds` (`HeartbeatSeconds`) passes first:
//!   `States.Timeout` (`States.HeartbeatTimeout`).
//! * A response over 256 KiB: `States.DataLimitExceeded`.
//! * Arguments that cannot be used (no `FunctionName`, a malformed one, an
//!   unknown `InvocationType`, an unknown field): `States.Runtime` naming
//!   the field.

use super::config::ConfigError;
use super::http::{
    Bound, Client, Failure, RESPONSE_LIMIT, Response, config_seconds, data_limit, deadline,
    engine_timeout, parse_body,
};
use super::native::catch_panics;
use super::{TaskCall, TaskHandler, TaskReply, TaskResult};
use crate::error::StatesError;
use crate::value::{Map, Str, Value};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Uri};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// The optimized Lambda integration's resource.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// The prefix of direct Lambda resources (`arn:aws:lambda:...:function:...`).
pub const LAMBDA_ARN_PREFIX: &str = "arn:aws:lambda:";

/// The RIE's invocation path, appended to an endpoint given without a path.
const RIE_PATH: &str = "/2015-03-31/functions/function/invocations";

/// Where the Lambda functions of a dry run are served.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LambdaConfig {
    /// Endpoints by function. A key is a function name (`resize`), a name
    /// with a version or alias (`resize:prod`, used only for that
    /// qualifier), or a partial or full ARN of one (region and account are
    /// not compared). A value is the base URL of a Runtime Interface
    /// Emulator (`http://127.0.0.1:9000`), invoked at
    /// `/2015-03-31/functions/function/invocations`; a URL with a path is
    /// used as it is, with `{name}` replaced by the function's name (for
    /// servers of the Lambda API such as `sam local start-lambda`:
    /// `http://127.0.0.1:3001/2015-03-31/functions/{name}/invocations`).
    pub functions: BTreeMap<String, String>,
    /// The endpoint of every function not in `functions` (same form). Without
    /// it, such functions fail with `Lambda.ResourceNotFoundException`.
    pub default_endpoint: Option<String>,
    /// The longest one invocation may take, in seconds (fractions allowed);
    /// past it the task fails with `Lambda.SdkClientException`. A shorter
    /// `TimeoutSeconds` on the Task bounds it too, failing with
    /// `States.Timeout`. Default 300 (an Express execution's limit).
    pub timeout_seconds: f64,
    /// The region in the function ARNs this integration builds (for names
    /// given without one). Default `us-east-1`.
    pub region: String,
    /// The account in the function ARNs this integration builds. Default
    /// `123456789012`.
    pub account: String,
    /// Whether a 200 response that looks like an error payload, without
    /// Lambda's `X-Amz-Function-Error` header, is a function error (the RIE
    /// never sends the header). Default `true`.
    pub detect_errors_in_body: bool,
}

impl Default for LambdaConfig {
    fn default() -> LambdaConfig {
        LambdaConfig {
            functions: BTreeMap::new(),
            default_endpoint: None,
            timeout_seconds: 300.0,
            region: "us-east-1".to_string(),
            account: "123456789012".to_string(),
            detect_errors_in_body: true,
        }
    }
}

/// A configured endpoint: a URL, possibly with `{name}` in it.
#[derive(Debug, Clone)]
struct Endpoint(String);

impl Endpoint {
    fn parse(field: &str, text: &str) -> Result<Endpoint, ConfigError> {
        let endpoint = Endpoint(text.to_string());
        endpoint
            .uri("function")
            .map_err(|message| ConfigError::new(field, message))?;
        Ok(endpoint)
    }

    /// The invocation URL for function `name`.
    fn uri(&self, name: &str) -> Result<Uri, String> {
        let text = self.0.replace("{name}", name);
        let uri: Uri = text
            .parse()
            .map_err(|e| format!("\"{text}\" is not a URL ({e})"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(format!("\"{text}\" is not an http or https URL"));
        }
        let has_path = uri
            .path_and_query()
            .is_some_and(|pq| pq.as_str() != "/" && !pq.as_str().is_empty());
        if has_path {
            return Ok(uri);
        }
        let mut parts = uri.into_parts();
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static(RIE_PATH));
        Uri::from_parts(parts).map_err(|e| e.to_string())
    }
}

/// A function as a task names it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FunctionRef {
    name: String,
    qualifier: Option<String>,
    region: Option<String>,
    account: Option<String>,
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 170
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_qualifier(s: &str) -> bool {
    s == "$LATEST" || valid_name(s)
}

/// Parses `name`, `name:qualifier`, `ACCOUNT:function:name[:qualifier]` or
/// `arn:PARTITION:lambda:REGION:ACCOUNT:function:name[:qualifier]`.
fn parse_function(text: &str) -> Option<FunctionRef> {
    let parts: Vec<&str> = text.split(':').collect();
    let (name, qualifier, region, account) = match parts.as_slice() {
        ["arn", _, "lambda", region, account, "function", name] => {
            (*name, None, Some(*region), Some(*account))
        }
        ["arn", _, "lambda", region, account, "function", name, q] => {
            (*name, Some(*q), Some(*region), Some(*account))
        }
        [account, "function", name] => (*name, None, None, Some(*account)),
        [account, "function", name, q] => (*name, Some(*q), None, Some(*account)),
        [name] => (*name, None, None, None),
        [name, q] => (*name, Some(*q), None, None),
        _ => return None,
    };
    if !valid_name(name) || !qualifier.is_none_or(valid_qualifier) {
        return None;
    }
    Some(FunctionRef {
        name: name.to_string(),
        qualifier: qualifier.map(str::to_string),
        region: region.filter(|r| !r.is_empty()).map(str::to_string),
        account: account.filter(|a| !a.is_empty()).map(str::to_string),
    })
}

/// How a resource invokes its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `arn:aws:states:::lambda:invoke`.
    Optimized,
    /// `arn:aws:lambda:...:function:...`.
    Direct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// What a task asks of a function.
struct Arguments {
    mode: Mode,
    function: FunctionRef,
    payload: Bytes,
    invocation_type: InvocationType,
    headers: Vec<(&'static str, HeaderValue)>,
}

/// One invocation, ready to send.
struct Invocation {
    mode: Mode,
    function: FunctionRef,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME` (unqualified).
    arn: String,
    invocation_type: InvocationType,
    request: Request<Bytes>,
    /// The name in a data-limit cause: `lambda`, or the resource.
    task: Str,
}

/// The handler of `arn:aws:states:::lambda:invoke` and of direct Lambda
/// resources (register it under both; it tells them apart by the call's
/// resource). Cloning shares its connection pool.
#[derive(Clone)]
pub struct LambdaHandler {
    inner: Arc<LambdaInner>,
}

struct LambdaInner {
    client: Client,
    functions: HashMap<(String, Option<String>), Endpoint>,
    default_endpoint: Option<Endpoint>,
    timeout: Duration,
    region: String,
    account: String,
    detect_errors_in_body: bool,
}

impl std::fmt::Debug for LambdaHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaHandler")
            .field("functions", &self.inner.functions)
            .field("default_endpoint", &self.inner.default_endpoint)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

impl LambdaHandler {
    /// A handler with its own connection pool.
    pub fn new(config: &LambdaConfig) -> Result<LambdaHandler, ConfigError> {
        LambdaHandler::with_client(config, Client::new())
    }

    /// A handler using `client`'s pool.
    pub(crate) fn with_client(
        config: &LambdaConfig,
        client: Client,
    ) -> Result<LambdaHandler, ConfigError> {
        let mut functions = HashMap::new();
        for (key, url) in &config.functions {
            let field = format!("lambda.functions.{key}");
            let function = parse_function(key).ok_or_else(|| {
                ConfigError::new(
                    &field,
                    "not a function name, name:qualifier or function ARN",
                )
            })?;
            let endpoint = Endpoint::parse(&field, url)?;
            functions.insert((function.name, function.qualifier), endpoint);
        }
        let default_endpoint = config
            .default_endpoint
            .as_deref()
            .map(|url| Endpoint::parse("lambda.default_endpoint", url))
            .transpose()?;
        for (field, value) in [
            ("lambda.region", &config.region),
            ("lambda.account", &config.account),
        ] {
            if value.is_empty() || value.contains(':') {
                return Err(ConfigError::new(field, "must be non-empty, without ':'"));
            }
        }
        Ok(LambdaHandler {
            inner: Arc::new(LambdaInner {
                client,
                functions,
                default_endpoint,
                timeout: config_seconds("lambda.timeout_seconds", config.timeout_seconds)?,
                region: config.region.clone(),
                account: config.account.clone(),
                detect_errors_in_body: config.detect_errors_in_body,
            }),
        })
    }
}

impl TaskHandler for LambdaHandler {
    fn invoke(&self, call: TaskCall) -> TaskReply {
        let invocation = match self.inner.prepare(&call) {
            Ok(invocation) => invocation,
            Err(error) => return TaskReply::Ready(Err(error)),
        };
        let (after, bound) = deadline(&call, self.inner.timeout);
        let inner = Arc::clone(&self.inner);
        match invocation.invocation_type {
            InvocationType::DryRun => TaskReply::Ready(Ok(bare_result(204))),
            InvocationType::Event => TaskReply::Pending(catch_panics(call.resource, async move {
                // Lambda queues the event and answers at once; the emulator
                // runs it synchronously, so it is sent in the background.
                let client = inner.client.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        after,
                        client.send(invocation.request, RESPONSE_LIMIT),
                    )
                    .await;
                });
                Ok(bare_result(202))
            })),
            InvocationType::RequestResponse => {
                TaskReply::Pending(catch_panics(call.resource, async move {
                    inner.run(invocation, after, bound).await
                }))
            }
        }
    }
}

/// `States.Runtime` for a bad argument.
fn invalid(field: &str, message: impl std::fmt::Display) -> StatesError {
    StatesError::runtime(format!(
        "The Lambda task's argument '{field}' is invalid: {message}"
    ))
}

const FIELDS: &[&str] = &[
    "FunctionName",
    "Payload",
    "InvocationType",
    "Qualifier",
    "ClientContext",
    "LogType",
];

/// The string at `field`, `None` when absent or null.
fn string_field<'a>(args: &'a Map, field: &str) -> Result<Option<&'a str>, StatesError> {
    match args.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(invalid(
            field,
            format_args!("expected a string, got {}", other.json_type()),
        )),
    }
}

/// A Lambda service error with AWS's cause layout.
fn service_error(code: &str, status: u16, message: &str, request_id: &str) -> StatesError {
    StatesError::new(
        format!("Lambda.{code}"),
        format!(
            "{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)"
        ),
    )
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl LambdaInner {
    /// Reads the call into an invocation, resolving the function.
    fn prepare(&self, call: &TaskCall) -> Result<Invocation, StatesError> {
        let Arguments {
            mode,
            function,
            payload,
            invocation_type,
            headers,
        } = if call.resource == LAMBDA_INVOKE {
            self.read_arguments(&call.input)?
        } else {
            // Only the full-ARN form has a region.
            let function = parse_function(&call.resource)
                .filter(|f| f.region.is_some())
                .ok_or_else(|| {
                    StatesError::runtime(format!(
                        "The resource '{}' is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])",
                        call.resource
                    ))
                })?;
            Arguments {
                mode: Mode::Direct,
                function,
                payload: Bytes::from(call.input.to_json()),
                invocation_type: InvocationType::RequestResponse,
                headers: Vec::new(),
            }
        };
        let arn = format!(
            "arn:aws:lambda:{}:{}:function:{}",
            function.region.as_deref().unwrap_or(&self.region),
            function.account.as_deref().unwrap_or(&self.account),
            function.name
        );
        let endpoint = self
            .functions
            .get(&(function.name.clone(), function.qualifier.clone()))
            .or_else(|| self.functions.get(&(function.name.clone(), None)))
            .or(self.default_endpoint.as_ref())
            .ok_or_else(|| {
                service_error(
                    "ResourceNotFoundException",
                    404,
                    &format!(
                        "Function not found: {arn}:{}",
                        function.qualifier.as_deref().unwrap_or("$LATEST")
                    ),
                    &request_id(),
                )
            })?;
        let uri = endpoint
            .uri(&function.name)
            .map_err(|message| StatesError::runtime(format!("Lambda endpoint: {message}")))?;
        let mut request = Request::new(payload);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let request_headers = request.headers_mut();
        request_headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in headers {
            request_headers.insert(name, value);
        }
        Ok(Invocation {
            mode,
            function,
            arn,
            invocation_type,
            request,
            task: match mode {
                Mode::Optimized => Str::new("lambda"),
                Mode::Direct => call.resource.clone(),
            },
        })
    }

    /// Reads `lambda:invoke`'s arguments.
    fn read_arguments(&self, input: &Value) -> Result<Arguments, StatesError> {
        let Some(args) = input.as_object() else {
            return Err(StatesError::runtime(format!(
                "The Lambda task expects an object of arguments (FunctionName, Payload, ...), got {}",
                input.json_type()
            )));
        };
        if let Some(unknown) = args.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(StatesError::runtime(format!(
                "The Lambda task has no argument '{unknown}' (expected {})",
                FIELDS.join(", ")
            )));
        }
        let name = string_field(args, "FunctionName")?
            .ok_or_else(|| invalid("FunctionName", "it is required"))?;
        let mut function = parse_function(name).ok_or_else(|| {
            invalid(
                "FunctionName",
                format_args!("\"{name}\" is not a function name, name:qualifier or function ARN"),
            )
        })?;
        if let Some(qualifier) = string_field(args, "Qualifier")? {
            if !valid_qualifier(qualifier) {
                return Err(invalid(
                    "Qualifier",
                    format_args!("\"{qualifier}\" is not a version or alias"),
                ));
            }
            match &function.qualifier {
                Some(q) if q != qualifier => {
                    return Err(service_error(
                        "InvalidParameterValueException",
                        400,
                        "The derived qualifier from the function name does not match the specified qualifier.",
                        &request_id(),
                    ));
                }
                _ => function.qualifier = Some(qualifier.to_string()),
            }
        }
        let invocation_type = match string_field(args, "InvocationType")? {
            None | Some("RequestResponse") => InvocationType::RequestResponse,
            Some("Event") => InvocationType::Event,
            Some("DryRun") => InvocationType::DryRun,
            Some(other) => {
                return Err(invalid(
                    "InvocationType",
                    format_args!("expected RequestResponse, Event or DryRun, got \"{other}\""),
                ));
            }
        };
        let mut headers = Vec::new();
        headers.push((
            "x-amz-invocation-type",
            HeaderValue::from_static(match invocation_type {
                InvocationType::RequestResponse => "RequestResponse",
                InvocationType::Event => "Event",
                InvocationType::DryRun => "DryRun",
            }),
        ));
        if let Some(context) = string_field(args, "ClientContext")? {
            let value = HeaderValue::from_str(context)
                .map_err(|_| invalid("ClientContext", "expected base64 text"))?;
            headers.push(("x-amz-client-context", value));
        }
        match string_field(args, "LogType")? {
            None => {}
            Some(t @ ("None" | "Tail")) => {
                headers.push((
                    "x-amz-log-type",
                    HeaderValue::from_static(if t == "Tail" { "Tail" } else { "None" }),
                ));
            }
            Some(other) => {
                return Err(invalid(
                    "LogType",
                    format_args!("expected None or Tail, got \"{other}\""),
                ));
            }
        }
        let payload = match args.get("Payload") {
            None | Some(Value::Null) => Bytes::from_static(b"{}"),
            Some(Value::String(s)) => Bytes::from(s.to_string()),
            Some(other) => Bytes::from(other.to_json()),
        };
        Ok(Arguments {
            mode: Mode::Optimized,
            function,
            payload,
            invocation_type,
            headers,
        })
    }

    /// Sends a RequestResponse invocation and reads its outcome.
    async fn run(&self, invocation: Invocation, after: Duration, bound: Bound) -> TaskResult {
        let Invocation {
            mode,
            function,
            arn,
            request,
            task,
            ..
        } = invocation;
        let sent = tokio::time::timeout(after, self.client.send(request, RESPONSE_LIMIT)).await;
        let response = match sent {
            Err(_) => {
                return Err(engine_timeout(bound).unwrap_or_else(|| {
                    StatesError::new(
                        "Lambda.SdkClientException",
                        format!(
                            "Unable to execute HTTP request: no response within {}",
                            super::http::seconds_text(after)
                        ),
                    )
                }));
            }
            Ok(Err(Failure::TooLarge)) => return Err(data_limit(&task)),
            Ok(Err(Failure::Connect(m) | Failure::Io(m))) => {
                return Err(StatesError::new(
                    "Lambda.SdkClientException",
                    format!("Unable to execute HTTP request: {m}"),
                ));
            }
            Ok(Ok(response)) => response,
        };
        let request_id = response
            .headers
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(request_id);
        let status = response.status.as_u16();
        let parsed = parse_body(&response.body);
        if response.status.is_success() {
            let flagged = response.headers.contains_key("x-amz-function-error")
                || (self.detect_errors_in_body && parsed.as_ref().is_some_and(is_error_payload));
            if flagged {
                return Err(function_error(mode, &response, parsed.as_ref()));
            }
            let Some(payload) = parsed else {
                let text = String::from_utf8_lossy(&response.body);
                let cause = if text.trim().is_empty() {
                    "The function returned an empty response (its runtime may have exited)"
                        .to_string()
                } else {
                    text.into_owned()
                };
                return Err(StatesError::new("Lambda.Unknown", cause));
            };
            return Ok(match mode {
                Mode::Direct => payload,
                Mode::Optimized => {
                    let version = response
                        .headers
                        .get("x-amz-executed-version")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                        .unwrap_or_else(|| executed_version(&function));
                    invoke_result(
                        payload,
                        status,
                        Some(&version),
                        response.body.len(),
                        &request_id,
                    )
                }
            });
        }
        if status == 502 && parsed.as_ref().is_some_and(is_error_payload) {
            return Err(function_error(mode, &response, parsed.as_ref()));
        }
        let message = service_message(&response, parsed.as_ref());
        let code = match status {
            404 => {
                let qualified = format!(
                    "{arn}:{}",
                    function.qualifier.as_deref().unwrap_or("$LATEST")
                );
                return Err(service_error(
                    "ResourceNotFoundException",
                    404,
                    &format!("Function not found: {qualified}"),
                    &request_id,
                ));
            }
            429 => "TooManyRequestsException",
            400..=499 => "AWSLambdaException",
            _ => "ServiceException",
        };
        Err(service_error(code, status, &message, &request_id))
    }
}

/// The keys an error payload of a Lambda runtime may have.
const ERROR_PAYLOAD_KEYS: &[&str] = &[
    "errorMessage",
    "errorType",
    "stackTrace",
    "trace",
    "requestId",
    "cause",
];

/// `true` for an object like `{"errorMessage": ..., "errorType": ...,
/// "stackTrace": [...]}`.
fn is_error_payload(value: &Value) -> bool {
    let Some(map) = value.as_object() else {
        return false;
    };
    !map.is_empty()
        && map.keys().all(|k| ERROR_PAYLOAD_KEYS.contains(&k.as_str()))
        && (matches!(map.get("errorType"), Some(Value::String(_)))
            || matches!(map.get("errorMessage"), Some(Value::String(_))))
}

/// The task error for a function error.
fn function_error(mode: Mode, response: &Response, parsed: Option<&Value>) -> StatesError {
    let name = parsed
        .and_then(|v| v.get("errorType"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("Lambda.Unknown");
    let cause = match (mode, parsed) {
        (Mode::Optimized, Some(value)) => value.to_json(),
        _ => String::from_utf8_lossy(&response.body).into_owned(),
    };
    StatesError::new(name, cause)
}

/// The message of a service error response.
fn service_message(response: &Response, parsed: Option<&Value>) -> String {
    let from_json = parsed.and_then(|v| {
        ["message", "Message", "errorMessage"]
            .iter()
            .find_map(|k| v.get(k).and_then(Value::as_str))
            .map(str::to_string)
    });
    from_json.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&response.body);
        let text = text.trim();
        if text.is_empty() {
            response
                .status
                .canonical_reason()
                .unwrap_or("The Lambda endpoint failed")
                .to_string()
        } else {
            text.chars().take(1024).collect()
        }
    })
}

/// The version AWS reports for a qualifier: a version number as such,
/// anything else (`$LATEST`, an alias) as `$LATEST`.
fn executed_version(function: &FunctionRef) -> String {
    match &function.qualifier {
        Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => q.clone(),
        _ => "$LATEST".to_string(),
    }
}

/// `Tue, 21 Nov 2023 00:06:17 GMT`.
fn http_date() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// An X-Ray style trace id.
fn trace_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    let epoch = chrono::Utc::now().timestamp();
    format!("Root=1-{epoch:08x}-{};Sampled=0", &hex[..24])
}

/// `lambda:invoke`'s result: the payload wrapped in the SDK's response
/// metadata, as AWS returns it.
fn invoke_result(
    payload: Value,
    status: u16,
    executed_version: Option<&str>,
    body_len: usize,
    request_id: &str,
) -> Value {
    let length = body_len.to_string();
    let date = http_date();
    let trace = trace_id();
    // `HttpHeaders` sorted by name, `AllHttpHeaders` in the order AWS's
    // responses show them.
    let mut headers: Vec<(&str, &str)> = vec![
        ("Connection", "keep-alive"),
        ("Content-Length", &length),
        ("Content-Type", "application/json"),
        ("Date", &date),
    ];
    if let Some(v) = executed_version {
        headers.push(("X-Amz-Executed-Version", v));
    }
    headers.push(("x-amzn-Remapped-Content-Length", "0"));
    headers.push(("x-amzn-RequestId", request_id));
    headers.push(("X-Amzn-Trace-Id", &trace));
    const ALL_ORDER: [&str; 8] = [
        "X-Amz-Executed-Version",
        "x-amzn-Remapped-Content-Length",
        "Connection",
        "x-amzn-RequestId",
        "Content-Length",
        "Date",
        "X-Amzn-Trace-Id",
        "Content-Type",
    ];
    let mut all = Map::with_capacity(headers.len());
    for name in ALL_ORDER {
        if let Some((_, value)) = headers.iter().find(|(n, _)| *n == name) {
            all.insert(Str::new(name), Value::array(vec![Value::string(value)]));
        }
    }
    let mut single = Map::with_capacity(headers.len());
    for (name, value) in headers {
        single.insert(Str::new(name), Value::string(value));
    }
    let mut http = Map::with_capacity(3);
    http.insert(Str::new("AllHttpHeaders"), Value::object(all));
    http.insert(Str::new("HttpHeaders"), Value::object(single));
    http.insert(Str::new("HttpStatusCode"), Value::from(i64::from(status)));
    let mut sdk = Map::with_capacity(1);
    sdk.insert(Str::new("RequestId"), Value::string(request_id));
    let mut out = Map::with_capacity(5);
    if let Some(v) = executed_version {
        out.insert(Str::new("ExecutedVersion"), Value::string(v));
    }
    out.insert(Str::new("Payload"), payload);
    out.insert(Str::new("SdkHttpMetadata"), Value::object(http));
    out.insert(Str::new("SdkResponseMetadata"), Value::object(sdk));
    out.insert(Str::new("StatusCode"), Value::from(i64::from(status)));
    Value::object(out)
}

/// The result of an `Event` (202) or `DryRun` (204) invocation: an empty
/// payload.
fn bare_result(status: u16) -> Value {
    invoke_result(Value::string(""), status, None, 0, &request_id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn f(name: &str, q: Option<&str>, region: Option<&str>, account: Option<&str>) -> FunctionRef {
        FunctionRef {
            name: name.to_string(),
            qualifier: q.map(str::to_string),
            region: region.map(str::to_string),
            account: account.map(str::to_string),
        }
    }

    #[test]
    fn parses_function_names() {
        assert_eq!(parse_function("my-fn"), Some(f("my-fn", None, None, None)));
        assert_eq!(
            parse_function("my-fn:prod"),
            Some(f("my-fn", Some("prod"), None, None))
        );
        assert_eq!(
            parse_function("123456789012:function:my_fn:7"),
            Some(f("my_fn", Some("7"), None, Some("123456789012")))
        );
        assert_eq!(
            parse_function("arn:aws:lambda:eu-west-1:123456789012:function:my-fn"),
            Some(f("my-fn", None, Some("eu-west-1"), Some("123456789012")))
        );
        assert_eq!(
            parse_function("arn:aws:lambda:eu-west-1:123456789012:function:my-fn:$LATEST"),
            Some(f(
                "my-fn",
                Some("$LATEST"),
                Some("eu-west-1"),
                Some("123456789012")
            ))
        );
        for bad in [
            "",
            "a b",
            "fn:",
            "a:b:c",
            "arn:aws:lambda:r:a:layer:x",
            "fn:$OTHER",
        ] {
            assert_eq!(parse_function(bad), None, "{bad}");
        }
    }

    #[test]
    fn endpoints_default_to_the_rie_path() {
        let e = Endpoint::parse("f", "http://127.0.0.1:9000").unwrap();
        assert_eq!(
            e.uri("x").unwrap().to_string(),
            "http://127.0.0.1:9000/2015-03-31/functions/function/invocations"
        );
        let e = Endpoint::parse(
            "f",
            "http://127.0.0.1:3001/2015-03-31/functions/{name}/invocations",
        )
        .unwrap();
        assert_eq!(
            e.uri("resize").unwrap().to_string(),
            "http://127.0.0.1:3001/2015-03-31/functions/resize/invocations"
        );
        for bad in ["127.0.0.1:9000", "ftp://h/", "not a url"] {
            assert!(Endpoint::parse("f", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn recognises_error_payloads() {
        assert!(is_error_payload(
            &json!({"errorMessage": "boom", "errorType": "E", "stackTrace": []})
        ));
        assert!(is_error_payload(
            &json!({"errorType": "Error", "errorMessage": "x", "trace": ["a"]})
        ));
        assert!(is_error_payload(&json!({"errorMessage": "timed out"})));
        assert!(!is_error_payload(
            &json!({"errorMessage": "x", "result": 1})
        ));
        assert!(!is_error_payload(&json!({})));
        assert!(!is_error_payload(&json!({"errorType": 3})));
        assert!(!is_error_payload(&json!("errorMessage")));
    }

    #[test]
    fn executed_versions() {
        assert_eq!(executed_version(&f("a", None, None, None)), "$LATEST");
        assert_eq!(executed_version(&f("a", Some("12"), None, None)), "12");
        assert_eq!(
            executed_version(&f("a", Some("prod"), None, None)),
            "$LATEST"
        );
    }
}
