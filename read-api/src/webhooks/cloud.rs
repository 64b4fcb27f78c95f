//! `GET/POST /webhooks/whatsapp`: Meta's WhatsApp Cloud API callback.

use super::raw_body;
use super::WebhooksState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use commands::whatsapp::{Inbox, IngestReport, WebhookError};
use integrations::whatsapp::verify_signature;
use serde::Deserialize;

/// Meta's verification request.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Verification {
    /// `subscribe`.
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    /// Must equal `WHATSAPP_VERIFY_TOKEN`.
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    /// Echoed back on success.
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Answers Meta's verification with the challenge when the verify token matches.
#[utoipa::path(
    get,
    path = "/webhooks/whatsapp",
    operation_id = "verify_whatsapp_webhook",
    tag = tags::WEBHOOKS,
    params(Verification),
    responses(
        (status = 200, description = "The challenge, as plain text", body = String, content_type = "text/plain"),
        (status = 403, description = "Wrong or missing verify token (`verification_failed`)", body = crate::error::ErrorBody),
    )
)]
#[tracing::instrument(name = "answering Meta's webhook verification", skip_all)]
pub(super) async fn verify(
    State(state): State<WebhooksState>,
    Query(q): Query<Verification>,
) -> Result<String, ApiError> {
    let expected = state.whatsapp.verify_token.as_deref();
    let matches = match (expected, q.verify_token.as_deref()) {
        (Some(e), Some(given)) => {
            // Constant time: the verify token is a secret.
            e.len() == given.len()
                && e.bytes()
                    .zip(given.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        }
        _ => false,
    };
    match (matches, q.mode.as_deref(), q.challenge) {
        (true, Some("subscribe"), Some(challenge)) => Ok(challenge),
        _ => Err(ApiError::Forbidden {
            code: "verification_failed",
            message: "the verify token does not match".into(),
        }),
    }
}

/// Records every message and status of a signed Cloud API webhook. Unknown numbers and
/// group messages are answered 200 and not recorded (Meta would retry an error forever).
/// Each number it names spends one request of that number's rate limit; over it, nothing
/// is recorded and Meta retries later.
#[utoipa::path(
    post,
    path = "/webhooks/whatsapp",
    operation_id = "receive_whatsapp_webhook",
    tag = tags::WEBHOOKS,
    request_body(content = Object, description = "Meta's webhook envelope (`entry[].changes[].value`)"),
    params(("X-Hub-Signature-256" = String, Header, description = "`sha256=<hex>`: HMAC-SHA256 of the raw body with the app secret")),
    responses(
        (status = 200, description = "Every item recorded (or deliberately ignored)", body = IngestReportDoc),
        (status = 400, description = "Not a webhook payload (`malformed_webhook`)", body = crate::error::ErrorBody),
        (status = 401, description = "The signature is missing or wrong; nothing was recorded", body = crate::error::ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB", body = crate::error::ErrorBody),
        (status = 503, description = "No app secret configured", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "receiving a WhatsApp Cloud API webhook", skip_all)]
pub(super) async fn receive(
    State(state): State<WebhooksState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReport>, ApiError> {
    let body = raw_body(body)?;
    let secret = state
        .whatsapp
        .app_secret
        .as_ref()
        .ok_or(WebhookError::NotConfigured)?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !verify_signature(secret, &body, signature) {
        return Err(WebhookError::BadSignature.into());
    }
    let batch = Inbox::read_cloud(&body)?;
    for number in batch.numbers() {
        state.rate_limits.check_cloud_number(number)?;
    }
    Ok(Json(state.whatsapp.inbox.record_cloud(batch).await?))
}

/// What a webhook led to.
#[derive(utoipa::ToSchema)]
#[schema(as = IngestReport)]
#[allow(dead_code)]
pub(super) struct IngestReportDoc {
    /// Messages and statuses recorded (redeliveries included: recorded once).
    recorded: usize,
    /// Items not recorded on purpose: groups, unknown numbers or conversations.
    ignored: usize,
}
