//! The console's live numbers, once a second, from the same sources as
//! `/stats`: the runtime's per-state-machine counters and duration
//! histograms (rates and percentiles over the last second), and the
//! pipelines' windows.
//!
//! A thread takes the runtime's metrics every second and keeps the last
//! tick for every state machine; subscribers get each tick as it is made.

use crate::admin::window::Windows;
use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};
use spate_engine::runtime::{BUCKET_BOUNDS_SECONDS, Histogram, MachineTotals, RuntimeHandle};
use spate_engine::time::{Clock, SystemClock, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One state machine (or all of them) over one second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MachineTick {
    /// The state machine (`None`: all).
    pub machine: Option<String>,
    /// Executions started per second.
    pub started: f64,
    /// Ended per second, by status: succeeded, failed, timed out, aborted.
    pub finished: [f64; 4],
    /// Execution duration percentiles (50, 90, 99) in ms: the upper bound
    /// of the histogram bucket holding them; `None` if none ended.
    pub percentiles: Option<[f64; 3]>,
}

/// A pipeline over one second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PipelineTick {
    /// Its name.
    pub name: String,
    /// Events consumed per second.
    pub events_per_second: f64,
    /// Dead letters per second.
    pub dead_letters_per_second: f64,
    /// Latency percentiles (50, 99) in ms, if events were acknowledged.
    pub latency: Option<(f64, f64)>,
    /// Events taken and not yet committable.
    pub pending: f64,
}

/// Everything measured in one second.
#[derive(Debug, Clone, Default)]
pub struct Tick {
    /// When.
    pub at: Timestamp,
    /// All state machines together.
    pub all: MachineTick,
    /// Each state machine.
    pub machines: Vec<MachineTick>,
    /// Each pipeline.
    pub pipelines: Vec<PipelineTick>,
}

impl Tick {
    /// The tick of `machine` (all when `None`; zeros for one that has not
    /// run yet).
    pub fn machine(&self, machine: Option<&str>) -> MachineTick {
        match machine {
            None => self.all.clone(),
            Some(name) => self
                .machines
                .iter()
                .find(|m| m.machine.as_deref() == Some(name))
                .cloned()
                .unwrap_or_else(|| MachineTick {
                    machine: Some(name.to_string()),
                    ..MachineTick::default()
                }),
        }
    }
}

/// The pipelines the ticks cover: names, and their windows.
pub struct PipelineSources {
    /// Pipeline names, in the windows' order.
    pub names: Vec<String>,
    /// Their windows.
    pub windows: Arc<Windows>,
}

/// The ticker.
pub struct MetricsFeed {
    latest: Mutex<Tick>,
    ticks: tokio::sync::broadcast::Sender<Arc<Tick>>,
    /// Dropped to stop the ticking thread, which is then joined: it holds
    /// the runtime (and so its task handlers, such as a Kafka producer),
    /// which must not outlive what the host stops after the console.
    stop: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
}

impl MetricsFeed {
    /// Starts ticking over `runtime` (and `pipelines`) until dropped.
    pub fn start(runtime: RuntimeHandle, pipelines: Option<PipelineSources>) -> Arc<MetricsFeed> {
        let (ticks, _) = tokio::sync::broadcast::channel(16);
        let feed = Arc::new(MetricsFeed {
            latest: Mutex::new(Tick::default()),
            ticks,
            stop: Mutex::new(None),
        });
        let weak = Arc::downgrade(&feed);
        let (stop, stopped) = crossbeam::channel::bounded::<()>(0);
        let spawned = std::thread::Builder::new()
            .name("spate-console-metrics".into())
            .spawn(move || tick_every_second(&weak, &stopped, &runtime, pipelines.as_ref()));
        match spawned {
            Ok(thread) => {
                *feed.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some((stop, thread))
            }
            Err(e) => log::error!("cannot start the console's metrics thread: {e}"),
        }
        feed
    }

