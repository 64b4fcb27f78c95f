//! The outside systems atende talks to, and nothing else: their clients, the shapes of
//! their payloads and what the product sends them. Queues, sagas and decisions that use
//! them live in `workers` (and the HTTP edge in `read-api`); this crate depends on no
//! atende crate but `schemas` and `knowledge` (whose index and embedder traits the
//! Qdrant index and the embeddings client implement).

pub mod embeddings;
pub mod evolution;
pub mod llm;
pub mod mailer;
pub mod qdrant;
pub mod stripe;
pub mod whatsapp;

/// rustls needs a process-wide crypto provider for the HTTPS clients (async-openai,
/// reqwest without a default provider); installs ring once. Another one already installed
/// is kept.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
