//! Sign-in, token refresh, logout, `/me` and password change (F30).

use super::refresh::{self, RefreshError};
use super::throttle;
use super::AuthState;
use super::{password, session_cookie};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ClientIp;
use crate::request::{ApiJson, AuthUser};
use crate::users::{self, email, Credentials, User};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The one answer to every failed sign-in, so nobody learns which e-mails have accounts.
const WRONG_CREDENTIALS: &str = "wrong e-mail or password";

/// A suspended tenant's users get no session (F43): told why, after their password was
/// checked, so the answer reveals nothing to someone who does not know it.
async fn refuse_if_suspended(state: &AuthState, user: &User) -> Result<(), ApiError> {
    let Some(tenant) = user.tenant_id else {
        return Ok(());
    };
    let (tenant, _) = state.bus.tenants.load(&tenant.to_string()).await?;
    if tenant.is_suspended() {
        tracing::info!(user_id = %user.id, "a suspended tenant's user was refused a session");
        return Err(ApiError::Forbidden {
            code: "tenant_suspended",
            message: "this company's account is suspended; contact support".into(),
        });
    }
    Ok(())
}

/// `POST /api/v1/auth/login` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
    /// `cookie` for a browser session: the refresh token is set as an `HttpOnly` cookie
    /// scoped to `/api/v1/auth` instead of being returned in the body. Absent: `body`.
    #[serde(default)]
    session: Option<SessionMode>,
}

/// Where the refresh token goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionMode {
    /// In the JSON body (API clients).
    Body,
    /// In an `HttpOnly`, `SameSite=Strict` cookie only (the console).
    Cookie,
}

/// `POST /api/v1/auth/refresh` and `/logout` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    /// The refresh token; when absent, the session cookie's is used (and the new one is
    /// set as the cookie again).
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `POST /api/v1/me/password` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

/// A token pair, as login and refresh return it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds the access token lasts.
    pub expires_in: u64,
    /// Trade it for a new pair at `/api/v1/auth/refresh`; it works once. Absent in a
    /// cookie session (it is in the `atende_refresh` cookie, out of scripts' reach).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// `GET /api/v1/me` body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    id: Uuid,
    email: String,
    role: super::Role,
    tenant_id: Option<Uuid>,
}

fn auth_user(user: &User) -> AuthUser {
    AuthUser {
        id: user.id,
        role: user.role,
        tenant_id: user.tenant_id,
    }
}

/// The token pair as the client asked for it: the refresh token in the body, or in the
/// session cookie only.
fn answer(
    state: &AuthState,
    mut pair: TokenResponse,
    mode: SessionMode,
) -> (HeaderMap, Json<TokenResponse>) {
    let mut headers = HeaderMap::new();
    if mode == SessionMode::Cookie {
        let token = pair.refresh_token.take().unwrap_or_default();
        if let Some(cookie) = session_cookie::set(&token, secure_cookie(state)) {
            headers.insert(header::SET_COOKIE, cookie);
        }
    }
    (headers, Json(pair))
}

/// Browsers send a `Secure` cookie over https only, so it is set when the console is.
fn secure_cookie(state: &AuthState) -> bool {
    state.public_url.as_str().starts_with("https://")
}

async fn token_pair(
    state: &AuthState,
    user: &User,
    refresh_token: String,
) -> Result<TokenResponse, ApiError> {
    let access = state
        .auth
        .issue_access_token(&auth_user(user))
        .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        refresh_token: Some(refresh_token),
    })
}

/// Signs a user in with e-mail and password.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "sign_in",
    tag = tags::AUTH,
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; with `session: cookie`, the refresh token is set as the `atende_refresh` cookie (HttpOnly, SameSite=Strict, Path=/api/v1/auth) instead of returned", body = TokenResponse),
        r::BadRequest,
        (status = 401, description = "Wrong e-mail or password (the same answer for both)", body = crate::error::ErrorBody),
        (status = 403, description = "The right password, but the user's tenant is suspended (`tenant_suspended`)", body = crate::error::ErrorBody),
        r::TooManyRequests,
        r::Internal,
    )
)]
#[tracing::instrument(name = "signing a user in", skip_all, fields(%ip))]
pub(super) async fn login(
    State(state): State<AuthState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<(HeaderMap, Json<TokenResponse>), ApiError> {
    let mode = body.session.unwrap_or(SessionMode::Body);
    let pool = &state.pool;
    let typed: String = email::normalize(&body.email).chars().take(254).collect();
    let attempt = throttle::begin(pool, ip, &typed)
        .await
        .map_err(ApiError::internal)?;
    throttle::refuse_if_blocked(pool, ip, attempt).await?;
    let found = users::credentials_by_email(pool, &typed)
        .await
        .map_err(ApiError::internal)?;
    let user = match found {
        Some(Credentials {
            user,
            password_hash,
        }) => {
            let matches = password::verify(body.password, password_hash)
                .await
                .map_err(ApiError::internal)?;
            (matches && user.disabled_at.is_none()).then_some(user)
        }
        None => password::verify_nobody(body.password)
            .await
            .map_err(ApiError::internal)
            .map(|_| None)?,
    };
    let Some(user) = user else {
        tracing::info!("a sign-in failed");
        throttle::notify_if_blocked(pool, ip)
            .await
            .map_err(ApiError::internal)?;
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS.into()));
    };
    // The password was right: the attempt counts as no failure towards an IP block, even
    // when the tenant's suspension refuses the session.
    throttle::succeeded(pool, attempt)
        .await
        .map_err(ApiError::internal)?;
    refuse_if_suspended(&state, &user).await?;
    let mut conn = pool.acquire().await.map_err(ApiError::internal)?;
    let refresh_token = refresh::issue(&mut conn, user.id, Uuid::now_v7())
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(user_id = %user.id, "a user signed in");
    let pair = token_pair(&state, &user, refresh_token).await?;
    Ok(answer(&state, pair, mode))
}

