//! `GET /api/v1/audit/log` (F46): one time-ordered feed of what was done — every event,
//! with the actor, tenant, request id and client address from its metadata — and of what
//! was refused (`rejected_attempts`). An operator's action that no other event records
//! (see [`crate::trail`]) is an `AdminActionRecorded` event: its entry also names the
//! action, its target and how it ended.
//!
//! Ordered by `(at, kind, id)`: an event's `at` is its `recorded_at`, the start of the
//! transaction that wrote it, so an event committed late can appear before the cursor of a
//! page already read; `/api/v1/audit/events` (by position) is the exhaustive view.

use super::AuditState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireAuditor;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use schemas::events::AdminActionEvent;
use schemas::stored::AnyEvent;
use schemas::AggregateKind;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

const MAX_PAGE: i64 = 1000;

/// Which entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// Something done: an event.
    Action,
    /// Something refused: a 401, 403 or 429.
    Rejected,
}

/// Filters and paging; all optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Entries concerning this tenant.
    pub tenant: Option<Uuid>,
    /// Entries of this actor: a user id (or, for actions, any actor id such as a worker's).
    pub actor: Option<String>,
    /// `action` or `rejected`; both when absent.
    #[param(inline)]
    pub kind: Option<LogKind>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<i64>,
}

/// One entry. Actions fill the event fields, rejections the request ones.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LogEntry {
    /// `action` or `rejected`.
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The actor's id: a user id, a worker's name, a provider's.
    pub actor_id: Option<String>,
    /// The actor's e-mail when they are a platform user (admin, super admin, auditor): an
    /// operator's identity is what an audit is about. Tenants' people stay an id here.
    #[sqlx(default)]
    pub actor_email: Option<String>,
    /// For actions: `tenant_user`, `admin`, `auditor`, `system`, `customer` or `provider`; for
    /// rejections: the caller's role, when their token was valid.
    pub actor_kind: Option<String>,
    /// The tenant concerned.
    pub tenant_id: Option<String>,
    /// The HTTP request (or job run) it came from.
    pub request_id: Option<String>,
    /// The HTTP client's address, when it came from one.
    pub client_ip: Option<String>,
    /// Actions: the event's position in the log.
    pub position: Option<i64>,
    /// Actions: the event type.
    pub event_type: Option<String>,
    /// Actions: the aggregate type.
    pub aggregate_type: Option<String>,
    /// Actions: the aggregate id.
    pub aggregate_id: Option<String>,
    /// Rejections: the HTTP method.
    pub method: Option<String>,
    /// Rejections: the path (no query).
    pub path: Option<String>,
    /// Rejections: 401, 403 or 429.
    pub status: Option<i16>,
    /// Rejections: the error code sent.
    pub code: Option<String>,
    /// Rejections: the error message sent.
    pub reason: Option<String>,
    /// Traced operator actions: what was done (e.g. `unblock_ip`, `reset_owner_password`).
    pub action: Option<String>,
    /// Traced operator actions: what sort of thing it was done to (`user`, `ip`, `tenant`…).
    pub target_kind: Option<String>,
    /// Traced operator actions: which one (an id, an address, a consumer's name).
    pub target_id: Option<String>,
    /// Traced operator actions: `done`, `refused` or `failed`.
    pub outcome: Option<String>,
    /// Traced operator actions: the error code of a refusal or failure, or a short note.
    pub detail: Option<String>,
    #[serde(skip)]
    seq: i64,
    /// The stored payload of a traced action, decoded into the fields above.
    #[serde(skip)]
    #[sqlx(default)]
    payload: Option<serde_json::Value>,
    #[serde(skip)]
    #[sqlx(default)]
    event_version: Option<String>,
}

