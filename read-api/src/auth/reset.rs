//! Password reset by e-mail (F30).
//!
//! `POST /api/v1/auth/password-reset {email}` answers 202 with the same body whether or not
//! the e-mail has an account, so nobody learns which do. For an enabled account it stores a
//! single-use token (32 random bytes; only its SHA-256 is kept) valid for an hour and queues
//! the e-mail carrying `<public URL>/reset-password?token=…` in the same transaction.
//! `POST /api/v1/auth/password-reset/confirm {token, password}` sets the password, spends
//! the token (and any other the user still holds) and ends every session.
//!
//! Requests are limited per IP and per e-mail; every request counts, with or without an
//! account, so a 429 says nothing about the e-mail either.

use super::password;
use super::refresh;
use super::AuthState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiJson;
use crate::request::ClientIp;
use crate::users::{self, email};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use integrations::mailer::{self, Locale, NewMail, Template};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::net::IpAddr;
use std::time::Duration;
use uuid::Uuid;

/// How long an e-mailed link works.
pub const TOKEN_TTL: Duration = Duration::from_secs(60 * 60);
/// Requests from one IP within [`IP_WINDOW`] before it must wait.
pub const MAX_PER_IP: i64 = 10;
/// The window of [`MAX_PER_IP`].
pub const IP_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Requests for one e-mail within [`EMAIL_WINDOW`] before it must wait: enough for a lost
/// mail or two, too few to flood someone's inbox.
pub const MAX_PER_EMAIL: i64 = 3;
/// The window of [`MAX_PER_EMAIL`].
pub const EMAIL_WINDOW: Duration = Duration::from_secs(60 * 60);

/// The one answer to every accepted request.
const ACCEPTED: &str =
    "if an account uses this e-mail, a link to choose a new password is on its way";

/// `POST /api/v1/auth/password-reset` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordResetRequest {
    /// The account's e-mail.
    email: String,
    /// The e-mail's language (`pt-BR`, `en`); unset: `Accept-Language`, else the tenant's
    /// language, else Portuguese.
    #[serde(default)]
    locale: Option<String>,
}

/// `POST /api/v1/auth/password-reset` answer, the same for every e-mail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordResetAccepted {
    /// What happens next.
    message: &'static str,
}

/// `POST /api/v1/auth/password-reset/confirm` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordResetConfirmation {
    /// The token from the e-mailed link.
    token: String,
    /// The new password (at least 12 characters).
    password: String,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Sends a password-reset link to the e-mail, if it has an account.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset",
    operation_id = "request_password_reset",
    tag = tags::AUTH,
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted; the same answer whether or not the e-mail has an account", body = PasswordResetAccepted),
        r::BadRequest,
        r::TooManyRequests,
        r::Internal,
    )
)]
#[tracing::instrument(name = "requesting a password reset", skip_all, fields(%ip))]
pub(super) async fn request(
    State(state): State<AuthState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<(StatusCode, Json<PasswordResetAccepted>), ApiError> {
    let pool = &state.pool;
    let typed: String = email::normalize(&body.email).chars().take(254).collect();
    refuse_if_limited(pool, ip, &typed).await?;
    sqlx::query("INSERT INTO password_reset_requests (ip, email) VALUES ($1::inet, $2)")
        .bind(ip.to_string())
        .bind(&typed)
        .execute(pool)
        .await
        .map_err(ApiError::internal)?;
    let user = users::credentials_by_email(pool, &typed)
        .await
        .map_err(ApiError::internal)?
        .map(|c| c.user)
        .filter(|u| u.disabled_at.is_none());
    if let Some(user) = user {
        let locale = body
            .locale
            .as_deref()
            .and_then(|tag| tag.parse().ok())
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Locale::from_accept_language)
            });
        let locale = match (locale, user.tenant_id) {
            (Some(locale), _) => locale,
            // Nothing from the browser: the language the tenant chose.
            (None, Some(tenant)) => {
                let mut conn = pool.acquire().await.map_err(ApiError::internal)?;
                mailer::tenant_locale(&mut conn, tenant)
                    .await
                    .map_err(ApiError::internal)?
            }
            (None, None) => Locale::default(),
        };
        issue(&state.pool, &state.public_url, user.id, &user.email, locale).await?;
        tracing::info!(user_id = %user.id, "a password reset link was queued");
    } else {
        tracing::info!("a password reset was asked for an e-mail without an account");
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(PasswordResetAccepted { message: ACCEPTED }),
    ))
}

