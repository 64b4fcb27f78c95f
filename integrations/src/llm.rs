//! The models that write answers: an ordered list of OpenAI-compatible chat completion
//! endpoints tried in turn (F13), or, with none configured, an extractive answer taken from
//! the best passages (`knowledge::lexical::extract`).

use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequestArgs,
};
use async_openai::Client;
use knowledge::RetrievedChunk;
use schemas::events::Tone;
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The provider name of answers extracted from the knowledge without a model.
pub const EXTRACTIVE: &str = "extractive";

/// One OpenAI-compatible endpoint (`ATENDE_LLM_PROVIDERS` entries).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// A name for logs and `AiReplied`; defaults to the model.
    #[serde(default)]
    pub name: String,
    /// The API base, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The model to ask.
    pub model: String,
    /// The bearer key (may be empty for local servers).
    #[serde(default)]
    pub api_key: String,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"***")
            .finish()
    }
}

/// A conversation turn the model sees as memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    /// The customer wrote.
    Customer(String),
    /// The business answered (AI or human).
    Business(String),
}

/// What the model is asked.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// The system message: rules, tone and the context passages.
    pub system: String,
    /// The last messages, oldest first, ending with the customer's burst.
    pub turns: Vec<Turn>,
}

/// What a model answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The answer.
    pub text: String,
    /// The provider's configured name.
    pub provider: String,
    /// The model that answered.
    pub model: String,
    /// Prompt tokens.
    pub tokens_in: u32,
    /// Completion tokens.
    pub tokens_out: u32,
    /// How long it took.
    pub latency: Duration,
}

/// Every provider failed (or none answered in time).
#[derive(Debug, thiserror::Error)]
#[error("no model provider answered: {0}")]
pub struct ProvidersFailed(pub String);

fn tone_rule(tone: Tone) -> &'static str {
    match tone {
        Tone::Formal => "polite and formal",
        Tone::Casual => "friendly and casual",
        Tone::Technical => "precise and technical",
    }
}

/// The strict system prompt: answer only from the context, in the customer's language and
/// the tenant's tone.
pub fn system_prompt(business: &str, tone: Tone, chunks: &[RetrievedChunk]) -> String {
    let mut context = String::new();
    for (i, c) in chunks.iter().enumerate() {
        context.push_str(&format!("[{}] {}\n", i + 1, c.text.trim()));
    }
    format!(
        "You are the WhatsApp attendant of {business}. Answer the customer's last messages \
         using ONLY the facts in the context below. If the context does not contain the \
         answer, say you do not know and that a human attendant will help; never invent \
         prices, dates, policies or any other fact. Reply in the language the customer \
         writes in. Be {tone}. Keep it short: this is a chat.\n\nContext:\n{context}",
        tone = tone_rule(tone)
    )
}

/// The configured providers, tried in order.
#[derive(Clone)]
pub struct Models {
    providers: Vec<(Provider, Client<OpenAIConfig>)>,
    timeout: Duration,
}

impl fmt::Debug for Models {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.providers.iter().map(|(p, _)| p))
            .finish()
    }
}

impl Models {
    /// `providers` in order, each given `timeout` to answer.
    pub fn new(providers: Vec<Provider>, timeout: Duration) -> Self {
        crate::install_crypto_provider();
        let providers = providers
            .into_iter()
            .map(|p| {
                track::register(&p);
                let config = OpenAIConfig::new()
                    .with_api_base(p.base_url.trim_end_matches('/'))
                    .with_api_key(p.api_key.clone());
                (p, Client::with_config(config))
            })
            .collect();
        Self { providers, timeout }
    }

    /// Whether any provider is configured (otherwise answers are extractive).
    pub fn is_configured(&self) -> bool {
        !self.providers.is_empty()
    }

