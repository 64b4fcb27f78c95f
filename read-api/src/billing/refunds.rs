//! `POST /api/v1/admin/payments/{id}/refund`: an admin refunds a payment, all or part of
//! it, through Stripe's Refunds API (issue 18). Like cancelling, the route only asks Stripe
//! and answers 202: the refund is recorded (`PaymentRefunded`) when Stripe's webhook says
//! it succeeded.

use super::{idempotency_key, stripe, stripe_failed, BillingState};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiJson, RequireAdmin};
use crate::trail::{Action, Trail};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use integrations::stripe::RefundRequest;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// How much to refund.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// In the payment's currency's minor unit, above zero and at most what is left to
    /// refund; absent refunds all that is left.
    pub amount: Option<i64>,
}

/// What Stripe accepted; the webhook records it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefundAccepted {
    /// Stripe's refund (`re_…`).
    pub refund_id: String,
    /// Stripe's status for it (`pending`, `succeeded`, …).
    pub status: Option<String>,
    /// The amount asked for, in the currency's minor unit.
    pub amount_cents: i64,
    /// ISO 4217 code, lower case.
    pub currency: String,
    /// What is left to refund once this one is recorded.
    pub remaining_cents: i64,
}

/// A succeeded payment and what its recorded refunds already returned.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Refundable {
    tenant_id: Uuid,
    invoice_id: String,
    amount_cents: i64,
    currency: String,
    refunded_cents: i64,
}

async fn refundable(state: &BillingState, position: i64) -> Result<Refundable, ApiError> {
    sqlx::query_as(
        "SELECT p.tenant_id, p.invoice_id, COALESCE(p.amount_cents, 0) AS amount_cents,
                COALESCE(p.currency, '') AS currency,
                COALESCE((SELECT sum(r.amount_cents) FROM billing_refunds r
                           WHERE r.tenant_id = p.tenant_id AND r.invoice_id = p.invoice_id),
                         0)::bigint AS refunded_cents
           FROM billing_payments p
          WHERE p.position = $1 AND p.status = 'succeeded'",
    )
    .bind(position)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?
    .ok_or_else(|| ApiError::NotFound {
        code: "payment_not_found",
        message: format!("no succeeded payment {position}"),
    })
}

/// The amount to ask Stripe for, or why none can be.
fn amount_to_refund(payment: &Refundable, asked: Option<i64>) -> Result<i64, ApiError> {
    let remaining = payment.amount_cents - payment.refunded_cents;
    if remaining <= 0 {
        return Err(ApiError::Conflict {
            code: "already_refunded",
            message: "this payment has been refunded in full".into(),
        });
    }
    match asked {
        None => Ok(remaining),
        Some(amount) if amount <= 0 => Err(ApiError::Unprocessable {
            code: "invalid_amount",
            message: "amount must be above zero, in the currency's minor unit".into(),
            details: Some(json!({"field": "amount"})),
        }),
        Some(amount) if amount > remaining => Err(ApiError::Unprocessable {
            code: "amount_exceeds_refundable",
            message: format!("at most {remaining} can still be refunded"),
            details: Some(json!({"field": "amount", "refundable_cents": remaining})),
        }),
        Some(amount) => Ok(amount),
    }
}

/// Asks Stripe to refund a payment, all of what is left or `amount` of it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/payments/{id}/refund",
    operation_id = "admin_refund_payment",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The payment (`position` in the payments list)")),
    request_body(content = RefundBody, description = "`{}` refunds what is left"),
    responses(
        (status = 202, description = "Stripe accepted; the webhook will record the refund", body = RefundAccepted),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No succeeded payment with this id (`payment_not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "Refunded in full already (`already_refunded`)", body = crate::error::ErrorBody),
        (status = 422, description = "An amount of zero or less (`invalid_amount`) or above what is left to refund (`amount_exceeds_refundable`, with `details.refundable_cents`)", body = crate::error::ErrorBody),
        (status = 503, description = "Billing is not configured (`billing_not_configured`) or Stripe failed (`stripe_refused`, `stripe_unavailable`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "refunding a payment for an admin", skip_all, fields(payment = id))]
pub(super) async fn refund(
    State(state): State<BillingState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<(StatusCode, Json<RefundAccepted>), ApiError> {
    let payment = refundable(&state, id).await;
    let mut entry = Action::RefundPayment.on("payment", id);
    if let Ok(p) = &payment {
        entry = entry.tenant(p.tenant_id);
    }
    let result = match payment {
        Ok(payment) => ask_refund(&state, admin.id, &headers, &payment, body.amount).await,
        Err(e) => Err(e),
    };
    if let Ok((_, Json(accepted))) = &result {
        entry = entry.note(format!(
            "{} {} asked, refund {}",
            accepted.amount_cents, accepted.currency, accepted.refund_id
        ));
    }
    trail.record(entry, result).await
}

async fn ask_refund(
    state: &BillingState,
    admin: Uuid,
    headers: &HeaderMap,
    payment: &Refundable,
    asked: Option<i64>,
) -> Result<(StatusCode, Json<RefundAccepted>), ApiError> {
    let amount = amount_to_refund(payment, asked)?;
    let key = idempotency_key(headers)?;
    let stripe = stripe(state)?;
    let request = RefundRequest {
        invoice_id: payment.invoice_id.clone(),
        tenant_id: payment.tenant_id.to_string(),
        admin_id: admin.to_string(),
        // Always explicit: Stripe refunds what the admin saw, even if its own remainder
        // differs (a refund made elsewhere that no webhook has brought yet).
        amount_cents: Some(amount),
    };
    let created = stripe
        .create_refund(&request, &format!("refund:{}:{key}", payment.invoice_id))
        .await
        .map_err(stripe_failed)?;
    tracing::info!(refund = %created.id, invoice = %payment.invoice_id, amount,
        "Stripe accepted a refund");
    Ok((
        StatusCode::ACCEPTED,
        Json(RefundAccepted {
            refund_id: created.id,
            status: created.status,
            amount_cents: amount,
            currency: payment.currency.clone(),
            remaining_cents: payment.amount_cents - payment.refunded_cents - amount,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid(amount_cents: i64, refunded_cents: i64) -> Refundable {
        Refundable {
            tenant_id: Uuid::nil(),
            invoice_id: "in_1".into(),
            amount_cents,
            currency: "brl".into(),
            refunded_cents,
        }
    }

    #[test]
    fn an_amount_up_to_what_is_left_is_refunded_and_none_means_all_of_it() {
        assert_eq!(amount_to_refund(&paid(9900, 1000), None).ok(), Some(8900));
        assert_eq!(
            amount_to_refund(&paid(9900, 1000), Some(8900)).ok(),
            Some(8900)
        );
        assert_eq!(amount_to_refund(&paid(9900, 0), Some(1)).ok(), Some(1));
    }

    #[test]
    fn nothing_more_than_what_is_left_and_nothing_below_one_is_refunded() {
        let code = |p, a| amount_to_refund(&p, a).err().map(|e| e.code());
        assert_eq!(
            code(paid(9900, 1000), Some(8901)),
            Some("amount_exceeds_refundable")
        );
        assert_eq!(code(paid(9900, 0), Some(0)), Some("invalid_amount"));
        assert_eq!(code(paid(9900, 0), Some(-5)), Some("invalid_amount"));
        assert_eq!(code(paid(9900, 9900), None), Some("already_refunded"));
        assert_eq!(code(paid(9900, 9900), Some(1)), Some("already_refunded"));
    }
}
