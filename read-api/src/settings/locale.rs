//! `GET`/`PUT /api/v1/settings/locale`: the language the product writes to the tenant in
//! (its e-mails), `pt-BR` or `en`.

use super::SettingsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireTenantOwner};
use aggregates::TenantCommand;
use axum::extract::State;
use axum::Json;
use schemas::Locale;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The tenant's language.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LocaleSetting {
    /// A language tag: `pt-BR` or `en` (any `pt-*` or `en-*` tag is accepted and stored
    /// as one of these).
    #[schema(example = "en")]
    pub locale: String,
}

/// The language in force, read from the tenant aggregate so a change shows at once.
#[utoipa::path(
    get,
    path = "/api/v1/settings/locale",
    operation_id = "show_locale",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The language in force", body = LocaleSetting),
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "The caller's tenant is not registered (`tenant_not_found`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing the tenant's language to an owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn show(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
) -> Result<Json<LocaleSetting>, ApiError> {
    let tenant = crate::tenants::registered_tenant(&state.bus, owner.tenant_id).await?;
    Ok(Json(LocaleSetting {
        locale: tenant.locale().as_str().to_owned(),
    }))
}

/// Chooses the language; 422 `unsupported_locale` for any other.
#[utoipa::path(
    put,
    path = "/api/v1/settings/locale",
    operation_id = "change_locale",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body = LocaleSetting,
    responses(
        (status = 200, description = "The language now in force", body = LocaleSetting),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Conflict,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "changing the tenant's language for an owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn change(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
    request: RequestMeta,
    ApiJson(body): ApiJson<LocaleSetting>,
) -> Result<Json<LocaleSetting>, ApiError> {
    let locale = parse(&body.locale)?;
    let md = command_metadata(&owner.user, owner.tenant_id, request);
    state
        .bus
        .tenants
        .execute(
            &owner.tenant_id.to_string(),
            TenantCommand::ChangeLocale { locale },
            &md,
        )
        .await?;
    Ok(Json(LocaleSetting {
        locale: locale.as_str().to_owned(),
    }))
}

/// A supported language from a request's tag, or 422 naming the field.
pub(crate) fn parse(tag: &str) -> Result<Locale, ApiError> {
    tag.trim()
        .parse::<Locale>()
        .map_err(|e| ApiError::Unprocessable {
            code: "unsupported_locale",
            message: e.to_string(),
            details: Some(json!({"field": "locale"})),
        })
}
