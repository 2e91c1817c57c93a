//! `spate run --config FILE`: runs the configured pipelines (Kafka topic in,
//! one Express execution per event, output and dead-letter topics out)
//! until SIGINT or SIGTERM, then drains, commits and exits 0.
//!
//! Also the wiring `spate demo` and `spate loadgen` share: logging, signal
//! handling, the [`Session`] that starts the embedded cluster (if asked),
//! the runtime and the pipelines, and the status line.

use super::load;
use crate::admin::window::Windows;
use crate::admin::{AdminServer, PipelineView, Sources};
use crate::api;
use crate::config::{Config, admin_addr};
use crate::console::schema::types::Pipeline as ConsolePipeline;
use crate::console::{Console, Pipelines};
use anyhow::{Context, anyhow};
use clap::Args;
use spate_engine::runtime::Runtime;
use spate_engine::task::Resources;
use spate_ingest::exec_log::ExecutionLogs;
use spate_ingest::kafka::loadgen::{Generator, GeneratorSpec};
use spate_ingest::kafka::{self, EmbeddedCluster, KafkaProduceTask, RunningPipeline, Shutdown};
use spate_ingest::synth::IotEvents;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Consume Kafka topics, run one execution per event, publish each result
/// (or a dead letter) and commit offsets once results are safe.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The configuration file (see config/spate.toml).
    #[arg(long)]
    config: PathBuf,
    /// Print a status line per pipeline this often, in seconds (0: never).
    #[arg(long, default_value_t = 10)]
    status_interval_secs: u64,
    /// Validate the configuration and every definition, then exit.
    #[arg(long)]
    check: bool,
    /// Serve /metrics, /health, /ready and /stats here (`host:port`, port 0
    /// for any free one, or `off`); overrides `[admin] addr`.
    #[arg(long)]
    admin_addr: Option<String>,
}

