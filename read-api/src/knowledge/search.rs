//! `GET /api/v1/knowledge/search?q=&k=`: what the AI would retrieve, for debugging.

use super::unavailable;
use super::KnowledgeState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiQuery, RequireTenantUser};
use ::knowledge::{Retriever, MAX_K};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

/// Chunks returned when `k` is not given.
const DEFAULT_K: usize = 5;

/// A search of the caller's tenant's knowledge.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The question, as a customer would ask it.
    pub q: String,
    /// How many chunks, 1 to 50 (default 5).
    pub k: Option<usize>,
}

/// A chunk found, with its similarity to the question.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// `<tenant>:<version>:<position>`, as the AI quotes it.
    pub chunk_id: String,
    /// The knowledge version it belongs to.
    pub knowledge_version: u32,
    /// Similarity, 0..=1, higher is closer.
    pub score: f32,
    /// The chunk's text.
    pub text: String,
}

/// The chunks found, best first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// The question searched.
    pub query: String,
    /// At most `k` chunks of the caller's tenant, best first; empty without knowledge.
    pub results: Vec<SearchHit>,
}

/// The chunks of the caller's tenant's indexed knowledge closest to `q`, as the AI
/// responder retrieves them.
#[utoipa::path(
    get,
    path = "/api/v1/knowledge/search",
    operation_id = "search_knowledge",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "The closest chunks, best first", body = SearchResults),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A blank `q` (`query_required`) or `k` outside 1..=50 (`invalid_k`)", body = crate::error::ErrorBody),
        r::Unavailable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "searching a tenant's knowledge for a user", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn search(
    State(state): State<KnowledgeState>,
    user: RequireTenantUser,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    if query.q.trim().is_empty() {
        return Err(ApiError::Unprocessable {
            code: "query_required",
            message: "q must not be blank".into(),
            details: None,
        });
    }
    let k = query.k.unwrap_or(DEFAULT_K);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::Unprocessable {
            code: "invalid_k",
            message: format!("k must be from 1 to {MAX_K}"),
            details: Some(serde_json::json!({ "k": k, "max": MAX_K })),
        });
    }
    let found = state
        .knowledge
        .search(user.tenant_id, &query.q, k)
        .await
        .map_err(unavailable)?;
    Ok(Json(SearchResults {
        query: query.q,
        results: found
            .into_iter()
            .map(|c| SearchHit {
                chunk_id: c.chunk_id,
                knowledge_version: c.knowledge_version,
                score: c.score,
                text: c.text,
            })
            .collect(),
    }))
}