    /// The first answer of the providers in order; an error or a timeout moves to the next.
    pub async fn complete(&self, prompt: &Prompt) -> Result<Completion, ProvidersFailed> {
        let mut failures = Vec::new();
        for (p, client) in &self.providers {
            let started = Instant::now();
            let asked = tokio::time::timeout(self.timeout, ask(client, p, prompt)).await;
            let seen = match &asked {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("timed out".to_owned()),
            };
            track::record(p, started.elapsed(), seen);
            match asked {
                Ok(Ok((text, tokens_in, tokens_out, model))) => {
                    tracing::info!(
                        provider = p.display_name(),
                        model = %model,
                        latency_ms = started.elapsed().as_millis() as u64,
                        tokens_in,
                        tokens_out,
                        "a model provider answered"
                    );
                    return Ok(Completion {
                        text,
                        provider: p.display_name().to_owned(),
                        model,
                        tokens_in,
                        tokens_out,
                        latency: started.elapsed(),
                    });
                }
                Ok(Err(e)) => {
                    tracing::warn!(
                        provider = p.display_name(),
                        model = %p.model,
                        latency_ms = started.elapsed().as_millis() as u64,
                        error = %e,
                        "a model provider failed; trying the next"
                    );
                    failures.push(format!("{}: {e}", p.display_name()));
                }
                Err(_) => {
                    tracing::warn!(
                        provider = p.display_name(),
                        model = %p.model,
                        latency_ms = started.elapsed().as_millis() as u64,
                        error = "timed out",
                        "a model provider timed out; trying the next"
                    );
                    failures.push(format!("{}: timed out", p.display_name()));
                }
            }
        }
        Err(ProvidersFailed(failures.join("; ")))
    }
}

/// One chat completion: the answer's text, prompt and completion tokens, and the model.
async fn ask(
    client: &Client<OpenAIConfig>,
    p: &Provider,
    prompt: &Prompt,
) -> anyhow::Result<(String, u32, u32, String)> {
    let mut messages: Vec<ChatCompletionRequestMessage> =
        vec![ChatCompletionRequestSystemMessage::from(prompt.system.as_str()).into()];
    for turn in &prompt.turns {
        messages.push(match turn {
            Turn::Customer(t) => ChatCompletionRequestUserMessage::from(t.as_str()).into(),
            Turn::Business(t) => ChatCompletionRequestAssistantMessage::from(t.as_str()).into(),
        });
    }
    let request = CreateChatCompletionRequestArgs::default()
        .model(p.model.clone())
        .messages(messages)
        .temperature(0.2)
        .build()?;
    let response = client.chat().create(request).await?;
    let text = response
        .choices
        .into_iter()
        .find_map(|c| c.message.content)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| anyhow::anyhow!("the model returned no text"))?;
    let (tokens_in, tokens_out) = response
        .usage
        .map_or((0, 0), |u| (u.prompt_tokens, u.completion_tokens));
    let model = if response.model.is_empty() {
        p.model.clone()
    } else {
        response.model
    };
    Ok((text, tokens_in, tokens_out, model))
}

/// What this process saw of each configured provider lately, for `/health`: calls are
/// counted per process (every `Models` of the process shares the record), as a provider
/// failing for this process is what its answers suffer from.
mod track {
    use super::*;

    /// Failures older than this are no longer "recent".
    pub(super) const WINDOW: Duration = Duration::from_secs(15 * 60);

    #[derive(Default)]
    struct Record {
        model: String,
        failures: VecDeque<Instant>,
        last_error: Option<String>,
        last_failure: Option<Instant>,
        last_success: Option<Instant>,
    }

    static PROVIDERS: Mutex<BTreeMap<String, Record>> = Mutex::new(BTreeMap::new());

