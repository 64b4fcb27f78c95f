//! Team invitations (F30, #15): an owner invites an agent by e-mail
//! (`POST /api/v1/users/invitations`); the e-mail, in the tenant's language, carries
//! `<public URL>/set-password?token=…`, valid 48 hours, once. Only the token's SHA-256 is
//! kept, and no password is ever generated or shown to the owner: the invitee chooses it
//! (`POST /api/v1/auth/invitation/accept`), which creates their account. Pending invitations
//! are listed (`GET /api/v1/users/invitations`) and can be revoked
//! (`DELETE /api/v1/users/invitations/{id}`).

use super::UsersState;
use super::{email, NewUser, User, UserError};
use crate::auth::password;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiJson, RequireTenantOwner, Role};
use crate::trail::{Action, Trail};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use integrations::mailer::{self, NewMail, Template};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use uuid::Uuid;

/// How long an invitation's link works.
pub const INVITATION_TTL: Duration = Duration::from_secs(48 * 60 * 60);

/// `POST /api/v1/users/invitations` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InvitationRequest {
    /// The invitee's e-mail (their future login).
    pub email: String,
    /// `agent` (the only role an owner can invite; the default).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "agent")]
    pub role: Option<Role>,
}

/// An invitation as the owner sees it (never its token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    /// Its id (to revoke it).
    pub id: Uuid,
    /// The invitee's e-mail.
    pub email: String,
    /// The role the account will have.
    pub role: Role,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When its link stops working.
    pub expires_at: DateTime<Utc>,
    /// `pending` (the link works) or `expired` (invite again to send a new one).
    #[schema(example = "pending")]
    pub status: &'static str,
}

/// `POST /api/v1/auth/invitation/accept` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AcceptInvitationRequest {
    /// The token from the e-mailed link.
    pub token: String,
    /// The password they choose (at least 12 characters).
    pub password: String,
}

impl std::fmt::Debug for AcceptInvitationRequest {
    // Both fields are credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptInvitationRequest")
            .finish_non_exhaustive()
    }
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

type InvitationRow = (Uuid, String, String, DateTime<Utc>, DateTime<Utc>);

fn invitation(
    (id, email, role, created_at, expires_at): InvitationRow,
) -> Result<Invitation, ApiError> {
    Ok(Invitation {
        id,
        email,
        role: role.parse().map_err(ApiError::internal)?,
        created_at,
        expires_at,
        status: if expires_at > Utc::now() {
            "pending"
        } else {
            "expired"
        },
    })
}

