//! `GET`/`PUT /api/v1/settings/bot` (F17).

use crate::auth::{ApiJson, RequireTenantOwner};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenants::command_metadata;
use aggregates::TenantCommand;
use axum::extract::State;
use axum::{Extension, Json};
use schemas::events::BotSettings;
use tower_http::request_id::RequestId;

/// The settings in force, read from the tenant aggregate itself so a change is visible at
/// once (no read model lags behind).
#[tracing::instrument(name = "showing the bot settings to an owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn show(
    State(state): State<AppState>,
    owner: RequireTenantOwner,
) -> Result<Json<BotSettings>, ApiError> {
    let (tenant, _) = state.bus.tenants.load(&owner.tenant_id.to_string()).await?;
    if !tenant.is_registered() {
        return Err(ApiError::NotFound {
            code: "tenant_not_found",
            message: "your tenant is not registered".into(),
        });
    }
    Ok(Json(tenant.settings().clone()))
}

/// Replaces the settings as a whole; 422 `invalid_confidence_threshold` outside 0..=1.
#[tracing::instrument(name = "changing the bot settings for an owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn change(
    State(state): State<AppState>,
    owner: RequireTenantOwner,
    request_id: Option<Extension<RequestId>>,
    ApiJson(body): ApiJson<BotSettings>,
) -> Result<Json<BotSettings>, ApiError> {
    let md = command_metadata(&owner.user, owner.tenant_id, request_id);
    let command = TenantCommand::ChangeBotSettings {
        greeting: body.greeting.clone(),
        fallback_message: body.fallback_message.clone(),
        waiting_message: body.waiting_message.clone(),
        return_message: body.return_message.clone(),
        tone: body.tone,
        confidence_threshold: body.confidence_threshold,
    };
    state
        .bus
        .tenants
        .execute(&owner.tenant_id.to_string(), command, &md)
        .await?;
    Ok(Json(body))
}
