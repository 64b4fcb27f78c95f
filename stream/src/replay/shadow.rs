//! The replay's own schema and the session lock that keeps two replays of one projection
//! from sharing it.

use super::ReplayError;
use sqlx::pool::PoolConnection;
use sqlx::{Executor, PgConnection, PgPool, Postgres};
use tokio::sync::Mutex;

/// Holds the replay lock of one projection on a dedicated connection until released.
pub(super) struct Guard {
    conn: Mutex<Option<PoolConnection<Postgres>>>,
    name: String,
    /// `replay_<name>`, quoted.
    shadow: String,
    /// The schema the live tables are in (the pool's current schema), quoted.
    live: String,
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

impl Guard {
    /// Takes the projection's replay lock, or fails at once when another replay holds it.
    pub(super) async fn acquire(pool: &PgPool, name: &str) -> Result<Self, ReplayError> {
        let mut conn = pool.acquire().await?;
        let (locked, live): (bool, String) = sqlx::query_as(
            "SELECT pg_try_advisory_lock(hashtext('projection_replay:' || $1)), current_schema()",
        )
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
        if !locked {
            return Err(ReplayError::AlreadyRunning(name.to_owned()));
        }
        Ok(Self {
            conn: Mutex::new(Some(conn)),
            name: name.to_owned(),
            shadow: quote(&format!("replay_{name}")),
            live: quote(&live),
        })
    }

    /// Creates empty copies of `tables` (same columns, keys and indexes) in a fresh shadow
    /// schema, dropping whatever an interrupted replay left there.
    pub(super) async fn create_shadow(&self, tables: &[&str]) -> Result<(), ReplayError> {
        let mut guard = self.conn.lock().await;
        let conn = guard.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        let mut sql = format!(
            "DROP SCHEMA IF EXISTS {s} CASCADE; CREATE SCHEMA {s};",
            s = self.shadow
        );
        for t in tables {
            let t = quote(t);
            sql.push_str(&format!(
                "CREATE TABLE {s}.{t} (LIKE {l}.{t} INCLUDING ALL);",
                s = self.shadow,
                l = self.live
            ));
        }
        conn.execute(sql.as_str()).await?;
        Ok(())
    }

    /// Makes the handler's unqualified table names resolve to the shadow copies for the
    /// rest of the transaction.
    pub(super) async fn point_at_shadow(&self, tx: &mut PgConnection) -> Result<(), ReplayError> {
        tx.execute(self.search_path().as_str()).await?;
        Ok(())
    }

    /// The statement [`point_at_shadow`](Self::point_at_shadow) runs.
    pub(super) fn search_path(&self) -> String {
        format!("SET LOCAL search_path TO {}, {}", self.shadow, self.live)
    }

    /// Replaces the live tables with the shadow copies, inside the caller's transaction.
    pub(super) async fn swap(
        &self,
        tx: &mut PgConnection,
        tables: &[&str],
    ) -> Result<(), ReplayError> {
        let mut sql = String::from("SET LOCAL search_path TO DEFAULT;");
        for t in tables {
            let t = quote(t);
            sql.push_str(&format!(
                "DROP TABLE {l}.{t}; ALTER TABLE {s}.{t} SET SCHEMA {l};",
                s = self.shadow,
                l = self.live
            ));
        }
        sql.push_str(&format!("DROP SCHEMA {};", self.shadow));
        tx.execute(sql.as_str()).await?;
        Ok(())
    }

    /// Best effort: drops the shadow schema of a failed replay.
    pub(super) async fn discard_shadow(&self) {
        let mut guard = self.conn.lock().await;
        if let Some(conn) = guard.as_mut() {
            let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.shadow);
            if let Err(e) = conn.execute(sql.as_str()).await {
                tracing::warn!(error = %e, "dropping the shadow schema of a failed replay failed");
            }
        }
    }

    /// Releases the lock; a connection that cannot release it is closed, which does.
    pub(super) async fn release(self) {
        let Some(mut conn) = self.conn.into_inner() else {
            return;
        };
        let unlocked =
            sqlx::query("SELECT pg_advisory_unlock(hashtext('projection_replay:' || $1))")
                .bind(&self.name)
                .execute(&mut *conn)
                .await;
        if unlocked.is_err() {
            drop(conn.detach());
        }
    }
}
