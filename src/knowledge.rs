//! The knowledge settings of `atende serve` (F10, F11), and the knowledge base they make.

use ::knowledge::embed::{Embedder, LocalEmbedder};
use ::knowledge::index::{MemoryIndex, VectorIndex};
use ::knowledge::KnowledgeBase;
use anyhow::Context;
use clap::Args;
use integrations::embeddings::{OpenAiEmbedder, OpenAiEmbeddings, DEFAULT_EMBEDDINGS_MODEL};
use integrations::qdrant::{QdrantIndex, DEFAULT_COLLECTION};
use sqlx::PgPool;
use std::sync::Arc;

/// The OpenAI API base, used when only a key is configured.
const OPENAI_BASE: &str = "https://api.openai.com/v1";

/// Where knowledge is embedded and indexed.
#[derive(Debug, Clone, Args)]
pub struct KnowledgeSettings {
    /// Qdrant's gRPC URL (`http://localhost:6334`); unset: the in-process index, its
    /// vectors kept in PostgreSQL.
    #[arg(long, env = "QDRANT_URL")]
    pub qdrant_url: Option<String>,
    /// Qdrant's API key, if it needs one.
    #[arg(long, env = "QDRANT_API_KEY", hide_env_values = true)]
    pub qdrant_api_key: Option<String>,
    /// The Qdrant collection holding every tenant's chunks (filtered by tenant).
    #[arg(long, env = "ATENDE_QDRANT_COLLECTION", default_value = DEFAULT_COLLECTION)]
    pub qdrant_collection: String,
    /// Base URL of an OpenAI-compatible embeddings API (`…/v1`, `/embeddings` is added).
    /// Unset with no key: the local embedding.
    #[arg(long, env = "ATENDE_EMBEDDINGS_URL")]
    pub embeddings_url: Option<String>,
    /// The embedding model.
    #[arg(long, env = "ATENDE_EMBEDDINGS_MODEL", default_value = DEFAULT_EMBEDDINGS_MODEL)]
    pub embeddings_model: String,
    /// Key of the embeddings API; unset: `OPENAI_API_KEY`.
    #[arg(long, env = "ATENDE_EMBEDDINGS_API_KEY", hide_env_values = true)]
    pub embeddings_api_key: Option<String>,
    /// `OPENAI_API_KEY`, read for the embeddings when they have no key of their own.
    // Its own id: the AI settings' `openai_api_key` reads the same variable, and clap
    // refuses (debug builds panic on) two arguments with one id in a command.
    #[arg(
        id = "embeddings_openai_api_key",
        long = "embeddings-openai-api-key",
        env = "OPENAI_API_KEY",
        hide = true,
        hide_env_values = true
    )]
    pub openai_api_key: Option<String>,
}

impl Default for KnowledgeSettings {
    fn default() -> Self {
        Self {
            qdrant_url: None,
            qdrant_api_key: None,
            qdrant_collection: DEFAULT_COLLECTION.into(),
            embeddings_url: None,
            embeddings_model: DEFAULT_EMBEDDINGS_MODEL.into(),
            embeddings_api_key: None,
            openai_api_key: None,
        }
    }
}

impl KnowledgeSettings {
    /// The embedder: the endpoint when a key or a URL is set, the local embedding otherwise.
    pub fn embedder(&self) -> Arc<dyn Embedder> {
        let key = self
            .embeddings_api_key
            .clone()
            .or_else(|| self.openai_api_key.clone())
            .filter(|k| !k.is_empty());
        let url = self.embeddings_url.clone().filter(|u| !u.is_empty());
        if key.is_none() && url.is_none() {
            return Arc::new(LocalEmbedder);
        }
        Arc::new(OpenAiEmbedder::new(&OpenAiEmbeddings {
            api_key: key.unwrap_or_default(),
            base_url: url.unwrap_or_else(|| OPENAI_BASE.into()),
            model: self.embeddings_model.clone(),
        }))
    }

    /// The knowledge base these settings describe, over `pool`.
    pub fn base(&self, pool: &PgPool) -> anyhow::Result<KnowledgeBase> {
        let index: Arc<dyn VectorIndex> = match self.qdrant_url.as_deref().filter(|u| !u.is_empty())
        {
            Some(url) => Arc::new(
                QdrantIndex::connect(url, self.qdrant_api_key.clone(), &self.qdrant_collection)
                    .context("connecting to QDRANT_URL")?,
            ),
            None => Arc::new(MemoryIndex::new(pool.clone())),
        };
        Ok(KnowledgeBase::new(pool.clone(), self.embedder(), index))
    }
}
