//! `atende serve`: the API, the in-process event stream and its consumers.

use crate::background::{Background, Deps, Part, Settings};
use crate::database::{Database, DatabaseConfig};
use crate::shutdown::Grace;
use aggregates::{Clock, RandomIds, SystemClock};
use anyhow::Context;
use clap::Args;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig};
use read_api::auth::{AuthConfig, JwtSecret};
use schemas::personal::MasterKey;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stream::{CommitSignal, Tail};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Settings of `atende serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address the HTTP API listens on.
    #[arg(long, env = "ATENDE_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Events between snapshots of one aggregate.
    #[arg(long, env = "ATENDE_SNAPSHOT_EVERY", default_value_t = 50)]
    pub snapshot_every: usize,
    /// Key (at least 32 bytes) that signs access tokens; unset: `<data dir>/jwt.secret`,
    /// generated on first run. Processes serving the same users must share it.
    #[arg(long, env = "ATENDE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<JwtSecret>,
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy that
    /// sets it; otherwise clients could dodge login blocking by forging it).
    #[arg(long, env = "ATENDE_TRUST_PROXY", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_proxy: bool,
    /// Browser origins allowed to call the API, comma-separated and exact
    /// (`https://app.example`); `*` for any. Unset: no CORS headers.
    #[arg(long, env = "ATENDE_CORS_ORIGINS", default_value = "")]
    pub cors_origins: read_api::http::CorsOrigins,
    /// The background parts' settings, shared with `worker`.
    #[command(flatten)]
    pub background: Settings,
    /// Serve the API alone: no stream consumers, relay, mailer or jobs (they run in
    /// `atende worker` processes).
    #[arg(long, env = "ATENDE_NO_WORKERS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub no_workers: bool,
    /// The daily backups.
    #[command(flatten)]
    pub backup: crate::backup::BackupSchedule,
    /// Requests' rate limits (issue 19).
    #[command(flatten)]
    pub rate_limits: crate::rate_limits::RateLimitSettings,
}

/// A running atende: HTTP server, stream consumers and the write side.
#[derive(Debug)]
pub struct App {
    /// Where the HTTP API listens.
    pub addr: SocketAddr,
    /// The write side, for in-process callers (workers, tests).
    pub bus: Arc<CommandBus>,
    /// The subject keys.
    pub keys: Arc<KeyRing>,
    /// Tenants' knowledge retrieval, for the AI responder.
    pub retriever: Arc<dyn ::knowledge::Retriever>,
    background: Background,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    revocations: JoinHandle<()>,
    changes: read_api::stream::Changes,
    grace: Duration,
}

