//! The database every subcommand uses: `DATABASE_URL`, or the embedded cluster.

use anyhow::Context;
use clap::Args;
use migrations::cluster::{Cluster, ClusterOptions};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::path::PathBuf;
use std::time::Duration;

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// PostgreSQL to use; unset runs the embedded cluster in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Directory for the embedded cluster and local sinks.
    #[arg(
        long,
        env = "ATENDE_DATA_DIR",
        default_value = "./.atende",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Base64 32-byte key that wraps every data subject's key; unset: `<data dir>/master.key`,
    /// generated on first run. Processes sharing a database must share it.
    #[arg(long, env = "ATENDE_MASTER_KEY", global = true, hide_env_values = true)]
    pub master_key: Option<String>,
    /// Connections in the pool.
    #[arg(
        long,
        env = "ATENDE_DB_MAX_CONNECTIONS",
        default_value_t = 40,
        global = true
    )]
    pub db_max_connections: u32,
}

/// An open, migrated database, and the embedded cluster behind it when there is one.
#[derive(Debug)]
pub struct Database {
    /// The pool.
    pub pool: PgPool,
    /// The URL the pool connects to (the embedded one when `DATABASE_URL` is unset).
    pub url: String,
    cluster: Option<Cluster>,
}

impl Database {
    /// Connects (starting or attaching to the embedded cluster if needed) and migrates.
    #[tracing::instrument(name = "opening the database", skip_all)]
    pub async fn open(config: &DatabaseConfig) -> anyhow::Result<Self> {
        let db = Self::open_unmigrated(config).await?;
        migrations::MIGRATOR
            .run(&db.pool)
            .await
            .context("applying database migrations")?;
        Ok(db)
    }

    /// Connects as [`Database::open`] does, leaving the schema as it is: a restore needs the
    /// database empty.
    pub async fn open_unmigrated(config: &DatabaseConfig) -> anyhow::Result<Self> {
        let (url, cluster) = match &config.database_url {
            Some(url) => (url.clone(), None),
            None => {
                std::fs::create_dir_all(&config.data_dir).with_context(|| {
                    format!("creating the data dir {}", config.data_dir.display())
                })?;
                let cluster = Cluster::start_or_attach(ClusterOptions {
                    data_dir: config.data_dir.clone(),
                    durable: true,
                    database: "atende".into(),
                })
                .await
                .context("starting the embedded PostgreSQL")?;
                (cluster.database_url(), Some(cluster))
            }
        };
        let pool = PgPoolOptions::new()
            // sqlx pings every connection it hands out by default: a round trip before each
            // statement; a broken connection fails its statement instead, which callers retry.
            .test_before_acquire(false)
            .max_connections(config.db_max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Self { pool, url, cluster })
    }

    /// Closes the pool and stops the embedded cluster if this process started it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.close_within(Duration::MAX).await
    }

    /// [`Database::close`], waiting at most `grace` for the pool's connections to come
    /// back: a connection still held then (by a part aborted at the end of a shutdown's
    /// grace) must not keep the embedded cluster running.
    pub async fn close_within(self, grace: Duration) -> anyhow::Result<()> {
        if tokio::time::timeout(grace, self.pool.close())
            .await
            .is_err()
        {
            tracing::warn!(
                "database connections were still in use when the shutdown grace ran out"
            );
        }
        if let Some(cluster) = self.cluster {
            let owned = cluster.owns_server();
            cluster
                .stop()
                .await
                .context("stopping the embedded PostgreSQL")?;
            if owned {
                tracing::info!("stopped the embedded PostgreSQL");
            }
        }
        Ok(())
    }
}