/// Runs the subcommand.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    init_logging(log::LevelFilter::Info);
    let mut config = Config::load(&args.config).map_err(|e| anyhow!("{e}"))?;
    if let Some(addr) = &args.admin_addr {
        config.admin_addr = admin_addr(addr).map_err(|e| anyhow!("--admin-addr: {e}"))?;
    }
    if args.check {
        println!(
            "{}: {} pipeline(s), every definition valid",
            config.origin,
            config.ingest.pipelines.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let shutdown = Shutdown::new();
    handle_signals(Arc::clone(&shutdown))?;
    let session = Session::start(&config, Arc::clone(&shutdown), None)?;
    if let Some(admin) = &session.admin {
        log::info!(
            "admin endpoints at http://{0}/metrics, /health, /ready, /stats",
            admin.addr()
        );
        if session.console.is_some() {
            log::info!(
                "web console at http://{0}/console/ (GraphQL at http://{0}/graphql)",
                admin.addr()
            );
        }
    }
    let interval = Duration::from_secs(args.status_interval_secs);
    let mut next = Instant::now() + interval;
    while !session.finished() {
        std::thread::sleep(Duration::from_millis(50));
        if !interval.is_zero() && Instant::now() >= next {
            next += interval;
            for line in session.status_lines(interval) {
                log::info!("{line}");
            }
        }
    }
    session.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// What runs for one configuration: the embedded cluster (if asked for),
/// synthetic event generators (if asked for), the runtime, the pipelines.
pub(super) struct Session {
    pub(super) bootstrap: String,
    pub(super) pipelines: Vec<RunningPipeline>,
    pub(super) generators: Vec<Generator>,
    /// The admin server, when configured.
    pub(super) admin: Option<AdminServer>,
    /// The Step Functions-compatible API, when `[api]` is configured.
    api: Option<api::ApiServer>,
    /// The web console, on the admin server (and the API's).
    pub(super) console: Option<Arc<Console>>,
    /// Throughput and latency windows of the pipelines.
    windows: Arc<Windows>,
    runtime: Arc<Runtime>,
    shutdown: Arc<Shutdown>,
    exec_logs: ExecutionLogs,
    // Dropped last: the cluster outlives its clients.
    _embedded: Option<EmbeddedCluster>,
}

/// Overrides `spate demo` applies to the generators.
pub(super) struct Generate {
    pub(super) rate: f64,
    pub(super) duration: Duration,
    pub(super) poison_every: u64,
}

impl Session {
    /// Starts everything `config` describes.
    pub(super) fn start(
        config: &Config,
        shutdown: Arc<Shutdown>,
        generate: Option<Generate>,
    ) -> anyhow::Result<Session> {
        let ingest = &config.ingest;
        let mut kafka_settings = ingest.kafka.clone();
        let (embedded, bootstrap) = if kafka_settings.is_embedded() {
            let cluster =
                EmbeddedCluster::start().context("cannot start the embedded Kafka cluster")?;
            let partitions = ingest.embedded.partitions;
            let mut topics = Vec::new();
            for p in &ingest.pipelines {
                topics.extend(p.source_topics.iter().cloned());
                topics.push(p.output_topic.clone());
                topics.push(p.dlq_topic.clone());
            }
            topics.sort();
            topics.dedup();
            for t in &topics {
                cluster
                    .create_topic(t, partitions)
                    .with_context(|| format!("cannot create topic {t} in the embedded cluster"))?;
            }
            // In-process: polling often costs nothing worth saving.
            kafka_settings
                .consumer
                .entry("fetch.wait.max.ms".into())
                .or_insert_with(|| "10".into());
            let bootstrap = cluster.bootstrap_servers().to_string();
            log::info!(
                "embedded Kafka cluster at {bootstrap} (in memory; at most {} MiB kept per partition), topics {} with {partitions} partitions each",
                kafka::PARTITION_BYTES >> 20,
                topics.join(", ")
            );
            (Some(cluster), bootstrap)
        } else {
            (None, kafka_settings.bootstrap_servers.clone())
        };

        let mut resources = match &config.runtime.task_config {
            Some(path) => load::resources(path)?,
            None => Resources::new(),
        };
        KafkaProduceTask::new(&kafka_settings, &bootstrap)
            .context("cannot create the producer of the kafka:produce task")?
            .register(&mut resources);
        // The API (when `[api]` is configured) hands activity tasks to
        // workers through handlers installed before the runtime starts.
        let api = config
            .api
            .as_ref()
            .map(|section| {
                section.settings().map_err(|problems| {
                    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    anyhow!("{}: {}", config.origin, problems.join("\n"))
                })
            })
            .transpose()?;
        // The console starts executions through the API's state, served
        // or not: its activity board is installed all the same.
        let console_on = config.console.enabled && config.admin_addr.is_some();
        let api_settings = api.clone().unwrap_or_default();
        let activities = (api.is_some() || console_on)
            .then(|| api::ActivityBoard::new(&api_settings.region, &api_settings.account));
        if let Some(board) = &activities {
            board.install(&mut resources);
        }
        let api_resources = resources.clone();
        let runtime = Arc::new(
            config
                .runtime
                .start(
                    ingest.pipelines.len(),
                    ingest.pipelines.iter().map(|p| p.max_in_flight).sum(),
                    resources,
                )
                .context("cannot start the runtime")?,
        );

        let mut exec_logs = ExecutionLogs::new();
        for p in &ingest.pipelines {
            if let Some(machine) = &p.state_machine {
                exec_logs.attach(machine, &p.logging).with_context(|| {
                    format!("cannot open the execution log of pipeline {}", p.name)
                })?;
            }
        }
        let mut pipelines = Vec::new();
        for p in &ingest.pipelines {
            pipelines.push(
                kafka::start_pipeline(
                    &kafka_settings,
                    &bootstrap,
                    Arc::new(p.clone()),
                    Arc::clone(&runtime),
                    Arc::clone(&shutdown),
                )
                .with_context(|| format!("cannot start pipeline {}", p.name))?,
            );
        }

        let mut generators = Vec::new();
        // The demo writes exactly rate x duration events, paced.
        let (rate, count, poison_every) = match &generate {
            Some(g) => (
                g.rate,
                Some((g.rate * g.duration.as_secs_f64()).round() as u64),
                g.poison_every,
            ),
            None if embedded.is_some() => (
                f64::from(ingest.embedded.generate_events_per_sec),
                None,
                1000,
            ),
            None => (0.0, None, 0),
        };
        if rate > 0.0 {
            // Write once the pipelines own their partitions, so the group
            // join does not show as latency.
            let deadline = Instant::now() + Duration::from_secs(15);
            while pipelines
                .iter()
                .any(|p| p.stats.assigned.load(std::sync::atomic::Ordering::Relaxed) == 0)
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            for (i, p) in ingest.pipelines.iter().enumerate() {
                for (j, topic) in p.source_topics.iter().enumerate() {
                    let mut events = IotEvents::new((i * 100 + j) as u64 + 1, 500, poison_every);
                    generators.push(
                        Generator::start(
                            &bootstrap,
                            GeneratorSpec {
                                topic: topic.clone(),
                                rate: Some(rate),
                                count,
                                duration: None,
                                properties: Default::default(),
                            },
                            Box::new(move |n| {
                                let (key, value) = events.event(n);
                                (Some(key), value)
                            }),
                        )
                        .with_context(|| format!("cannot start the event generator for {topic}"))?,
                    );
                }
            }
            if generate.is_none() {
                log::info!(
                    "writing {rate} synthetic IoT events per second to every source topic ([embedded] generate_events_per_sec)"
                );
            }
        }
        let windows = Windows::start(pipelines.iter().map(|p| Arc::clone(&p.stats)).collect())
            .context("cannot start the statistics thread")?;
        let api_state = activities
            .map(|activities| {
                api::build(
                    &api_settings,
                    api::Backend {
                        registry: Arc::clone(&ingest.registry),
                        runtime: runtime.handle(),
                        activities,
                        resources: api_resources,
                    },
                )
                .context("cannot start the Step Functions API")
            })
            .transpose()?;
        let console = match &api_state {
            Some(state) if console_on => Some(Console::start(
                Arc::clone(state),
                &ingest.registry,
                runtime.handle(),
                &config.console,
                (&api_settings.region, &api_settings.account),
                Some(Pipelines {
                    list: ingest
                        .pipelines
                        .iter()
                        .map(|p| ConsolePipeline {
                            name: p.name.clone(),
                            topics: p.source_topics.clone(),
                            state_machine: p
                                .state_machine
                                .as_ref()
                                .map(|m| m.name().to_string())
                                .unwrap_or_default(),
                        })
                        .collect(),
                    windows: Arc::clone(&windows),
                }),
            )),
            _ => None,
        };
        let api = match (api, api_state) {
            (Some(settings), Some(state)) => {
                let routes = console.as_ref().map(Console::routes).unwrap_or_default();
                let server = api::listen(&settings, state, routes)
                    .context("cannot start the Step Functions API")?;
                log::info!(
                    "Step Functions API at http://{} (the pipelines' state machines are in its registry)",
                    server.addr()
                );
                Some(server)
            }
            _ => None,
        };
        let admin = match config.admin_addr {
            Some(addr) => {
                let sources = Sources {
                    runtime: Arc::clone(&runtime),
                    registry: Arc::clone(&ingest.registry),
                    pipelines: ingest
                        .pipelines
                        .iter()
                        .zip(&pipelines)
                        .map(|(settings, running)| PipelineView {
                            settings: Arc::new(settings.clone()),
                            stats: Arc::clone(&running.stats),
                        })
                        .collect(),
                    windows: Arc::clone(&windows),
                    started: Instant::now(),
                };
                let routes = console.as_ref().map(Console::routes).unwrap_or_default();
                Some(AdminServer::start(
                    &addr.to_string(),
                    Arc::new(sources),
                    routes,
                )?)
            }
            None => None,
        };
        Ok(Session {
            bootstrap,
            pipelines,
            generators,
            admin,
            api,
            console,
            windows,
            runtime,
            shutdown,
            exec_logs,
            _embedded: embedded,
        })
    }

    /// One line per pipeline over the last `interval`: rates, gauges now,
    /// latency percentiles from taking an event to its outcome's
    /// acknowledgement.
    pub(super) fn status_lines(&self, interval: Duration) -> Vec<String> {
        self.pipelines
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let s = self.windows.summary(i, interval);
                format!(
                    "{}: {:.0} events/s in, {:.0} outputs/s, {:.0} dead letters/s; {} running, {} pending, {}/{} partitions paused; latency ms p50 {:.1} p99 {:.1} max {:.1}",
                    p.name,
                    s.rate(|c| c.consumed),
                    s.rate(|c| c.outputs),
                    s.rate(|c| c.dead_letters),
                    s.now.executing,
                    s.now.pending,
                    s.now.paused,
                    s.now.assigned,
                    s.latency.p50,
                    s.latency.p99,
                    s.latency.max,
                )
            })
            .collect()
    }

    /// `true` once every pipeline thread ended.
    pub(super) fn finished(&self) -> bool {
        self.pipelines.iter().all(RunningPipeline::is_finished)
    }

    /// Stops the generators and the pipelines (draining them), then the
    /// runtime.
    pub(super) fn finish(self) -> anyhow::Result<()> {
        for g in &self.generators {
            g.stop();
        }
        self.shutdown.request();
        let mut first_error = None;
        for p in self.pipelines {
            if let Err(e) = p.join() {
                log::error!("{e}");
                first_error.get_or_insert(e);
            }
        }
        for g in self.generators {
            if let Err(e) = g.join() {
                log::warn!("event generator: {e}");
            }
        }
        self.windows.stop();
        // The admin server and the API hold the runtime: stopped first.
        drop(self.admin);
        if let Some(api) = self.api {
            api.shutdown(Duration::from_secs(1));
        }
        if let Some(console) = &self.console
            && console.dropped() > 0
        {
            log::warn!(
                "console journal: {} execution summaries dropped (its queue was full; [console] queue_size)",
                console.dropped()
            );
        }
        drop(self.console);
        if let Ok(runtime) = Arc::try_unwrap(self.runtime) {
            runtime.shutdown(Duration::ZERO);
        }
        let (logged, errors) = self.exec_logs.shutdown();
        for e in errors {
            log::error!("{e}");
        }
        if logged.dropped > 0 {
            log::warn!(
                "execution logs: {} records written, {} dropped (the writer fell behind)",
                logged.written,
                logged.dropped
            );
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

/// Requests shutdown on the first SIGINT or SIGTERM; exits at once on the
/// second.
pub(super) fn handle_signals(shutdown: Arc<Shutdown>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    std::thread::Builder::new()
        .name("spate-signals".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(mut term) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                else {
                    return;
                };
                for n in 0.. {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                    if n == 0 {
                        log::info!("stopping (again to stop at once)");
                        shutdown.request();
                    } else {
                        log::warn!("stopping at once: uncommitted events will be read again");
                        std::process::exit(1);
                    }
                }
            });
        })
        .context("cannot start the signal handler")?;
    Ok(())
}

/// Log lines to standard error: `time level message`. `SPATE_LOG`
/// (error, warn, info, debug, trace) overrides `default`.
pub(super) fn init_logging(default: log::LevelFilter) {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.level() <= log::max_level()
        }
        fn log(&self, record: &log::Record<'_>) {
            if !self.enabled(record.metadata()) {
                return;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let secs = now.as_secs() % 86_400;
            let _ = writeln!(
                std::io::stderr().lock(),
                "{:02}:{:02}:{:02}.{:03} {:5} {}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                now.subsec_millis(),
                record.level(),
                record.args()
            );
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    let level = std::env::var("SPATE_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(default);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
