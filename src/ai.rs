//! The AI responder's and the 24 h saga's settings in `atende serve`, and what they start.

use ::knowledge::{KnowledgeError, RetrievedChunk, Retriever};
use aggregates::Clock;
use anyhow::Context;
use clap::Args;
use commands::privacy::KeyRing;
use commands::CommandBus;
use integrations::mailer::PublicUrl;
use schemas::plans::Pricing;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::EventSource;
use stream::Handle;
use uuid::Uuid;
use workers::responder::{Limits, Provider, Responder, ResponderConfig};
use workers::saga::{Saga, SagaConfig};

/// Settings of the AI responder and the 24 h timeout saga.
#[derive(Debug, Clone, Args)]
pub struct AiSettings {
    /// Run the AI responder in this process.
    #[arg(long, env = "ATENDE_AI_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub ai_enabled: bool,
    /// Milliseconds the AI waits after a customer's message for more before answering them
    /// together (F5); 0 answers at once.
    #[arg(long, env = "ATENDE_AI_BURST_MS", default_value_t = 3000)]
    pub ai_burst_ms: u64,
    /// The model providers, tried in order: a JSON array of `{name?, base_url, model,
    /// api_key?}` (OpenAI-compatible chat completions). Overrides the OPENAI_* shortcut.
    #[arg(long, env = "ATENDE_LLM_PROVIDERS", hide_env_values = true)]
    pub llm_providers: Option<String>,
    /// The one-provider shortcut: an OpenAI key (unset, with no ATENDE_LLM_PROVIDERS:
    /// answers are extracted from the knowledge, without a model).
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// The shortcut provider's API base.
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub openai_base_url: String,
    /// The shortcut provider's model.
    #[arg(long, env = "OPENAI_MODEL", default_value = "gpt-4o-mini")]
    pub openai_model: String,
    /// Milliseconds each provider gets before the next is tried.
    #[arg(long, env = "ATENDE_LLM_TIMEOUT_MS", default_value_t = 20_000)]
    pub llm_timeout_ms: u64,
    /// Comma-separated words with which a customer asks for a person.
    #[arg(
        long,
        env = "ATENDE_AI_HANDOFF_KEYWORDS",
        default_value = "atendente,humano,pessoa,human"
    )]
    pub ai_handoff_keywords: String,
    /// Model requests per tenant and UTC hour (0: unlimited).
    #[arg(long, env = "ATENDE_AI_REQUESTS_PER_HOUR", default_value_t = 600)]
    pub ai_requests_per_hour: u64,
    /// Tokens per tenant and UTC day (0: unlimited).
    #[arg(long, env = "ATENDE_AI_TOKENS_PER_DAY", default_value_t = 2_000_000)]
    pub ai_tokens_per_day: u64,
    /// Estimated model cost per tenant and UTC month, in US dollars (0: unlimited).
    #[arg(long, env = "ATENDE_AI_COST_PER_MONTH_USD", default_value_t = 100.0)]
    pub ai_cost_per_month_usd: f64,
    /// Hours without human activity after which the AI takes a conversation back (F8).
    #[arg(long, env = "ATENDE_HUMAN_TIMEOUT_HOURS", default_value_t = 24)]
    pub human_timeout_hours: u32,
    /// How often the timeout saga looks for passed deadlines, in milliseconds.
    #[arg(long, env = "ATENDE_SAGA_POLL_MS", default_value_t = 5000)]
    pub saga_poll_ms: u64,
}

impl Default for AiSettings {
    fn default() -> Self {
        Self {
            ai_enabled: true,
            ai_burst_ms: 3000,
            llm_providers: None,
            openai_api_key: None,
            openai_base_url: "https://api.openai.com/v1".into(),
            openai_model: "gpt-4o-mini".into(),
            llm_timeout_ms: 20_000,
            ai_handoff_keywords: "atendente,humano,pessoa,human".into(),
            ai_requests_per_hour: 600,
            ai_tokens_per_day: 2_000_000,
            ai_cost_per_month_usd: 100.0,
            human_timeout_hours: 24,
            saga_poll_ms: 5000,
        }
    }
}

impl AiSettings {
    /// The providers, in order.
    pub fn providers(&self) -> anyhow::Result<Vec<Provider>> {
        if let Some(json) = self
            .llm_providers
            .as_deref()
            .filter(|j| !j.trim().is_empty())
        {
            let providers: Vec<Provider> = serde_json::from_str(json).context(
                "ATENDE_LLM_PROVIDERS is not a JSON array of {name?, base_url, model, api_key?}",
            )?;
            if let Some(p) = providers
                .iter()
                .find(|p| p.base_url.trim().is_empty() || p.model.trim().is_empty())
            {
                anyhow::bail!(
                    "ATENDE_LLM_PROVIDERS: provider {:?} needs a base_url and a model",
                    p.name
                );
            }
            return Ok(providers);
        }
        Ok(self
            .openai_api_key
            .iter()
            .filter(|k| !k.trim().is_empty())
            .map(|key| Provider {
                name: "openai".into(),
                base_url: self.openai_base_url.clone(),
                model: self.openai_model.clone(),
                api_key: key.clone(),
            })
            .collect())
    }

