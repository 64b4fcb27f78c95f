//! The database: schema migrations and the embedded PostgreSQL cluster.

pub mod cluster;

/// Every schema migration, applied in order by `atende migrate`, by `atende serve` and by the
/// test suite's template database.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./sql");
