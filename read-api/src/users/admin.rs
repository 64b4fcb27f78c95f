//! Platform users (admins, super admins, auditors): `GET`/`POST /api/v1/admin/users` lists
//! them and creates one (its password shown once), `POST …/{id}/disable` and `…/enable`
//! stop and restore one. Tenant users are managed by their owner, not here.
//!
//! Who may do what follows creation: admins manage admins and auditors, only a super admin
//! manages a super admin, and nobody disables themself (the platform must never lose its
//! last operator by a slip). Accounts are rows, not events, so each change is traced
//! through [`Trail`].

use super::UsersState;
use super::{NewUser, User};
use crate::auth::password;
use crate::auth::refresh;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::revocations::Subject;
use crate::request::{ApiJson, AuthConfig, AuthUser, RequireAdmin, Role};
use crate::trail::{Action, Trail};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The roles this page manages, as stored.
const PLATFORM_ROLES: [&str; 3] = ["admin", "super_admin", "auditor"];

/// A platform user as the admins' list shows them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PlatformUser {
    /// Their id.
    pub id: Uuid,
    /// Their e-mail (their login).
    pub email: String,
    /// `admin`, `super_admin` or `auditor`.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Their last successful sign-in, if any.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// When the account was disabled; a disabled user cannot sign in, and the tokens they
    /// hold are refused.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// The platform users, oldest first, disabled ones included.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    operation_id = "list_platform_users",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Admins, super admins and auditors", body = Vec<PlatformUser>),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing the platform users for an admin", skip_all)]
pub(super) async fn list_users(
    State(state): State<UsersState>,
    _admin: RequireAdmin,
) -> Result<Json<Vec<PlatformUser>>, ApiError> {
    sqlx::query_as(
        "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at,
                (SELECT max(a.at) FROM login_attempts a
                  WHERE a.email = u.email AND a.success) AS last_sign_in_at
           FROM users u
          WHERE u.role = ANY($1)
          ORDER BY u.created_at, u.id",
    )
    .bind(&PLATFORM_ROLES[..])
    .fetch_all(&state.pool)
    .await
    .map(Json)
    .map_err(ApiError::internal)
}

/// The request body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CreateUserRequest {
    /// The new user's e-mail.
    pub email: String,
    /// `admin`, `auditor` or `super_admin`.
    pub role: Role,
}

/// The response: the user and the password nobody will see again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    /// The user.
    #[serde(flatten)]
    pub user: User,
    /// Their generated password; only its hash is kept.
    pub password: String,
}

/// Creates an admin, auditor or super admin. Admins may create admins and auditors; only a
/// super admin may create another super admin. Tenant users come with their tenant
/// (onboarding), not from here.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    operation_id = "create_platform_user",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created; the password is shown this once", body = CreatedUser),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "The e-mail is taken (`email_taken`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "creating a platform user for an admin", skip_all, fields(by = %admin.id))]
pub(super) async fn create_user(
    State(state): State<UsersState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let role = body.role;
    let result = create_user_as(&state, admin, body).await;
    let entry = Action::CreatePlatformUser
        .on("user", "")
        .note(role.as_str());
    let entry = match &result {
        Ok((_, created)) => entry.target_id(created.user.id),
        Err(_) => entry,
    };
    trail.record(entry, result).await
}

async fn create_user_as(
    state: &UsersState,
    admin: crate::request::AuthUser,
    body: CreateUserRequest,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    match body.role {
        Role::Owner | Role::Agent => {
            return Err(ApiError::Unprocessable {
                code: "invalid_role",
                message: "owners and agents are created with their tenant; here only admin, \
                          super_admin and auditor"
                    .into(),
                details: None,
            });
        }
        Role::SuperAdmin if admin.role != Role::SuperAdmin => {
            return Err(crate::request::forbidden(
                "only a super admin may create another super admin",
            ));
        }
        _ => {}
    }
    let password = password::generate();
    let user = super::create(
        &state.pool,
        NewUser {
            email: body.email,
            password: password.clone(),
            role: body.role,
            tenant_id: None,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { user, password })))
}

