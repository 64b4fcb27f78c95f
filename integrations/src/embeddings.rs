//! Embeddings from an OpenAI-compatible `POST {base}/embeddings` (async-openai).

use async_openai::config::OpenAIConfig;
use async_openai::types::embeddings::{CreateEmbeddingRequestArgs, EmbeddingInput};
use async_openai::Client;
use knowledge::embed::Embedder;
use knowledge::KnowledgeError;

/// The model used when none is configured.
pub const DEFAULT_EMBEDDINGS_MODEL: &str = "text-embedding-3-small";
/// Inputs per request; the API accepts up to 2048, smaller batches fail more cheaply.
const BATCH: usize = 96;

/// Where the embeddings endpoint is and how to call it.
#[derive(Debug, Clone)]
pub struct OpenAiEmbeddings {
    /// The API key (`OPENAI_API_KEY`).
    pub api_key: String,
    /// The API base, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The embedding model.
    pub model: String,
}

/// Calls an OpenAI-compatible embeddings endpoint.
#[derive(Debug)]
pub struct OpenAiEmbedder {
    client: Client<OpenAIConfig>,
    model: String,
    base_url: String,
}

impl OpenAiEmbedder {
    /// A client of `settings`' endpoint.
    pub fn new(settings: &OpenAiEmbeddings) -> Self {
        crate::install_crypto_provider();
        let config = OpenAIConfig::new()
            .with_api_key(settings.api_key.clone())
            .with_api_base(settings.base_url.trim_end_matches('/'));
        Self {
            client: Client::with_config(config),
            model: settings.model.clone(),
            base_url: settings.base_url.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Embedder for OpenAiEmbedder {
    fn id(&self) -> String {
        format!("openai/{}", self.model)
    }

    #[tracing::instrument(name = "embedding texts through the embeddings endpoint", skip_all, fields(model = %self.model, base = %self.base_url, texts = texts.len()))]
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            let request = CreateEmbeddingRequestArgs::default()
                .model(self.model.clone())
                .input(EmbeddingInput::StringArray(batch.to_vec()))
                .build()
                .map_err(|e| KnowledgeError::Embedding(e.to_string()))?;
            let started = std::time::Instant::now();
            let response = match self.client.embeddings().create(request).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(
                        provider = %self.base_url,
                        model = %self.model,
                        latency_ms = started.elapsed().as_millis() as u64,
                        error = %e,
                        "an embeddings call failed"
                    );
                    return Err(KnowledgeError::Embedding(e.to_string()));
                }
            };
            tracing::info!(
                provider = %self.base_url,
                model = %self.model,
                latency_ms = started.elapsed().as_millis() as u64,
                tokens = response.usage.prompt_tokens,
                inputs = batch.len(),
                "an embeddings call answered"
            );
            if response.data.len() != batch.len() {
                return Err(KnowledgeError::Embedding(format!(
                    "asked for {} embeddings, got {}",
                    batch.len(),
                    response.data.len()
                )));
            }
            let mut data = response.data;
            // The API documents `index` as the input's position; do not trust the order.
            data.sort_by_key(|e| e.index);
            vectors.extend(data.into_iter().map(|e| e.embedding));
        }
        Ok(vectors)
    }
}
