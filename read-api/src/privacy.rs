//! LGPD for admins (F65): export everything held about a WhatsApp contact, or erase it.

use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireAdmin};
use crate::trail::{Action, Entry, Trail};
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use commands::privacy::{
    erase_contact, erasures, export_contact, Erasure, ErasureRecord, PrivacyError, SubjectExport,
};
use schemas::CommandMetadata;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The part of the application state the privacy routes use.
#[derive(Debug, Clone)]
pub struct PrivacyState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// Data subjects' keys, to open sealed personal data.
    pub keys: std::sync::Arc<commands::privacy::KeyRing>,
}

/// The privacy routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    PrivacyState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(erase, list_erasures))
        .routes(routes!(export))
}

/// Which contact of which tenant.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubjectQuery {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The contact's WhatsApp id.
    pub contact: String,
}

/// An erasure request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EraseRequest {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The contact's WhatsApp id.
    pub contact: String,
    /// Why (kept in the log).
    pub reason: String,
}

fn privacy_error(e: PrivacyError) -> ApiError {
    match e {
        PrivacyError::UnknownSubject => ApiError::NotFound {
            code: "unknown_subject",
            message: e.to_string(),
        },
        PrivacyError::Command(c) => c.into(),
        other => ApiError::internal(other),
    }
}

/// The trace's target: the contact's conversation, by its id (derived from the tenant and
/// the contact, so it names them without carrying the phone number).
fn subject(action: Action, tenant: Uuid, contact: &str) -> Entry {
    action
        .on("conversation", schemas::conversation_id(tenant, contact))
        .tenant(tenant)
}

fn valid_contact(contact: &str) -> Result<(), ApiError> {
    if contact.trim().is_empty() {
        return Err(ApiError::Unprocessable {
            code: "contact_required",
            message: "contact must be the contact's WhatsApp id".into(),
            details: None,
        });
    }
    Ok(())
}

/// `GET /api/v1/admin/privacy/export?tenant_id=&contact=`: everything held, opened.
#[utoipa::path(
    get,
    path = "/api/v1/admin/privacy/export",
    operation_id = "export_contact_data",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(SubjectQuery),
    responses(
        (status = 200, description = "Everything held about the contact, personal fields opened (erased ones read `[erased]`)", body = crate::openapi::foreign::SubjectExportDoc),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such contact in this tenant (`unknown_subject`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "exporting a contact's data for an admin", skip_all)]
pub async fn export(
    State(state): State<PrivacyState>,
    _admin: RequireAdmin,
    trail: Trail,
    ApiQuery(q): ApiQuery<SubjectQuery>,
) -> Result<Json<SubjectExport>, ApiError> {
    let result = match valid_contact(&q.contact) {
        Ok(()) => export_contact(&state.pool, &state.keys, q.tenant_id, &q.contact)
            .await
            .map(Json)
            .map_err(privacy_error),
        Err(e) => Err(e),
    };
    let entry = subject(Action::ExportContactData, q.tenant_id, &q.contact);
    trail.record(entry, result).await
}

/// `POST /api/v1/admin/privacy/erasures`: destroys the contact's keys and records it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/privacy/erasures",
    operation_id = "erase_contact_data",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased: the contact's keys are destroyed and `SubjectErased` recorded", body = crate::openapi::foreign::ErasureDoc),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such contact in this tenant (`unknown_subject`)", body = crate::error::ErrorBody),
        r::Conflict,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "erasing a contact's data for an admin", skip_all)]
pub async fn erase(
    State(state): State<PrivacyState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    request: RequestMeta,
    ApiJson(body): ApiJson<EraseRequest>,
) -> Result<Json<Erasure>, ApiError> {
    let entry = subject(Action::EraseContactData, body.tenant_id, &body.contact);
    trail
        .record(entry, erase_as(&state, admin, request, body).await)
        .await
}

async fn erase_as(
    state: &PrivacyState,
    admin: crate::request::AuthUser,
    request: RequestMeta,
    body: EraseRequest,
) -> Result<Json<Erasure>, ApiError> {
    valid_contact(&body.contact)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::Unprocessable {
            code: "reason_required",
            message: "an erasure must say why".into(),
            details: None,
        });
    }
    let md = crate::request::request_metadata(
        CommandMetadata::new(admin.actor(), Some(body.tenant_id)),
        request,
    );
    erase_contact(
        &state.bus,
        &state.keys,
        body.tenant_id,
        &body.contact,
        &body.reason,
        &md,
    )
    .await
    .map(Json)
    .map_err(privacy_error)
}

/// Paging through the erasures.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ErasureQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// One recorded erasure. The contact's number went with their keys: the conversation id
/// identifies it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErasureView {
    /// The `SubjectErased` event's position in the log.
    pub position: i64,
    /// The tenant.
    pub tenant_id: Option<Uuid>,
    /// The conversation whose contact was erased.
    pub conversation_id: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who asked (an admin's user id).
    pub actor_id: String,
    /// The HTTP request it came from.
    pub request_id: Uuid,
}

impl From<ErasureRecord> for ErasureView {
    fn from(e: ErasureRecord) -> Self {
        Self {
            position: e.position,
            tenant_id: e.tenant_id,
            conversation_id: e.conversation_id,
            reason: e.reason,
            at: e.at,
            actor_id: e.actor_id,
            request_id: e.request_id,
        }
    }
}

/// A page of erasures, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErasurePage {
    /// The erasures.
    pub items: Vec<ErasureView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/admin/privacy/erasures`: every erasure recorded, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/privacy/erasures",
    operation_id = "list_erasures",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(ErasureQuery),
    responses(
        (status = 200, description = "A page of erasures, newest first", body = ErasurePage),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed cursor (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing erasures for an admin", skip_all)]
pub async fn list_erasures(
    State(state): State<PrivacyState>,
    _admin: RequireAdmin,
    ApiQuery(q): ApiQuery<ErasureQuery>,
) -> Result<Json<ErasurePage>, ApiError> {
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>().map_err(|_| ApiError::Unprocessable {
                code: "invalid_cursor",
                message: "cursor is not a next_cursor this API returned".into(),
                details: None,
            })
        })
        .transpose()?;
    let limit = crate::request::page_size(q.limit);
    let mut items = erasures(&state.pool, before, limit + 1)
        .await
        .map_err(privacy_error)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = more
        .then(|| items.last().map(|e| e.position.to_string()))
        .flatten();
    Ok(Json(ErasurePage {
        items: items.into_iter().map(ErasureView::from).collect(),
        next_cursor,
    }))
}
