//! Throughput and latency over the last seconds, per pipeline: what
//! `/stats` reports and `spate run` logs every `status_interval`.
//!
//! A ticker thread takes each pipeline's counters and its latency
//! histogram (hdrhistogram, microseconds from taking an event to its
//! outcome's acknowledgement) once a second and keeps the last minute of
//! seconds, and the histogram of the whole run.

use hdrhistogram::Histogram;
use spate_ingest::stats::{PipelineStats, Snapshot, new_histogram};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the windows move on.
const TICK: Duration = Duration::from_secs(1);
/// Seconds kept.
const KEPT: usize = 60;

/// One second of a pipeline.
struct Second {
    at: Instant,
    counters: Snapshot,
    latency: Histogram<u64>,
}

struct PipelineWindow {
    stats: Arc<PipelineStats>,
    seconds: VecDeque<Second>,
    total: Histogram<u64>,
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Percentiles {
    /// Events measured.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    #[serde(rename = "p99.9")]
    pub p99_9: f64,
    /// The largest.
    pub max: f64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Percentiles {
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p99_9: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// A pipeline over a window of seconds.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Seconds the window covers (fewer than asked early in a run).
    pub seconds: f64,
    /// Counters at the window's end.
    pub now: Snapshot,
    /// Counters at its start.
    pub before: Snapshot,
    /// Latency of the events acknowledged in the window.
    pub latency: Percentiles,
    /// Latency of every event acknowledged since the start.
    pub total_latency: Percentiles,
}

impl Summary {
    /// Per second over the window, of the counter `field` picks.
    pub fn rate(&self, field: impl Fn(&Snapshot) -> u64) -> f64 {
        if self.seconds <= 0.0 {
            return 0.0;
        }
        field(&self.now).saturating_sub(field(&self.before)) as f64 / self.seconds
    }
}

/// The windows of every pipeline, moved on by a ticker thread until
/// [`Windows::stop`].
pub struct Windows {
    pipelines: Mutex<Vec<PipelineWindow>>,
    stop: AtomicBool,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl Windows {
    /// Starts watching `pipelines` (in order).
    pub fn start(pipelines: Vec<Arc<PipelineStats>>) -> std::io::Result<Arc<Windows>> {
        let now = Instant::now();
        let windows = Arc::new(Windows {
            pipelines: Mutex::new(
                pipelines
                    .into_iter()
                    .map(|stats| PipelineWindow {
                        seconds: VecDeque::from([Second {
                            at: now,
                            counters: stats.snapshot(),
                            latency: new_histogram(),
                        }]),
                        stats,
                        total: new_histogram(),
                    })
                    .collect(),
            ),
            stop: AtomicBool::new(false),
            ticker: Mutex::new(None),
        });
        let ticking = Arc::clone(&windows);
        let thread = std::thread::Builder::new()
            .name("spate-stats".into())
            .spawn(move || {
                while !ticking.stop.load(Ordering::Relaxed) {
                    std::thread::park_timeout(TICK);
                    ticking.tick();
                }
            })?;
        *windows.ticker.lock().unwrap_or_else(|e| e.into_inner()) = Some(thread);
        Ok(windows)
    }

    /// Stops the ticker.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.ticker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }

    fn tick(&self) {
        let mut pipelines = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        for p in pipelines.iter_mut() {
            let latency = p.stats.take_latency();
            let _ = p.total.add(&latency);
            p.seconds.push_back(Second {
                at: Instant::now(),
                counters: p.stats.snapshot(),
                latency,
            });
            while p.seconds.len() > KEPT + 1 {
                p.seconds.pop_front();
            }
        }
    }

    /// Pipeline `index` over the last `window` (whole seconds, at most a
    /// minute).
    pub fn summary(&self, index: usize, window: Duration) -> Summary {
        let pipelines = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        let Some(p) = pipelines.get(index) else {
            return Summary::default();
        };
        let wanted = (window.as_secs() as usize).clamp(1, KEPT);
        let last = p.seconds.len() - 1;
        let first = last.saturating_sub(wanted);
        let (start, end) = (&p.seconds[first], &p.seconds[last]);
        let mut latency = new_histogram();
        for second in p.seconds.range(first + 1..) {
            let _ = latency.add(&second.latency);
        }
        Summary {
            seconds: end.at.saturating_duration_since(start.at).as_secs_f64(),
            now: end.counters.clone(),
            before: start.counters.clone(),
            latency: Percentiles::of(&latency),
            total_latency: Percentiles::of(&p.total),
        }
    }
}