impl LogEntry {
    /// Fills the action fields of a traced operator action from its payload, read through
    /// the typed event.
    fn open_action(&mut self) {
        let (Some(aggregate), Some(event_type), Some(version), Some(payload)) = (
            self.aggregate_type.as_deref(),
            self.event_type.as_deref(),
            self.event_version.as_deref(),
            self.payload.take(),
        ) else {
            return;
        };
        match schemas::stored::decode(aggregate, event_type, version, &payload) {
            Ok(AnyEvent::AdminAction(AdminActionEvent::AdminActionRecorded {
                action,
                target,
                outcome,
                detail,
                ..
            })) => {
                self.action = Some(action);
                self.target_kind = Some(target.kind);
                self.target_id = Some(target.id);
                self.outcome = Some(outcome.as_str().to_owned());
                self.detail = detail;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, position = ?self.position,
                "a traced action in the audit log could not be read"),
        }
    }
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogPage {
    /// Entries, oldest first.
    pub items: Vec<LogEntry>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Where a page ends: `(at, kind, id)` of its last entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    at: DateTime<Utc>,
    kind: String,
    seq: i64,
}

impl Cursor {
    fn encode(&self) -> String {
        format!("{}.{}.{}", self.at.timestamp_micros(), self.kind, self.seq)
    }

    fn decode(s: &str) -> Option<Self> {
        let mut parts = s.splitn(3, '.');
        let at = DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?;
        let kind = parts.next()?;
        if !matches!(kind, "action" | "rejected") {
            return None;
        }
        let seq = parts.next()?.parse().ok()?;
        Some(Self {
            at,
            kind: kind.to_owned(),
            seq,
        })
    }
}

fn unprocessable(code: &'static str, message: String) -> ApiError {
    ApiError::Unprocessable {
        code,
        message,
        details: None,
    }
}

/// Pushes the common filters on `at` and the cursor, for one branch of the union.
fn push_window(
    b: &mut QueryBuilder<'_, Postgres>,
    at: &str,
    kind: &str,
    seq: &str,
    q: &LogQuery,
    cursor: Option<&Cursor>,
) {
    if let Some(from) = q.from {
        b.push(format!(" AND {at} >= ")).push_bind(from);
    }
    if let Some(to) = q.to {
        b.push(format!(" AND {at} < ")).push_bind(to);
    }
    if let Some(c) = cursor {
        b.push(format!(" AND ({at}, '{kind}'::text, {seq}) > ("))
            .push_bind(c.at)
            .push(", ")
            .push_bind(c.kind.clone())
            .push(", ")
            .push_bind(c.seq)
            .push(")");
    }
}

fn select(q: &LogQuery, cursor: Option<&Cursor>, limit: i64) -> QueryBuilder<'static, Postgres> {
    let mut b = QueryBuilder::new("SELECT feed.*, u.email AS actor_email FROM (");
    let actions = q.kind != Some(LogKind::Rejected);
    let rejected = q.kind != Some(LogKind::Action);
    if actions {
        b.push(
            "(SELECT 'action'::text AS kind, e.recorded_at AS at, e.position AS seq,
                     e.metadata->>'actor_id' AS actor_id, e.metadata->>'actor_kind' AS actor_kind,
                     COALESCE(e.metadata->>'tenant_id',
                              CASE WHEN e.aggregate_type IN ('tenant', 'subscription')
                                   THEN e.aggregate_id END) AS tenant_id,
                     e.metadata->>'request_id' AS request_id,
                     e.metadata->>'client_ip' AS client_ip,
                     e.position AS position, e.event_type, e.aggregate_type, e.aggregate_id,
                     NULL::text AS method, NULL::text AS path, NULL::smallint AS status,
                     NULL::text AS code, NULL::text AS reason,
                     NULL::text AS action, NULL::text AS target_kind, NULL::text AS target_id,
                     NULL::text AS outcome, NULL::text AS detail,
                     CASE WHEN e.aggregate_type = ",
        )
        .push_bind(AggregateKind::AdminAction.as_str())
        .push(
            " THEN e.payload END AS payload, e.event_version AS event_version
                FROM events e WHERE true",
        );
        if let Some(t) = q.tenant {
            b.push(" AND (e.metadata->>'tenant_id' = ")
                .push_bind(t.to_string())
                .push(" OR (e.aggregate_type IN ('tenant', 'subscription') AND e.aggregate_id = ")
                .push_bind(t.to_string())
                .push("))");
        }
        if let Some(a) = &q.actor {
            b.push(" AND e.metadata->>'actor_id' = ")
                .push_bind(a.clone());
        }
        push_window(&mut b, "e.recorded_at", "action", "e.position", q, cursor);
        b.push(" ORDER BY e.recorded_at, e.position LIMIT ")
            .push_bind(limit)
            .push(")");
    }
    if actions && rejected {
        b.push(" UNION ALL ");
    }
    if rejected {
        b.push(
            "(SELECT 'rejected'::text AS kind, r.at AS at, r.id AS seq,
                     r.actor_id::text AS actor_id, r.actor_role AS actor_kind,
                     r.tenant_id::text AS tenant_id, r.request_id::text AS request_id,
                     host(r.client_ip) AS client_ip,
                     NULL::bigint AS position, NULL::text AS event_type,
                     NULL::text AS aggregate_type, NULL::text AS aggregate_id,
                     r.method AS method, r.path AS path, r.status AS status, r.code AS code,
                     r.reason AS reason,
                     NULL::text AS action, NULL::text AS target_kind, NULL::text AS target_id,
                     NULL::text AS outcome, NULL::text AS detail,
                     NULL::jsonb AS payload, NULL::text AS event_version
                FROM rejected_attempts r WHERE true",
        );
        if let Some(t) = q.tenant {
            b.push(" AND r.tenant_id = ").push_bind(t);
        }
        if let Some(a) = &q.actor {
            b.push(" AND r.actor_id::text = ").push_bind(a.clone());
        }
        push_window(&mut b, "r.at", "rejected", "r.id", q, cursor);
        b.push(" ORDER BY r.at, r.id LIMIT ")
            .push_bind(limit)
            .push(")");
    }
    b.push(
        ") feed LEFT JOIN users u
              ON u.id = CASE WHEN feed.actor_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             THEN feed.actor_id::uuid END
             AND u.role IN ('admin', 'super_admin', 'auditor')
          ORDER BY feed.at, feed.kind, feed.seq LIMIT ",
    )
    .push_bind(limit);
    b
}

