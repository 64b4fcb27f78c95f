//! A throw-away database for one benchmark, in the same server the product uses.

use crate::database::{Database, DatabaseConfig};
use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use uuid::Uuid;

/// A migrated scratch database; `close` drops it.
#[derive(Debug)]
pub struct Scratch {
    db: Database,
    name: String,
    /// A pool on the scratch database.
    pub pool: PgPool,
}

impl Scratch {
    /// Creates and migrates a scratch database with a pool of `connections`.
    pub async fn open(db_config: &DatabaseConfig, connections: u32) -> anyhow::Result<Self> {
        let db = Database::open(db_config).await?;
        let name = format!("atende_bench_{}", Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&db.pool)
            .await
            .context("creating the scratch database")?;
        let options = db.url.parse::<PgConnectOptions>()?.database(&name);
        let pool = PgPoolOptions::new()
            // As `serve`'s pool (src/database.rs): no ping before each statement.
            .test_before_acquire(false)
            .max_connections(connections)
            .connect_with(options.disable_statement_logging())
            .await?;
        migrations::MIGRATOR.run(&pool).await?;
        Ok(Self { db, name, pool })
    }

    /// Drops the scratch database and closes the product's database.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        // FORCE: a connection a benchmark's background task still held must not keep the
        // scratch database (and its gigabyte of events) around.
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.db.pool)
        .await
        .context("dropping the scratch database")?;
        self.db.close().await
    }
}