impl App {
    /// The stream consumers' live status (benchmarks print where the time went).
    pub fn consumers(&self) -> Vec<stream::ConsumerStatus> {
        self.background
            .status_views()
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| s.clone()))
            .collect()
    }

    /// Starts everything on `pool` (already migrated) and returns once the API listens.
    pub async fn start(
        pool: PgPool,
        config: &ServeConfig,
        clock: Arc<dyn Clock>,
        master: MasterKey,
    ) -> anyhow::Result<App> {
        let parts: &[Part] = if config.no_workers { &[] } else { &Part::ALL };
        Self::start_parts(pool, config, clock, master, parts).await
    }

    /// [`App::start`] with only `parts` of the background work running (benchmarks tell
    /// one part's cost from another's).
    pub async fn start_parts(
        pool: PgPool,
        config: &ServeConfig,
        clock: Arc<dyn Clock>,
        master: MasterKey,
        parts: &[Part],
    ) -> anyhow::Result<App> {
        // Before anything runs, so the first commands and requests are counted.
        read_api::observability::recorder();
        let keys = Arc::new(KeyRing::open(pool.clone(), master).await?);
        let signal = CommitSignal::new();
        let notify = signal.clone();
        let bus = Arc::new(CommandBus::new(
            pool.clone(),
            clock.clone(),
            Arc::new(RandomIds),
            &CommandBusConfig {
                snapshot_every: config.snapshot_every,
                ..Default::default()
            },
            Arc::new(move |_, _| notify.notify()),
            keys.clone(),
        ));
        let tail = Tail::new(pool.clone())
            .with_commit_signal(&signal)
            .with_idle_poll(Duration::from_millis(config.background.tail_poll_ms));
        let settings = &config.background;
        let deps = Deps::new(
            pool.clone(),
            bus.clone(),
            keys.clone(),
            clock.clone(),
            tail,
            settings,
        )?;
        let ops = crate::observe::ops(settings, &pool)?;
        let listener = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding {}", config.http_addr))?;
        let addr = listener.local_addr()?;
        let background = Background::start(parts, &deps, settings).await?;
        let webhook = read_api::stripe_webhook::WebhookConfig::from_secrets(
            &config.background.stripe_webhooks.stripe_webhook_secret,
            clock.clone(),
        );
        if webhook.secrets.is_empty() {
            tracing::warn!("no STRIPE_WEBHOOK_SECRET: Stripe webhooks will be refused");
        }
        let Deps {
            pricing,
            stripe,
            knowledge,
            projections: registry,
            ..
        } = deps;
        let secret = config.jwt_secret.clone().unwrap_or_else(|| {
            tracing::warn!("no JWT secret configured: access tokens will not survive a restart");
            JwtSecret::generate()
        });
        let state = read_api::AppState::new(pool, bus.clone(), keys.clone())
            .with_public_url(config.background.mail.public_url.clone())
            .with_consumers(background.status_views())
            .with_projections(registry)
            .with_pricing(pricing)
            .with_ai_limits(config.background.ai.limit_defaults())
            .with_auth(AuthConfig::new(&secret, config.trust_proxy))
            .with_cors(config.cors_origins.clone())
            .with_stripe(stripe)
            .with_stripe_webhook(webhook)
            .with_whatsapp(
                config.background.whatsapp.whatsapp_app_secret.as_deref(),
                config.background.whatsapp.whatsapp_verify_token.as_deref(),
            )
            .with_evolution(
                config.background.whatsapp.evolution_api_url.as_deref(),
                config.background.whatsapp.evolution_api_key.as_deref(),
            )
            .with_knowledge(knowledge.clone())
            .with_ops(ops)
            .with_rate_limits(&config.rate_limits.limits());
        let revocations = state
            .auth
            .revocations()
            .clone()
            .spawn_refresh(state.pool.clone());
        let changes = state.changes.clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(read_api::serve(
            listener,
            read_api::router(state),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(App {
            addr,
            bus,
            keys,
            retriever: Arc::new(knowledge),
            background,
            shutdown,
            server,
            revocations,
            changes,
            grace: Duration::from_secs(config.background.shutdown_grace_secs),
        })
    }

    /// Stops accepting requests, lets in-flight ones finish, then stops the background
    /// parts after their work in hand, all within the configured shutdown grace.
    pub async fn stop(self) -> anyhow::Result<()> {
        let grace = Grace::starting_now(self.grace);
        self.stop_within(&grace).await
    }

    /// [`App::stop`] within what is left of `grace`: requests still running when it runs
    /// out are dropped, background parts still busy are aborted (their transactions roll
    /// back).
    pub async fn stop_within(self, grace: &Grace) -> anyhow::Result<()> {
        tracing::info!(
            grace_secs = grace.remaining().as_secs(),
            "no longer accepting connections; finishing the requests in flight"
        );
        let _ = self.shutdown.send(());
        // Live streams never end by themselves, and the server waits for every response.
        self.changes.close();
        self.revocations.abort();
        let mut server = self.server;
        let served = match grace.within(&mut server).await {
            Some(served) => served,
            None => {
                tracing::warn!(
                    "requests were still running when the shutdown grace ran out; dropped them"
                );
                server.abort();
                Ok(Ok(()))
            }
        };
        tracing::info!("requests finished; stopping the background parts after the work in hand");
        let aborted = self.background.stop_within(grace.remaining()).await;
        if aborted == 0 {
            tracing::info!("background parts stopped; their checkpoints are committed");
        }
        served?.context("serving HTTP")
    }
}

/// Runs until Ctrl-C or SIGTERM, then shuts everything down in order.
pub async fn run(db_config: &DatabaseConfig, mut config: ServeConfig) -> anyhow::Result<()> {
    let master = crate::keys::master_key(db_config)?;
    if config.jwt_secret.is_none() {
        config.jwt_secret = Some(
            JwtSecret::load_or_generate(&db_config.data_dir.join("jwt.secret"))
                .context("reading the JWT secret")?,
        );
    }
    if config.background.mail.smtp_url.is_none() && config.background.mail.outbox_dir.is_none() {
        config.background.mail.outbox_dir = Some(db_config.data_dir.join("outbox"));
    }
    let db = Database::open(db_config).await?;
    let backups = crate::backup::spawn_daily(db.url.clone(), master.clone(), &config.backup);
    let app = match App::start(db.pool.clone(), &config, Arc::new(SystemClock), master).await {
        Ok(app) => app,
        Err(e) => {
            db.close().await?;
            return Err(e);
        }
    };
    #[allow(clippy::print_stdout)]
    {
        println!("atende listening on http://{}", app.addr);
    }
    tracing::info!(addr = %app.addr, database = %redact(&db.url), "atende is serving");
    let signal = crate::shutdown::signal().await;
    let grace = Grace::starting_now(Duration::from_secs(config.background.shutdown_grace_secs));
    tracing::info!(signal, "shutting down");
    if let Some(backups) = backups {
        // A backup under way is a child process writing a file: let it finish, or not at
        // all (a partial file is never renamed into place).
        if grace.within(backups.stop()).await.is_none() {
            tracing::warn!("the daily backup was still running when the shutdown grace ran out");
        }
    }
    let stopped = app.stop_within(&grace).await;
    db.close_within(grace.remaining()).await?;
    tracing::info!("atende stopped");
    stopped
}

/// The URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(colon) => format!("{}:***{}", &url[..s + 3 + colon], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn logged_database_urls_hide_the_password() {
        assert_eq!(
            redact("postgres://atende:s3cret@127.0.0.1:5432/atende"),
            "postgres://atende:***@127.0.0.1:5432/atende"
        );
        assert_eq!(redact("postgres://localhost/x"), "postgres://localhost/x");
    }
}
