//! The Step Functions-compatible API: AWS JSON 1.0 over HTTP
//! (`X-Amz-Target: AWSStepFunctions.<Action>`), so the AWS CLI, boto3 and
//! the other SDKs drive Spate unchanged. Every axum type stays in this
//! module tree.
//!
//! * `protocol` and `errors`: actions, bodies, constraints, AWS error shapes;
//! * `arn`: ARNs of this server's region and account;
//! * `auth` and `jwt`: none (loopback only), `sigv4`, `api_key` or `jwt`;
//! * `catalog` and `state_machines`: state machines, revisions, versions;
//! * `store`, `executions` and `history`: executions and their history
//!   (`sync_answer`: StartSyncExecution's answer, written by hand);
//! * `callbacks`: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat;
//! * `activities` and `activity_tasks`: activities, and the tasks their workers take;
//! * `tags`: tags of state machines and activities;
//! * `test_state`: TestState, one state on one input, with `inspectionData`;
//! * `mocks`: Step Functions Local's mock configurations (`<ARN>#<test case>`);
//! * `persist`: the data directory;
//! * `settings`: the `[api]` configuration section.
//!
//! [`build`] makes the API's state over a registry and a runtime the caller
//! owns, and [`listen`] serves it on threads of its own (`spate serve`, or
//! `spate run` with `[api]`).

mod activities;
mod activity_tasks;
mod arn;
mod auth;
pub(crate) mod bridge;
mod callbacks;
mod catalog;
mod errors;
mod executions;
mod history;
mod jwt;
mod mocks;
mod persist;
mod protocol;
pub mod settings;
mod state_machines;
mod store;
mod sync_answer;
mod tags;
mod test_state;

pub use activity_tasks::ActivityBoard;
use arn::Arns;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use catalog::Catalog;
use errors::{ApiError, ApiResult};
use protocol::Action;
use settings::ApiSettings;
use spate_engine::registry::Registry;
use spate_engine::runtime::RuntimeHandle;
use spate_engine::task::Resources;
use std::net::SocketAddr;
use std::sync::Arc;

/// What every request handler shares.
pub struct Api {
    auth: auth::Auth,
    arns: Arns,
    region: String,
    catalog: Catalog,
    activities: activities::Activities,
    board: Arc<ActivityBoard>,
    store: store::ExecutionStore,
    runtime: RuntimeHandle,
    /// The runtime's task handlers (mocked test cases fall back to them).
    resources: Resources,
    mocks: Option<mocks::MockConfig>,
    /// Told of every execution the store keeps (the console's journal).
    observer: std::sync::OnceLock<Arc<dyn bridge::ExecutionObserver>>,
}

/// What the API runs on, owned by its caller.
pub struct Backend {
    /// The state machines.
    pub registry: Arc<Registry>,
    /// The runtime that runs their executions.
    pub runtime: RuntimeHandle,
    /// Activity tasks on their way to workers: installed in the runtime's
    /// resources ([`ActivityBoard::install`]) before the runtime started.
    pub activities: Arc<ActivityBoard>,
    /// The task handlers the runtime runs with, for the states a mocked
    /// test case does not mock.
    pub resources: Resources,
}

impl Api {
    /// The region of this server's ARNs.
    fn region(&self) -> &str {
        &self.region
    }

    /// Answers one action.
    async fn dispatch(&self, action: Action, body: &[u8]) -> ApiResult<Response> {
        use Action as A;
        match action {
            A::CreateStateMachine => state_machines::create(self, body),
            A::DescribeStateMachine => state_machines::describe(self, body),
            A::ListStateMachines => state_machines::list(self, body),
            A::UpdateStateMachine => state_machines::update(self, body),
            A::DeleteStateMachine => state_machines::delete(self, body),
            A::PublishStateMachineVersion => state_machines::publish(self, body),
            A::ListStateMachineVersions => state_machines::list_versions(self, body),
            A::ValidateStateMachineDefinition => state_machines::validate(self, body),
            A::TagResource => tags::tag(self, body),
            A::UntagResource => tags::untag(self, body),
            A::ListTagsForResource => tags::list(self, body),
            A::StartExecution => executions::start(self, body),
            A::StartSyncExecution => executions::start_sync(self, body).await,
            A::DescribeExecution => executions::describe(self, body),
            A::ListExecutions => executions::list(self, body),
            A::StopExecution => executions::stop(self, body),
            A::GetExecutionHistory => executions::get_history(self, body),
            A::DescribeStateMachineForExecution => executions::describe_machine_for(self, body),
            A::SendTaskSuccess => callbacks::success(self, body).await,
            A::SendTaskFailure => callbacks::failure(self, body).await,
            A::SendTaskHeartbeat => callbacks::heartbeat(self, body).await,
            A::CreateActivity => activities::create(self, body),
            A::DescribeActivity => activities::describe(self, body),
            A::ListActivities => activities::list(self, body),
            A::DeleteActivity => activities::delete(self, body),
            A::GetActivityTask => activities::get_task(self, body).await,
            A::TestState => test_state::test_state(self, body).await,
        }
    }
}

/// Reads the body up to the action's limit: `413` with AWS's error shape
/// above it. An oversized body is read and dropped (up to
/// [`DRAIN_LIMIT`]) before the answer, so the client, still sending, gets
/// the answer rather than a broken connection.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let too_large = || {
        ApiError::validation(format!(
            "the request body is larger than {limit} bytes (the action's payload limit plus its envelope)"
        ))
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        drain(body).await;
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

/// The most of an oversized body read (and dropped) before answering.
const DRAIN_LIMIT: usize = 64 << 20;

async fn drain(mut body: Body) {
    use http_body_util::BodyExt;
    let mut seen = 0;
    while let Some(Ok(frame)) = body.frame().await {
        seen += frame.data_ref().map_or(0, Bytes::len);
        if seen > DRAIN_LIMIT {
            break;
        }
    }
}

