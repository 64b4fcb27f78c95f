//! `GET`/`POST /api/v1/users`, `DELETE /api/v1/users/{id}`: an owner manages the agents of
//! their own tenant. Every query is scoped by the caller's tenant.

use super::SettingsState;
use crate::auth::{password, refresh};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::revocations::Subject;
use crate::request::{ApiJson, AuthConfig, RequireTenantOwner, Role};
use crate::trail::{Action, Trail};
use crate::users::{self, CreatedUser, NewUser, User};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// A new agent.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewAgentRequest {
    /// Their e-mail (their login).
    pub email: String,
}

type UserRow = (
    Uuid,
    String,
    String,
    Option<Uuid>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The tenant's users (owners and agents, disabled ones included), oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "list_tenant_users",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant's owners and agents", body = Vec<User>),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing a tenant's users for its owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn list(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
) -> Result<Json<Vec<User>>, ApiError> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "SELECT id, email, role, tenant_id, created_at, disabled_at FROM users
          WHERE tenant_id = $1 ORDER BY created_at, id",
    )
    .bind(owner.tenant_id)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    rows.into_iter()
        .map(|(id, email, role, tenant_id, created_at, disabled_at)| {
            Ok(User {
                id,
                email,
                role: role.parse().map_err(ApiError::internal)?,
                tenant_id,
                created_at,
                disabled_at,
            })
        })
        .collect::<Result<_, ApiError>>()
        .map(Json)
}

/// Creates an agent of the caller's tenant; the generated password is in the response,
/// once.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "create_agent",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body = NewAgentRequest,
    responses(
        (status = 201, description = "The agent; the password is shown this once", body = CreatedUser),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "The e-mail is taken (`email_taken`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "creating an agent for a tenant owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn create(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
    trail: Trail,
    ApiJson(body): ApiJson<NewAgentRequest>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let password = password::generate();
    let result = users::create(
        &state.pool,
        NewUser {
            email: body.email,
            password: password.clone(),
            role: Role::Agent,
            tenant_id: Some(owner.tenant_id),
        },
    )
    .await
    .map_err(ApiError::from);
    let entry = Action::CreateAgent
        .on("user", "")
        .tenant(owner.tenant_id)
        .note("agent");
    let entry = match &result {
        Ok(user) => entry.target_id(user.id),
        Err(_) => entry,
    };
    let user = trail.record(entry, result).await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { user, password })))
}

/// Disables an agent of the caller's tenant and ends their sessions; their access token is
/// refused from the next request (see [`crate::request::revocations`]). The row is kept: it is who did
/// what in the audit trail. 404 for anyone who is not an agent of this tenant, so other
/// tenants' users cannot even be probed.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    operation_id = "disable_agent",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The agent")),
    responses(
        (status = 204, description = "Disabled; their sessions ended"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such agent in the caller's tenant (`user_not_found`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "disabling an agent for a tenant owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn disable(
    State(state): State<SettingsState>,
    State(auth): State<AuthConfig>,
    owner: RequireTenantOwner,
    trail: Trail,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let entry = Action::DisableAgent.on("user", id).tenant(owner.tenant_id);
    let result = disable_as(&state, owner, id).await;
    if result.is_ok() {
        auth.revocations().mark(Subject::User(id), true);
    }
    trail.record(entry, result).await
}

async fn disable_as(
    state: &SettingsState,
    owner: RequireTenantOwner,
    id: Uuid,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    let found = sqlx::query(
        "UPDATE users SET disabled_at = COALESCE(disabled_at, now())
          WHERE id = $1 AND tenant_id = $2 AND role = 'agent'",
    )
    .bind(id)
    .bind(owner.tenant_id)
    .execute(&mut *tx)
    .await
    .map_err(ApiError::internal)?
    .rows_affected();
    if found == 0 {
        return Err(ApiError::NotFound {
            code: "user_not_found",
            message: "no such agent in your tenant".into(),
        });
    }
    refresh::revoke_user(&mut tx, id)
        .await
        .map_err(ApiError::internal)?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}
