//! Users (F30, F31): accounts live in the `users` table, never in events, so credentials
//! never reach the log. [`create`] is the one way to add a user (the API, the CLI and tests
//! use it).

mod admin;
pub mod email;
mod invitations;

use crate::auth::password;
use crate::error::ApiError;
use crate::request::Role;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use admin::{CreateUserRequest, CreatedUser, PlatformUser};
pub use invitations::{AcceptInvitationRequest, Invitation, InvitationRequest, INVITATION_TTL};

/// The part of the application state the user and invitation routes use.
#[derive(Debug, Clone)]
pub struct UsersState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// The dashboard's base URL, for links in e-mails.
    pub public_url: integrations::mailer::PublicUrl,
}

/// A user, without their password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    /// Their id.
    pub id: Uuid,
    /// Their e-mail, lowercased.
    pub email: String,
    /// Their role.
    pub role: Role,
    /// Their tenant (owners and agents only).
    pub tenant_id: Option<Uuid>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account was disabled; a disabled user cannot sign in or refresh.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// What [`create`] needs.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The e-mail (normalized by `create`).
    pub email: String,
    /// The password, in clear; it must satisfy the policy.
    pub password: String,
    /// The role.
    pub role: Role,
    /// The tenant: required for owners and agents, forbidden for the others.
    pub tenant_id: Option<Uuid>,
}

/// Why a user could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Not a plausible e-mail address.
    #[error("{0:?} is not a valid e-mail address")]
    InvalidEmail(String),
    /// The password breaks the policy.
    #[error(transparent)]
    WeakPassword(#[from] password::PolicyViolation),
    /// Owners and agents need a tenant; the others must have none.
    #[error("role {role} {}", if .role.is_tenant_role() { "needs a tenant" } else { "cannot belong to a tenant" })]
    TenantMismatch {
        /// The role asked for.
        role: Role,
    },
    /// Someone already has this e-mail.
    #[error("a user with this e-mail already exists")]
    EmailTaken,
    /// Hashing failed.
    #[error(transparent)]
    Hashing(#[from] password::PasswordError),
    /// The database failed.
    #[error("users")]
    Database(#[from] sqlx::Error),
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        let unprocessable = |code, e: &UserError| ApiError::Unprocessable {
            code,
            message: e.to_string(),
            details: None,
        };
        match e {
            UserError::InvalidEmail(_) => unprocessable("invalid_email", &e),
            UserError::WeakPassword(_) => unprocessable("weak_password", &e),
            UserError::TenantMismatch { .. } => unprocessable("invalid_role", &e),
            UserError::EmailTaken => ApiError::Conflict {
                code: "email_taken",
                message: e.to_string(),
            },
            other => ApiError::internal(other),
        }
    }
}

/// A user as stored, with their password hash (never leaves the crate).
#[derive(Debug)]
pub(crate) struct Credentials {
    pub(crate) user: User,
    pub(crate) password_hash: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    email: String,
    role: String,
    tenant_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
    password_hash: String,
}

impl Row {
    fn into_credentials(self) -> Result<Credentials, sqlx::Error> {
        let role = self
            .role
            .parse()
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok(Credentials {
            user: User {
                id: self.id,
                email: self.email,
                role,
                tenant_id: self.tenant_id,
                created_at: self.created_at,
                disabled_at: self.disabled_at,
            },
            password_hash: self.password_hash,
        })
    }
}

const COLUMNS: &str = "id, email, role, tenant_id, created_at, disabled_at, password_hash";

/// Creates a user after checking the e-mail, the password policy and the role's tenant.
#[tracing::instrument(name = "creating a user", skip_all, fields(role = %new.role))]
pub async fn create(pool: &PgPool, new: NewUser) -> Result<User, UserError> {
    let mut conn = pool.acquire().await?;
    create_on(&mut conn, new).await
}

/// [`create`] on `conn` (inside the caller's transaction, when it is one).
pub(crate) async fn create_on(conn: &mut PgConnection, new: NewUser) -> Result<User, UserError> {
    let email = email::normalize(&new.email);
    if !email::is_plausible(&email) {
        return Err(UserError::InvalidEmail(email));
    }
    password::check_policy(&new.password)?;
    if new.role.is_tenant_role() != new.tenant_id.is_some() {
        return Err(UserError::TenantMismatch { role: new.role });
    }
    let hash = password::hash(new.password).await?;
    let row: Option<Row> = sqlx::query_as(&format!(
        "INSERT INTO users (id, email, password_hash, role, tenant_id)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(&email)
    .bind(hash)
    .bind(new.role.as_str())
    .bind(new.tenant_id)
    .fetch_optional(conn)
    .await?;
    let user = row.ok_or(UserError::EmailTaken)?.into_credentials()?.user;
    tracing::info!(user_id = %user.id, "a user was created");
    Ok(user)
}

/// The user with this id.
pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    Ok(credentials_by_id(pool, id).await?.map(|c| c.user))
}

/// The user with this e-mail (normalized here), with their hash.
pub(crate) async fn credentials_by_email(
    pool: &PgPool,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email::normalize(email))
        .fetch_optional(pool)
        .await?;
    row.map(Row::into_credentials).transpose()
}

/// The user with this id, with their hash.
pub(crate) async fn credentials_by_id(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<Credentials>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(Row::into_credentials).transpose()
}

/// Replaces a user's password hash.
pub(crate) async fn set_password_hash(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(conn)
        .await
        .map(drop)
}

/// The users routes: platform users (`/api/v1/admin/users`), team invitations and their
/// acceptance.
pub fn routes<S>() -> utoipa_axum::router::OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    UsersState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(admin::create_user, admin::list_users))
        .routes(utoipa_axum::routes!(admin::disable_user))
        .routes(utoipa_axum::routes!(admin::enable_user))
        .routes(utoipa_axum::routes!(invitations::invite, invitations::list))
        .routes(utoipa_axum::routes!(invitations::revoke))
        .routes(utoipa_axum::routes!(invitations::accept))
}
