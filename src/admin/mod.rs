//! The admin HTTP server of `spate run` and `spate demo` (axum, on a
//! thread of its own, 127.0.0.1:9464 unless configured):
//!
//! - `GET /metrics`: the Prometheus exposition ([`exposition`]);
//! - `GET /health`: 200 while the process serves;
//! - `GET /ready`: 200 when every pipeline holds its assignment and
//!   consumes without stalling, else 503 naming the pipeline and why;
//! - `GET /stats`: a JSON snapshot of throughput and latency percentiles
//!   per pipeline over the last 10 seconds and the whole run
//!   ([`window`]), and executions per state machine.
//!
//! It only reads what the runtime and the pipelines count; it reaches into
//! no shard.

pub mod exposition;
pub mod window;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use spate_engine::registry::Registry;
use spate_engine::runtime::{Runtime, STATUSES};
use spate_engine::time::{Clock, SystemClock};
use spate_ingest::config::PipelineSettings;
use spate_ingest::stats::PipelineStats;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The default address of the admin server.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9464";

/// The window `/stats` reports throughput and latency over.
const STATS_WINDOW: Duration = Duration::from_secs(10);

/// A running pipeline, as the admin server sees it.
pub struct PipelineView {
    /// Its settings (name, topics).
    pub settings: Arc<PipelineSettings>,
    /// Its counters.
    pub stats: Arc<PipelineStats>,
}

/// What the admin server reports on.
pub struct Sources {
    /// The runtime every execution runs on.
    pub runtime: Arc<Runtime>,
    /// The state machines.
    pub registry: Arc<Registry>,
    /// The pipelines, in configuration order.
    pub pipelines: Vec<PipelineView>,
    /// Their throughput and latency windows (same order).
    pub windows: Arc<window::Windows>,
    /// When the process started serving.
    pub started: Instant,
}

struct AppState {
    sources: Arc<Sources>,
    exposition: exposition::Exposition,
}

/// The server; stops when dropped.
pub struct AdminServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl AdminServer {
    /// Binds `addr` (port 0: any free port) and serves `sources` on a
    /// thread of its own.
    /// `console` routes (the web console) are served beside the admin
    /// endpoints; with them, `GET /` redirects to `/console/`.
    pub fn start(
        addr: &str,
        sources: Arc<Sources>,
        console: Router,
    ) -> anyhow::Result<AdminServer> {
        let listener = std::net::TcpListener::bind(addr).with_context(|| {
            format!("cannot serve the admin endpoints on {addr} (set another with --admin-addr or [admin] addr)")
        })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the admin server's runtime")?;
        let state = Arc::new(AppState {
            sources,
            exposition: exposition::Exposition::default(),
        });
        let has_console = console.has_routes();
        let mut app = Router::new()
            .route("/metrics", get(metrics))
            .route("/health", get(health))
            .route("/ready", get(ready))
            .route("/stats", get(stats))
            .with_state(state)
            .merge(console);
        if has_console {
            app = app.route(
                "/",
                get(|| async { axum::response::Redirect::temporary("/console/") }),
            );
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("spate-admin".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            log::error!("admin server: {e}");
                            return;
                        }
                    };
                    let served = axum::serve(listener, app).with_graceful_shutdown(async {
                        let _ = stopped.await;
                    });
                    if let Err(e) = served.await {
                        log::error!("admin server: {e}");
                    }
                });
            })
            .context("cannot start the admin server's thread")?;
        Ok(AdminServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let body = state.exposition.render(&state.sources);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

async fn health() -> &'static str {
    "ok\n"
}

async fn ready(State(state): State<Arc<AppState>>) -> (StatusCode, String) {
    let now_ms = SystemClock.now().unix_millis();
    let problems: Vec<String> = state
        .sources
        .pipelines
        .iter()
        .filter_map(|p| {
            p.stats
                .readiness(now_ms)
                .err()
                .map(|why| format!("pipeline {}: {why}", p.settings.name))
        })
        .collect();
    if problems.is_empty() {
        (StatusCode::OK, "ready\n".into())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready\n{}\n", problems.join("\n")),
        )
    }
}

async fn stats(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    axum::Json(stats_json(&state.sources))
}

/// The `/stats` document.
fn stats_json(sources: &Sources) -> serde_json::Value {
    let now_ms = SystemClock.now().unix_millis();
    let pipelines: Vec<serde_json::Value> = sources
        .pipelines
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let s = sources.windows.summary(i, STATS_WINDOW);
            let now = &s.now;
            json!({
                "name": p.settings.name,
                "ready": p.stats.readiness(now_ms).is_ok(),
                "window_seconds": s.seconds,
                "per_second": {
                    "consumed": s.rate(|c| c.consumed),
                    "outputs": s.rate(|c| c.outputs),
                    "dead_letters": s.rate(|c| c.dead_letters),
                    "failed": s.rate(|c| c.failed),
                },
                "latency_ms": {"window": s.latency, "total": s.total_latency},
                "totals": {
                    "consumed": now.consumed,
                    "started": now.started,
                    "succeeded": now.succeeded,
                    "failed": now.failed,
                    "outputs": now.outputs,
                    "dead_letters": now.dead_letters,
                    "commits": now.commits,
                    "duplicates": now.duplicates,
                },
                "executing": now.executing,
                "pending": now.pending,
                "partitions": {"assigned": now.assigned, "paused": now.paused},
            })
        })
        .collect();
    let metrics = sources.runtime.metrics();
    let machines: Vec<serde_json::Value> = metrics
        .machines
        .iter()
        .map(|(name, t)| {
            let finished: serde_json::Map<String, serde_json::Value> = STATUSES
                .iter()
                .zip(t.finished)
                .map(|(status, n)| (status.to_string(), json!(n)))
                .collect();
            json!({"name": name.as_str(), "started": t.started, "finished": finished})
        })
        .collect();
    json!({
        "uptime_seconds": sources.started.elapsed().as_secs_f64(),
        "executions_in_flight": metrics.in_flight,
        "pipelines": pipelines,
        "state_machines": machines,
    })
}
