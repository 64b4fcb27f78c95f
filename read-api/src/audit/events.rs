//! `GET /api/v1/audit/events`: the stored log, filtered, cursor-paginated or streamed whole as
//! NDJSON. Payloads are shown as stored: personal fields stay sealed (`{"$pii": …}`), because
//! reading the log must not be a way around erasure or retention.

use super::AuditState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireAuditor;
use crate::trail::{Action, Trail};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};

const NDJSON: &str = "application/x-ndjson";
const MAX_PAGE: i64 = 1000;

/// Filters; all optional.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Events of this tenant (its own aggregate, or commands issued for it).
    pub tenant_id: Option<uuid::Uuid>,
    /// `tenant`, `subscription`, `conversation`, `ticket` or `platform_content`.
    pub aggregate_type: Option<String>,
    /// One aggregate.
    pub aggregate_id: Option<String>,
    /// One event type.
    pub event_type: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
    /// Positions after this one (the previous page's `next_cursor`).
    pub cursor: Option<i64>,
    /// Page size, 1–1000 (default 100); ignored when streaming NDJSON.
    pub limit: Option<i64>,
}

/// One stored event.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEvent {
    /// Global position.
    pub position: i64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Sequence within the aggregate.
    pub sequence: i64,
    /// Event type.
    pub event_type: String,
    /// Payload version.
    pub event_version: String,
    /// Payload as stored.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Command metadata: actor, tenant, request, correlation and causation ids, client IP.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// A page of events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// Events in position order.
    pub items: Vec<AuditEvent>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<i64>,
}

fn select(q: &EventQuery) -> Result<QueryBuilder<'_, Postgres>, ApiError> {
    if let Some(t) = &q.aggregate_type {
        if schemas::AggregateKind::parse(t).is_none() {
            return Err(ApiError::Unprocessable {
                code: "unknown_aggregate_type",
                message: format!(
                    "aggregate_type must be one of {}, not {t:?}",
                    schemas::AggregateKind::ALL.map(|k| k.as_str()).join(", ")
                ),
                details: None,
            });
        }
    }
    let mut b = QueryBuilder::new(
        "SELECT position, recorded_at, aggregate_type, aggregate_id, sequence, event_type,
                event_version, payload, metadata FROM events WHERE position > ",
    );
    b.push_bind(q.cursor.unwrap_or(0));
    if let Some(t) = q.tenant_id {
        b.push(" AND (metadata->>'tenant_id' = ")
            .push_bind(t.to_string())
            .push(" OR (aggregate_type = 'tenant' AND aggregate_id = ")
            .push_bind(t.to_string())
            .push("))");
    }
    if let Some(v) = &q.aggregate_type {
        b.push(" AND aggregate_type = ").push_bind(v);
    }
    if let Some(v) = &q.aggregate_id {
        b.push(" AND aggregate_id = ").push_bind(v);
    }
    if let Some(v) = &q.event_type {
        b.push(" AND event_type = ").push_bind(v);
    }
    if let Some(v) = q.from {
        b.push(" AND recorded_at >= ").push_bind(v);
    }
    if let Some(v) = q.to {
        b.push(" AND recorded_at < ").push_bind(v);
    }
    b.push(" ORDER BY position");
    Ok(b)
}

/// Lists (or, with `Accept: application/x-ndjson`, streams) the matching events.
#[utoipa::path(
    get,
    path = "/api/v1/audit/events",
    operation_id = "list_audit_events",
    tag = tags::AUDITOR,
    security(("bearer" = [])),
    params(EventQuery),
    responses(
        (status = 200, description = "A page of events; with `Accept: application/x-ndjson` the whole selection, one event per line, as a download (`Content-Disposition: attachment`)", content(
            (EventPage = "application/json"),
            (AuditEvent = "application/x-ndjson"),
        )),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "reading the event log for an auditor", skip_all)]
