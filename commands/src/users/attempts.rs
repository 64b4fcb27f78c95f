//! Reading the sign-in attempts the API records (F33) for the admins' security page.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

/// What became of a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInOutcome {
    /// The password was right.
    Succeeded,
    /// The password (or the account) was wrong.
    Failed,
    /// Refused unchecked: the IP was blocked.
    Refused,
}

impl SignInOutcome {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }

    /// The outcome named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Succeeded, Self::Failed, Self::Refused]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One sign-in attempt.
#[derive(Debug, Clone, Serialize)]
pub struct SignInAttempt {
    /// A stable id (newer attempts have larger ones).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The client's address.
    pub ip: String,
    /// The e-mail as typed (lowercased), whether or not such an account exists.
    pub email: String,
    /// What became of it.
    pub outcome: SignInOutcome,
    /// An admin lifted the block this failure counted towards.
    pub cleared: bool,
}

/// Which attempts; every filter optional.
#[derive(Debug, Clone, Default)]
pub struct SignInFilter {
    /// From this address only.
    pub ip: Option<std::net::IpAddr>,
    /// E-mails containing this (case-insensitive).
    pub email: Option<String>,
    /// With this outcome only.
    pub outcome: Option<SignInOutcome>,
    /// Older than the attempt with this id (the previous page's last).
    pub before_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: DateTime<Utc>,
    ip: String,
    email: String,
    success: bool,
    blocked: bool,
    cleared: bool,
}

/// Up to `limit` attempts matching `filter`, newest first.
pub async fn sign_in_attempts(
    pool: &PgPool,
    filter: &SignInFilter,
    limit: i64,
) -> Result<Vec<SignInAttempt>, sqlx::Error> {
    let pattern = filter.email.as_deref().map(|e| {
        format!(
            "%{}%",
            e.trim()
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, host(ip) AS ip, email, success, blocked, cleared_at IS NOT NULL AS cleared
           FROM login_attempts
          WHERE ($1::inet IS NULL OR ip = $1::inet)
            AND ($2::text IS NULL OR email LIKE $2)
            AND ($3::text IS NULL
                 OR ($3 = 'succeeded' AND success)
                 OR ($3 = 'failed' AND NOT success AND NOT blocked)
                 OR ($3 = 'refused' AND blocked))
            AND ($4::bigint IS NULL OR id < $4)
          ORDER BY id DESC LIMIT $5",
    )
    .bind(filter.ip.map(|ip| ip.to_string()))
    .bind(pattern)
    .bind(filter.outcome.map(SignInOutcome::as_str))
    .bind(filter.before_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SignInAttempt {
            id: r.id,
            at: r.at,
            ip: r.ip,
            email: r.email,
            outcome: if r.blocked {
                SignInOutcome::Refused
            } else if r.success {
                SignInOutcome::Succeeded
            } else {
                SignInOutcome::Failed
            },
            cleared: r.cleared,
        })
        .collect())
}
