//! `GET`/`PUT /api/v1/settings/bot` (F17).

use super::SettingsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireTenantOwner};
use aggregates::TenantCommand;
use axum::extract::State;
use axum::Json;
use schemas::events::BotSettings;

/// The settings in force, read from the tenant aggregate itself so a change is visible at
/// once (no read model lags behind).
#[utoipa::path(
    get,
    path = "/api/v1/settings/bot",
    operation_id = "show_bot_settings",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings in force", body = BotSettingsDoc),
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "The caller's tenant is not registered (`tenant_not_found`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing the bot settings to an owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn show(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
) -> Result<Json<BotSettings>, ApiError> {
    let tenant = crate::tenants::registered_tenant(&state.bus, owner.tenant_id).await?;
    Ok(Json(tenant.settings().clone()))
}

/// Replaces the settings as a whole; 422 `invalid_confidence_threshold` outside 0..=1.
#[utoipa::path(
    put,
    path = "/api/v1/settings/bot",
    operation_id = "change_bot_settings",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body = BotSettingsDoc,
    responses(
        (status = 200, description = "The settings now in force", body = BotSettingsDoc),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Conflict,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "changing the bot settings for an owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn change(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
    request: RequestMeta,
    ApiJson(body): ApiJson<BotSettings>,
) -> Result<Json<BotSettings>, ApiError> {
    let md = command_metadata(&owner.user, owner.tenant_id, request);
    let command = TenantCommand::ChangeBotSettings {
        greeting: body.greeting,
        fallback_message: body.fallback_message,
        waiting_message: body.waiting_message,
        return_message: body.return_message,
        tone: body.tone,
        confidence_threshold: body.confidence_threshold,
        handoff_keywords: body.handoff_keywords,
    };
    state
        .bus
        .tenants
        .execute(&owner.tenant_id.to_string(), command, &md)
        .await?;
    // The keywords as kept (trimmed, each once), not as sent.
    let tenant = crate::tenants::registered_tenant(&state.bus, owner.tenant_id).await?;
    Ok(Json(tenant.settings().clone()))
}

/// The shape of [`BotSettings`] for the OpenAPI document (the contract lives in `schemas`,
/// which does not depend on utoipa).
#[derive(utoipa::ToSchema)]
#[schema(as = BotSettings)]
#[allow(dead_code)]
pub(super) struct BotSettingsDoc {
    /// Sent at the start of a conversation.
    greeting: String,
    /// Sent when the AI's confidence is below the threshold and a human takes over.
    fallback_message: String,
    /// Sent when the customer asks for a human and waits for one.
    waiting_message: String,
    /// Sent when the AI resumes after 24 h without human activity.
    return_message: String,
    /// The register of the AI's answers.
    #[schema(inline)]
    tone: ToneDoc,
    /// Answers with a confidence below this (0..=1) are handed to a human.
    #[schema(minimum = 0.0, maximum = 1.0)]
    confidence_threshold: f64,
    /// Words or phrases with which a customer asks for a person (at most 30, each at most
    /// 60 characters; trimmed, each kept once); empty or absent: the platform's list.
    #[schema(nullable = false)]
    handoff_keywords: Option<Vec<String>>,
}

/// The register the bot writes in.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub(super) enum ToneDoc {
    /// Polite and neutral.
    Formal,
    /// Friendly and relaxed.
    Casual,
    /// Precise, for technical audiences.
    Technical,
}
