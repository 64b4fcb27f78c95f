//! Databases for tests: one throw-away PostgreSQL cluster per test run, one fresh
//! database per test.
//!
//! Why this shape:
//!
//! - **A real server, not a mock**: the event store relies on PostgreSQL specifics
//!   (`xid8`, snapshots, advisory locks), which only the real thing exercises.
//! - **One cluster per run**: starting a cluster costs a second or more; paying it per
//!   test would dominate the suite. Under cargo-nextest every test is its own process,
//!   so the cluster is shared across processes through a directory named after
//!   `NEXTEST_RUN_ID` (`pid-<pid>` under plain `cargo test`, where the process is the
//!   run); the first process to take the directory's lock starts it, the others attach.
//! - **A database per test, copied from a migrated template**: tests stay isolated
//!   and can run in parallel without cleaning up after each other, and copying a
//!   template is far cheaper than migrating every database.
//! - **Only URLs are shared within a process**: `#[tokio::test]` gives each test its own
//!   runtime and a pool dies with the runtime that opened it, so every call opens a
//!   pool of its own.
//! - **A detached reaper instead of cleanup code**: a test process may be killed at any
//!   point, and under nextest no process knows it is the last. A small shell process
//!   outside the test's process group waits for the run's process (nextest, or the test
//!   binary) to end, then kills the server and deletes the directory. Leftovers of runs
//!   whose reaper itself died are swept by the next run. The per-test databases are
//!   therefore never dropped one by one: they go with the cluster.
//! - **Durability off**: fsync and friends are off, since a crash only loses data that
//!   is thrown away anyway.
//!
//! When the tests run as root (as in CI), the server runs as `postgres` (or `nobody`);
//! see [`migrations::cluster`].

pub mod kafka;
mod reaper;
mod run;
pub mod smtp;

use anyhow::Context;
use migrations::cluster::{quote_ident, Cluster};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;

pub use run::TEMPLATE;

/// Connections per test database: enough for tests that exercise concurrency, few enough
/// that parallel tests stay under the cluster's `max_connections`.
const POOL_SIZE: u32 = 10;

/// This process's handle on the run's cluster: plain data, valid in every runtime.
static CLUSTER: OnceCell<Cluster> = OnceCell::const_new();

/// A fresh database holding every migration, for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// A pool of up to 10 connections to the database.
    pub pool: sqlx::PgPool,
    /// The database's connection URL, for code under test that connects by itself.
    pub url: String,
    /// The database's name, `test_<uuid>`.
    pub name: String,
}

/// Creates a database for the calling test, starting the run's cluster on first use.
pub async fn test_database() -> anyhow::Result<TestDatabase> {
    let cluster = CLUSTER.get_or_try_init(run::shared_cluster).await?;
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&cluster.url_for("postgres")).await?;
    let create = format!(
        "CREATE DATABASE {} TEMPLATE {}",
        quote_ident(&name),
        quote_ident(TEMPLATE)
    );
    admin
        .execute(create.as_str())
        .await
        .with_context(|| format!("could not create test database {name}"))?;
    admin.close().await?;
    let url = cluster.url_for(&name);
    let pool = PgPoolOptions::new()
        // As `serve`'s pool (src/database.rs): no ping before each statement.
        .test_before_acquire(false)
        .max_connections(POOL_SIZE)
        .connect(&url)
        .await?;
    tracing::debug!(database = %name, "created a test database");
    Ok(TestDatabase { pool, url, name })
}

/// Creates an empty database (no migrations) in the run's cluster, for code that must start
/// from nothing, such as a restore.
pub async fn empty_database() -> anyhow::Result<String> {
    let cluster = CLUSTER.get_or_try_init(run::shared_cluster).await?;
    let name = format!("empty_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&cluster.url_for("postgres")).await?;
    let create = format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name));
    admin
        .execute(create.as_str())
        .await
        .with_context(|| format!("could not create database {name}"))?;
    admin.close().await?;
    Ok(cluster.url_for(&name))
}
