//! The web console's backend: a GraphQL API (`/graphql`: queries and
//! mutations over HTTP, subscriptions over WebSocket with the
//! `graphql-transport-ws` protocol) over the registry, the runtime, the
//! API's execution store and the console's journal of recent executions.
//! Served beside the AWS API by `spate serve`, and on the admin server of
//! `spate run` and `spate demo`. docs/console.md describes the schema.
//!
//! * [`assets`]: the page itself (`/console`), built into the binary;
//! * [`graph`]: the graph of a definition (nodes, branches, edges);
//! * [`journal`] and [`tap`]: the bounded record of recent executions and
//!   how executions reach it;
//! * [`metrics`]: the numbers of every second;
//! * [`scopes`]: who may do what;
//! * [`schema`]: the GraphQL schema and its resolvers;
//! * [`settings`]: the `[console]` configuration section.

pub mod assets;
pub mod graph;
pub mod journal;
pub mod metrics;
pub mod schema;
pub mod scopes;
pub mod settings;
pub mod tap;

use crate::api::Api;
use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use journal::Journal;
use metrics::{MetricsFeed, PipelineSources};
use schema::types::{Execution, Pipeline};
use schema::{ConsoleSchema, Granted, coded};
use scopes::Grant;
use settings::ConsoleSettings;
use spate_engine::registry::Registry;
use spate_engine::runtime::RuntimeHandle;
use std::sync::Arc;

/// What the console serves from.
pub struct Console {
    api: Arc<Api>,
    journal: Arc<Journal>,
    metrics: Arc<MetricsFeed>,
    pipelines: Vec<Pipeline>,
    scope_claim: String,
}

/// The pipelines of `spate run` as the console shows them.
pub struct Pipelines {
    /// Name, source topics and state machine of each.
    pub list: Vec<Pipeline>,
    /// Their throughput and latency windows.
    pub windows: Arc<crate::admin::window::Windows>,
}

impl Console {
    /// Starts the console over `api` (its store and handlers), watching
    /// the executions of `registry` (the pipelines') and the numbers of
    /// `runtime` and `pipelines`.
    pub fn start(
        api: Arc<Api>,
        registry: &Registry,
        runtime: RuntimeHandle,
        settings: &ConsoleSettings,
        arns: (&str, &str),
        pipelines: Option<Pipelines>,
    ) -> Arc<Console> {
        let journal = Journal::start(settings, arns.0, arns.1);
        registry.set_observer(Some(Arc::new(tap::PipelineTap::new(
            Arc::clone(&journal),
            settings.history_sample_rate,
        ))));
        api.observe_executions(Arc::new(tap::StoreTap {
            journal: Arc::clone(&journal),
        }));
        let list = pipelines
            .as_ref()
            .map(|p| p.list.clone())
            .unwrap_or_default();
        let sources = pipelines.map(|p| PipelineSources {
            names: p.list.iter().map(|p| p.name.clone()).collect(),
            windows: p.windows,
        });
        Arc::new(Console {
            api,
            journal,
            metrics: MetricsFeed::start(runtime, sources),
            pipelines: list,
            scope_claim: settings.scope_claim.clone(),
        })
    }

    /// The execution of `arn` in the journal, in full.
    fn execution(&self, arn: &str) -> Option<Execution> {
        self.journal.get(arn).map(|e| Execution::of(&e))
    }

    /// Executions offered to the journal and dropped (its queue was full).
    pub fn dropped(&self) -> u64 {
        self.journal.dropped()
    }

    /// The console's routes: `POST /graphql`, `GET /graphql` for
    /// subscriptions over WebSocket, and the page (`/console`,
    /// `/console/assets/{file}`).
    pub fn routes(self: &Arc<Self>) -> Router {
        let state = Arc::new(Served {
            schema: schema::build(Arc::clone(self)),
            console: Arc::clone(self),
        });
        Router::new()
            .route("/graphql", axum::routing::post(http_request).get(websocket))
            .with_state(state)
            .merge(assets::routes())
    }
}

struct Served {
    schema: ConsoleSchema,
    console: Arc<Console>,
}

/// `POST /graphql`: credentials checked (over the exact body, for
/// `sigv4`), then the operation run with the scope they carry.
async fn http_request(
    State(served): State<Arc<Served>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = served.console.api.auth();
    let grant = scopes::authenticate(
        auth,
        &method,
        &uri,
        &headers,
        &body,
        &served.console.scope_claim,
    );
    let scope = match grant {
        Grant::Granted(scope) => scope,
        Grant::Refused(why) => return refusal("UNAUTHENTICATED", why),
    };
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refusal(
                "BAD_REQUEST",
                format!(
                    "the body is not a GraphQL request ({{query, variables, operationName}}): {e}"
                ),
            );
        }
    };
    let response = served.schema.execute(request.data(Granted(scope))).await;
    GraphQLResponse::from(response).into_response()
}

/// A GraphQL answer with one error of `code`.
fn refusal(code: &'static str, message: impl Into<String>) -> Response {
    let error = coded(code, message).into_server_error(async_graphql::Pos::default());
    GraphQLResponse::from(async_graphql::Response::from_errors(vec![error])).into_response()
}

/// `GET /graphql`: a WebSocket speaking `graphql-transport-ws` (or the
/// older `graphql-ws`); credentials come in `connection_init`'s payload.
async fn websocket(
    State(served): State<Arc<Served>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = served.schema.clone();
    let console = Arc::clone(&served.console);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let headers = scopes::payload_headers(&payload);
                    let grant = scopes::authenticate(
                        console.api.auth(),
                        &Method::GET,
                        &Uri::from_static("/graphql"),
                        &headers,
                        b"",
                        &console.scope_claim,
                    );
                    match grant {
                        Grant::Granted(scope) => {
                            let mut data = Data::default();
                            data.insert(Granted(scope));
                            Ok(data)
                        }
                        // The protocol closes the socket with the message as
                        // its reason: the code leads it.
                        Grant::Refused(why) => {
                            Err(coded("UNAUTHENTICATED", format!("UNAUTHENTICATED: {why}")))
                        }
                    }
                })
                .serve()
        })
}
