//! Creating the application's database inside the cluster.

use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};

use super::ClusterError;

/// A server that was just attached to may still be finishing its start-up.
const CONNECT_ATTEMPTS: u32 = 20;
const CONNECT_PAUSE: Duration = Duration::from_millis(250);

/// Connects to `url`, waiting out a server that is still starting up or shutting down
/// a previous session.
pub(crate) async fn connect(url: &str) -> Result<PgConnection, ClusterError> {
    let mut attempt = 1;
    loop {
        match PgConnection::connect(url).await {
            Ok(conn) => return Ok(conn),
            Err(e) if attempt < CONNECT_ATTEMPTS && is_transient(&e) => {
                tracing::debug!(error = %e, attempt, "the server is not accepting connections yet");
                attempt += 1;
                tokio::time::sleep(CONNECT_PAUSE).await;
            }
            Err(source) => {
                return Err(ClusterError::Database {
                    action: "connect to the cluster".into(),
                    source,
                })
            }
        }
    }
}

fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        // cannot_connect_now: the server is starting up or shutting down.
        sqlx::Error::Database(db) => db.code().as_deref() == Some("57P03"),
        _ => false,
    }
}

/// Creates `database` unless it exists. Another process may create it between the check
/// and the statement, so "already exists" counts as success.
#[tracing::instrument(name = "Create the application database if missing", skip(admin_url))]
pub(crate) async fn ensure_exists(admin_url: &str, database: &str) -> Result<(), ClusterError> {
    let mut conn = connect(admin_url).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut conn)
            .await
            .map_err(|source| ClusterError::Database {
                action: format!("look for database {database}"),
                source,
            })?;
    if !exists {
        let created = conn
            .execute(format!("CREATE DATABASE {}", quote_ident(database)).as_str())
            .await;
        match created {
            Ok(_) => tracing::info!(database, "created the database"),
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => {}
            Err(source) => {
                return Err(ClusterError::Database {
                    action: format!("create database {database}"),
                    source,
                });
            }
        }
    }
    conn.close().await.map_err(|source| ClusterError::Database {
        action: "close the connection".into(),
        source,
    })
}

/// Quotes an identifier, since CREATE DATABASE takes no bind parameters.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_embedded_quotes_doubled() {
        assert_eq!(quote_ident("atende"), "\"atende\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
