//! The admin's own workspace: a complimentary tenant owned by the admin, opened in the
//! tenant console without a second sign-in.
//!
//! The admin's session asks for an access token with owner rights for that tenant alone:
//! the token names the admin (so every command records the admin as its actor) and only
//! the workspace's tenant, so no other tenant is reachable with it — the same guard every
//! owner's token passes. Which tenant is the admin's is looked up here, never taken from
//! the request.

use super::ContentState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{AuthUser, RequireAdmin, Role};
use crate::trail::{Action, Trail};
use crate::users;
use aggregates::{SubscriptionCommand, TenantCommand};
use axum::extract::State;
use axum::Json;
use schemas::{Personal, Plan};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The admin's workspace and a token to act in it as its owner.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Workspace {
    /// The workspace's tenant.
    pub tenant_id: Uuid,
    /// Whether this call created it.
    pub created: bool,
    /// An access token with owner rights for this tenant only, naming the admin.
    pub access_token: String,
    /// Seconds until it expires; ask again for a new one.
    pub expires_in: u64,
}

/// The plan a workspace runs on: the fullest (most expensive) one of the catalogue in force,
/// admins' plans and revisions included, retired ones not.
async fn workspace_plan(state: &ContentState) -> Result<Plan, ApiError> {
    let plans = projections::plans::PlanHistory::load(&state.pool, &state.pricing.plans)
        .await
        .map_err(ApiError::internal)?;
    Ok(plans
        .in_force()
        .iter()
        .max_by_key(|p| p.monthly_price_cents)
        .map(|p| Plan::new(p.id.clone()))
        .unwrap_or_else(|| Plan::new("enterprise")))
}

/// Opens the caller's workspace, creating it the first time (a complimentary tenant on the
/// fullest plan, owned by the admin), and returns a token with owner rights for it alone.
#[utoipa::path(
    post,
    path = "/api/v1/admin/workspace",
    operation_id = "open_my_workspace",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The workspace and a token for it", body = Workspace),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin opens their workspace", skip_all, fields(admin = %admin.id))]
pub(super) async fn open(
    State(state): State<ContentState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    request: RequestMeta,
) -> Result<Json<Workspace>, ApiError> {
    let result = open_as(&state, admin, request).await;
    let entry = Action::OpenWorkspace.on("workspace", "");
    let entry = match &result {
        Ok(Json(w)) => entry
            .target_id(w.tenant_id)
            .tenant(w.tenant_id)
            .note(if w.created { "created" } else { "opened" }),
        Err(_) => entry,
    };
    trail.record(entry, result).await
}

async fn open_as(
    state: &ContentState,
    admin: AuthUser,
    request: RequestMeta,
) -> Result<Json<Workspace>, ApiError> {
    let fresh = Uuid::now_v7();
    // Claimed first, so two tabs opening it at once create one tenant.
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO admin_workspaces (admin_id, tenant_id) VALUES ($1, $2)
         ON CONFLICT (admin_id) DO NOTHING RETURNING tenant_id",
    )
    .bind(admin.id)
    .bind(fresh)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let tenant_id = match claimed {
        Some(t) => t,
        None => sqlx::query_scalar("SELECT tenant_id FROM admin_workspaces WHERE admin_id = $1")
            .bind(admin.id)
            .fetch_one(&state.pool)
            .await
            .map_err(ApiError::internal)?,
    };
    let created = claimed.is_some();
    let (tenant, _) = state.bus.tenants.load(&tenant_id.to_string()).await?;
    if tenant.tenant_id().is_none() {
        register(state, admin, tenant_id, request).await?;
    }
    let token = state
        .auth
        .issue_access_token(&AuthUser {
            id: admin.id,
            role: Role::Owner,
            tenant_id: Some(tenant_id),
        })
        .map_err(ApiError::internal)?;
    Ok(Json(Workspace {
        tenant_id,
        created,
        access_token: token.token,
        expires_in: token.expires_in,
    }))
}

/// Registers the workspace's tenant with a complimentary subscription, recorded as the
/// admin's doing.
async fn register(
    state: &ContentState,
    admin: AuthUser,
    tenant_id: Uuid,
    request: RequestMeta,
) -> Result<(), ApiError> {
    let me = users::find(&state.pool, admin.id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))?;
    let plan = workspace_plan(state).await?;
    let md = command_metadata(&admin, tenant_id, request);
    let id = tenant_id.to_string();
    let name = format!("{} (workspace)", me.email);
    state
        .bus
        .tenants
        .execute(
            &id,
            TenantCommand::RegisterTenant {
                tenant_id,
                name,
                owner_email: Personal::from(me.email),
                plan: plan.clone(),
            },
            &md,
        )
        .await?;
    state
        .bus
        .subscriptions
        .execute(
            &id,
            SubscriptionCommand::StartComplimentary { tenant_id, plan },
            &md,
        )
        .await?;
    tracing::info!(%tenant_id, "an admin's workspace was created");
    Ok(())
}