pub async fn events(
    State(state): State<AuditState>,
    _auditor: RequireAuditor,
    trail: Trail,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Response, ApiError> {
    let wants_ndjson = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(NDJSON));
    if wants_ndjson {
        // A download is an export: traced before the first line leaves.
        let entry = Action::DownloadAuditEvents.on("event_log", selection(&q));
        let entry = match q.tenant_id {
            Some(t) => entry.tenant(t),
            None => entry,
        };
        let result = stream(state, q);
        return trail.record(entry, result).await;
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Unprocessable {
            code: "invalid_limit",
            message: format!("limit must be between 1 and {MAX_PAGE}"),
            details: None,
        });
    }
    let mut b = select(&q)?;
    b.push(" LIMIT ").push_bind(limit + 1);
    let mut items: Vec<AuditEvent> = b
        .build_query_as()
        .fetch_all(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| e.position)
    } else {
        None
    };
    Ok(Json(EventPage { items, next_cursor }).into_response())
}

/// The filters of a download, as the trace names its target (`*` for the whole log).
fn selection(q: &EventQuery) -> String {
    let mut parts = Vec::new();
    let mut add = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            parts.push(format!("{name}={v}"));
        }
    };
    add("tenant_id", q.tenant_id.map(|t| t.to_string()));
    add("aggregate_type", q.aggregate_type.clone());
    add("aggregate_id", q.aggregate_id.clone());
    add("event_type", q.event_type.clone());
    add("from", q.from.map(|t| t.to_rfc3339()));
    add("to", q.to.map(|t| t.to_rfc3339()));
    add("cursor", q.cursor.map(|c| c.to_string()));
    if parts.is_empty() {
        "*".to_owned()
    } else {
        parts.join("&")
    }
}

/// Streams the whole selection, one JSON event per line, without holding it in memory.
fn stream(state: AuditState, q: EventQuery) -> Result<Response, ApiError> {
    // Validate before the response starts: errors cannot be reported mid-stream.
    drop(select(&q)?);
    let body = async_stream(state, q);
    let mut resp = Response::new(Body::from_stream(body));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    // A browser (or `curl -OJ`) saves the selection under a name that says what it is.
    resp.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"events.ndjson\""),
    );
    Ok(resp)
}

fn async_stream(
    state: AuditState,
    q: EventQuery,
) -> impl futures::Stream<Item = Result<Vec<u8>, sqlx::Error>> + Send {
    // Keyset pages keep each query short and the memory bounded.
    futures::stream::unfold(Some(q), move |q| {
        let pool = state.pool.clone();
        async move {
            let mut q = q?;
            let mut b = select(&q).ok()?;
            b.push(" LIMIT ").push_bind(MAX_PAGE);
            let page: Result<Vec<AuditEvent>, _> = b.build_query_as().fetch_all(&pool).await;
            match page {
                Err(e) => Some((Err(e), None)),
                Ok(items) if items.is_empty() => None,
                Ok(items) => {
                    let mut out = Vec::new();
                    for e in &items {
                        if serde_json::to_writer(&mut out, e).is_ok() {
                            out.push(b'\n');
                        }
                    }
                    q.cursor = items.last().map(|e| e.position);
                    Some((Ok(out), Some(q)))
                }
            }
        }
    })
    .boxed()
}

/// One event type the log can hold, with the aggregate type it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventTypeItem {
    /// The `aggregate_type` its events are stored under.
    pub aggregate_type: String,
    /// The stored `event_type`.
    pub event_type: String,
}

/// Every event type this build knows, by aggregate: the choices of the event log's filters.
#[utoipa::path(
    get,
    path = "/api/v1/audit/event-types",
    operation_id = "list_event_types",
    tag = tags::AUDITOR,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every event type, grouped by aggregate type", body = Vec<EventTypeItem>),
        r::Unauthorized,
        r::Forbidden,
    )
)]
#[tracing::instrument(name = "listing the event types for an auditor", skip_all)]
pub async fn event_types(_auditor: RequireAuditor) -> Json<Vec<EventTypeItem>> {
    let mut items: Vec<EventTypeItem> = schemas::EventType::ALL
        .iter()
        .map(|t| EventTypeItem {
            aggregate_type: t.aggregate().as_str().to_owned(),
            event_type: t.as_str().to_owned(),
        })
        .collect();
    items.sort_by(|a, b| {
        (&a.aggregate_type, &a.event_type).cmp(&(&b.aggregate_type, &b.event_type))
    });
    Json(items)
}
