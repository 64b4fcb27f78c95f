//! `GET`/`PUT /api/v1/settings/whatsapp`: the tenant's WhatsApp channel — the linked Cloud
//! API number (an event), and the channel settings kept outside events because they hold
//! credentials: the tenant's access token and Evolution API key (stored sealed, never
//! returned), the template sent outside the 24 h window, and the Evolution webhook address.

use super::SettingsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireTenantOwner};
use aggregates::TenantCommand;
use axum::extract::State;
use axum::Json;
use commands::whatsapp::{Channel, ChannelUpdate, Provider};
use schemas::Personal;
use serde::{Deserialize, Serialize};

/// The number to link, and the channel settings to change (absent fields are kept; an
/// empty string clears one).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LinkNumberRequest {
    /// Meta's id of the number; not blank.
    pub phone_number_id: String,
    /// The number as shown to people (personal data: sealed in the event).
    pub display_phone_number: String,
    /// The tenant's own Cloud API access token; overrides the platform's `WHATSAPP_TOKEN`.
    /// Stored sealed, never returned.
    pub access_token: Option<String>,
    /// `cloud_api` (default) or `evolution`.
    #[schema(value_type = Option<String>, example = "cloud_api")]
    pub provider: Option<Provider>,
    /// The approved template sent when the 24 h customer window is closed.
    pub template_name: Option<String>,
    /// Its language code, e.g. `pt_BR`.
    pub template_language: Option<String>,
    /// The Evolution API's base URL (for `evolution`).
    pub evolution_url: Option<String>,
    /// The Evolution instance name.
    pub evolution_instance: Option<String>,
    /// The Evolution API key; stored sealed, never returned.
    pub evolution_api_key: Option<String>,
}

impl std::fmt::Debug for LinkNumberRequest {
    // The token is a credential: it must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkNumberRequest")
            .field("phone_number_id", &self.phone_number_id)
            .finish_non_exhaustive()
    }
}

/// The channel as the owner sees it: credentials only as "set".
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkedNumber {
    /// Meta's id of the linked number, if one is linked.
    pub phone_number_id: Option<String>,
    /// Whether the tenant's own access token is stored.
    pub access_token_stored: bool,
    /// `cloud_api` or `evolution`.
    #[schema(value_type = String)]
    pub provider: Provider,
    /// The template sent outside the 24 h window.
    pub template_name: Option<String>,
    /// Its language code.
    pub template_language: Option<String>,
    /// The Evolution API's base URL.
    pub evolution_url: Option<String>,
    /// The Evolution instance.
    pub evolution_instance: Option<String>,
    /// Whether an Evolution API key is stored.
    pub evolution_api_key_stored: bool,
    /// Where Evolution must post its webhooks: `/webhooks/evolution/<secret>` (the secret
    /// is this tenant's; keep it private).
    pub evolution_webhook_path: String,
}

fn view(phone_number_id: Option<String>, c: &Channel) -> LinkedNumber {
    LinkedNumber {
        phone_number_id,
        access_token_stored: c.has_access_token(),
        provider: c.provider,
        template_name: c.template_name.clone(),
        template_language: c.template_language.clone(),
        evolution_url: c.evolution_url.clone(),
        evolution_instance: c.evolution_instance.clone(),
        evolution_api_key_stored: c.has_evolution_api_key(),
        evolution_webhook_path: format!("/webhooks/evolution/{}", c.webhook_secret),
    }
}

/// The channel; its webhook secret is generated on first read.
#[utoipa::path(
    get,
    path = "/api/v1/settings/whatsapp",
    operation_id = "show_whatsapp_settings",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The channel", body = LinkedNumber),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing the WhatsApp settings to an owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn show(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
) -> Result<Json<LinkedNumber>, ApiError> {
    let (tenant, _) = state.bus.tenants.load(&owner.tenant_id.to_string()).await?;
    let channel = state.whatsapp.channels.ensure(owner.tenant_id).await?;
    Ok(Json(view(
        tenant.phone_number_id().map(str::to_owned),
        &channel,
    )))
}

/// Links the number and applies the channel settings; 409 `phone_number_taken` when
/// another tenant has the number, 422 `incomplete_template` when only one of the template's
/// name and language is set.
#[utoipa::path(
    put,
    path = "/api/v1/settings/whatsapp",
    operation_id = "link_whatsapp_number",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body = LinkNumberRequest,
    responses(
        (status = 200, description = "Linked", body = LinkedNumber),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "Another tenant has this number (`phone_number_taken`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "linking a WhatsApp number for an owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn link(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
    request: RequestMeta,
    ApiJson(body): ApiJson<LinkNumberRequest>,
) -> Result<Json<LinkedNumber>, ApiError> {
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    if body.template_name.is_some() != body.template_language.is_some()
        || (body.template_name.is_some()
            && blank(&body.template_name) != blank(&body.template_language))
    {
        return Err(ApiError::Unprocessable {
            code: "incomplete_template",
            message: "template_name and template_language go together".into(),
            details: None,
        });
    }
    let md = command_metadata(&owner.user, owner.tenant_id, request);
    let phone_number_id = body.phone_number_id.trim().to_owned();
    let command = TenantCommand::LinkWhatsAppNumber {
        phone_number_id: phone_number_id.clone(),
        display_phone_number: Personal::from(body.display_phone_number),
    };
    state
        .bus
        .tenants
        .execute(&owner.tenant_id.to_string(), command, &md)
        .await?;
    let update = ChannelUpdate {
        provider: body.provider,
        access_token: body.access_token,
        template_name: body.template_name,
        template_language: body.template_language,
        evolution_url: body.evolution_url,
        evolution_instance: body.evolution_instance,
        evolution_api_key: body.evolution_api_key,
    };
    let channel = state
        .whatsapp
        .channels
        .update(owner.tenant_id, update)
        .await?;
    Ok(Json(view(Some(phone_number_id), &channel)))
}
