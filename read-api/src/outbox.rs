//! `GET /api/v1/outbox`: the tenant's outbound WhatsApp messages, newest first — what was
//! sent, through which channel, and what failed and why. With no WhatsApp token configured
//! (the embedded default) this is where messages are kept instead of being sent.

use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireTenantUser;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use schemas::personal::{open_json, sealed_key_ids};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The part of the application state the outbox route uses.
#[derive(Debug, Clone)]
pub struct OutboxState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// Data subjects' keys, to open sealed personal data.
    pub keys: std::sync::Arc<commands::privacy::KeyRing>,
}

/// Paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Messages to return, 1..=200 (50 by default).
    pub limit: Option<u32>,
}

/// One outbound message.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OutboundMessage {
    /// The id of the event that asked for it.
    pub outbound_id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// `ai_reply`, `fallback`, `waiting`, `human_reply` or `return`.
    pub purpose: String,
    /// The text, for AI and human replies (`[erased]` once its key is gone); the tenant's
    /// settings hold the others'.
    #[schema(value_type = Option<String>)]
    pub text: Option<Value>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// `cloud_api`, `evolution` or `local` (kept here, no token configured).
    pub channel: Option<String>,
    /// `text`, or `template` outside the 24 h window.
    pub kind: Option<String>,
    /// Sending attempts so far.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// The provider's id of the message.
    pub provider_message_id: Option<String>,
    /// When it was asked for.
    pub caused_at: DateTime<Utc>,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The outbox routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    OutboxState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list))
}

/// The tenant's outbound messages, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/outbox",
    operation_id = "list_outbound_messages",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(OutboxQuery),
    responses(
        (status = 200, description = "Newest first", body = Vec<OutboundMessage>),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing a tenant's outbound WhatsApp messages", skip_all, fields(tenant = %user.tenant_id))]
pub(crate) async fn list(
    State(state): State<OutboxState>,
    user: RequireTenantUser,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Json<Vec<OutboundMessage>>, ApiError> {
    let limit = i64::from(q.limit.unwrap_or(50).clamp(1, 200));
    let mut rows: Vec<OutboundMessage> = sqlx::query_as(
        "SELECT outbound_id, conversation_id, purpose, body AS text, status, channel, kind,
                attempts, last_error, provider_message_id, caused_at, sent_at
           FROM whatsapp_outbound WHERE tenant_id = $1
          ORDER BY position DESC LIMIT $2",
    )
    .bind(user.tenant_id)
    .bind(limit)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let mut ids = Vec::new();
    for r in &rows {
        if let Some(t) = &r.text {
            sealed_key_ids(t, &mut ids);
        }
    }
    if !ids.is_empty() {
        ids.sort_unstable();
        ids.dedup();
        let keys = state.keys.keys(&ids).await.map_err(ApiError::internal)?;
        for r in &mut rows {
            if let Some(t) = r.text.as_mut() {
                open_json(t, &keys);
            }
        }
    }
    Ok(Json(rows))
}
