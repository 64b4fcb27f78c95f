//! `POST /webhooks/evolution/{secret}`: Evolution API's `messages.upsert`.

use super::cloud::IngestReportDoc;
use super::raw_body;
use super::WebhooksState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::Json;
use commands::whatsapp::IngestReport;

/// Records the messages of an Evolution API webhook sent to the tenant's secret address
/// (shown in `GET /api/v1/settings/whatsapp`). Group chats are ignored; a message typed on
/// the tenant's phone (`fromMe`) is recorded as human activity. Each webhook spends one
/// request of the instance's rate limit.
#[utoipa::path(
    post,
    path = "/webhooks/evolution/{secret}",
    operation_id = "receive_evolution_webhook",
    tag = tags::WEBHOOKS,
    params(("secret" = String, Path, description = "The tenant's webhook secret")),
    request_body(content = Object, description = "Evolution API's event (`messages.upsert`)"),
    responses(
        (status = 200, description = "Every message recorded (or deliberately ignored)", body = IngestReportDoc),
        (status = 400, description = "Not a webhook payload (`malformed_webhook`)", body = crate::error::ErrorBody),
        (status = 404, description = "No tenant has this secret (`webhook_not_found`)", body = crate::error::ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "receiving an Evolution API webhook", skip_all)]
pub(super) async fn receive(
    State(state): State<WebhooksState>,
    Path(secret): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReport>, ApiError> {
    let body = raw_body(body)?;
    let inbox = &state.whatsapp.inbox;
    let tenant = inbox.tenant_of_secret(&secret).await?;
    state.rate_limits.check_evolution_instance(tenant)?;
    Ok(Json(inbox.record_evolution(tenant, &body).await?))
}
