//! `atende worker`: stream consumers and background jobs without the HTTP API, so each part
//! scales on its own machines (F61). The parts are the ones `atende serve` runs, wired by
//! [`crate::background`].

use crate::background::{Background, Deps, Settings};
use crate::database::{Database, DatabaseConfig};
use crate::shutdown::Grace;
use aggregates::{Clock, RandomIds, SystemClock};
use anyhow::Context;
use clap::Args;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stream::{CommitSignal, Tail};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::background::Part;

/// Settings of `atende worker`: the parts' settings are the ones `serve` reads.
#[derive(Debug, Clone, Args)]
pub struct WorkerConfig {
    /// Run only these parts (comma-separated): projections, relay, mailer, retention,
    /// sender, ai, saga, knowledge, billing. All when absent.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Part>,
    /// Where the worker serves `/health` and `/metrics` (nothing else).
    #[arg(long, env = "ATENDE_WORKER_ADDR", default_value = "127.0.0.1:9090")]
    pub worker_addr: SocketAddr,
    /// The parts' settings, shared with `serve`.
    #[command(flatten)]
    pub background: Settings,
}

impl WorkerConfig {
    /// The parts to run: `--only`, or all.
    pub fn parts(&self) -> Vec<Part> {
        if self.only.is_empty() {
            Part::ALL.to_vec()
        } else {
            self.only.clone()
        }
    }
}

/// Starts the parts `config` selects on `pool` (migrated), opening personal fields with
/// `keys`, on `clock`.
pub async fn start(
    pool: sqlx::PgPool,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    config: &WorkerConfig,
) -> anyhow::Result<Background> {
    // Before anything runs, so the parts' first commands are counted.
    read_api::observability::recorder();
    let signal = CommitSignal::new();
    let notify = signal.clone();
    // The parts' own commands (sent messages, AI answers, deadlines) wake this process's
    // tail at once; other processes' commits are found by polling.
    let bus = Arc::new(CommandBus::new(
        pool.clone(),
        clock.clone(),
        Arc::new(RandomIds),
        &CommandBusConfig::default(),
        Arc::new(move |_, _| notify.notify()),
        keys.clone(),
    ));
    let tail = Tail::new(pool.clone())
        .with_commit_signal(&signal)
        .with_idle_poll(Duration::from_millis(config.background.tail_poll_ms));
    let settings = &config.background;
    let deps = Deps::new(pool, bus, keys, clock, tail, settings)?;
    Background::start(&config.parts(), &deps, settings).await
}

/// A worker's parts and the server of its `/health` and `/metrics`.
#[derive(Debug)]
pub struct Worker {
    /// Where `/health` and `/metrics` are served.
    pub addr: SocketAddr,
    background: Background,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Worker {
    /// Stops serving, then stops the parts, each after the work in hand.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop_within(&Grace::starting_now(Duration::MAX)).await
    }

    /// [`Worker::stop`] within what is left of `grace`: parts still busy when it runs out
    /// are aborted (their transactions roll back).
    pub async fn stop_within(self, grace: &Grace) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        let mut server = self.server;
        let served = match grace.within(&mut server).await {
            Some(served) => served,
            None => {
                server.abort();
                Ok(Ok(()))
            }
        };
        tracing::info!(
            grace_secs = grace.remaining().as_secs(),
            "stopping the background parts after the work in hand"
        );
        if self.background.stop_within(grace.remaining()).await == 0 {
            tracing::info!("background parts stopped; their checkpoints are committed");
        }
        served?.context("serving the worker's health and metrics")
    }
}

/// [`start`], then serves `/health` (the worker's consumers and the database) and
/// `/metrics` on `config.worker_addr`.
pub async fn start_serving(
    pool: sqlx::PgPool,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    config: &WorkerConfig,
) -> anyhow::Result<Worker> {
    let ops = crate::observe::ops(&config.background, &pool)?;
    let listener = TcpListener::bind(config.worker_addr)
        .await
        .with_context(|| format!("binding {}", config.worker_addr))?;
    let addr = listener.local_addr()?;
    let background = start(pool.clone(), keys, clock, config).await?;
    let state = read_api::health::HealthState {
        tail: Tail::new(pool.clone()),
        pool,
        consumers: background.status_views(),
        ops,
    };
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(read_api::serve(
        listener,
        read_api::http::ops_router(state),
        async move {
            let _ = stopped.await;
        },
    ));
    Ok(Worker {
        addr,
        background,
        shutdown,
        server,
    })
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run(db_config: &DatabaseConfig, mut config: WorkerConfig) -> anyhow::Result<()> {
    let master = crate::keys::master_key(db_config)?;
    if config.background.mail.smtp_url.is_none() && config.background.mail.outbox_dir.is_none() {
        config.background.mail.outbox_dir = Some(db_config.data_dir.join("outbox"));
    }
    let db = Database::open(db_config).await?;
    let started = async {
        let keys = Arc::new(KeyRing::open(db.pool.clone(), master).await?);
        start_serving(db.pool.clone(), keys, Arc::new(SystemClock), &config).await
    }
    .await;
    let worker = match started {
        Ok(w) => w,
        Err(e) => {
            db.close().await?;
            return Err(e);
        }
    };
    tracing::info!(parts = ?config.parts(), kafka = config.background.kafka.kafka_brokers.is_some(), addr = %worker.addr, "atende worker is running");
    let signal = crate::shutdown::signal().await;
    let grace = Grace::starting_now(Duration::from_secs(config.background.shutdown_grace_secs));
    tracing::info!(signal, "shutting down");
    let stopped = worker.stop_within(&grace).await;
    db.close_within(grace.remaining()).await?;
    tracing::info!("atende worker stopped");
    stopped
}
