//! Turning texts into vectors: an OpenAI-compatible endpoint when configured
//! (`integrations::embeddings`), the local hashed embedding otherwise.

mod local;

pub use local::{embed as local_embedding, fold, terms, LocalEmbedder, LOCAL_DIMENSION};

use super::KnowledgeError;

/// Makes vectors of texts; vectors of one embedder are comparable by cosine.
#[async_trait::async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// Names the embedding (kind, model, dimension): vectors made by another one are not
    /// comparable, so an index built by another is rebuilt.
    fn id(&self) -> String;

    /// One vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError>;
}
