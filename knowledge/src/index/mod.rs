//! Where chunk vectors are kept and searched, one tenant at a time: in PostgreSQL here
//! ([`MemoryIndex`]), or in Qdrant (`integrations::qdrant`).

mod memory;

pub use memory::MemoryIndex;

use super::lexical::SparseTerms;
use super::{KnowledgeError, RetrievedChunk};
use sqlx::PgConnection;
use uuid::Uuid;

/// A chunk of one knowledge version with its vector, ready to be indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedChunk {
    /// Its place in the text, from 0.
    pub position: u32,
    /// The chunk's text.
    pub text: String,
    /// Its embedding.
    pub vector: Vec<f32>,
    /// Its terms as the lexical index analyses them, for an index that ranks by terms
    /// too ([`VectorIndex::ranks_terms`]).
    pub terms: SparseTerms,
}

/// The chunk id the responder quotes: `<tenant>:<version>:<position>`.
pub fn chunk_id(tenant_id: Uuid, version: u32, position: u32) -> String {
    format!("{tenant_id}:{version}:{position}")
}

/// A vector index partitioned by tenant: nothing stored for one tenant is ever returned
/// for another.
#[async_trait::async_trait]
pub trait VectorIndex: Send + Sync + std::fmt::Debug {
    /// Short name for logs and /health (`memory`, `qdrant`).
    fn kind(&self) -> &'static str;

    /// How this index lays its points out, recorded in `indexed_by`: a tenant indexed
    /// under another layout is re-indexed at start.
    fn layout(&self) -> &'static str {
        self.kind()
    }

    /// Whether [`VectorIndex::search_hybrid`] ranks by the chunks' terms as well as by
    /// their vectors (else it is [`VectorIndex::search`]).
    fn ranks_terms(&self) -> bool {
        false
    }

    /// Stores `chunks` as `tenant_id`'s knowledge `version` and drops its other versions.
    /// `db` is the indexer's open transaction (committed with its checkpoint); an index
    /// outside PostgreSQL must make a repeated call harmless instead.
    async fn replace(
        &self,
        db: &mut PgConnection,
        tenant_id: Uuid,
        version: u32,
        chunks: &[EmbeddedChunk],
    ) -> Result<(), KnowledgeError>;

    /// The `k` chunks of `tenant_id`'s `version` closest to `vector`, best first.
    async fn search(
        &self,
        tenant_id: Uuid,
        version: u32,
        vector: &[f32],
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError>;

    /// The `k` chunks of `tenant_id`'s `version` best matching both `vector` and `terms`
    /// (the question's terms, [`super::lexical::LexicalIndex::query_terms`]), in one
    /// fused ranking, best first; each chunk's score is its cosine to `vector`. An index
    /// that does not rank by terms answers [`VectorIndex::search`].
    async fn search_hybrid(
        &self,
        tenant_id: Uuid,
        version: u32,
        vector: &[f32],
        terms: &SparseTerms,
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        let _ = terms;
        self.search(tenant_id, version, vector, k).await
    }
}
