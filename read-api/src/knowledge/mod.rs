//! A tenant's knowledge (F10, F11): `GET`/`PUT /api/v1/knowledge` and
//! `GET /api/v1/knowledge/search`, `POST /api/v1/knowledge/ask`. The text is recorded through the `Tenant` aggregate
//! (`KnowledgeReplaced`); the `knowledge_indexer` worker chunks, embeds and indexes each
//! version, and searches read the version it last finished.

mod ask;
mod document;
mod search;

pub use ask::{AskDecision, AskPassage, AskRequest, AskResult};
pub use document::{IndexView, KnowledgeDocument, KnowledgeSaved, ReplaceKnowledgeRequest};
pub use search::{SearchHit, SearchQuery, SearchResults};

use crate::error::ApiError;
use ::knowledge::KnowledgeError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the knowledge routes use.
#[derive(Debug, Clone)]
pub struct KnowledgeState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// Tenants' knowledge: its index state and retrieval.
    pub knowledge: ::knowledge::KnowledgeBase,
}

/// The knowledge routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    KnowledgeState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(document::show, document::replace))
        .routes(routes!(search::search))
        .routes(routes!(ask::ask))
}

/// The index or the embeddings endpoint failed: 503, the message says which.
fn unavailable(e: KnowledgeError) -> ApiError {
    tracing::warn!(error = %e, "knowledge retrieval failed");
    ApiError::Unavailable(e.to_string())
}