/// The feed, filtered, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit/log",
    operation_id = "read_audit_log",
    tag = tags::AUDITOR,
    security(("bearer" = [])),
    params(LogQuery),
    responses(
        (status = 200, description = "A page of the feed", body = LogPage),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A bad `limit` (`invalid_limit`) or `cursor` (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "reading the audit log for an auditor", skip_all)]
pub async fn log(
    State(state): State<AuditState>,
    _auditor: RequireAuditor,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(unprocessable(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let cursor = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| {
            unprocessable(
                "invalid_cursor",
                "cursor must be a next_cursor this endpoint returned".into(),
            )
        })?),
    };
    // One more than asked tells whether another page follows.
    let mut items: Vec<LogEntry> = select(&q, cursor.as_ref(), limit + 1)
        .build_query_as()
        .fetch_all(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    items.iter_mut().for_each(LogEntry::open_action);
    let next_cursor = more.then(|| items.last()).flatten().map(|e| {
        Cursor {
            at: e.at,
            kind: e.kind.clone(),
            seq: e.seq,
        }
        .encode()
    });
    Ok(Json(LogPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written() {
        let c = Cursor {
            at: DateTime::from_timestamp_micros(1_763_800_000_123_456).unwrap_or_default(),
            kind: "rejected".into(),
            seq: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
    }

    #[test]
    fn a_forged_cursor_is_refused() {
        for bad in ["", "x.action.1", "1.deleted.1", "1.action", "1.action.x"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