/// Stores a new token for `user_id` and queues its e-mail to `to`, in one transaction (also
/// how an admin sends a tenant's owner a link).
pub(crate) async fn issue(
    pool: &PgPool,
    public_url: &mailer::PublicUrl,
    user_id: Uuid,
    to: &str,
    locale: Locale,
) -> Result<(), ApiError> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = digest(&token);
    let ttl = chrono::Duration::from_std(TOKEN_TTL).unwrap_or(chrono::Duration::hours(1));
    let mut tx = pool.begin().await.map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(&hash)
    .bind(user_id)
    .bind(Utc::now() + ttl)
    .execute(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    let mail = NewMail {
        // The token's hash names the request: one mail per token, and the key reveals
        // nothing usable.
        idempotency_key: format!("password-reset:{}", hex_prefix(&hash)),
        to: to.to_owned(),
        locale,
        template: Template::PasswordReset {
            reset_url: public_url.link(&format!("/reset-password?token={token}")),
            valid_minutes: u32::try_from(TOKEN_TTL.as_secs() / 60).unwrap_or(60),
        },
    };
    mailer::enqueue(&mut tx, &mail)
        .await
        .map_err(ApiError::internal)?;
    tx.commit().await.map_err(ApiError::internal)
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// 429 when `ip` or `email` made too many requests lately; the wait is until the oldest
/// request that counts leaves its window.
async fn refuse_if_limited(pool: &PgPool, ip: IpAddr, email: &str) -> Result<(), ApiError> {
    let until: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT max(until) FROM (
             (SELECT at + make_interval(secs => $3) AS until FROM password_reset_requests
              WHERE ip = $1::inet AND at > now() - make_interval(secs => $3)
              ORDER BY at DESC OFFSET $4 - 1 LIMIT 1)
             UNION ALL
             (SELECT at + make_interval(secs => $5) FROM password_reset_requests
              WHERE email = $2 AND at > now() - make_interval(secs => $5)
              ORDER BY at DESC OFFSET $6 - 1 LIMIT 1)
         ) limits",
    )
    .bind(ip.to_string())
    .bind(email)
    .bind(IP_WINDOW.as_secs_f64())
    .bind(MAX_PER_IP)
    .bind(EMAIL_WINDOW.as_secs_f64())
    .bind(MAX_PER_EMAIL)
    .fetch_one(pool)
    .await
    .map_err(ApiError::internal)?;
    match until {
        Some(until) if until > Utc::now() => {
            let left = (until - Utc::now()).num_seconds().max(1);
            tracing::warn!(%ip, "password reset requests were refused: too many lately");
            Err(ApiError::TooManyRequests {
                retry_after_secs: u64::try_from(left).unwrap_or(1),
            })
        }
        _ => Ok(()),
    }
}

/// Why a reset token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResetTokenError {
    /// No such token (or its account is gone or disabled).
    #[error("this password reset link is not valid")]
    Unknown,
    /// Already used, or superseded by a password set with another link.
    #[error("this password reset link was already used")]
    Used,
    /// Past its hour.
    #[error("this password reset link has expired; ask for a new one")]
    Expired,
}

impl From<ResetTokenError> for ApiError {
    fn from(e: ResetTokenError) -> Self {
        ApiError::BadRequest {
            code: match e {
                ResetTokenError::Unknown => "invalid_reset_token",
                ResetTokenError::Used => "reset_token_used",
                ResetTokenError::Expired => "reset_token_expired",
            },
            message: e.to_string(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct StoredToken {
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    user_disabled: bool,
}

/// Sets a new password with an e-mailed token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset/confirm",
    operation_id = "confirm_password_reset",
    tag = tags::AUTH,
    request_body = PasswordResetConfirmation,
    responses(
        (status = 204, description = "Password set; the token is spent and every session ended"),
        (status = 400, description = "Unreadable body, or the token is unknown (`invalid_reset_token`), used (`reset_token_used`) or expired (`reset_token_expired`)", body = crate::error::ErrorBody),
        (status = 422, description = "The password breaks the policy (`weak_password`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "resetting a password with an e-mailed token", skip_all)]
pub(super) async fn confirm(
    State(state): State<AuthState>,
    ApiJson(body): ApiJson<PasswordResetConfirmation>,
) -> Result<StatusCode, ApiError> {
    password::check_policy(&body.password).map_err(users::UserError::from)?;
    let hash = digest(&body.token);
    // Checked before hashing (cheap refusals), and again under the row lock below.
    let found = lookup(&state.pool, &hash).await?;
    check(found.as_ref())?;
    let new_hash = password::hash(body.password)
        .await
        .map_err(ApiError::internal)?;
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    // FOR UPDATE: two confirmations of one token serialise here; the second finds it used.
    let stored: Option<StoredToken> = sqlx::query_as(
        "SELECT r.user_id, r.expires_at, r.used_at, u.disabled_at IS NOT NULL AS user_disabled
         FROM password_resets r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1
         FOR UPDATE OF r",
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    let user_id = check(stored.as_ref())?;
    users::set_password_hash(&mut tx, user_id, &new_hash)
        .await
        .map_err(ApiError::internal)?;
    // Every link of this user is spent: one reset must not leave another open.
    sqlx::query(
        "UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    refresh::revoke_user(&mut tx, user_id)
        .await
        .map_err(ApiError::internal)?;
    tx.commit().await.map_err(ApiError::internal)?;
    tracing::info!(%user_id, "a password was reset by e-mail; the user's sessions were revoked");
    Ok(StatusCode::NO_CONTENT)
}

async fn lookup(pool: &PgPool, hash: &[u8]) -> Result<Option<StoredToken>, ApiError> {
    sqlx::query_as(
        "SELECT r.user_id, r.expires_at, r.used_at, u.disabled_at IS NOT NULL AS user_disabled
         FROM password_resets r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await
    .map_err(ApiError::internal)
}

/// The token's user, if the token may still be used.
fn check(stored: Option<&StoredToken>) -> Result<Uuid, ResetTokenError> {
    match stored {
        None => Err(ResetTokenError::Unknown),
        Some(t) if t.user_disabled => Err(ResetTokenError::Unknown),
        Some(t) if t.used_at.is_some() => Err(ResetTokenError::Used),
        Some(t) if t.expires_at <= Utc::now() => Err(ResetTokenError::Expired),
        Some(t) => Ok(t.user_id),
    }
}
