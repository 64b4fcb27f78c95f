//! `GET`/`PUT /api/v1/knowledge`.

use super::unavailable;
use super::KnowledgeState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireTenantOwner, RequireTenantUser};
use ::knowledge::IndexStatus;
use aggregates::tenant::MAX_KNOWLEDGE_CHARS;
use aggregates::TenantCommand;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The new knowledge text, replacing the whole previous one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReplaceKnowledgeRequest {
    /// At most 50,000 characters (Unicode scalar values, not bytes).
    pub text: String,
}

/// The knowledge as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeSaved {
    /// The tenant's knowledge version now (unchanged when the text was the same).
    pub version: u32,
    /// The text's length in characters.
    pub char_count: u32,
}

/// What searches read: the indexed version, which trails a new text for a moment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndexView {
    /// The version searches read.
    pub version: u32,
    /// How many chunks it was cut into.
    pub chunk_count: u32,
    /// The index and embedding holding it (`memory+local-hashed-v1/1024`,
    /// `qdrant-hybrid+openai/<model>+bm25-v1`).
    pub indexed_by: String,
    /// When it was indexed.
    pub indexed_at: DateTime<Utc>,
}

impl From<IndexStatus> for IndexView {
    fn from(s: IndexStatus) -> Self {
        Self {
            version: s.version,
            chunk_count: s.chunk_count,
            indexed_by: s.indexed_by,
            indexed_at: s.indexed_at,
        }
    }
}

/// A tenant's knowledge, from the `knowledge` read model.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeDocument {
    /// 1 for the first text, then one more per change; 0 when there is none yet.
    pub version: u32,
    /// The whole text (empty when there is none yet).
    pub text: String,
    /// Its length in characters.
    pub char_count: u32,
    /// When it was last replaced.
    pub replaced_at: Option<DateTime<Utc>>,
    /// What searches read; `null` until the first version is indexed.
    pub index: Option<IndexView>,
}

/// The tenant's knowledge text and how far indexing has got. Read models trail a `PUT` by
/// a moment: compare `version` with the one the `PUT` returned.
#[utoipa::path(
    get,
    path = "/api/v1/knowledge",
    operation_id = "show_knowledge",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The knowledge (version 0 and an empty text when there is none)", body = KnowledgeDocument),
        r::Unauthorized,
        r::Forbidden,
        r::Unavailable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing a tenant's knowledge", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn show(
    State(state): State<KnowledgeState>,
    user: RequireTenantUser,
) -> Result<Json<KnowledgeDocument>, ApiError> {
    let row: Option<(i32, String, i32, DateTime<Utc>)> = sqlx::query_as(
        "SELECT version, text, char_count, replaced_at FROM knowledge_documents
          WHERE tenant_id = $1",
    )
    .bind(user.tenant_id)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let index = state
        .knowledge
        .status(user.tenant_id)
        .await
        .map_err(unavailable)?
        .map(IndexView::from);
    let (version, text, char_count, replaced_at) = match row {
        Some((v, t, c, at)) => (v, t, c, Some(at)),
        None => (0, String::new(), 0, None),
    };
    Ok(Json(KnowledgeDocument {
        version: u32::try_from(version).unwrap_or(0),
        text,
        char_count: u32::try_from(char_count).unwrap_or(0),
        replaced_at,
        index,
    }))
}

/// Replaces the tenant's knowledge text as a whole; 422 `knowledge_too_long` over 50,000
/// characters, with the count in `details`. Saving the same text again changes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/knowledge",
    operation_id = "replace_knowledge",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body = ReplaceKnowledgeRequest,
    responses(
        (status = 200, description = "Recorded; indexing follows in the background", body = KnowledgeSaved),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "The caller's tenant is not registered (`tenant_not_found`)", body = crate::error::ErrorBody),
        r::Conflict,
        (status = 413, description = "The body is over 1 MiB", body = crate::error::ErrorBody),
        (status = 422, description = "Over 50,000 characters (`knowledge_too_long`, `details.char_count`, `details.max_chars`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "replacing a tenant's knowledge for its owner", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn replace(
    State(state): State<KnowledgeState>,
    owner: RequireTenantOwner,
    request: RequestMeta,
    ApiJson(body): ApiJson<ReplaceKnowledgeRequest>,
) -> Result<Json<KnowledgeSaved>, ApiError> {
    let chars = body.text.chars().count();
    if chars > MAX_KNOWLEDGE_CHARS {
        return Err(ApiError::Unprocessable {
            code: "knowledge_too_long",
            message: format!(
                "the knowledge has {chars} characters; at most {MAX_KNOWLEDGE_CHARS} are allowed"
            ),
            details: Some(serde_json::json!({
                "char_count": chars,
                "max_chars": MAX_KNOWLEDGE_CHARS,
            })),
        });
    }
    let id = owner.tenant_id.to_string();
    crate::tenants::registered_tenant(&state.bus, owner.tenant_id).await?;
    let md = command_metadata(&owner.user, owner.tenant_id, request);
    state
        .bus
        .tenants
        .execute(
            &id,
            TenantCommand::ReplaceKnowledge { text: body.text },
            &md,
        )
        .await?;
    let (tenant, _) = state.bus.tenants.load(&id).await?;
    Ok(Json(KnowledgeSaved {
        version: tenant.knowledge_version(),
        char_count: u32::try_from(tenant.knowledge().chars().count()).unwrap_or(u32::MAX),
    }))
}
