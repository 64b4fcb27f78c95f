//! The admins' notifications (issue 18): `GET /api/v1/admin/notifications` (newest first,
//! with the caller's unread count), `POST /api/v1/admin/notifications/{id}/read` and
//! `POST /api/v1/admin/notifications/read-all`. Read state is each admin's own; marking
//! read changes nothing anyone else sees, so it is no operator action and leaves no trace
//! (see [`crate::trail::OWN_VIEW_OPERATIONS`]). New ones reach a connected console as
//! `notification` events of `GET /api/v1/stream`.

use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{page_size, ApiQuery, RequireAdmin};
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stream::notifications as store;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The part of the application state the notification routes use.
#[derive(Debug, Clone)]
pub struct NotificationsState {
    /// The database pool.
    pub pool: sqlx::PgPool,
}

/// The notification routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    NotificationsState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read_all))
        .routes(routes!(read_one))
}

/// Filters and paging.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only those the caller has not read.
    pub unread: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// One notification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    /// Its id; newer ones have greater ids.
    pub id: i64,
    /// `tenant_registered`, `payment_failed`, `subscription_cancelled`, `quota_reached`,
    /// `ai_spend_threshold_reached`, `ip_blocked`, `event_parked`, `mail_given_up` or
    /// `usage_report_given_up`.
    pub kind: String,
    /// The tenant concerned, if any.
    pub tenant_id: Option<Uuid>,
    /// What it is about: the tenant's name (empty when not known yet), the IP, the
    /// consumer, the mail's subject line, the usage report's identifier.
    pub subject: String,
    /// The kind's particulars: `plan`; `invoice_id`, `attempt`; `reason`; `period_start`,
    /// `used`, `quota`; `until`; `position`, `event_type`, `error`; `mail_id`, `error`;
    /// `error`.
    #[schema(value_type = Object)]
    pub detail: Value,
    /// When the fact happened.
    pub at: DateTime<Utc>,
    /// Whether the caller has read it.
    pub read: bool,
}

/// A page of notifications, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationPage {
    /// The notifications.
    pub items: Vec<Notification>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
    /// How many notifications the caller has not read, in all.
    pub unread: i64,
}

/// What marking read left.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReadResult {
    /// Notifications this call marked read.
    pub marked: u64,
    /// How many the caller still has not read.
    pub unread: i64,
}

/// Up to what `read-all` marks.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadAllQuery {
    /// The newest notification id the caller has seen: newer ones stay unread. All of
    /// them without it.
    pub up_to: Option<i64>,
}

fn invalid_cursor() -> ApiError {
    ApiError::Unprocessable {
        code: "invalid_cursor",
        message: "cursor is not a next_cursor this API returned".into(),
        details: None,
    }
}

/// The notifications, newest first, read or not by the caller, and the caller's unread
/// count.
#[utoipa::path(
    get,
    path = "/api/v1/admin/notifications",
    operation_id = "admin_list_notifications",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "A page of notifications, newest first", body = NotificationPage),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed cursor (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing an admin's notifications", skip_all, fields(admin = %admin.id))]
pub(crate) async fn list(
    State(state): State<NotificationsState>,
    RequireAdmin(admin): RequireAdmin,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let before = query
        .cursor
        .as_deref()
        .map(|c| c.parse::<i64>().map_err(|_| invalid_cursor()))
        .transpose()?;
    let limit = page_size(query.limit);
    let mut rows = store::page(
        &state.pool,
        admin.id,
        before,
        query.unread.unwrap_or(false),
        limit + 1,
    )
    .await
    .map_err(ApiError::internal)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = more
        .then(|| rows.last().map(|n| n.id.to_string()))
        .flatten();
    let unread = store::unread_count(&state.pool, admin.id)
        .await
        .map_err(ApiError::internal)?;
    let items = rows
        .into_iter()
        .map(|n| Notification {
            id: n.id,
            kind: n.kind,
            tenant_id: n.tenant_id,
            subject: n.subject,
            detail: n.detail,
            at: n.at,
            read: n.read,
        })
        .collect();
    Ok(Json(NotificationPage {
        items,
        next_cursor,
        unread,
    }))
}

/// Marks one notification read by the caller (again: no change).
#[utoipa::path(
    post,
    path = "/api/v1/admin/notifications/{id}/read",
    operation_id = "admin_read_notification",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The notification")),
    responses(
        (status = 200, description = "Marked; the caller's unread count now", body = ReadResult),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin reads a notification", skip_all, fields(admin = %admin.id, notification = id))]
pub(crate) async fn read_one(
    State(state): State<NotificationsState>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<i64>,
) -> Result<Json<ReadResult>, ApiError> {
    let unread_before = store::unread_count(&state.pool, admin.id)
        .await
        .map_err(ApiError::internal)?;
    let found = store::mark_read(&state.pool, id, admin.id)
        .await
        .map_err(ApiError::internal)?;
    if !found {
        return Err(ApiError::NotFound {
            code: "notification_not_found",
            message: format!("there is no notification {id}"),
        });
    }
    let unread = store::unread_count(&state.pool, admin.id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(ReadResult {
        marked: u64::try_from(unread_before - unread).unwrap_or(0),
        unread,
    }))
}

/// Marks every notification read by the caller, up to `up_to` if given.
#[utoipa::path(
    post,
    path = "/api/v1/admin/notifications/read-all",
    operation_id = "admin_read_all_notifications",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(ReadAllQuery),
    responses(
        (status = 200, description = "Marked; the caller's unread count now", body = ReadResult),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin reads all notifications", skip_all, fields(admin = %admin.id))]
pub(crate) async fn read_all(
    State(state): State<NotificationsState>,
    RequireAdmin(admin): RequireAdmin,
    ApiQuery(query): ApiQuery<ReadAllQuery>,
) -> Result<Json<ReadResult>, ApiError> {
    let marked = store::mark_all_read(&state.pool, admin.id, query.up_to)
        .await
        .map_err(ApiError::internal)?;
    let unread = store::unread_count(&state.pool, admin.id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(ReadResult { marked, unread }))
}