/// Invites an agent by e-mail: queues the e-mail with a set-password link (48 h, once), in
/// the tenant's language. Inviting the same e-mail again replaces its pending invitation
/// (the old link stops working). 409 `email_taken` when an account has the e-mail, 422
/// `invalid_email`, 422 `invalid_role` for any role but `agent`.
#[utoipa::path(
    post,
    path = "/api/v1/users/invitations",
    operation_id = "invite_user",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body = InvitationRequest,
    responses(
        (status = 201, description = "Invited; the e-mail is queued", body = Invitation),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "An account has this e-mail (`email_taken`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "inviting a user for a tenant owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn invite(
    State(state): State<UsersState>,
    owner: RequireTenantOwner,
    trail: Trail,
    ApiJson(body): ApiJson<InvitationRequest>,
) -> Result<(StatusCode, Json<Invitation>), ApiError> {
    let result = invite_as(&state, owner, body).await;
    let entry = Action::InviteUser
        .on("invitation", "")
        .tenant(owner.tenant_id)
        .note("agent");
    let entry = match &result {
        Ok((_, invitation)) => entry.target_id(invitation.id),
        Err(_) => entry,
    };
    trail.record(entry, result).await
}

async fn invite_as(
    state: &UsersState,
    owner: RequireTenantOwner,
    body: InvitationRequest,
) -> Result<(StatusCode, Json<Invitation>), ApiError> {
    let role = body.role.unwrap_or(Role::Agent);
    if role != Role::Agent {
        return Err(ApiError::Unprocessable {
            code: "invalid_role",
            message: "an owner can invite agents only".into(),
            details: None,
        });
    }
    let address = email::normalize(&body.email);
    if !email::is_plausible(&address) {
        return Err(UserError::InvalidEmail(address).into());
    }
    let tenant = crate::tenants::registered_tenant(&state.bus, owner.tenant_id).await?;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = digest(&token);
    let ttl = chrono::Duration::from_std(INVITATION_TTL).unwrap_or(chrono::Duration::hours(48));
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    let taken: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
        .bind(&address)
        .fetch_one(&mut *tx)
        .await
        .map_err(ApiError::internal)?;
    if taken {
        return Err(UserError::EmailTaken.into());
    }
    // One working link per invitee: a new invitation replaces the pending one.
    sqlx::query(
        "UPDATE user_invitations SET revoked_at = now()
          WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(owner.tenant_id)
    .bind(&address)
    .execute(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    let row: InvitationRow = sqlx::query_as(
        "INSERT INTO user_invitations (id, tenant_id, email, role, token_hash, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, email, role, created_at, expires_at",
    )
    .bind(Uuid::now_v7())
    .bind(owner.tenant_id)
    .bind(&address)
    .bind(role.as_str())
    .bind(&hash)
    .bind(owner.user.id)
    .bind(Utc::now() + ttl)
    .fetch_one(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    let locale = mailer::tenant_locale(&mut tx, owner.tenant_id)
        .await
        .map_err(ApiError::internal)?;
    let mail = NewMail {
        // The token's hash names the invitation: one mail per token, and the key reveals
        // nothing usable.
        idempotency_key: format!("invitation:{}", hex_prefix(&hash)),
        to: address.clone(),
        locale,
        template: Template::Invitation {
            tenant_name: tenant.name().to_owned(),
            login_email: address,
            accept_url: state
                .public_url
                .link(&format!("/set-password?token={token}")),
            valid_hours: u32::try_from(INVITATION_TTL.as_secs() / 3600).unwrap_or(48),
        },
    };
    mailer::enqueue(&mut tx, &mail)
        .await
        .map_err(ApiError::internal)?;
    tx.commit().await.map_err(ApiError::internal)?;
    let invitation = invitation(row)?;
    tracing::info!(invitation_id = %invitation.id, "an invitation was queued");
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// The tenant's invitations not yet accepted nor revoked (expired ones included, marked),
/// newest first.
#[utoipa::path(
    get,
    path = "/api/v1/users/invitations",
    operation_id = "list_invitations",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pending and expired invitations", body = Vec<Invitation>),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing a tenant's invitations for its owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn list(
    State(state): State<UsersState>,
    owner: RequireTenantOwner,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    let rows: Vec<InvitationRow> = sqlx::query_as(
        "SELECT id, email, role, created_at, expires_at FROM user_invitations
          WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL
          ORDER BY created_at DESC, id DESC",
    )
    .bind(owner.tenant_id)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    rows.into_iter()
        .map(invitation)
        .collect::<Result<_, _>>()
        .map(Json)
}

/// Revokes a pending invitation: its link stops working. 404 `invitation_not_found` for
/// anything but a pending invitation of the caller's tenant.
#[utoipa::path(
    delete,
    path = "/api/v1/users/invitations/{id}",
    operation_id = "revoke_invitation",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The invitation")),
    responses(
        (status = 204, description = "Revoked"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No pending invitation with this id in the caller's tenant (`invitation_not_found`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "revoking an invitation for a tenant owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn revoke(
    State(state): State<UsersState>,
    owner: RequireTenantOwner,
    trail: Trail,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let entry = Action::RevokeInvitation
        .on("invitation", id)
        .tenant(owner.tenant_id);
    trail
        .record(entry, revoke_as(&state, owner, id).await)
        .await
}

async fn revoke_as(
    state: &UsersState,
    owner: RequireTenantOwner,
    id: Uuid,
) -> Result<StatusCode, ApiError> {
    let found = sqlx::query(
        "UPDATE user_invitations SET revoked_at = now()
          WHERE id = $1 AND tenant_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(owner.tenant_id)
    .execute(&state.pool)
    .await
    .map_err(ApiError::internal)?
    .rows_affected();
    if found == 0 {
        return Err(ApiError::NotFound {
            code: "invitation_not_found",
            message: "no pending invitation with this id in your tenant".into(),
        });
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Why an invitation token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvitationTokenError {
    /// No such token.
    #[error("this invitation link is not valid")]
    Unknown,
    /// Already used to create the account.
    #[error("this invitation link was already used; sign in instead")]
    Used,
    /// The owner revoked it (or invited the same e-mail again).
    #[error("this invitation was withdrawn; ask for a new one")]
    Revoked,
    /// Past its 48 hours.
    #[error("this invitation link has expired; ask for a new one")]
    Expired,
}

impl From<InvitationTokenError> for ApiError {
    fn from(e: InvitationTokenError) -> Self {
        ApiError::BadRequest {
            code: match e {
                InvitationTokenError::Unknown => "invalid_invitation_token",
                InvitationTokenError::Used => "invitation_used",
                InvitationTokenError::Revoked => "invitation_revoked",
                InvitationTokenError::Expired => "invitation_expired",
            },
            message: e.to_string(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct StoredInvitation {
    id: Uuid,
    tenant_id: Uuid,
    email: String,
    role: String,
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

fn check(stored: Option<&StoredInvitation>) -> Result<&StoredInvitation, InvitationTokenError> {
    match stored {
        None => Err(InvitationTokenError::Unknown),
        Some(i) if i.accepted_at.is_some() => Err(InvitationTokenError::Used),
        Some(i) if i.revoked_at.is_some() => Err(InvitationTokenError::Revoked),
        Some(i) if i.expires_at <= Utc::now() => Err(InvitationTokenError::Expired),
        Some(i) => Ok(i),
    }
}

/// Creates the invitee's account with the password they chose and spends the token; they
/// sign in with their e-mail and that password next. 400 `invalid_invitation_token`,
/// `invitation_used`, `invitation_revoked` or `invitation_expired`; 422 `weak_password`;
/// 409 `email_taken` when an account got the e-mail meanwhile.
#[utoipa::path(
    post,
    path = "/api/v1/auth/invitation/accept",
    operation_id = "accept_invitation",
    tag = tags::AUTH,
    request_body = AcceptInvitationRequest,
    responses(
        (status = 201, description = "The account, created", body = User),
        (status = 400, description = "Unreadable body, or the token is unknown (`invalid_invitation_token`), used (`invitation_used`), revoked (`invitation_revoked`) or expired (`invitation_expired`)", body = crate::error::ErrorBody),
        (status = 409, description = "An account has the e-mail (`email_taken`)", body = crate::error::ErrorBody),
        (status = 422, description = "The password breaks the policy (`weak_password`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "accepting an invitation", skip_all)]
pub(super) async fn accept(
    State(state): State<UsersState>,
    ApiJson(body): ApiJson<AcceptInvitationRequest>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    password::check_policy(&body.password).map_err(UserError::from)?;
    let hash = digest(&body.token);
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    // FOR UPDATE: two acceptances of one token serialise here; the second finds it used.
    let stored: Option<StoredInvitation> = sqlx::query_as(
        "SELECT id, tenant_id, email, role, expires_at, accepted_at, revoked_at
           FROM user_invitations WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    let invitation = check(stored.as_ref())?;
    let user = super::create_on(
        &mut tx,
        NewUser {
            email: invitation.email.clone(),
            password: body.password,
            role: invitation.role.parse().map_err(ApiError::internal)?,
            tenant_id: Some(invitation.tenant_id),
        },
    )
    .await?;
    sqlx::query("UPDATE user_invitations SET accepted_at = now(), user_id = $2 WHERE id = $1")
        .bind(invitation.id)
        .bind(user.id)
        .execute(&mut *tx)
        .await
        .map_err(ApiError::internal)?;
    tx.commit().await.map_err(ApiError::internal)?;
    tracing::info!(user_id = %user.id, invitation_id = %invitation.id, "an invitation was accepted");
    Ok((StatusCode::CREATED, Json(user)))
}
