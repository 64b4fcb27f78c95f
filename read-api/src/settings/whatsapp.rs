//! `PUT /api/v1/settings/whatsapp`: linking the tenant's WhatsApp Cloud API number.

use crate::auth::{ApiJson, RequireTenantOwner};
use crate::error::ApiError;
use crate::http::RequestMeta;
use crate::openapi::{responses as r, tags};
use crate::state::AppState;
use crate::tenants::command_metadata;
use aggregates::TenantCommand;
use axum::extract::State;
use axum::Json;
use schemas::Personal;
use serde::{Deserialize, Serialize};

/// The number to link.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LinkNumberRequest {
    /// Meta's id of the number; not blank.
    pub phone_number_id: String,
    /// The number as shown to people (personal data: sealed in the event).
    pub display_phone_number: String,
    /// Meta's access token. Accepted but NOT stored yet: a secret must never enter the
    /// event log, and there is no secret store yet (see `access_token_stored`).
    pub access_token: Option<String>,
}

impl std::fmt::Debug for LinkNumberRequest {
    // The token is a credential: it must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkNumberRequest")
            .field("phone_number_id", &self.phone_number_id)
            .finish_non_exhaustive()
    }
}

/// The linked number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkedNumber {
    /// Meta's id of the number.
    pub phone_number_id: String,
    /// Always `false` for now: access tokens have no secure store yet.
    pub access_token_stored: bool,
}

/// Links the number; 409 `phone_number_taken` when another tenant has it.
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
    State(state): State<AppState>,
    owner: RequireTenantOwner,
    request: RequestMeta,
    ApiJson(body): ApiJson<LinkNumberRequest>,
) -> Result<Json<LinkedNumber>, ApiError> {
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
    if body.access_token.is_some() {
        tracing::warn!("a WhatsApp access token was sent but is not stored: no secret store yet");
    }
    Ok(Json(LinkedNumber {
        phone_number_id,
        access_token_stored: false,
    }))
}
