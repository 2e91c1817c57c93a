//! An execution's history as the console shows it: each event with its
//! state's node, and the path taken (one run per state entered).

use super::types::iso;
use crate::console::graph::Graph as GraphModel;
use async_graphql::{ID, SimpleObject};
use spate_engine::interp::{EventType, HistoryEvent};

/// A history event.
#[derive(SimpleObject, Clone)]
#[graphql(name = "HistoryEvent")]
pub struct HistoryEventView {
    /// Its number.
    pub id: i32,
    /// The event before it.
    pub previous_event_id: Option<i32>,
    /// When.
    pub timestamp: String,
    /// AWS's event type.
    #[graphql(name = "type")]
    pub kind: String,
    /// Its state.
    pub state: Option<String>,
    /// Its state's node.
    pub node: Option<ID>,
    /// Its Map iteration.
    pub map_index: Option<i32>,
    /// A task's resource.
    pub resource: Option<String>,
    /// Input, output or result, JSON text.
    pub payload: Option<String>,
    /// Error.
    pub error: Option<String>,
    /// Cause.
    pub cause: Option<String>,
}

/// History events as the console shows them (oldest first).
pub fn history_views(events: &[HistoryEvent], graph: &GraphModel) -> Vec<HistoryEventView> {
    let mut previous = None;
    events
        .iter()
        .map(|e| {
            let view = event_view(e, previous, graph);
            previous = Some(e.id as i32);
            view
        })
        .collect()
}

/// One history event.
pub fn event_view(e: &HistoryEvent, previous: Option<i32>, graph: &GraphModel) -> HistoryEventView {
    HistoryEventView {
        id: e.id as i32,
        previous_event_id: previous,
        timestamp: iso(e.timestamp),
        kind: e.event_type.to_string(),
        state: e.state.as_ref().map(ToString::to_string),
        node: e
            .state
            .as_deref()
            .and_then(|s| graph.node_named(s))
            .map(|n| ID(n.id.clone())),
        map_index: e.map_index.map(|i| i as i32),
        resource: e.resource.as_ref().map(ToString::to_string),
        payload: e.payload.as_ref().map(|p| p.to_json()),
        error: e.error.as_ref().and_then(|x| x.error()).map(str::to_string),
        cause: e.error.as_ref().and_then(|x| x.cause()).map(str::to_string),
    }
}

/// One state entered, on the path an execution took.
#[derive(SimpleObject, Clone)]
pub struct StateRun {
    /// Its node.
    pub node: ID,
    /// Its name.
    pub name: String,
    /// Its Map iteration.
    pub map_index: Option<i32>,
    /// `SUCCEEDED`, `FAILED`, `CAUGHT` or `RUNNING`.
    pub status: String,
    /// Retries made.
    pub retries: i32,
    /// Entered.
    pub entered_at: String,
    /// Exited.
    pub exited_at: Option<String>,
    /// Its input.
    pub input: Option<String>,
    /// Its output.
    pub output: Option<String>,
    /// Its error.
    pub error: Option<String>,
    /// Its cause.
    pub cause: Option<String>,
}

/// The path taken, from the history: one run per state entered. A run
/// whose last failure was followed by its exit was `CAUGHT`; failures
/// followed by more attempts are its `retries`.
pub fn state_runs(events: &[HistoryEvent], graph: &GraphModel, ended: bool) -> Vec<StateRun> {
    let mut runs: Vec<StateRun> = Vec::new();
    // Per run: failures seen, and whether the last event was one.
    let mut failures: Vec<(i32, bool)> = Vec::new();
    let open = |runs: &[StateRun], name: &str, index: Option<i32>| {
        runs.iter()
            .rposition(|r| r.name == name && r.map_index == index && r.exited_at.is_none())
    };
    for e in events {
        let Some(name) = e.state.as_deref() else {
            continue;
        };
        let index = e.map_index.map(|i| i as i32);
        if let EventType::StateEntered(_) = e.event_type {
            runs.push(StateRun {
                node: ID(graph
                    .node_named(name)
                    .map_or_else(|| name.to_string(), |n| n.id.clone())),
                name: name.to_string(),
                map_index: index,
                status: "RUNNING".to_string(),
                retries: 0,
                entered_at: iso(e.timestamp),
                exited_at: None,
                input: e.payload.as_ref().map(|p| p.to_json()),
                output: None,
                error: None,
                cause: None,
            });
            failures.push((0, false));
            continue;
        }
        let Some(i) = open(&runs, name, index) else {
            continue;
        };
        let (run, (count, last_failed)) = (&mut runs[i], &mut failures[i]);
        match e.event_type {
            EventType::StateExited(_) => {
                run.exited_at = Some(iso(e.timestamp));
                run.output = e.payload.as_ref().map(|p| p.to_json());
                run.status = if *last_failed { "CAUGHT" } else { "SUCCEEDED" }.to_string();
                run.retries = *count - i32::from(*last_failed);
            }
            t if t.is_error() => {
                *count += 1;
                *last_failed = true;
                run.retries = *count - 1;
                run.error = e.error.as_ref().and_then(|x| x.error()).map(str::to_string);
                run.cause = e.error.as_ref().and_then(|x| x.cause()).map(str::to_string);
            }
            _ => *last_failed = false,
        }
    }
    if ended {
        for run in runs.iter_mut().filter(|r| r.exited_at.is_none()) {
            run.status = "FAILED".to_string();
        }
    }
    runs
}

#[cfg(test)]
mod tests;
