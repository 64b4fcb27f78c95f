//! One outbound message: what to send, to whom, through which channel.

use super::worker::SenderConfig;
use aggregates::Clock;
use chrono::{DateTime, Utc};
use commands::privacy::KeyRing;
use commands::whatsapp::{ChannelStore, Provider};
use commands::CommandBus;
use integrations::whatsapp::graph::{self, Attempt, Content};
use schemas::personal::{open_json, sealed_key_ids, ERASED};
use schemas::EventType;
use serde_json::Value;
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

/// A claimed row of `whatsapp_outbound`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct Claimed {
    pub outbound_id: Uuid,
    pub tenant_id: Uuid,
    pub conversation_id: Uuid,
    pub purpose: String,
    pub body: Option<Value>,
    pub attempts: i32,
    pub position: i64,
    /// When the attempt before this one started, if its outcome was never recorded (its
    /// process died): the provider may have accepted it.
    pub in_doubt_since: Option<DateTime<Utc>>,
    /// Attempts made in such doubt, this one included.
    pub resends_in_doubt: i32,
}

/// Attempts made while an earlier one's outcome is unknown and the provider cannot tell:
/// one, so a crash at the worst moment sends a message at most twice.
const MAX_RESENDS_IN_DOUBT: i32 = 1;

/// How a message went, and how it was sent.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    pub attempt: Attempt,
    /// `cloud_api`, `evolution` or `local`.
    pub channel: &'static str,
    /// `text` or `template`.
    pub kind: &'static str,
}

impl Outcome {
    fn refused(reason: impl Into<String>) -> Self {
        Self {
            attempt: Attempt::Refused(reason.into()),
            channel: "none",
            kind: "text",
        }
    }
}

/// What the sender needs to reach everything.
#[derive(Clone)]
pub(super) struct Context {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
    pub keys: Arc<KeyRing>,
    /// The clock the conversation's times were recorded on.
    pub clock: Arc<dyn Clock>,
    pub channels: ChannelStore,
    pub http: reqwest::Client,
    pub config: SenderConfig,
}

impl std::fmt::Debug for Context {
    // The clock is a trait object without `Debug`; the config says what matters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// Opens sealed values in `value` in place.
    async fn open(&self, value: &mut Value) -> anyhow::Result<()> {
        let mut ids = Vec::new();
        sealed_key_ids(value, &mut ids);
        if !ids.is_empty() {
            let keys = self.keys.keys(&ids).await?;
            open_json(value, &keys);
        }
        Ok(())
    }

    /// The customer's number, from the conversation's latest message (sealed there).
    async fn recipient(&self, conversation: Uuid) -> anyhow::Result<Option<String>> {
        let stored: Option<Value> = sqlx::query_scalar(
            "SELECT payload -> $2 -> 'contact_wa_id' FROM events
              WHERE aggregate_type = 'conversation' AND aggregate_id = $1
                AND event_type = $2
              ORDER BY sequence DESC LIMIT 1",
        )
        .bind(conversation.to_string())
        .bind(EventType::MessageReceived.as_str())
        .fetch_optional(&self.pool)
        .await?
        .flatten();
        let Some(mut value) = stored else {
            return Ok(None);
        };
        self.open(&mut value).await?;
        Ok(value.as_str().filter(|v| *v != ERASED).map(str::to_owned))
    }

    /// The text of the message: the event's own, or the tenant's setting for its purpose.
    async fn text(
        &self,
        row: &Claimed,
        settings: &schemas::events::BotSettings,
    ) -> anyhow::Result<Option<String>> {
        Ok(match row.purpose.as_str() {
            "fallback" => Some(settings.fallback_message.clone()),
            "waiting" => Some(settings.waiting_message.clone()),
            "return" => Some(settings.return_message.clone()),
            "greeting" => Some(settings.greeting.clone()),
            _ => {
                let Some(mut body) = row.body.clone() else {
                    return Ok(None);
                };
                self.open(&mut body).await?;
                body.as_str().filter(|t| *t != ERASED).map(str::to_owned)
            }
        })
    }

