//! `GET /api/v1/admin/subscriptions`, and cancelling or reactivating one through Stripe
//! (F26). Stripe's webhook records the outcome (`SubscriptionCancelled`, …): these routes
//! only ask Stripe and answer 202.

use super::BillingState;
use super::{cursor, idempotency_key, invalid_cursor, stripe, stripe_failed};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::page_size;
use crate::request::ApiQuery;
use crate::request::RequireAdmin;
use crate::trail::{Action, Trail};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// Filters and paging.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    /// `trialing`, `active`, `past_due`, `suspended` or `cancelled`.
    pub status: Option<String>,
    /// A plan key.
    pub plan: Option<String>,
    /// One tenant.
    pub tenant: Option<Uuid>,
    /// Tenants whose name contains this (case-insensitive).
    pub q: Option<String>,
    /// Only subscriptions whose cancellation is (`true`) or is not (`false`) scheduled for
    /// the end of the paid period.
    pub cancel_at_period_end: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// A subscription as the admin sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Subscription {
    /// Its tenant (a subscription's id is its tenant's).
    pub tenant_id: Uuid,
    /// The tenant's name, once the reports know it.
    pub tenant_name: Option<String>,
    /// The plan key.
    pub plan: String,
    /// `trialing`, `active`, `past_due`, `suspended` or `cancelled`.
    pub status: String,
    /// Given by an admin, without Stripe.
    pub complimentary: bool,
    /// Stripe's customer (`cus_…`).
    pub stripe_customer_id: Option<String>,
    /// Stripe's subscription (`sub_…`).
    pub stripe_subscription_id: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When its trial ends.
    pub trial_end: Option<DateTime<Utc>>,
    /// The end of the last period paid for.
    pub paid_until: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why.
    pub cancel_reason: Option<String>,
    /// It ends with the paid period (`paid_until`) unless reactivated before.
    pub cancel_at_period_end: bool,
    /// Its last change.
    pub updated_at: DateTime<Utc>,
}

/// A page of subscriptions, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionPage {
    /// The subscriptions.
    pub items: Vec<Subscription>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// How to cancel.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CancelRequest {
    /// Cancel now (`DELETE` at Stripe) instead of at the end of the paid period (the
    /// default, which the tenant can still undo through reactivation).
    #[serde(default)]
    pub immediately: bool,
}

const STATUSES: [&str; 5] = ["trialing", "active", "past_due", "suspended", "cancelled"];

const SELECT: &str = "SELECT s.tenant_id, r.name AS tenant_name, s.plan, s.status,
        s.complimentary, s.stripe_customer_id, s.stripe_subscription_id, s.started_at,
        s.trial_end, s.paid_until, s.cancelled_at, s.cancel_reason, s.cancel_at_period_end,
        s.updated_at
   FROM billing_subscriptions s LEFT JOIN report_tenants r USING (tenant_id)";

/// Lists subscriptions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/subscriptions",
    operation_id = "admin_list_subscriptions",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(SubscriptionQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "A page of subscriptions, newest first", body = SubscriptionPage),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "An unknown status (`invalid_status`) or a malformed cursor (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing subscriptions for an admin", skip_all)]
pub(crate) async fn list(
    State(state): State<BillingState>,
    _admin: RequireAdmin,
    ApiQuery(query): ApiQuery<SubscriptionQuery>,
) -> Result<Json<SubscriptionPage>, ApiError> {
    if let Some(status) = query.status.as_deref() {
        if !STATUSES.contains(&status) {
            return Err(ApiError::Unprocessable {
                code: "invalid_status",
                message: format!("status must be one of {}", STATUSES.join(", ")),
                details: Some(json!({"field": "status"})),
            });
        }
    }
    let after = query
        .cursor
        .as_deref()
        .map(|c| {
            cursor::decode(c)
                .and_then(|(at, id)| Some((at, Uuid::parse_str(&id).ok()?)))
                .ok_or_else(invalid_cursor)
        })
        .transpose()?;
    let limit = page_size(query.limit);
    let name_pattern = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| {
            let escaped = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
    let mut items: Vec<Subscription> = sqlx::query_as(&format!(
        "{SELECT}
          WHERE ($1::text IS NULL OR s.status = $1)
            AND ($2::text IS NULL OR s.plan = $2)
            AND ($3::uuid IS NULL OR s.tenant_id = $3)
            AND ($4::timestamptz IS NULL OR (s.started_at, s.tenant_id) < ($4, $5))
            AND ($7::bool IS NULL OR s.cancel_at_period_end = $7)
            AND ($8::text IS NULL OR r.name ILIKE $8)
          ORDER BY s.started_at DESC, s.tenant_id DESC LIMIT $6"
    ))
    .bind(query.status.as_deref())
    .bind(query.plan.as_deref())
    .bind(query.tenant)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit + 1)
    .bind(query.cancel_at_period_end)
    .bind(name_pattern)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = more
        .then(|| {
            items
                .last()
                .map(|s| cursor::encode(s.started_at, &s.tenant_id.to_string()))
        })
        .flatten();
    Ok(Json(SubscriptionPage { items, next_cursor }))
}

