//! The GraphQL object types (docs/console.md lists them), built from the
//! journal, the graph model and the API's answers.

pub use super::history::{HistoryEventView, StateRun, event_view};
use super::history::{history_views, state_runs};
use crate::console::graph::{self, Graph as GraphModel};
use crate::console::journal::{Entry, Source, Summary};
use crate::console::metrics::{MachineTick, Tick};
use async_graphql::{Enum, ID, SimpleObject};
use spate_engine::interp::EventType;
use spate_engine::time::Timestamp;

/// An execution's status.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ExecutionStatus {
    /// Still running.
    Running,
    /// Ended with an output.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Ran past its deadline.
    TimedOut,
    /// Stopped.
    Aborted,
}

impl ExecutionStatus {
    /// From AWS's name.
    pub fn of(status: &str) -> ExecutionStatus {
        match status {
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            _ => ExecutionStatus::Running,
        }
    }

    /// AWS's name.
    pub fn name(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }
}

/// Where an execution came from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ExecutionSource {
    /// The AWS API.
    Api,
    /// The console.
    Console,
    /// A pipeline.
    Pipeline,
}

impl From<Source> for ExecutionSource {
    fn from(s: Source) -> ExecutionSource {
        match s {
            Source::Api => ExecutionSource::Api,
            Source::Console => ExecutionSource::Console,
            Source::Pipeline => ExecutionSource::Pipeline,
        }
    }
}

/// An ISO-8601 UTC time with milliseconds.
pub fn iso(t: Timestamp) -> String {
    t.to_iso_millis()
}

/// A state machine's published version.
#[derive(SimpleObject, Clone)]
pub struct StateMachineVersion {
    /// Its ARN.
    pub arn: String,
    /// Its number.
    pub version: i32,
    /// Its description.
    pub description: Option<String>,
    /// When it was published.
    pub created_at: String,
}

/// A Retry rule.
#[derive(SimpleObject, Clone)]
pub struct RetryRule {
    /// Errors retried.
    pub error_equals: Vec<String>,
    /// Seconds before the first retry.
    pub interval_seconds: Option<f64>,
    /// Most retries.
    pub max_attempts: Option<i64>,
    /// Interval multiplier.
    pub backoff_rate: Option<f64>,
}

/// A state.
#[derive(SimpleObject, Clone)]
pub struct GraphNode {
    /// JSON pointer of the state.
    pub id: ID,
    /// State name.
    pub name: String,
    /// State type.
    #[graphql(name = "type")]
    pub kind: String,
    /// Its branch (none at the top level).
    pub branch: Option<ID>,
    /// Whether it is its branch's start.
    pub start: bool,
    /// Whether it ends its branch.
    pub end: bool,
    /// A Task's resource.
    pub resource: Option<String>,
    /// Its Retry rules.
    pub retry: Vec<RetryRule>,
    /// Its comment.
    pub comment: Option<String>,
}

/// A branch of a Map or Parallel state.
#[derive(SimpleObject, Clone)]
pub struct GraphBranch {
    /// JSON pointer of the object holding its States.
    pub id: ID,
    /// Its Map or Parallel node.
    pub state: ID,
    /// Its index.
    pub index: i32,
    /// Its first node.
    pub start_at: ID,
}

/// An edge's kind.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum EdgeKind {
    /// Next.
    Next,
    /// A Choice rule.
    Choice,
    /// A Choice's Default.
    Default,
    /// A Catch rule.
    Catch,
}

/// A transition.
#[derive(SimpleObject, Clone)]
pub struct GraphEdge {
    /// From node.
    pub from: ID,
    /// To node.
    pub to: ID,
    /// Kind.
    pub kind: EdgeKind,
    /// The rule or the errors caught.
    pub label: Option<String>,
}

/// A definition's graph.
#[derive(SimpleObject, Clone)]
pub struct Graph {
    /// The start node's id.
    pub start_at: String,
    /// The states.
    pub nodes: Vec<GraphNode>,
    /// The branches.
    pub branches: Vec<GraphBranch>,
    /// The transitions.
    pub edges: Vec<GraphEdge>,
}