    /// Tries to send `row` once.
    #[tracing::instrument(
        name = "sending a WhatsApp message",
        skip_all,
        fields(outbound_id = %row.outbound_id, purpose = %row.purpose, attempt = row.attempts)
    )]
    pub(super) async fn deliver(&self, row: &Claimed) -> anyhow::Result<Outcome> {
        let (tenant, _) = self.bus.tenants.load(&row.tenant_id.to_string()).await?;
        let Some(text) = self.text(row, tenant.settings()).await? else {
            return Ok(Outcome::refused("the text is no longer readable (erased)"));
        };
        if text.trim().is_empty() {
            return Ok(Outcome::refused("the message is empty"));
        }
        let Some(to) = self.recipient(row.conversation_id).await? else {
            return Ok(Outcome::refused(
                "the customer's number is no longer readable",
            ));
        };
        let channel = self.channels.get(row.tenant_id).await?;
        if let Some(c) = channel
            .as_ref()
            .filter(|c| c.provider == Provider::Evolution)
        {
            let key = self.channels.evolution_api_key(c).await?;
            let (Some(url), Some(instance), Some(key)) = (
                c.evolution_url.as_deref(),
                c.evolution_instance.as_deref(),
                key,
            ) else {
                return Ok(Outcome::refused(
                    "the Evolution API is not fully configured (URL, instance and API key)",
                ));
            };
            if let Some(since) = row.in_doubt_since {
                // Evolution takes no id of ours, but keeps what it sent: ask it first.
                let found =
                    graph::find_evolution_sent(&self.http, url, instance, &key, &to, &text, since)
                        .await;
                match found {
                    Ok(Some(id)) => {
                        tracing::info!("the attempt in doubt had been sent; not sending it again");
                        return Ok(Outcome {
                            attempt: Attempt::Sent(id),
                            channel: "evolution",
                            kind: "text",
                        });
                    }
                    // Never sent: sending now is no duplicate.
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the Evolution API cannot tell whether the attempt in doubt was sent");
                        if let Some(refused) = beyond_doubt_bound(row, "evolution", "text") {
                            return Ok(refused);
                        }
                    }
                }
            }
            let attempt = graph::send_evolution(&self.http, url, instance, &key, &to, &text).await;
            return Ok(Outcome {
                attempt,
                channel: "evolution",
                kind: "text",
            });
        }
        let own_token = match channel.as_ref() {
            Some(c) => self.channels.access_token(c).await?,
            None => None,
        };
        let Some(token) = own_token.or_else(|| self.config.token.clone()) else {
            // The embedded default: kept in the table, which the dashboard lists.
            tracing::info!(
                conversation_id = %row.conversation_id,
                "no WhatsApp token: the message is kept in the local outbox"
            );
            return Ok(Outcome {
                attempt: Attempt::Sent(format!("local.{}", row.outbound_id)),
                channel: "local",
                kind: "text",
            });
        };
        let Some(phone_number_id) = tenant.phone_number_id() else {
            return Ok(Outcome::refused("the tenant has no WhatsApp number linked"));
        };
        let (conversation, _) = self
            .bus
            .conversations
            .load(&row.conversation_id.to_string())
            .await?;
        let content = if conversation.is_customer_window_open(self.clock.now()) {
            Content::Text(&text)
        } else {
            let template = channel
                .as_ref()
                .and_then(|c| Some((c.template_name.as_deref()?, c.template_language.as_deref()?)));
            let Some((name, language)) = template else {
                return Ok(Outcome::refused(
                    "the 24 h customer window is closed and no template is configured",
                ));
            };
            Content::Template { name, language }
        };
        let kind = match content {
            Content::Text(_) => "text",
            Content::Template { .. } => "template",
        };
        // The Cloud API takes no idempotency key and has no lookup of sent messages: an
        // attempt in doubt is made once, never twice.
        if row.in_doubt_since.is_some() {
            if let Some(refused) = beyond_doubt_bound(row, "cloud_api", kind) {
                return Ok(refused);
            }
            tracing::warn!("sending again a message whose earlier attempt may have been accepted");
        }
        let attempt = graph::send_cloud(
            &self.http,
            &self.config.graph_url,
            phone_number_id,
            &token,
            &to,
            &content,
        )
        .await;
        Ok(Outcome {
            attempt,
            channel: "cloud_api",
            kind,
        })
    }
}

/// The refusal of an attempt beyond [`MAX_RESENDS_IN_DOUBT`], if `row` is one.
fn beyond_doubt_bound(row: &Claimed, channel: &'static str, kind: &'static str) -> Option<Outcome> {
    (row.resends_in_doubt > MAX_RESENDS_IN_DOUBT).then(|| Outcome {
        attempt: Attempt::Refused(
            "not sent again: earlier attempts were cut off after reaching the provider, \
             which may have delivered it already"
                .into(),
        ),
        channel,
        kind,
    })
}
