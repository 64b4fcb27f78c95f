//! Pruning the security records that would otherwise grow forever: sign-in attempts,
//! refused requests, password-reset links and the requests for them.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;

/// How long a password-reset link is kept after it expired or was used: long enough to
/// answer "that link was used" rather than "unknown link" to someone who clicks it late.
pub const SPENT_RESET_LINK_DAYS: i64 = 7;

/// How long a request for a reset link is kept: the limits count the last hour.
pub const RESET_REQUEST_DAYS: i64 = 1;

/// What one pruning removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Sign-in attempts.
    pub login_attempts: u64,
    /// Refused requests (the audit log's `rejected` entries).
    pub rejected_requests: u64,
    /// Reset links and requests for them.
    pub password_resets: u64,
}

/// Deletes sign-in attempts and refused requests older than `security_log_days` before
/// `now` — keeping each account's latest successful sign-in, which says when it was last
/// used — and reset links and requests past their use.
#[tracing::instrument(name = "pruning old security records", skip(pool))]
pub async fn prune_security_records(
    pool: &PgPool,
    now: DateTime<Utc>,
    security_log_days: u32,
) -> Result<Pruned, sqlx::Error> {
    let cutoff = now - TimeDelta::days(i64::from(security_log_days));
    let login_attempts = sqlx::query(
        "DELETE FROM login_attempts a
          WHERE a.at < $1
            AND NOT (a.success AND a.id = (SELECT max(l.id) FROM login_attempts l
                                            WHERE l.email = a.email AND l.success))",
    )
    .bind(cutoff)
    .execute(pool)
    .await?
    .rows_affected();
    let rejected_requests = sqlx::query("DELETE FROM rejected_attempts WHERE at < $1")
        .bind(cutoff)
        .execute(pool)
        .await?
        .rows_affected();
    let spent = now - TimeDelta::days(SPENT_RESET_LINK_DAYS);
    let links = sqlx::query("DELETE FROM password_resets WHERE expires_at < $1 OR used_at < $1")
        .bind(spent)
        .execute(pool)
        .await?
        .rows_affected();
    let requests = sqlx::query("DELETE FROM password_reset_requests WHERE at < $1")
        .bind(now - TimeDelta::days(RESET_REQUEST_DAYS))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(Pruned {
        login_attempts,
        rejected_requests,
        password_resets: links + requests,
    })
}
