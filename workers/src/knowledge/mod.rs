//! A tenant's knowledge as the AI reads it: chunks, embeddings and retrieval (F10, F11).
//!
//! The responder only sees [`Retriever`]; which index and which embeddings sit behind it
//! (Qdrant or the in-process index, an embeddings endpoint or the local embedding) is wiring.

use uuid::Uuid;

/// A chunk of a tenant's knowledge found for a query.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievedChunk {
    /// Stable id of the chunk (`<tenant>:<knowledge version>:<index>`), quoted as a source.
    pub chunk_id: String,
    /// The knowledge version the chunk was cut from.
    pub knowledge_version: u32,
    /// The chunk's text.
    pub text: String,
    /// Similarity to the query, 0..=1, higher is closer.
    pub score: f32,
}

/// Retrieval failed.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// The vector index could not be reached or refused the request.
    #[error("the vector index failed: {0}")]
    Index(String),
    /// The embeddings endpoint could not be reached or refused the request.
    #[error("the embedding service failed: {0}")]
    Embedding(String),
}

/// Finds the parts of a tenant's knowledge closest to a question, never another tenant's.
#[async_trait::async_trait]
pub trait Retriever: Send + Sync + std::fmt::Debug {
    /// The `k` chunks of `tenant_id`'s current knowledge most similar to `query`, best
    /// first; empty when the tenant has no knowledge.
    async fn search(
        &self,
        tenant_id: Uuid,
        query: &str,
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError>;
}
