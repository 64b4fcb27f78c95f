//! `GET /api/v1/metrics`: per-day figures of the caller's tenant, and totals over the range.

use super::dates::day_range;
use super::MetricsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireTenantUser;
use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// Days shown when `from` is absent.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest range one request may cover.
pub const MAX_DAYS: i64 = 366;

/// The range of UTC days, both ends included.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today, UTC). At most 366 days in all.
    pub to: Option<String>,
}

/// The figures of a day or of a whole range.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Customer messages received.
    pub inbound_messages: i64,
    /// Answers the AI sent.
    pub ai_replies: i64,
    /// Hand-offs to a human (low confidence or the customer asked for one).
    pub handoffs: i64,
    /// Conversations resolved.
    pub resolved_conversations: i64,
    /// Of those, resolved with no hand-off and no human reply since they (re)opened.
    pub resolved_by_ai: i64,
    /// `resolved_by_ai / resolved_conversations`; null when nothing was resolved.
    pub ai_resolution_rate: Option<f64>,
    /// Median seconds from the customer message that opened a wait to the AI's first reply.
    pub median_ai_first_response_secs: Option<f64>,
    /// Median seconds from the customer message that opened a wait to a human's first reply.
    pub median_human_first_response_secs: Option<f64>,
    /// Median seconds from a hand-off to the first human reply after it.
    pub median_human_response_secs: Option<f64>,
}

/// One UTC day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayMetrics {
    /// The day.
    pub day: NaiveDate,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// Every day of the range (days without activity included, with zeros), and the totals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MetricsReport {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Each day, oldest first.
    pub days: Vec<DayMetrics>,
    /// The whole range; medians are over every sample of the range, not of the days.
    pub totals: Figures,
}

#[derive(sqlx::FromRow)]
struct Row {
    inbound_messages: i64,
    ai_replies: i64,
    handoffs: i64,
    resolved: i64,
    resolved_by_ai: i64,
    ai_first: Option<f64>,
    human_first: Option<f64>,
    human_response: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct DayRow {
    day: NaiveDate,
    #[sqlx(flatten)]
    row: Row,
}

impl From<Row> for Figures {
    fn from(r: Row) -> Self {
        Self {
            inbound_messages: r.inbound_messages,
            ai_replies: r.ai_replies,
            handoffs: r.handoffs,
            resolved_conversations: r.resolved,
            resolved_by_ai: r.resolved_by_ai,
            // Counts of a tenant stay far below 2^53: the conversions are exact.
            ai_resolution_rate: (r.resolved > 0)
                .then(|| r.resolved_by_ai as f64 / r.resolved as f64),
            median_ai_first_response_secs: r.ai_first,
            median_human_first_response_secs: r.human_first,
            median_human_response_secs: r.human_response,
        }
    }
}

const MEDIANS: &str = "
    percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
        FILTER (WHERE kind = 'ai_first_response') AS ai_first,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
        FILTER (WHERE kind = 'human_first_response') AS human_first,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
        FILTER (WHERE kind = 'human_response') AS human_response";

const COUNTS: &str = "
    COALESCE(SUM(inbound_messages), 0)::int8 AS inbound_messages,
    COALESCE(SUM(ai_replies), 0)::int8 AS ai_replies,
    COALESCE(SUM(handoffs), 0)::int8 AS handoffs,
    COALESCE(SUM(resolved), 0)::int8 AS resolved,
    COALESCE(SUM(resolved_by_ai), 0)::int8 AS resolved_by_ai";

async fn per_day(
    pool: &PgPool,
    tenant: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayMetrics>, sqlx::Error> {
    let rows: Vec<DayRow> = sqlx::query_as(&format!(
        "WITH days AS (
             SELECT d::date AS day FROM generate_series($2::date, $3::date, '1 day') AS d),
         samples AS (
             SELECT day, {MEDIANS} FROM metrics_samples
              WHERE tenant_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day)
         SELECT days.day,
                COALESCE(m.inbound_messages, 0) AS inbound_messages,
                COALESCE(m.ai_replies, 0) AS ai_replies,
                COALESCE(m.handoffs, 0) AS handoffs,
                COALESCE(m.resolved, 0) AS resolved,
                COALESCE(m.resolved_by_ai, 0) AS resolved_by_ai,
                s.ai_first, s.human_first, s.human_response
           FROM days
           LEFT JOIN metrics_daily m ON m.tenant_id = $1 AND m.day = days.day
           LEFT JOIN samples s ON s.day = days.day
          ORDER BY days.day"
    ))
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DayMetrics {
            day: r.day,
            figures: r.row.into(),
        })
        .collect())
}

async fn totals(
    pool: &PgPool,
    tenant: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Figures, sqlx::Error> {
    let row: Row = sqlx::query_as(&format!(
        "SELECT c.*, s.* FROM
             (SELECT {COUNTS} FROM metrics_daily
               WHERE tenant_id = $1 AND day BETWEEN $2 AND $3) AS c,
             (SELECT {MEDIANS} FROM metrics_samples
               WHERE tenant_id = $1 AND day BETWEEN $2 AND $3) AS s"
    ))
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    Ok(row.into())
}

/// The caller's tenant's figures per UTC day and in total over a range of days.
#[utoipa::path(
    get,
    operation_id = "tenant_metrics",
    path = "/api/v1/metrics",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(MetricsQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "The tenant's figures per UTC day and in total", body = MetricsReport),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A malformed date (`invalid_date`), `from` after `to` (`invalid_range`) or more than 366 days (`range_too_long`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "reading a tenant's metrics", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn metrics(
    State(state): State<MetricsState>,
    user: RequireTenantUser,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<MetricsReport>, ApiError> {
    let (from, to) = day_range(
        query.from.as_deref(),
        query.to.as_deref(),
        DEFAULT_DAYS,
        MAX_DAYS,
    )?;
    let days = per_day(&state.pool, user.tenant_id, from, to)
        .await
        .map_err(ApiError::internal)?;
    let totals = totals(&state.pool, user.tenant_id, from, to)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(MetricsReport {
        from,
        to,
        days,
        totals,
    }))
}