/// Trades a refresh token for a new pair.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    operation_id = "refresh_tokens",
    tag = tags::AUTH,
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair; the one sent is spent. Without `refresh_token` in the body, the `atende_refresh` cookie's is used and the new one set as the cookie", body = TokenResponse),
        r::BadRequest,
        (status = 401, description = "Unknown, expired, revoked or already spent refresh token", body = crate::error::ErrorBody),
        (status = 403, description = "The user's tenant is suspended (`tenant_suspended`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
pub(super) async fn refresh(
    State(state): State<AuthState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<(HeaderMap, Json<TokenResponse>), ApiError> {
    let (sent, mode) = match body.refresh_token {
        Some(token) => (token, SessionMode::Body),
        None => (
            session_cookie::read(&headers)
                .ok_or_else(|| ApiError::Unauthorized("no refresh token was sent".into()))?,
            SessionMode::Cookie,
        ),
    };
    let (rotated, next) = refresh::rotate(&state.pool, &sent)
        .await
        .map_err(|e| match e {
            RefreshError::Database(e) => ApiError::internal(e),
            other => ApiError::Unauthorized(other.to_string()),
        })?;
    let user = users::find(&state.pool, rotated.user_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::Unauthorized(RefreshError::Invalid.to_string()))?;
    refuse_if_suspended(&state, &user).await?;
    let pair = token_pair(&state, &user, next).await?;
    Ok(answer(&state, pair, mode))
}

/// Ends the session the refresh token belongs to.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    operation_id = "sign_out",
    tag = tags::AUTH,
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out (also when the token was unknown); without `refresh_token` in the body, the `atende_refresh` cookie's session ends and the cookie is cleared"),
        r::BadRequest,
        r::Internal,
    )
)]
pub(super) async fn logout(
    State(state): State<AuthState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    let mut answer = HeaderMap::new();
    let token = match body.refresh_token {
        Some(token) => Some(token),
        None => {
            answer.insert(
                header::SET_COOKIE,
                session_cookie::clear(secure_cookie(&state)),
            );
            session_cookie::read(&headers)
        }
    };
    if let Some(token) = token {
        refresh::revoke(&state.pool, &token)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok((StatusCode::NO_CONTENT, answer))
}

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "show_me",
    tag = tags::AUTH,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        r::Unauthorized,
        r::Internal,
    )
)]
pub(super) async fn me(
    State(state): State<AuthState>,
    caller: AuthUser,
) -> Result<Json<MeResponse>, ApiError> {
    let user = users::find(&state.pool, caller.id)
        .await
        .map_err(ApiError::internal)?
        .filter(|u| u.disabled_at.is_none())
        .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))?;
    Ok(Json(MeResponse {
        id: user.id,
        email: user.email,
        role: user.role,
        tenant_id: user.tenant_id,
    }))
}

/// Changes the caller's password and ends every session they have (refresh tokens revoked;
/// access tokens already issued run out within 15 minutes).
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    operation_id = "change_my_password",
    tag = tags::AUTH,
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; every session of the caller ended"),
        r::BadRequest,
        r::Unauthorized,
        (status = 403, description = "The current password is wrong (`wrong_password`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "changing a user's password", skip_all, fields(user_id = %caller.id))]
pub(super) async fn change_password(
    State(state): State<AuthState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    password::check_policy(&body.new_password).map_err(users::UserError::from)?;
    let stored = users::credentials_by_id(&state.pool, caller.id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))?;
    let matches = password::verify(body.current_password, stored.password_hash)
        .await
        .map_err(ApiError::internal)?;
    if !matches {
        return Err(ApiError::Forbidden {
            code: "wrong_password",
            message: "the current password is wrong".into(),
        });
    }
    let hash = password::hash(body.new_password)
        .await
        .map_err(ApiError::internal)?;
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    users::set_password_hash(&mut tx, caller.id, &hash)
        .await
        .map_err(ApiError::internal)?;
    refresh::revoke_user(&mut tx, caller.id)
        .await
        .map_err(ApiError::internal)?;
    tx.commit().await.map_err(ApiError::internal)?;
    tracing::info!("a user changed their password; their sessions were revoked");
    Ok(StatusCode::NO_CONTENT)
}
