//! The tenant directory, read from the `tenant_directory` projection (eventually
//! consistent: a tenant appears shortly after it is registered).

use super::TenantsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::page_size;
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One tenant; no personal data (the owner's e-mail and the number itself are sealed in
/// the events).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DirectoryEntry {
    /// The tenant's id.
    pub tenant_id: Uuid,
    /// The business's name.
    pub name: String,
    /// Its plan.
    pub plan: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Meta's id of its WhatsApp number, once linked.
    pub phone_number_id: Option<String>,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Filters and paging of the directory.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// `active` or `suspended`.
    pub status: Option<String>,
    /// Part of the name, any case.
    pub q: Option<String>,
    /// The plan key, exactly.
    pub plan: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// A page of the directory, ordered by tenant id (registration order: ids are UUIDv7).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DirectoryPage {
    /// The tenants.
    pub items: Vec<DirectoryEntry>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<Uuid>,
}

const COLUMNS: &str = "tenant_id, name, plan, status, phone_number_id, registered_at, updated_at";

/// Escapes LIKE's wildcards so `q` is matched literally.
fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `GET /api/v1/admin/tenants`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tenants",
    operation_id = "list_tenants",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(DirectoryQuery),
    responses(
        (status = 200, description = "A page of the directory", body = DirectoryPage),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing tenants for an admin", skip_all)]
pub(crate) async fn list(
    State(state): State<TenantsState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<DirectoryQuery>,
) -> Result<Json<DirectoryPage>, ApiError> {
    if let Some(status) = query.status.as_deref() {
        if !matches!(status, "active" | "suspended") {
            return Err(ApiError::Unprocessable {
                code: "invalid_status",
                message: "status must be active or suspended".into(),
                details: None,
            });
        }
    }
    let limit = page_size(query.limit);
    let pattern = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(like_pattern);
    let mut items: Vec<DirectoryEntry> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tenant_directory
          WHERE ($1::text IS NULL OR status = $1)
            AND ($2::text IS NULL OR name ILIKE $2)
            AND ($3::uuid IS NULL OR tenant_id > $3)
            AND ($5::text IS NULL OR plan = $5)
          ORDER BY tenant_id
          LIMIT $4"
    ))
    .bind(query.status)
    .bind(pattern)
    .bind(query.cursor)
    // One more than asked tells whether another page follows.
    .bind(limit + 1)
    .bind(
        query
            .plan
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty()),
    )
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more.then(|| items.last().map(|t| t.tenant_id)).flatten();
    Ok(Json(DirectoryPage { items, next_cursor }))
}

/// `GET /api/v1/admin/tenants/{id}`: 404 until the directory knows the tenant.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tenants/{id}",
    operation_id = "show_tenant",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The tenant", body = DirectoryEntry),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing a tenant to an admin", skip_all, fields(tenant = %id))]
pub(super) async fn show(
    State(state): State<TenantsState>,
    _admin: RequireAdmin,
    Path(id): Path<Uuid>,
) -> Result<Json<DirectoryEntry>, ApiError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tenant_directory WHERE tenant_id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?
    .map(Json)
    .ok_or_else(|| ApiError::NotFound {
        code: "tenant_not_found",
        message: "no such tenant".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn wildcards_in_a_search_are_matched_literally() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }
}
