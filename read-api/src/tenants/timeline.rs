//! `GET /api/v1/admin/tenants/{id}/timeline`: every event of a tenant, in log order.

use super::TenantsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::page_size;
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Paging of the timeline.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// The `next_cursor` of the previous page (a log position).
    pub cursor: Option<i64>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// One event as stored, the same shape auditors read. Personal fields stay sealed
/// (`{"$pii": "…"}`): the timeline is for operating the tenant, and opening them is what the
/// privacy export is for.
pub type TimelineEvent = crate::audit::AuditEvent;

/// A page of the timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelinePage {
    /// The events, by position.
    #[schema(value_type = Vec<crate::audit::AuditEvent>)]
    pub items: Vec<TimelineEvent>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<i64>,
}

/// The tenant's events: its own aggregate and subscription (both have the tenant's id), any
/// event whose metadata names it, and every aggregate the index attributes to it.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tenants/{id}/timeline",
    operation_id = "tenant_timeline",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant"), TimelineQuery),
    responses(
        (status = 200, description = "A page of the tenant's events", body = TimelinePage),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "reading a tenant's timeline for an admin", skip_all, fields(tenant = %id))]
pub(super) async fn timeline(
    State(state): State<TenantsState>,
    _admin: RequireAdmin,
    Path(id): Path<Uuid>,
    ApiQuery(query): ApiQuery<TimelineQuery>,
) -> Result<Json<TimelinePage>, ApiError> {
    let limit = page_size(query.limit);
    let mut items: Vec<TimelineEvent> = sqlx::query_as(
        "SELECT position, recorded_at, aggregate_type, aggregate_id, sequence, event_type,
                event_version, payload, metadata
           FROM events e
          WHERE e.position > $3
            AND ((e.aggregate_type IN ('tenant', 'subscription') AND e.aggregate_id = $1)
                 OR e.metadata->>'tenant_id' = $1
                 OR EXISTS (SELECT 1 FROM aggregate_index a
                             WHERE a.tenant_id = $2 AND a.aggregate_type = e.aggregate_type
                               AND a.aggregate_id = e.aggregate_id))
          ORDER BY e.position
          LIMIT $4",
    )
    .bind(id.to_string())
    .bind(id)
    .bind(query.cursor.unwrap_or(0))
    .bind(limit + 1)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more.then(|| items.last().map(|e| e.position)).flatten();
    Ok(Json(TimelinePage { items, next_cursor }))
}