    fn with<T>(f: impl FnOnce(&mut BTreeMap<String, Record>) -> T) -> T {
        let mut map = PROVIDERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut map)
    }

    pub(super) fn register(p: &Provider) {
        with(|map| {
            map.entry(p.display_name().to_owned()).or_default().model = p.model.clone();
        });
    }

    pub(super) fn record(p: &Provider, took: Duration, outcome: Result<(), String>) {
        let outcome_label = if outcome.is_ok() { "ok" } else { "failed" };
        ::metrics::histogram!(
            "atende_llm_request_duration_seconds",
            "provider" => p.display_name().to_owned(),
            "outcome" => outcome_label,
        )
        .record(took.as_secs_f64());
        let now = Instant::now();
        with(|map| {
            let r = map.entry(p.display_name().to_owned()).or_default();
            r.model = p.model.clone();
            match outcome {
                Ok(()) => r.last_success = Some(now),
                Err(e) => {
                    r.failures.push_back(now);
                    r.last_failure = Some(now);
                    r.last_error = Some(e);
                }
            }
            prune(r, now);
        });
    }

    fn prune(r: &mut Record, now: Instant) {
        while r
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            r.failures.pop_front();
        }
    }

    pub(super) fn snapshot() -> Vec<ProviderHealth> {
        let now = Instant::now();
        with(|map| {
            map.iter_mut()
                .map(|(name, r)| {
                    prune(r, now);
                    let ago = |t: Option<Instant>| t.map(|t| now.duration_since(t).as_secs_f64());
                    ProviderHealth {
                        name: name.clone(),
                        model: r.model.clone(),
                        recent_failures: r.failures.len() as u64,
                        failing: match (r.last_failure, r.last_success) {
                            (Some(f), Some(s)) => f > s,
                            (Some(_), None) => true,
                            (None, _) => false,
                        },
                        last_error: r.last_error.clone(),
                        last_failure_secs_ago: ago(r.last_failure),
                        last_success_secs_ago: ago(r.last_success),
                    }
                })
                .collect()
        })
    }
}

/// One configured model provider as this process saw it lately.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderHealth {
    /// Its configured name.
    pub name: String,
    /// The model it is asked for.
    pub model: String,
    /// Failed calls (errors and timeouts) in the last 15 minutes.
    pub recent_failures: u64,
    /// Whether its latest call failed.
    pub failing: bool,
    /// Why its latest failure failed.
    pub last_error: Option<String>,
    /// Seconds since its latest failure.
    pub last_failure_secs_ago: Option<f64>,
    /// Seconds since its latest answer.
    pub last_success_secs_ago: Option<f64>,
}

/// Every model provider configured in this process, with its recent failures.
pub fn provider_health() -> Vec<ProviderHealth> {
    track::snapshot()
}

impl Provider {
    /// The name shown in logs and events.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.model
        } else {
            &self.name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str) -> RetrievedChunk {
        RetrievedChunk {
            chunk_id: "t:1:0".into(),
            knowledge_version: 1,
            text: text.into(),
            score: 0.9,
        }
    }

    #[tokio::test]
    async fn a_provider_that_cannot_be_reached_is_reported_failing_with_its_recent_failures() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(9);
        let provider = Provider {
            name: "closed-port-provider".into(),
            base_url: format!("http://127.0.0.1:{port}/v1"),
            model: "some-model".into(),
            api_key: String::new(),
        };
        let models = Models::new(vec![provider], Duration::from_secs(5));
        let registered = provider_health()
            .into_iter()
            .find(|p| p.name == "closed-port-provider");
        assert!(registered.is_some_and(|p| !p.failing && p.recent_failures == 0));
        let prompt = Prompt {
            system: "s".into(),
            turns: vec![Turn::Customer("oi".into())],
        };
        assert!(models.complete(&prompt).await.is_err());
        let seen = provider_health()
            .into_iter()
            .find(|p| p.name == "closed-port-provider");
        let Some(seen) = seen else {
            panic!("the provider is listed");
        };
        assert!(seen.failing);
        assert_eq!(seen.recent_failures, 1);
        assert_eq!(seen.model, "some-model");
        assert!(seen.last_error.is_some());
        assert!(seen.last_success_secs_ago.is_none());
    }

    #[test]
    fn the_system_prompt_carries_the_rules_the_tone_and_every_passage() {
        let p = system_prompt("Padaria", Tone::Casual, &[chunk("Abrimos às 8h.")]);
        assert!(p.contains("ONLY the facts"));
        assert!(p.contains("friendly and casual"));
        assert!(p.contains("[1] Abrimos às 8h."));
    }
}