/// Every action: `POST /`. The request is taken whole, so its method, URI
/// and headers are read in place rather than cloned for extractors.
async fn handle(State(api): State<Arc<Api>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let action = Action::from_headers(&parts.headers);
        // An unknown action is answered after the credentials are checked.
        let limit = action
            .as_ref()
            .map_or(Action::StartExecution.body_limit(), |a| a.body_limit());
        let bytes = read_body(&parts.headers, body, limit).await?;
        api.auth.check(
            &parts.method,
            &parts.uri,
            &parts.headers,
            &bytes,
            protocol::now(),
        )?;
        api.dispatch(action?, &bytes).await
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /start-sync/<state machine name>`, for callers that speak plain
/// HTTP (the API Gateway case): the body is the input, the answer the
/// output as JSON, or `{"error", "cause"}` with a 4xx (bad request, unknown
/// state machine) or 5xx (failed: 500, timed out: 504) status.
async fn start_sync_plain(
    State(api): State<Arc<Api>>,
    axum::extract::Path(name): axum::extract::Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let answer = async {
        let limit = spate_engine::limits::PAYLOAD_BYTES;
        let bytes = read_body(&headers, body, limit).await?;
        api.auth
            .check(&method, &uri, &headers, &bytes, protocol::now())?;
        executions::start_sync_plain(&api, &name, &bytes).await
    };
    match answer.await {
        Ok((status, json)) => (status, axum::Json(json)).into_response(),
        Err(e) => {
            let status = match e.code {
                "StateMachineDoesNotExist" => StatusCode::NOT_FOUND,
                _ => e.status,
            };
            (
                status,
                axum::Json(serde_json::json!({"error": e.code, "cause": e.message})),
            )
                .into_response()
        }
    }
}

/// The routes: every action is a `POST /`; plain HTTP starts are
/// `POST /start-sync/<name>`.
fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/", axum::routing::post(handle))
        .route("/start-sync/{name}", axum::routing::post(start_sync_plain))
        .layer(DefaultBodyLimit::disable())
        .with_state(api)
}

/// A running API server. Dropping it stops it.
pub struct ApiServer {
    addr: SocketAddr,
    api: Arc<Api>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl ApiServer {
    /// The address it listens on (the actual port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets requests in progress finish for
    /// up to `grace`, and stops the server's threads.
    pub fn shutdown(mut self, grace: std::time::Duration) {
        self.stop(grace);
    }

    fn stop(&mut self, grace: std::time::Duration) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let (Some(runtime), Some(done)) = (self.runtime.take(), self.done.take()) {
            let _ = runtime.block_on(async { tokio::time::timeout(grace, done).await });
            runtime.shutdown_background();
        }
        self.api.catalog.close_logs();
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop(std::time::Duration::ZERO);
    }
}

/// The API's state without a listener (the console of `spate run` without
/// `[api]` starts executions through it), restoring the state machines and
/// activities of the data directory.
pub fn build(settings: &ApiSettings, backend: Backend) -> anyhow::Result<Arc<Api>> {
    let Backend {
        registry,
        runtime,
        activities: board,
        resources,
    } = backend;
    let dir = settings
        .data_dir
        .as_deref()
        .map(persist::DataDir::open)
        .transpose()
        .map_err(|e| anyhow::anyhow!("cannot open the data directory: {e}"))?;
    let mocks = settings
        .mock_config
        .as_deref()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            mocks::MockConfig::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        })
        .transpose()?;
    Ok(Arc::new(Api {
        auth: settings.auth.clone(),
        arns: Arns::new(&settings.region, &settings.account),
        region: settings.region.clone(),
        catalog: Catalog::open(registry, dir.clone(), settings.log_destination.clone())?,
        activities: activities::Activities::open(dir, Arc::clone(&board))?,
        board,
        store: store::ExecutionStore::new(settings.max_executions),
        runtime,
        resources,
        mocks,
        observer: std::sync::OnceLock::new(),
    }))
}

/// Serves `api` on `settings.addr`, with `extra` routes (the console)
/// beside the API's. Refuses an address other than loopback unless
/// authentication is configured.
pub fn listen(settings: &ApiSettings, api: Arc<Api>, extra: Router) -> anyhow::Result<ApiServer> {
    if !settings.addr.ip().is_loopback() && !settings.auth.is_configured() {
        anyhow::bail!(
            "refusing to listen on {}: without authentication ([api.auth] mode = \"sigv4\", \"api_key\" or \"jwt\") the API only listens on a loopback address (127.0.0.1 or ::1)",
            settings.addr
        );
    }
    let listener = std::net::TcpListener::bind(settings.addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.addr))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let threads = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.threads.max(1))
        .thread_name("spate-api")
        .enable_all()
        .build()?;
    let refresh = threads
        .block_on(api.auth.prepare())
        .map_err(|e| anyhow::anyhow!("[api.auth]: cannot fetch the JWKS: {e}"))?;
    if let Some(refresh) = refresh {
        threads.spawn(refresh);
    }
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = threads.block_on(async {
        // answers go out at once: without TCP_NODELAY a keep-alive client
        // that pipelines can wait on Nagle's algorithm
        let listener = tokio::net::TcpListener::from_std(listener)?.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = axum::serve(listener, router(Arc::clone(&api)).merge(extra))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            });
        Ok::<_, std::io::Error>(tokio::spawn(async move {
            if let Err(e) = server.await {
                log::error!("the API server stopped: {e}");
            }
        }))
    })?;
    Ok(ApiServer {
        addr,
        api,
        shutdown: Some(shutdown),
        runtime: Some(threads),
        done: Some(done),
    })
}