    /// The last tick.
    pub fn latest(&self) -> Tick {
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every tick from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<Tick>> {
        self.ticks.subscribe()
    }
}

impl Drop for MetricsFeed {
    fn drop(&mut self) {
        let stop = self
            .stop
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((stop, thread)) = stop {
            drop(stop);
            // the thread itself may hold the last reference for a moment
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

fn tick_every_second(
    feed: &Weak<MetricsFeed>,
    stopped: &Receiver<()>,
    runtime: &RuntimeHandle,
    pipelines: Option<&PipelineSources>,
) {
    let mut before: HashMap<String, MachineTotals> = totals(runtime);
    let mut at = Instant::now();
    loop {
        if stopped.recv_timeout(Duration::from_secs(1)) != Err(RecvTimeoutError::Timeout) {
            return;
        }
        let Some(feed) = feed.upgrade() else {
            return;
        };
        let now = totals(runtime);
        let seconds = at.elapsed().as_secs_f64();
        at = Instant::now();
        let tick = Tick {
            at: SystemClock.now(),
            all: machine_tick(None, &sum(&now), &sum(&before), seconds),
            machines: now
                .iter()
                .map(|(name, t)| {
                    let empty = MachineTotals::default();
                    machine_tick(Some(name), t, before.get(name).unwrap_or(&empty), seconds)
                })
                .collect(),
            pipelines: pipelines.map(pipeline_ticks).unwrap_or_default(),
        };
        before = now;
        *feed.latest.lock().unwrap_or_else(|p| p.into_inner()) = tick.clone();
        let _ = feed.ticks.send(Arc::new(tick));
    }
}

fn totals(runtime: &RuntimeHandle) -> HashMap<String, MachineTotals> {
    runtime
        .metrics()
        .machines
        .into_iter()
        .map(|(name, t)| (name.to_string(), t))
        .collect()
}

fn sum(totals: &HashMap<String, MachineTotals>) -> MachineTotals {
    let mut all = MachineTotals::default();
    for t in totals.values() {
        all.started += t.started;
        for (a, b) in all.finished.iter_mut().zip(t.finished) {
            *a += b;
        }
        for (a, b) in all.duration.counts.iter_mut().zip(t.duration.counts) {
            *a += b;
        }
    }
    all
}

/// The rates and percentiles between two readings `seconds` apart.
pub fn machine_tick(
    machine: Option<&str>,
    now: &MachineTotals,
    before: &MachineTotals,
    seconds: f64,
) -> MachineTick {
    let rate = |a: u64, b: u64| a.saturating_sub(b) as f64 / seconds.max(1e-3);
    let mut finished = [0.0; 4];
    for (i, f) in finished.iter_mut().enumerate() {
        *f = rate(now.finished[i], before.finished[i]);
    }
    let mut window = Histogram::default();
    for (i, c) in window.counts.iter_mut().enumerate() {
        *c = now.duration.counts[i].saturating_sub(before.duration.counts[i]);
    }
    MachineTick {
        machine: machine.map(str::to_string),
        started: rate(now.started, before.started),
        finished,
        percentiles: percentiles(&window),
    }
}

/// Percentiles 50, 90 and 99 of a bucketed histogram, in ms: each the
/// upper bound of the bucket it falls in (the largest bound for `+Inf`).
fn percentiles(h: &Histogram) -> Option<[f64; 3]> {
    let total = h.count();
    if total == 0 {
        return None;
    }
    let at = |q: f64| {
        let rank = (q * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in h.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let bound = BUCKET_BOUNDS_SECONDS
                    .get(i)
                    .or(BUCKET_BOUNDS_SECONDS.last())
                    .copied()
                    .unwrap_or(0.0);
                return bound * 1000.0;
            }
        }
        0.0
    };
    Some([at(0.5), at(0.9), at(0.99)])
}

fn pipeline_ticks(sources: &PipelineSources) -> Vec<PipelineTick> {
    sources
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let s = sources.windows.summary(i, Duration::from_secs(1));
            PipelineTick {
                name: name.clone(),
                events_per_second: s.rate(|c| c.consumed),
                dead_letters_per_second: s.rate(|c| c.dead_letters),
                latency: (s.latency.count > 0).then_some((s.latency.p50, s.latency.p99)),
                pending: s.now.pending as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_percentiles_over_a_second() {
        let mut before = MachineTotals {
            started: 10,
            ..MachineTotals::default()
        };
        before.duration.counts[0] = 5;
        let mut now = before.clone();
        now.started = 30;
        now.finished = [18, 2, 0, 0];
        // 18 fast ones in the first bucket, 2 slow ones in the fifth.
        now.duration.counts[0] += 18;
        now.duration.counts[4] += 2;
        let tick = machine_tick(Some("m"), &now, &before, 2.0);
        assert_eq!(tick.started, 10.0);
        assert_eq!(tick.finished, [9.0, 1.0, 0.0, 0.0]);
        let [p50, p90, p99] = tick.percentiles.unwrap();
        assert_eq!(p50, BUCKET_BOUNDS_SECONDS[0] * 1000.0);
        assert_eq!(p90, BUCKET_BOUNDS_SECONDS[0] * 1000.0);
        assert_eq!(p99, BUCKET_BOUNDS_SECONDS[4] * 1000.0);
        assert_eq!(machine_tick(None, &before, &before, 1.0).percentiles, None);
    }
}