    /// The AI limits every tenant has unless an admin set its own (`0`: unlimited).
    pub fn limit_defaults(&self) -> schemas::events::AiLimits {
        schemas::events::AiLimits {
            requests_per_hour: Some(self.ai_requests_per_hour),
            tokens_per_day: Some(self.ai_tokens_per_day),
            cost_per_month_usd: Some(self.ai_cost_per_month_usd),
        }
    }

    fn limits(&self) -> Limits {
        Limits::from(self.limit_defaults())
    }

    /// The responder's configuration.
    pub fn responder_config(
        &self,
        public_url: PublicUrl,
        pricing: Pricing,
    ) -> anyhow::Result<ResponderConfig> {
        Ok(ResponderConfig {
            burst: Duration::from_millis(self.ai_burst_ms),
            providers: self.providers()?,
            provider_timeout: Duration::from_millis(self.llm_timeout_ms.max(1)),
            handoff_keywords: self
                .ai_handoff_keywords
                .split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect(),
            limits: self.limits(),
            public_url,
            pricing,
            ..ResponderConfig::default()
        })
    }
}

/// Finds nothing: the retriever `serve` uses until the knowledge index is wired in, so the
/// AI hands every question to a human instead of answering without knowledge.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKnowledge;

#[async_trait::async_trait]
impl Retriever for NoKnowledge {
    async fn search(
        &self,
        _tenant_id: Uuid,
        _query: &str,
        _k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        Ok(Vec::new())
    }
}

/// What the AI parts run.
#[derive(Debug)]
pub struct AiWorkers {
    scheduler: Option<Handle>,
    ticker: Option<Handle>,
}

/// Which of the AI parts to start (`atende worker --only ai` / `saga`).
#[derive(Debug, Clone, Copy)]
pub struct AiParts {
    /// The responder (also needs `ai_enabled`).
    pub responder: bool,
    /// The 24 h timeout saga.
    pub saga: bool,
}

/// Everything the AI parts need from `serve`.
#[allow(missing_debug_implementations)] // borrowed handles, never logged
pub struct AiDeps<'a> {
    /// The database.
    pub pool: &'a PgPool,
    /// The write side.
    pub bus: &'a Arc<CommandBus>,
    /// Subject keys, to read the conversation memory.
    pub keys: &'a Arc<KeyRing>,
    /// The clock.
    pub clock: &'a Arc<dyn Clock>,
    /// The event stream (the tail or Kafka).
    pub source: &'a EventSource,
    /// Plans and model prices.
    pub pricing: &'a Pricing,
    /// The dashboard's base URL.
    pub public_url: &'a PublicUrl,
}

impl AiWorkers {
    /// Starts the `parts` asked for (the responder only when enabled); their stream
    /// consumers are pushed onto `runners` so /health and the admin API list them.
    pub fn start(
        settings: &AiSettings,
        deps: AiDeps<'_>,
        retriever: Arc<dyn Retriever>,
        parts: AiParts,
        runners: &mut Vec<Handle>,
    ) -> anyhow::Result<Self> {
        let ticker = if parts.saga {
            let (saga_runner, ticker) = Self::saga(settings, &deps)?;
            runners.push(saga_runner);
            Some(ticker)
        } else {
            None
        };
        let scheduler = if parts.responder && settings.ai_enabled {
            let config =
                settings.responder_config(deps.public_url.clone(), deps.pricing.clone())?;
            if config.providers.is_empty() {
                tracing::warn!(
                    "no model provider configured: AI answers are extracted from the knowledge"
                );
            }
            let responder = Responder::new(
                deps.pool.clone(),
                deps.bus.clone(),
                deps.keys.clone(),
                retriever,
                deps.clock.clone(),
                config,
            );
            let (runner, scheduler) = responder.start_on(deps.source)?;
            runners.push(runner);
            Some(scheduler)
        } else {
            None
        };
        Ok(Self { scheduler, ticker })
    }

    /// The scheduler and the ticker, to stop (the consumers stop with the other runners).
    pub fn into_handles(self) -> impl Iterator<Item = Handle> {
        self.scheduler.into_iter().chain(self.ticker)
    }

    /// The 24 h timeout saga's consumer and ticker.
    fn saga(settings: &AiSettings, deps: &AiDeps<'_>) -> anyhow::Result<(Handle, Handle)> {
        let saga = Saga::new(
            deps.pool.clone(),
            deps.bus.clone(),
            deps.clock.clone(),
            SagaConfig {
                timeout: chrono::Duration::hours(i64::from(settings.human_timeout_hours.max(1))),
                poll: Duration::from_millis(settings.saga_poll_ms.max(10)),
                public_url: deps.public_url.clone(),
            },
        );
        Ok(saga.start_on(deps.source)?)
    }
}
