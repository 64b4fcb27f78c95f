//! `GET /api/v1/conversations/{id}`: one conversation and its messages.

use super::cursor::{decode_sequence, encode_sequence, page_size};
use super::list::{handoff_reasons, Row, COLUMNS};
use super::open::open_all;
use super::view::{ConversationDetail, Delivery, Message};
use super::ConversationsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireTenantUser;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// Paging of the messages.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Messages per page, 1..=200 (50 by default).
    pub limit: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct MessageRow {
    sequence: i64,
    direction: String,
    author: String,
    agent_id: Option<Uuid>,
    kind: String,
    media_type: Option<String>,
    purpose: Option<String>,
    body: Option<Value>,
    provider_message_id: Option<String>,
    outbound_id: Option<Uuid>,
    at: DateTime<Utc>,
    delivery_status: Option<String>,
    delivery_at: Option<DateTime<Utc>>,
    delivery_error: Option<String>,
}

impl MessageRow {
    fn into_message(self) -> Message {
        let delivery = match (self.delivery_status, self.delivery_at) {
            (Some(status), Some(at)) => Some(Delivery {
                status,
                at,
                error: self.delivery_error,
            }),
            _ => None,
        };
        Message {
            sequence: self.sequence,
            direction: self.direction,
            author: self.author,
            agent_id: self.agent_id,
            kind: self.kind,
            media_type: self.media_type,
            purpose: self.purpose,
            body: self.body,
            provider_message_id: self.provider_message_id,
            outbound_id: self.outbound_id,
            at: self.at,
            delivery,
        }
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        code: "conversation_not_found",
        message: "no such conversation".into(),
    }
}

/// One conversation of the caller's tenant with a page of its messages, oldest first, texts
/// opened; another tenant's conversation is a 404, as if it did not exist.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation"), MessageQuery),
    responses(
        (status = 200, description = "The conversation and a page of its messages", body = ConversationDetail),
        (status = 400, description = "The cursor is not one this API gave out (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such conversation in the caller's tenant (`conversation_not_found`)", body = crate::error::ErrorBody),
        (status = 422, description = "The page size is invalid (`invalid_limit`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing a conversation to a tenant user", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn show(
    State(state): State<ConversationsState>,
    user: RequireTenantUser,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<MessageQuery>,
) -> Result<Json<ConversationDetail>, ApiError> {
    // An id that is not one cannot name a conversation: the same 404 as any unknown id.
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let after = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_sequence)
        .transpose()?
        .unwrap_or(0);
    let limit = page_size(query.limit.as_deref())?;
    let (row, created_at): (Row, DateTime<Utc>) = sqlx::query_as::<_, Detail>(&format!(
        "SELECT {COLUMNS}, created_at FROM conversations
          WHERE conversation_id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(user.tenant_id)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?
    .map(|d| (d.row, d.created_at))
    .ok_or_else(not_found)?;
    let mut rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT m.sequence, m.direction, m.author, m.agent_id, m.kind, m.media_type, m.purpose,
                m.body, m.provider_message_id, m.outbound_id, m.at,
                d.status AS delivery_status, d.status_at AS delivery_at,
                d.error AS delivery_error
           FROM conversation_messages m
           LEFT JOIN conversation_deliveries d
             ON m.direction = 'outbound'
            AND d.conversation_id = m.conversation_id
            AND d.provider_message_id = m.provider_message_id
          WHERE m.conversation_id = $1 AND m.sequence > $2
          ORDER BY m.sequence
          LIMIT $3",
    )
    .bind(id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| rows.last())
        .flatten()
        .map(|m| encode_sequence(m.sequence));
    let mut summary = row.into_summary();
    let mut messages: Vec<Message> = rows.into_iter().map(MessageRow::into_message).collect();
    let mut sealed: Vec<&mut Value> = messages
        .iter_mut()
        .filter_map(|m| m.body.as_mut())
        .chain(
            summary
                .last_message
                .as_mut()
                .and_then(|l| l.preview.as_mut()),
        )
        .collect();
    open_all(&state.keys, &mut sealed).await?;
    handoff_reasons(&state, std::slice::from_mut(&mut summary)).await?;
    Ok(Json(ConversationDetail {
        summary,
        created_at,
        messages,
        next_cursor,
    }))
}

#[derive(sqlx::FromRow)]
struct Detail {
    #[sqlx(flatten)]
    row: Row,
    created_at: DateTime<Utc>,
}
