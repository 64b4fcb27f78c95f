//! `GET /api/v1/admin/payments`: every payment outcome Stripe reported (F26), with what
//! refunds returned of each (issue 18).

use super::BillingState;
use super::{cursor, invalid_cursor};
use crate::error::ApiError;
use crate::metrics::dates::parse_day;
use crate::openapi::{responses as r, tags};
use crate::request::page_size;
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// Filters and paging.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// One tenant.
    pub tenant: Option<Uuid>,
    /// `succeeded` or `failed`.
    pub status: Option<String>,
    /// First UTC day, `YYYY-MM-DD` (inclusive).
    pub from: Option<String>,
    /// Last UTC day, `YYYY-MM-DD` (inclusive).
    pub to: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// One payment outcome.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Payment {
    /// The event that recorded it (a stable id).
    pub position: i64,
    /// The tenant.
    pub tenant_id: Uuid,
    /// The tenant's name, once the reports know it.
    pub tenant_name: Option<String>,
    /// Stripe's invoice (`in_…`).
    pub invoice_id: String,
    /// `succeeded` or `failed`.
    pub status: String,
    /// Amount paid (succeeded payments), in the currency's minor unit.
    pub amount_cents: Option<i64>,
    /// ISO 4217 code, lower case.
    pub currency: Option<String>,
    /// Stripe's attempt count (failed payments).
    pub attempt: Option<i32>,
    /// The end of the period paid for (succeeded payments).
    pub period_end: Option<DateTime<Utc>>,
    /// When.
    pub at: DateTime<Utc>,
    /// What Stripe's recorded refunds returned of it (0 when none).
    pub refunded_cents: i64,
    /// What the payment still brings in: `amount_cents` less `refunded_cents` (succeeded
    /// payments).
    pub net_cents: Option<i64>,
    /// `partial` or `full` once a refund is recorded; absent before.
    pub refund_state: Option<String>,
}

/// A page of payments, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentPage {
    /// The payments.
    pub items: Vec<Payment>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Lists payment outcomes, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/payments",
    operation_id = "admin_list_payments",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(PaymentQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "A page of payments, newest first", body = PaymentPage),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "An unknown status (`invalid_status`), a malformed day (`invalid_date`), from after to (`invalid_range`) or a malformed cursor (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing payments for an admin", skip_all)]
pub(crate) async fn list(
    State(state): State<BillingState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<PaymentQuery>,
) -> Result<Json<PaymentPage>, ApiError> {
    if let Some(status) = query.status.as_deref() {
        if !["succeeded", "failed"].contains(&status) {
            return Err(ApiError::Unprocessable {
                code: "invalid_status",
                message: "status must be succeeded or failed".into(),
                details: Some(json!({"field": "status"})),
            });
        }
    }
    let from = parse_day("from", query.from.as_deref())?;
    let to = parse_day("to", query.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ApiError::Unprocessable {
                code: "invalid_range",
                message: format!("from ({f}) is after to ({t})"),
                details: None,
            });
        }
    }
    let after = query
        .cursor
        .as_deref()
        .map(|c| {
            cursor::decode(c)
                .and_then(|(at, p)| Some((at, p.parse::<i64>().ok()?)))
                .ok_or_else(invalid_cursor)
        })
        .transpose()?;
    let limit = page_size(query.limit);
    let mut items: Vec<Payment> = sqlx::query_as(
        "SELECT p.position, p.tenant_id, r.name AS tenant_name, p.invoice_id, p.status,
                p.amount_cents, p.currency, p.attempt, p.period_end, p.at,
                x.refunded_cents, p.amount_cents - x.refunded_cents AS net_cents,
                CASE WHEN x.refunded_cents = 0 THEN NULL
                     WHEN x.refunded_cents >= p.amount_cents THEN 'full'
                     ELSE 'partial' END AS refund_state
           FROM billing_payments p LEFT JOIN report_tenants r USING (tenant_id)
           -- Refunds return succeeded payments only; a failed attempt of the same
           -- invoice shows none.
           CROSS JOIN LATERAL (
               SELECT COALESCE(sum(f.amount_cents)
                          FILTER (WHERE p.status = 'succeeded'), 0)::bigint AS refunded_cents
                 FROM billing_refunds f
                WHERE f.tenant_id = p.tenant_id AND f.invoice_id = p.invoice_id) x
          WHERE ($1::uuid IS NULL OR p.tenant_id = $1)
            AND ($2::text IS NULL OR p.status = $2)
            AND ($3::timestamptz IS NULL OR p.at >= $3)
            AND ($4::timestamptz IS NULL OR p.at < $4)
            AND ($5::timestamptz IS NULL OR (p.at, p.position) < ($5, $6))
          ORDER BY p.at DESC, p.position DESC LIMIT $7",
    )
    .bind(query.tenant)
    .bind(query.status.as_deref())
    .bind(from.map(day_start))
    .bind(to.and_then(|t| t.succ_opt()).map(day_start))
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit + 1)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = more
        .then(|| {
            items
                .last()
                .map(|p| cursor::encode(p.at, &p.position.to_string()))
        })
        .flatten();
    Ok(Json(PaymentPage { items, next_cursor }))
}