/// The Stripe subscription behind tenant `id`'s subscription, if it can be changed.
async fn stripe_subscription(state: &BillingState, id: Uuid) -> Result<Subscription, ApiError> {
    let sub: Subscription = sqlx::query_as(&format!("{SELECT} WHERE s.tenant_id = $1"))
        .bind(id)
        .fetch_optional(&state.pool)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::NotFound {
            code: "subscription_not_found",
            message: format!("tenant {id} has no subscription"),
        })?;
    if sub.stripe_subscription_id.is_none() {
        return Err(ApiError::Conflict {
            code: "not_a_stripe_subscription",
            message: "this subscription was given by an admin and is not billed by Stripe".into(),
        });
    }
    if sub.status == "cancelled" {
        return Err(ApiError::Conflict {
            code: "subscription_cancelled",
            message: "this subscription is already cancelled; a new checkout is needed".into(),
        });
    }
    Ok(sub)
}

/// Asks Stripe to cancel a subscription (at the period's end unless `immediately`).
#[utoipa::path(
    post,
    path = "/api/v1/admin/subscriptions/{id}/cancel",
    operation_id = "admin_cancel_subscription",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant whose subscription it is")),
    request_body(content = Option<CancelRequest>, description = "Optional; cancels at the period's end by default"),
    responses(
        (status = 202, description = "Stripe accepted; the webhook will record the cancellation"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "Not billed by Stripe (`not_a_stripe_subscription`) or already cancelled (`subscription_cancelled`)", body = crate::error::ErrorBody),
        (status = 503, description = "Billing is not configured (`billing_not_configured`) or Stripe failed", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "cancelling a subscription for an admin", skip_all, fields(tenant = %id))]
pub(super) async fn cancel(
    State(state): State<BillingState>,
    _admin: RequireAdmin,
    trail: Trail,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let request: Result<CancelRequest, ApiError> = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(CancelRequest::default())
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
            code: "invalid_body",
            message: format!("the body is not a cancellation request: {e}"),
        })
    };
    let entry = Action::CancelSubscription.on("subscription", id).tenant(id);
    let entry = match &request {
        Ok(r) if r.immediately => entry.note("immediately"),
        Ok(_) => entry.note("at period end"),
        Err(_) => entry,
    };
    let result = match request {
        Ok(request) => ask_cancel(&state, id, &headers, request).await,
        Err(e) => Err(e),
    };
    trail.record(entry, result).await
}

async fn ask_cancel(
    state: &BillingState,
    id: Uuid,
    headers: &HeaderMap,
    request: CancelRequest,
) -> Result<StatusCode, ApiError> {
    let key = idempotency_key(headers)?;
    let sub = stripe_subscription(state, id).await?;
    let stripe = stripe(state)?;
    let stripe_id = sub.stripe_subscription_id.unwrap_or_default();
    stripe
        .cancel_subscription(
            &stripe_id,
            !request.immediately,
            &format!("cancel:{stripe_id}:{key}"),
        )
        .await
        .map_err(stripe_failed)?;
    tracing::info!(subscription = %stripe_id, immediately = request.immediately,
        "Stripe accepted a cancellation");
    Ok(StatusCode::ACCEPTED)
}

/// Asks Stripe to keep a subscription whose cancellation is scheduled for the period's
/// end (`cancel_at_period_end=false`).
#[utoipa::path(
    post,
    path = "/api/v1/admin/subscriptions/{id}/reactivate",
    operation_id = "admin_reactivate_subscription",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant whose subscription it is")),
    responses(
        (status = 202, description = "Stripe accepted; the webhook will record the change"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "Not billed by Stripe (`not_a_stripe_subscription`) or already cancelled (`subscription_cancelled`)", body = crate::error::ErrorBody),
        (status = 503, description = "Billing is not configured (`billing_not_configured`) or Stripe failed", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "reactivating a subscription for an admin", skip_all, fields(tenant = %id))]
pub(super) async fn reactivate(
    State(state): State<BillingState>,
    _admin: RequireAdmin,
    trail: Trail,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let result = async {
        let key = idempotency_key(&headers)?;
        let sub = stripe_subscription(&state, id).await?;
        let stripe = stripe(&state)?;
        let stripe_id = sub.stripe_subscription_id.unwrap_or_default();
        stripe
            .reactivate_subscription(&stripe_id, &format!("reactivate:{stripe_id}:{key}"))
            .await
            .map_err(stripe_failed)?;
        Ok(StatusCode::ACCEPTED)
    }
    .await;
    let entry = Action::ReactivateSubscription
        .on("subscription", id)
        .tenant(id);
    trail.record(entry, result).await
}
