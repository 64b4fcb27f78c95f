//! The route: verify, deduplicate, dispatch, record.

use super::payload::Envelope;
use super::StripeWebhookState;
use super::{dedup, events, signature};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequestMeta;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;

/// What the webhook did with an event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookReceived {
    /// Always true: the event is safe with us.
    pub received: bool,
    /// The event was handled before; nothing changed this time.
    pub duplicate: bool,
    /// `applied` (its facts are recorded), or `ignored` (a type the product does not use,
    /// or a fact about a subscription it does not know).
    pub outcome: Outcome,
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its facts are recorded.
    Applied,
    /// Acknowledged without effect.
    Ignored,
}

/// `POST /webhooks/stripe`: 200 once the event's facts are committed (or were already).
///
/// The body is read raw: the signature covers the exact bytes Stripe sent.
#[utoipa::path(
    post,
    path = "/webhooks/stripe",
    operation_id = "receive_stripe_webhook",
    tag = tags::SYSTEM,
    params(("Stripe-Signature" = String, Header,
        description = "`t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">` (several `v1` during a secret roll)")),
    request_body(content = Object, content_type = "application/json",
        description = "A Stripe event (`checkout.session.completed`, `invoice.paid`, `invoice.payment_succeeded`, `invoice.payment_failed`, `customer.subscription.updated`, `customer.subscription.deleted`, `refund.created`, `refund.updated`, `charge.refunded`; others are acknowledged)"),
    responses(
        (status = 200, description = "Recorded (or recorded before)", body = WebhookReceived),
        (status = 400, description = "Signature missing, malformed, stale or wrong (`signature_missing`, `signature_malformed`, `signature_stale`, `signature_mismatch`, `webhook_not_configured`), or not a Stripe event (`malformed_event`); nothing is recorded", body = crate::error::ErrorBody),
        r::Conflict,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "receiving a Stripe webhook", skip_all, fields(event_id = tracing::field::Empty, event_type = tracing::field::Empty))]
pub(super) async fn receive(
    State(state): State<StripeWebhookState>,
    request: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookReceived>, ApiError> {
    let config = &state.stripe_webhook;
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    signature::verify(
        header,
        &body,
        &config.secrets,
        config.tolerance_secs,
        config.clock.now(),
    )
    .map_err(|e| {
        tracing::warn!(code = e.code(), reason = %e, "a Stripe webhook was refused");
        ApiError::BadRequest {
            code: e.code(),
            message: e.to_string(),
        }
    })?;
    let event: Envelope = serde_json::from_slice(&body).map_err(|e| malformed(&e))?;
    let span = tracing::Span::current();
    span.record("event_id", event.id.as_str());
    span.record("event_type", event.kind.as_str());
    if dedup::seen(&state.pool, &event.id)
        .await
        .map_err(ApiError::internal)?
    {
        tracing::info!("a redelivered Stripe event was acknowledged again");
        return Ok(Json(WebhookReceived {
            received: true,
            duplicate: true,
            outcome: Outcome::Applied,
        }));
    }
    let outcome = events::dispatch(&state, &event, request).await?;
    dedup::record(&state.pool, &event)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(WebhookReceived {
        received: true,
        duplicate: false,
        outcome,
    }))
}

/// A 400 for a payload that is not the Stripe object it claims to be.
pub(super) fn malformed(e: &serde_json::Error) -> ApiError {
    ApiError::BadRequest {
        code: "malformed_event",
        message: format!("the body is not a Stripe event of the expected shape: {e}"),
    }
}