/// Disables a platform user: they cannot sign in, their sessions end and the access token
/// they hold is refused from the next request. Disabling twice is harmless.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/disable",
    operation_id = "disable_platform_user",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The platform user")),
    responses(
        (status = 204, description = "Disabled; their sessions ended"),
        r::BadRequest,
        r::Unauthorized,
        (status = 403, description = "Not an admin, or a super admin's account and the caller is none (`forbidden`)", body = crate::error::ErrorBody),
        (status = 404, description = "No such platform user (`user_not_found`)", body = crate::error::ErrorBody),
        (status = 422, description = "The caller's own account (`cannot_disable_yourself`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "disabling a platform user for an admin", skip_all, fields(by = %admin.id, user = %id))]
pub(super) async fn disable_user(
    State(state): State<UsersState>,
    State(auth): State<AuthConfig>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    switch(&state, &auth, admin, trail, id, true).await
}

/// Enables a disabled platform user again: they sign in with the password they had.
/// Enabling an enabled user is harmless.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/enable",
    operation_id = "enable_platform_user",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The platform user")),
    responses(
        (status = 204, description = "Enabled"),
        r::BadRequest,
        r::Unauthorized,
        (status = 403, description = "Not an admin, or a super admin's account and the caller is none (`forbidden`)", body = crate::error::ErrorBody),
        (status = 404, description = "No such platform user (`user_not_found`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "enabling a platform user for an admin", skip_all, fields(by = %admin.id, user = %id))]
pub(super) async fn enable_user(
    State(state): State<UsersState>,
    State(auth): State<AuthConfig>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    switch(&state, &auth, admin, trail, id, false).await
}

/// Disables (or enables) `id` for `admin`, takes effect on the tokens `id` holds at once,
/// and traces the attempt whatever its outcome.
async fn switch(
    state: &UsersState,
    auth: &AuthConfig,
    admin: AuthUser,
    trail: Trail,
    id: Uuid,
    disabled: bool,
) -> Result<StatusCode, ApiError> {
    let result = set_disabled(state, admin, id, disabled).await;
    if result.is_ok() {
        auth.revocations().mark(Subject::User(id), disabled);
    }
    let action = if disabled {
        Action::DisablePlatformUser
    } else {
        Action::EnablePlatformUser
    };
    let entry = action.on("user", id);
    let entry = match &result {
        Ok(role) => entry.note(role.as_str()),
        Err(_) => entry,
    };
    trail
        .record(entry, result.map(|_| StatusCode::NO_CONTENT))
        .await
}

/// Disables or enables `id` when `admin` may; answers the user's role.
async fn set_disabled(
    state: &UsersState,
    admin: AuthUser,
    id: Uuid,
    disabled: bool,
) -> Result<Role, ApiError> {
    if disabled && id == admin.id {
        return Err(ApiError::Unprocessable {
            code: "cannot_disable_yourself",
            message: "you cannot disable your own account; ask another admin".into(),
            details: None,
        });
    }
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM users WHERE id = $1 AND role = ANY($2) FOR UPDATE")
            .bind(id)
            .bind(&PLATFORM_ROLES[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(ApiError::internal)?;
    let role: Role = role
        .ok_or_else(|| ApiError::NotFound {
            code: "user_not_found",
            message: "no such admin or auditor".into(),
        })?
        .parse()
        .map_err(ApiError::internal)?;
    if role == Role::SuperAdmin && admin.role != Role::SuperAdmin {
        return Err(crate::request::forbidden(
            "only a super admin may disable or enable another super admin",
        ));
    }
    sqlx::query(
        "UPDATE users SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, now()) END
          WHERE id = $1",
    )
    .bind(id)
    .bind(disabled)
    .execute(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    if disabled {
        refresh::revoke_user(&mut tx, id)
            .await
            .map_err(ApiError::internal)?;
    }
    tx.commit().await.map_err(ApiError::internal)?;
    tracing::info!(disabled, "a platform user was changed");
    Ok(role)
}
