//! `GET /api/v1/conversations/counts`: the inbox's badges, in one statement.

use super::ConversationsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequireTenantUser;
use axum::extract::State;
use axum::Json;
use serde::Serialize;

/// How many of the tenant's conversations are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ConversationCounts {
    /// Answered by the AI.
    pub ai_active: i64,
    /// Handed off; nobody has answered yet.
    pub awaiting_human: i64,
    /// A human answered; the AI stays quiet.
    pub human_replied: i64,
    /// Closed.
    pub resolved: i64,
    /// Not resolved, with customer messages since the last answer.
    pub unanswered: i64,
    /// Not resolved and assigned to the caller.
    pub assigned_to_me: i64,
}

/// The tenant's conversations counted by status, unanswered and assigned to the caller.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/counts",
    operation_id = "count_conversations",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counts", body = ConversationCounts),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "counting a tenant's conversations", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn counts(
    State(state): State<ConversationsState>,
    user: RequireTenantUser,
) -> Result<Json<ConversationCounts>, ApiError> {
    let counts: ConversationCounts = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'ai_active') AS ai_active,
                count(*) FILTER (WHERE status = 'awaiting_human') AS awaiting_human,
                count(*) FILTER (WHERE status = 'human_replied') AS human_replied,
                count(*) FILTER (WHERE status = 'resolved') AS resolved,
                count(*) FILTER (WHERE status <> 'resolved' AND unanswered_count > 0)
                    AS unanswered,
                count(*) FILTER (WHERE status <> 'resolved' AND assigned_agent = $2)
                    AS assigned_to_me
           FROM conversations WHERE tenant_id = $1",
    )
    .bind(user.tenant_id)
    .bind(user.user.id)
    .fetch_one(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(counts))
}
