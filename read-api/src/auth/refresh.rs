//! Refresh tokens: opaque random strings, stored only as SHA-256 hashes, rotated on every use.
//! Every token descending from one login shares a family; presenting a token that was already
//! rotated means two parties hold it, so the whole family is revoked.

use crate::request::REFRESH_TOKEN_TTL;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Why a refresh token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, logged out, or its family was revoked.
    #[error("the refresh token is invalid, expired or revoked")]
    Invalid,
    /// Already rotated: its family has just been revoked.
    #[error("the refresh token was already used; every session of that login was revoked")]
    Reused,
    /// The database failed.
    #[error("refresh tokens")]
    Database(#[from] sqlx::Error),
}

/// Who a refresh token was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    /// The user.
    pub user_id: Uuid,
}

/// A stored token, with whether its user may still sign in.
#[derive(Debug, sqlx::FromRow)]
struct Stored {
    user_id: Uuid,
    family_id: Uuid,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    replaced_at: Option<DateTime<Utc>>,
    user_disabled: bool,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a refresh token for `user_id` in `family` (a new login passes a new family).
pub async fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    family: Uuid,
) -> Result<String, sqlx::Error> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let ttl = chrono::Duration::from_std(REFRESH_TOKEN_TTL).unwrap_or(chrono::Duration::days(30));
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(digest(&token))
    .bind(user_id)
    .bind(family)
    .bind(Utc::now() + ttl)
    .execute(conn)
    .await?;
    Ok(token)
}

/// Spends `token` and issues its successor in the same family. The user must still be
/// enabled.
#[tracing::instrument(name = "rotating a refresh token", skip_all)]
pub async fn rotate(pool: &PgPool, token: &str) -> Result<(Rotated, String), RefreshError> {
    let mut tx = pool.begin().await?;
    // FOR UPDATE: two concurrent uses of one token serialise here, and the second is reuse.
    let stored: Option<Stored> = sqlx::query_as(
        "SELECT t.user_id, t.family_id, t.expires_at, t.revoked_at, t.replaced_at,
                u.disabled_at IS NOT NULL AS user_disabled
         FROM refresh_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1
         FOR UPDATE OF t",
    )
    .bind(digest(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(stored) = stored else {
        return Err(RefreshError::Invalid);
    };
    let (user_id, family) = (stored.user_id, stored.family_id);
    if stored.replaced_at.is_some() {
        revoke_family(&mut tx, family).await?;
        tx.commit().await?;
        tracing::warn!(%user_id, %family, "a rotated refresh token was presented again; its family was revoked");
        return Err(RefreshError::Reused);
    }
    if stored.revoked_at.is_some() || stored.expires_at <= Utc::now() || stored.user_disabled {
        return Err(RefreshError::Invalid);
    }
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now(), replaced_at = now() WHERE token_hash = $1",
    )
    .bind(digest(token))
    .execute(&mut *tx)
    .await?;
    let next = issue(&mut tx, user_id, family).await?;
    tx.commit().await?;
    Ok((Rotated { user_id }, next))
}

/// Revokes every token of `family`.
async fn revoke_family(conn: &mut PgConnection, family: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family)
    .execute(conn)
    .await
    .map(drop)
}

/// Logs out: revokes the family of `token` (the whole session). Unknown tokens are ignored,
/// so logging out twice is harmless.
#[tracing::instrument(name = "revoking a login's refresh tokens", skip_all)]
pub async fn revoke(pool: &PgPool, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now()
         WHERE revoked_at IS NULL
           AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
    )
    .bind(digest(token))
    .execute(pool)
    .await
    .map(drop)
}

/// Revokes every refresh token of `user_id` (password changed: every session ends).
pub async fn revoke_user(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await
    .map(drop)
}
