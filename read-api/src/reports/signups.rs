//! New and cancelled tenants per day, week or month.

use super::ReportsState;
use crate::error::ApiError;
use crate::metrics::dates::day_range;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The size of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// UTC days.
    Day,
    /// ISO weeks, from Monday.
    Week,
    /// Calendar months.
    Month,
}

impl Granularity {
    fn parse(s: Option<&str>) -> Result<Self, ApiError> {
        match s.map(str::trim).unwrap_or("day") {
            "day" | "" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            other => Err(ApiError::Unprocessable {
                code: "invalid_granularity",
                message: format!("granularity must be day, week or month, not {other:?}"),
                details: Some(json!({ "field": "granularity" })),
            }),
        }
    }

    /// PostgreSQL's `date_trunc` field.
    fn field(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// Days shown by default, and the most allowed (about 366 buckets).
    fn days(self) -> (i64, i64) {
        match self {
            Self::Day => (30, 366),
            Self::Week => (12 * 7, 366 * 7),
            Self::Month => (365, 366 * 31),
        }
    }
}

/// Bucket size and range.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignupsQuery {
    /// `day` (default), `week` or `month`.
    pub granularity: Option<String>,
    /// First day counted, `YYYY-MM-DD` (default: 30 days, 12 weeks or 365 days before `to`).
    pub from: Option<String>,
    /// Last day counted, `YYYY-MM-DD` (default: today, UTC).
    pub to: Option<String>,
}

/// One bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SignupBucket {
    /// The first day of the bucket (it may begin before `from`; only days from `from` on
    /// are counted).
    pub start: NaiveDate,
    /// Tenants registered.
    pub new_tenants: i64,
    /// Tenants whose subscription was cancelled.
    pub cancelled_tenants: i64,
}

/// New and cancelled tenants per bucket, every bucket of the range listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignupsReport {
    /// The bucket size.
    pub granularity: Granularity,
    /// First day counted.
    pub from: NaiveDate,
    /// Last day counted.
    pub to: NaiveDate,
    /// Oldest first.
    pub buckets: Vec<SignupBucket>,
}

/// New and cancelled tenants per day, week or month.
#[utoipa::path(
    get,
    operation_id = "report_signups",
    path = "/api/v1/admin/reports/signups",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(SignupsQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "New and cancelled tenants per bucket", body = SignupsReport),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "An unknown granularity (`invalid_granularity`), a malformed date (`invalid_date`), `from` after `to` (`invalid_range`) or too long a range (`range_too_long`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "counting new and cancelled tenants", skip_all)]
pub(crate) async fn signups(
    State(state): State<ReportsState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<SignupsQuery>,
) -> Result<Json<SignupsReport>, ApiError> {
    let granularity = Granularity::parse(query.granularity.as_deref())?;
    let (default_days, max_days) = granularity.days();
    let (from, to) = day_range(
        query.from.as_deref(),
        query.to.as_deref(),
        default_days,
        max_days,
    )?;
    let buckets: Vec<SignupBucket> = sqlx::query_as(
        "WITH buckets AS (
             SELECT b::date AS start
               FROM generate_series(date_trunc($1, $2::date::timestamp), $3::date::timestamp,
                                    ('1 ' || $1)::interval) AS b),
         registered AS (
             SELECT date_trunc($1, registered_at AT TIME ZONE 'UTC')::date AS start,
                    count(*) AS n
               FROM report_tenants
              WHERE (registered_at AT TIME ZONE 'UTC')::date BETWEEN $2 AND $3
              GROUP BY 1),
         cancelled AS (
             SELECT date_trunc($1, cancelled_at AT TIME ZONE 'UTC')::date AS start,
                    count(*) AS n
               FROM report_subscriptions
              WHERE (cancelled_at AT TIME ZONE 'UTC')::date BETWEEN $2 AND $3
              GROUP BY 1)
         SELECT buckets.start, COALESCE(registered.n, 0) AS new_tenants,
                COALESCE(cancelled.n, 0) AS cancelled_tenants
           FROM buckets
           LEFT JOIN registered USING (start)
           LEFT JOIN cancelled USING (start)
          ORDER BY buckets.start",
    )
    .bind(granularity.field())
    .bind(from)
    .bind(to)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(SignupsReport {
        granularity,
        from,
        to,
        buckets,
    }))
}
