//! Login protection (F33): every attempt is recorded; five failures from one IP within 15
//! minutes block that IP for 15 minutes, until then even a right password is refused.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use std::net::IpAddr;
use std::time::Duration;

/// Failures from one IP within [`FAILURE_WINDOW`] that block it.
pub const MAX_FAILURES: i64 = 5;
/// The window those failures must fall in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long the block lasts after the failure that triggered it.
pub const BLOCK_FOR: Duration = Duration::from_secs(15 * 60);

/// A blocked IP.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct IpBlock {
    /// The address.
    pub ip: String,
    /// When logins from it are accepted again.
    pub blocked_until: DateTime<Utc>,
}

/// Records an attempt as a failure before its password is checked, so concurrent attempts
/// from one IP see each other and a burst cannot slip past the limit. Returns its id.
pub(crate) async fn begin(pool: &PgPool, ip: IpAddr, email: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO login_attempts (ip, email, success) VALUES ($1::inet, $2, false) RETURNING id",
    )
    .bind(ip.to_string())
    .bind(email)
    .fetch_one(pool)
    .await
}

/// Marks attempt `id` successful.
pub(crate) async fn succeeded(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_attempts SET success = true WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

/// If `ip` is blocked by failures other than attempt `id`, marks that attempt as refused
/// unchecked and returns the 429 to send.
pub(crate) async fn refuse_if_blocked(pool: &PgPool, ip: IpAddr, id: i64) -> Result<(), ApiError> {
    let block = blocks(pool, Some(ip), id)
        .await
        .map_err(ApiError::internal)?;
    let Some(block) = block.into_iter().next() else {
        return Ok(());
    };
    // A refused attempt does not count as a failure: the block ends when it said it would.
    sqlx::query("UPDATE login_attempts SET blocked = true WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map_err(ApiError::internal)?;
    let left = (block.blocked_until - Utc::now()).num_seconds().max(1);
    tracing::warn!(%ip, until = %block.blocked_until, "a login from a blocked IP was refused");
    Err(ApiError::TooManyRequests {
        retry_after_secs: u64::try_from(left).unwrap_or(1),
    })
}

/// After a failed attempt from `ip`: if that failure blocked it, tells the admins (once
/// per block; its start never moves while it lasts, as refused attempts do not count).
pub(crate) async fn notify_if_blocked(pool: &PgPool, ip: IpAddr) -> Result<(), sqlx::Error> {
    let Some(block) = blocks(pool, Some(ip), 0).await?.into_iter().next() else {
        return Ok(());
    };
    let since = block.blocked_until
        - chrono::Duration::from_std(BLOCK_FOR).unwrap_or_else(|_| chrono::Duration::zero());
    let notice = stream::notifications::Notice::ip_blocked(&block.ip, since, block.blocked_until);
    stream::notifications::raise_now(pool, &notice)
        .await
        .map(drop)
}

/// Every IP currently blocked from signing in.
pub async fn blocked_ips(pool: &PgPool) -> Result<Vec<IpBlock>, sqlx::Error> {
    blocks(pool, None, 0).await
}

/// Every currently blocked IP, or only `ip`; attempt `except` is left out of the count.
async fn blocks(
    pool: &PgPool,
    ip: Option<IpAddr>,
    except: i64,
) -> Result<Vec<IpBlock>, sqlx::Error> {
    // For each failure, `earlier` is the failure MAX_FAILURES - 1 before it from the same IP:
    // when both fall in one window, that failure completed a run and blocks from its time.
    sqlx::query_as(
        "WITH failures AS (
             SELECT ip, at, lag(at, $3::int) OVER (PARTITION BY ip ORDER BY at, id) AS earlier
             FROM login_attempts
             WHERE NOT success AND NOT blocked AND cleared_at IS NULL
               AND at > now() - make_interval(secs => $4 + $5)
               AND ($1::inet IS NULL OR ip = $1::inet)
               AND id <> $2
         )
         SELECT host(ip) AS ip, max(at) + make_interval(secs => $5) AS blocked_until
         FROM failures
         WHERE earlier IS NOT NULL AND at - earlier <= make_interval(secs => $4)
         GROUP BY ip
         HAVING max(at) + make_interval(secs => $5) > now()
         ORDER BY blocked_until DESC",
    )
    .bind(ip.map(|ip| ip.to_string()))
    .bind(except)
    .bind(i32::try_from(MAX_FAILURES - 1).unwrap_or(4))
    .bind(FAILURE_WINDOW.as_secs_f64())
    .bind(BLOCK_FOR.as_secs_f64())
    .fetch_all(pool)
    .await
}

/// Unblocks `ip`: its failures so far stop counting (they stay recorded). Returns how many
/// failures were cleared.
pub async fn unblock(pool: &PgPool, ip: IpAddr) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE login_attempts SET cleared_at = now()
         WHERE ip = $1::inet AND NOT success AND NOT blocked AND cleared_at IS NULL",
    )
    .bind(ip.to_string())
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
}
