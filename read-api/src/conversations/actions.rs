//! What a tenant's people do to a conversation (F7, F8): reply, assign, resolve, hand back
//! to the AI. Each runs a command on the conversation aggregate, so the rules (24 h window,
//! resolved conversations) are the aggregate's; another tenant's conversation is a 404.

use super::ConversationsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireTenantUser};
use aggregates::ConversationCommand;
use axum::extract::{Path, State};
use axum::Json;
use schemas::events::{ConversationStatus, ResumeReason};
use schemas::Personal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// WhatsApp refuses longer text bodies.
const MAX_REPLY_CHARS: usize = 4096;

/// A human reply.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReplyRequest {
    /// The text to send the customer, 1..=4096 characters.
    pub text: String,
}

impl std::fmt::Debug for ReplyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyRequest(..)")
    }
}

/// Whom to assign.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssignRequest {
    /// An active owner or agent of the caller's tenant.
    pub agent_id: Uuid,
}

/// The conversation after the action.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationState {
    /// The conversation.
    pub conversation_id: Uuid,
    /// `ai_active`, `awaiting_human`, `human_replied` or `resolved`.
    pub status: String,
    /// The tenant user assigned, if any.
    pub assigned_agent: Option<Uuid>,
}

fn status_name(s: ConversationStatus) -> String {
    match s {
        ConversationStatus::AiActive => "ai_active",
        ConversationStatus::AwaitingHuman => "awaiting_human",
        ConversationStatus::HumanReplied => "human_replied",
        ConversationStatus::Resolved => "resolved",
    }
    .to_owned()
}

fn not_found() -> ApiError {
    ApiError::NotFound {
        code: "conversation_not_found",
        message: "no such conversation in your tenant".into(),
    }
}

/// The conversation's state, if it is the caller's tenant's.
async fn owned(
    state: &ConversationsState,
    tenant: Uuid,
    id: Uuid,
) -> Result<aggregates::Conversation, ApiError> {
    let (conversation, _) = state.bus.conversations.load(&id.to_string()).await?;
    match conversation.tenant_id() {
        Some(t) if t == tenant => Ok(conversation),
        _ => Err(not_found()),
    }
}

/// Runs `command` on the caller's conversation and answers with its state.
async fn act(
    state: &ConversationsState,
    user: &RequireTenantUser,
    request: RequestMeta,
    id: Uuid,
    command: ConversationCommand,
) -> Result<Json<ConversationState>, ApiError> {
    let md = command_metadata(&user.user, user.tenant_id, request);
    state
        .bus
        .conversations
        .execute(&id.to_string(), command, &md)
        .await?;
    let after = owned(state, user.tenant_id, id).await?;
    Ok(Json(ConversationState {
        conversation_id: id,
        status: status_name(after.status()),
        assigned_agent: after.assigned_agent(),
    }))
}

/// Sends a human reply: the conversation becomes `human_replied`, the AI stays silent, and
/// the sender delivers the text. 409 `customer_window_closed` after 24 h without a customer
/// message, 409 `conversation_resolved` on a resolved one.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/reply",
    operation_id = "reply_to_conversation",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    request_body = ReplyRequest,
    responses(
        (status = 200, description = "Recorded; the message is being sent", body = ConversationState),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such conversation in the caller's tenant (`conversation_not_found`)", body = crate::error::ErrorBody),
        r::Conflict,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "replying to a customer as a human", skip_all, fields(tenant = %user.tenant_id, conversation = %id))]
pub(super) async fn reply(
    State(state): State<ConversationsState>,
    user: RequireTenantUser,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReplyRequest>,
) -> Result<Json<ConversationState>, ApiError> {
    let count = body.text.chars().count();
    if count > MAX_REPLY_CHARS {
        return Err(ApiError::Unprocessable {
            code: "text_too_long",
            message: format!(
                "the text has {count} characters; WhatsApp takes at most {MAX_REPLY_CHARS}"
            ),
            details: Some(serde_json::json!({"characters": count, "max": MAX_REPLY_CHARS})),
        });
    }
    owned(&state, user.tenant_id, id).await?;
    let command = ConversationCommand::ReplyAsHuman {
        agent_id: user.user.id,
        text: Personal::from(body.text),
    };
    act(&state, &user, request, id, command).await
}

/// Assigns the conversation to an active owner or agent of the tenant (422
/// `unknown_agent` otherwise).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/assign",
    operation_id = "assign_conversation",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    request_body = AssignRequest,
    responses(
        (status = 200, description = "Assigned", body = ConversationState),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such conversation in the caller's tenant (`conversation_not_found`)", body = crate::error::ErrorBody),
        r::Conflict,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "assigning a conversation to a tenant user", skip_all, fields(tenant = %user.tenant_id, conversation = %id))]
pub(super) async fn assign(
    State(state): State<ConversationsState>,
    user: RequireTenantUser,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<Json<ConversationState>, ApiError> {
    owned(&state, user.tenant_id, id).await?;
    let member: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND tenant_id = $2
                          AND role IN ('owner', 'agent') AND disabled_at IS NULL)",
    )
    .bind(body.agent_id)
    .bind(user.tenant_id)
    .fetch_one(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    if !member {
        return Err(ApiError::Unprocessable {
            code: "unknown_agent",
            message: "agent_id is not an active user of your tenant".into(),
            details: None,
        });
    }
    let command = ConversationCommand::AssignAgent {
        agent_id: body.agent_id,
    };
    act(&state, &user, request, id, command).await
}

/// Closes the conversation; the customer's next message reopens it with the AI. Resolving
/// a resolved conversation changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/resolve",
    operation_id = "resolve_conversation",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 200, description = "Resolved", body = ConversationState),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such conversation in the caller's tenant (`conversation_not_found`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "resolving a conversation", skip_all, fields(tenant = %user.tenant_id, conversation = %id))]
pub(super) async fn resolve(
    State(state): State<ConversationsState>,
    user: RequireTenantUser,
    request: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<Json<ConversationState>, ApiError> {
    owned(&state, user.tenant_id, id).await?;
    act(&state, &user, request, id, ConversationCommand::Resolve).await
}

/// Hands the conversation back to the AI; the tenant's return message is sent. 409
/// `not_with_a_human` unless it is `awaiting_human` or `human_replied`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/return-to-ai",
    operation_id = "return_conversation_to_ai",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The AI answers again", body = ConversationState),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such conversation in the caller's tenant (`conversation_not_found`)", body = crate::error::ErrorBody),
        (status = 409, description = "The conversation is not with a human (`not_with_a_human`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "returning a conversation to the AI", skip_all, fields(tenant = %user.tenant_id, conversation = %id))]
pub(super) async fn return_to_ai(
    State(state): State<ConversationsState>,
    user: RequireTenantUser,
    request: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<Json<ConversationState>, ApiError> {
    let conversation = owned(&state, user.tenant_id, id).await?;
    if !matches!(
        conversation.status(),
        ConversationStatus::AwaitingHuman | ConversationStatus::HumanReplied
    ) {
        return Err(ApiError::Conflict {
            code: "not_with_a_human",
            message: format!(
                "the conversation is {}, not with a human",
                status_name(conversation.status())
            ),
        });
    }
    let command = ConversationCommand::ResumeAi {
        reason: ResumeReason::Manual,
    };
    act(&state, &user, request, id, command).await
}
