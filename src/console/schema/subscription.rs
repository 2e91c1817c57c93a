//! Subscriptions (over `graphql-transport-ws`), filtered on the server:
//! one execution's history events as they happen, executions' status
//! changes, and the numbers of every second.

use super::types::{
    ExecutionStatus, ExecutionSummary, HistoryEventView, MetricsTickView, event_view,
};
use super::{Console, require};
use crate::console::graph::Graph as GraphModel;
use crate::console::scopes::Scope;
use async_graphql::{Context, ID, Result, Subscription};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often a running execution's history is looked at for new events.
const POLL: Duration = Duration::from_millis(100);

/// The root of subscriptions.
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The history events of execution `id`, from its first, as they
    /// happen; ends when the execution has ended.
    async fn execution_events(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = HistoryEventView> + use<>> {
        let console = require(ctx, Scope::Read)?;
        let entry = console.journal.get(&id).ok_or_else(|| {
            async_graphql::Error::new(format!("no execution '{}' in the journal", *id))
        })?;
        if entry.history().is_none() {
            return Err(async_graphql::Error::new(format!(
                "the history of '{}' was not recorded (not sampled)",
                *id
            )));
        }
        let graph = entry
            .definition()
            .and_then(|d| GraphModel::of_text(&d))
            .unwrap_or_default();
        struct Follow {
            entry: Arc<crate::console::journal::Entry>,
            graph: GraphModel,
            sent: usize,
            previous: Option<i32>,
            ready: VecDeque<HistoryEventView>,
            done: bool,
        }
        let state = Follow {
            entry,
            graph,
            sent: 0,
            previous: None,
            ready: VecDeque::new(),
            done: false,
        };
        Ok(stream::unfold(state, |mut s| async move {
            loop {
                if let Some(event) = s.ready.pop_front() {
                    return Some((event, s));
                }
                if s.done {
                    return None;
                }
                // Read the status first: events recorded before the end
                // are all there once it shows.
                let ended = s.entry.summary().status != "RUNNING";
                let events = s.entry.history().unwrap_or_default();
                for e in events.iter().skip(s.sent) {
                    s.ready.push_back(event_view(e, s.previous, &s.graph));
                    s.previous = Some(e.id as i32);
                }
                s.sent = events.len();
                if ended {
                    s.done = true;
                } else if s.ready.is_empty() {
                    tokio::time::sleep(POLL).await;
                }
            }
        }))
    }

    /// Executions as they start and end, of `stateMachine` and in `status`
    /// when given. A subscriber that falls behind skips what it missed.
    async fn execution_status_changed(
        &self,
        ctx: &Context<'_>,
        state_machine: Option<String>,
        status: Option<ExecutionStatus>,
    ) -> Result<impl Stream<Item = ExecutionSummary> + use<>> {
        let console = require(ctx, Scope::Read)?;
        let updates = console.journal.updates();
        Ok(stream::unfold(updates, |mut updates| async move {
            loop {
                match updates.recv().await {
                    Ok(summary) => return Some((summary, updates)),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        })
        .filter(move |s| {
            let keep = state_machine.as_deref().is_none_or(|m| s.machine == m)
                && status.is_none_or(|st| s.status == st.name());
            std::future::ready(keep)
        })
        .map(ExecutionSummary::from))
    }

    /// The numbers of every second, for `stateMachine` or all.
    async fn metrics_tick(
        &self,
        ctx: &Context<'_>,
        state_machine: Option<String>,
    ) -> Result<impl Stream<Item = MetricsTickView> + use<>> {
        let console: &Console = require(ctx, Scope::Read)?;
        let ticks = console.metrics.subscribe();
        Ok(stream::unfold(ticks, |mut ticks| async move {
            loop {
                match ticks.recv().await {
                    Ok(tick) => return Some((tick, ticks)),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        })
        .map(move |tick| MetricsTickView::of(&tick, state_machine.as_deref())))
    }
}
