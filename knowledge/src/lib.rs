//! A tenant's knowledge as the AI reads it: chunks, embeddings and retrieval (F10, F11).
//!
//! The responder only sees [`Retriever`]; which index and which embeddings sit behind it
//! (Qdrant or the in-process index, an embeddings endpoint or the local embedding) is wiring:
//! the outside ones are in `integrations` (`qdrant`, `embeddings`).
//!
//! [`KnowledgeBase`] is the [`Retriever`] `serve` wires: the indexer (a stream consumer in
//! `workers`) has it cut each new knowledge version into [`chunker`] chunks, embed them
//! ([`embed`]) and store them in the [`index`]; searches read the version the indexer last
//! finished, per tenant, through the
//! [`lexical`] index of its text (BM25 for Portuguese and English, a calibrated confidence),
//! fused with the vector index's ranking when the embedding is a real one; with Qdrant, one
//! hybrid query (dense and sparse IDF vectors, RRF) picks the candidates and the lexical
//! index scores them.

//!
//! [`decision`] is what the knowledge supports for a question (answer or hand-off): the one
//! decision the responder, `POST /api/v1/knowledge/ask` and `atende bench answers` share,
//! which is why it lives here and not in the responder.
//!
//! No atende crate but `schemas` is below this one: `read-api` searches and `workers` indexes
//! and answers through it.

pub mod base;
pub mod chunker;
pub mod confidence;
pub mod decision;
pub mod embed;
pub mod index;
pub mod lexical;

pub use base::{IndexStatus, KnowledgeBase, MAX_K};

use uuid::Uuid;

/// Cosine similarity of two vectors, clamped to 0..=1 (opposite directions count as
/// unrelated); 0 when either is zero or their lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na.sqrt() * nb.sqrt())).clamp(0.0, 1.0)
}

/// A version or position as PostgreSQL's `integer` (both stay far below `i32::MAX`).
pub(crate) fn pg_int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The reserved id the platform knowledge (the support AI's) is indexed under: no tenant
/// has it.
pub const PLATFORM_KNOWLEDGE: Uuid = Uuid::nil();

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