impl From<&GraphModel> for Graph {
    fn from(g: &GraphModel) -> Graph {
        Graph {
            start_at: g.start_at.clone(),
            nodes: g
                .nodes
                .iter()
                .map(|n| GraphNode {
                    id: ID(n.id.clone()),
                    name: n.name.clone(),
                    kind: n.kind.clone(),
                    branch: n.branch.clone().map(ID),
                    start: n.start,
                    end: n.end,
                    resource: n.resource.clone(),
                    retry: n
                        .retry
                        .iter()
                        .map(|r| RetryRule {
                            error_equals: r.error_equals.clone(),
                            interval_seconds: r.interval_seconds,
                            max_attempts: r.max_attempts,
                            backoff_rate: r.backoff_rate,
                        })
                        .collect(),
                    comment: n.comment.clone(),
                })
                .collect(),
            branches: g
                .branches
                .iter()
                .map(|b| GraphBranch {
                    id: ID(b.id.clone()),
                    state: ID(b.state.clone()),
                    index: b.index as i32,
                    start_at: ID(b.start_at.clone()),
                })
                .collect(),
            edges: g
                .edges
                .iter()
                .map(|e| GraphEdge {
                    from: ID(e.from.clone()),
                    to: ID(e.to.clone()),
                    kind: match e.kind {
                        graph::EdgeKind::Next => EdgeKind::Next,
                        graph::EdgeKind::Choice => EdgeKind::Choice,
                        graph::EdgeKind::Default => EdgeKind::Default,
                        graph::EdgeKind::Catch => EdgeKind::Catch,
                    },
                    label: e.label.clone(),
                })
                .collect(),
        }
    }
}

/// A validation problem.
#[derive(SimpleObject, Clone)]
pub struct Diagnostic {
    /// AWS's code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// `ERROR` or `WARNING`.
    pub severity: String,
    /// JSON pointer into the definition.
    pub location: Option<String>,
    /// The node the location falls in.
    pub node: Option<ID>,
}

/// The diagnostics of a definition, each tied to its node.
pub fn diagnostics(definition: &str) -> Vec<Diagnostic> {
    let options = spate_engine::plan::CompileOptions::default();
    let Err(problems) = spate_engine::plan::from_definition(definition, &options) else {
        return Vec::new();
    };
    let graph = GraphModel::of_text(definition).unwrap_or_default();
    problems
        .0
        .iter()
        .map(|d| Diagnostic {
            code: d.code.to_string(),
            message: d.message.clone(),
            severity: "ERROR".to_string(),
            location: Some(if d.pointer.is_empty() {
                "/".to_string()
            } else {
                d.pointer.clone()
            }),
            node: graph.node_at(&d.pointer).map(|n| ID(n.id.clone())),
        })
        .collect()
}

/// An execution's summary.
#[derive(SimpleObject, Clone)]
pub struct ExecutionSummary {
    /// Its ARN.
    pub id: ID,
    /// Its name.
    pub name: String,
    /// Its state machine.
    pub state_machine: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// Where it came from.
    pub source: ExecutionSource,
    /// The Kafka key.
    pub key: Option<String>,
    /// Start.
    pub start_date: String,
    /// End.
    pub stop_date: Option<String>,
    /// Duration, ms.
    pub duration_ms: Option<f64>,
    /// Error.
    pub error: Option<String>,
    /// Cause.
    pub cause: Option<String>,
}

impl From<Summary> for ExecutionSummary {
    fn from(s: Summary) -> ExecutionSummary {
        ExecutionSummary {
            id: ID(s.arn),
            name: s.name,
            state_machine: s.machine,
            status: ExecutionStatus::of(s.status),
            source: s.source.into(),
            key: s.key,
            start_date: iso(s.start),
            stop_date: s.stop.map(iso),
            duration_ms: s.stop.map(|t| t.since(s.start).as_secs_f64() * 1000.0),
            error: s.error,
            cause: s.cause,
        }
    }
}

/// An execution, in full.
#[derive(SimpleObject, Clone)]
pub struct Execution {
    /// Its ARN.
    pub id: ID,
    /// Its name.
    pub name: String,
    /// Its state machine.
    pub state_machine: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// Where it came from.
    pub source: ExecutionSource,
    /// The Kafka key.
    pub key: Option<String>,
    /// Start.
    pub start_date: String,
    /// End.
    pub stop_date: Option<String>,
    /// Duration, ms.
    pub duration_ms: Option<f64>,
    /// Input.
    pub input: Option<String>,
    /// Output.
    pub output: Option<String>,
    /// Error.
    pub error: Option<String>,
    /// Cause.
    pub cause: Option<String>,
    /// Whether its history was recorded.
    pub history_recorded: bool,
    /// Its history, oldest first.
    pub history: Vec<HistoryEventView>,
    /// The path it took.
    pub states: Vec<StateRun>,
}

