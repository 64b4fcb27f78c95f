//! The WhatsApp channel's settings in `atende serve`: webhook secrets and the sender.

use clap::Args;
use integrations::whatsapp::DEFAULT_GRAPH_URL;
use std::time::Duration;
use workers::sender::SenderConfig;

/// Settings of the WhatsApp channel.
#[derive(Clone, Args)]
pub struct WhatsAppSettings {
    /// Meta's app secret: `X-Hub-Signature-256` of every Cloud API webhook is checked with
    /// it. Unset: `POST /webhooks/whatsapp` answers 503 and records nothing.
    #[arg(long, env = "WHATSAPP_APP_SECRET", hide_env_values = true)]
    pub whatsapp_app_secret: Option<String>,
    /// The token Meta echoes when verifying the webhook (`GET /webhooks/whatsapp`).
    #[arg(long, env = "WHATSAPP_VERIFY_TOKEN", hide_env_values = true)]
    pub whatsapp_verify_token: Option<String>,
    /// The platform's Cloud API token; a tenant's own token (WhatsApp settings) overrides
    /// it. With neither, messages are kept in the local outbox (`GET /api/v1/outbox`).
    #[arg(long, env = "WHATSAPP_TOKEN", hide_env_values = true)]
    pub whatsapp_token: Option<String>,
    /// The Graph API base URL, version included.
    #[arg(long, env = "WHATSAPP_GRAPH_URL", default_value = DEFAULT_GRAPH_URL)]
    pub whatsapp_graph_url: String,
    /// The platform's own Evolution API server, offered to tenants that connect a phone
    /// without bringing a server of their own (with `EVOLUTION_API_KEY`).
    #[arg(long, env = "EVOLUTION_API_URL")]
    pub evolution_api_url: Option<String>,
    /// That server's global API key (it creates instances).
    #[arg(long, env = "EVOLUTION_API_KEY", hide_env_values = true)]
    pub evolution_api_key: Option<String>,
    /// Sending attempts (429 and 5xx are retried) before a message is given up.
    #[arg(long, env = "ATENDE_WHATSAPP_MAX_ATTEMPTS", default_value_t = 8)]
    pub whatsapp_max_attempts: i32,
    /// The wait after the first failed attempt, in milliseconds; it doubles each time, up
    /// to 10 minutes.
    #[arg(long, env = "ATENDE_WHATSAPP_RETRY_BASE_MS", default_value_t = 2000)]
    pub whatsapp_retry_base_ms: u64,
}

impl std::fmt::Debug for WhatsAppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppSettings")
            .field("app_secret_set", &self.whatsapp_app_secret.is_some())
            .field("token_set", &self.whatsapp_token.is_some())
            .field("graph_url", &self.whatsapp_graph_url)
            .field("evolution_api_url", &self.evolution_api_url)
            .finish_non_exhaustive()
    }
}

impl Default for WhatsAppSettings {
    fn default() -> Self {
        Self {
            whatsapp_app_secret: None,
            whatsapp_verify_token: None,
            whatsapp_token: None,
            whatsapp_graph_url: DEFAULT_GRAPH_URL.to_owned(),
            evolution_api_url: None,
            evolution_api_key: None,
            whatsapp_max_attempts: 8,
            whatsapp_retry_base_ms: 2000,
        }
    }
}

impl WhatsAppSettings {
    /// The sender's configuration.
    pub fn sender_config(&self) -> SenderConfig {
        SenderConfig {
            graph_url: self.whatsapp_graph_url.clone(),
            token: self.whatsapp_token.clone().filter(|t| !t.is_empty()),
            max_attempts: self.whatsapp_max_attempts.max(1),
            retry_base: Duration::from_millis(self.whatsapp_retry_base_ms),
            ..SenderConfig::default()
        }
    }
}