impl Execution {
    /// An entry of the journal, in full.
    pub fn of(entry: &Entry) -> Execution {
        let s: ExecutionSummary = entry.summary().into();
        let events = entry.history();
        let graph = entry
            .definition()
            .and_then(|d| GraphModel::of_text(&d))
            .unwrap_or_default();
        let ended = s.status != ExecutionStatus::Running;
        let find = |t: EventType| {
            events
                .as_ref()
                .and_then(|es| es.iter().find(|e| e.event_type == t))
                .and_then(|e| e.payload.as_ref())
                .map(|p| p.to_json())
        };
        Execution {
            input: entry.input().or_else(|| find(EventType::ExecutionStarted)),
            output: entry
                .output()
                .or_else(|| find(EventType::ExecutionSucceeded)),
            history_recorded: events.is_some(),
            history: events
                .as_deref()
                .map(|es| history_views(es, &graph))
                .unwrap_or_default(),
            states: events
                .as_deref()
                .map(|es| state_runs(es, &graph, ended))
                .unwrap_or_default(),
            id: s.id,
            name: s.name,
            state_machine: s.state_machine,
            status: s.status,
            source: s.source,
            key: s.key,
            start_date: s.start_date,
            stop_date: s.stop_date,
            duration_ms: s.duration_ms,
            error: s.error,
            cause: s.cause,
        }
    }
}

/// A pipeline.
#[derive(SimpleObject, Clone)]
pub struct Pipeline {
    /// Its name.
    pub name: String,
    /// Its source topics.
    pub topics: Vec<String>,
    /// Its state machine.
    pub state_machine: String,
}

/// A pipeline over one second.
#[derive(SimpleObject, Clone)]
#[graphql(name = "PipelineTick")]
pub struct PipelineTickView {
    /// Its name.
    pub name: String,
    /// Events consumed per second.
    pub events_per_second: f64,
    /// Dead letters per second.
    pub dead_letters_per_second: f64,
    /// Latency p50, ms.
    pub p50: Option<f64>,
    /// Latency p99, ms.
    pub p99: Option<f64>,
    /// Events taken and not yet committed.
    pub lag: Option<f64>,
}

/// One second of numbers.
#[derive(SimpleObject, Clone)]
#[graphql(name = "MetricsTick")]
pub struct MetricsTickView {
    /// When.
    pub at: String,
    /// The state machine (null: all).
    pub state_machine: Option<String>,
    /// Started per second.
    pub started: f64,
    /// Succeeded per second.
    pub succeeded: f64,
    /// Failed per second.
    pub failed: f64,
    /// Timed out per second.
    pub timed_out: f64,
    /// Aborted per second.
    pub aborted: f64,
    /// Duration p50, ms.
    pub p50: Option<f64>,
    /// Duration p90, ms.
    pub p90: Option<f64>,
    /// Duration p99, ms.
    pub p99: Option<f64>,
    /// The pipelines.
    pub pipelines: Vec<PipelineTickView>,
}

impl MetricsTickView {
    /// `tick`, for `machine` (all when `None`).
    pub fn of(tick: &Tick, machine: Option<&str>) -> MetricsTickView {
        let m: MachineTick = tick.machine(machine);
        let p = m.percentiles;
        MetricsTickView {
            at: iso(tick.at),
            state_machine: m.machine,
            started: m.started,
            succeeded: m.finished[0],
            failed: m.finished[1],
            timed_out: m.finished[2],
            aborted: m.finished[3],
            p50: p.map(|p| p[0]),
            p90: p.map(|p| p[1]),
            p99: p.map(|p| p[2]),
            pipelines: tick
                .pipelines
                .iter()
                .map(|p| PipelineTickView {
                    name: p.name.clone(),
                    events_per_second: p.events_per_second,
                    dead_letters_per_second: p.dead_letters_per_second,
                    p50: p.latency.map(|l| l.0),
                    p99: p.latency.map(|l| l.1),
                    lag: Some(p.pending),
                })
                .collect(),
        }
    }
}
