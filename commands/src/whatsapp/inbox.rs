//! Recording what the providers' webhooks carry.

use super::channel::ChannelStore;
use super::WebhookError;
use crate::bus::CommandBus;
use crate::error::CommandError;
use aggregates::error::ErrorKind;
use aggregates::ConversationCommand;
use chrono::Utc;
use futures::future::join_all;
use integrations::whatsapp::{cloud, evolution};
use quick_cache::sync::Cache;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use serde::Serialize;
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

/// What a webhook led to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Messages and statuses recorded (or found already recorded: redeliveries).
    pub recorded: usize,
    /// Items deliberately not recorded: group chats, unknown numbers, statuses of unknown
    /// kinds or conversations, other event types.
    pub ignored: usize,
}

/// How many numbers' owners are kept in memory.
const KNOWN_NUMBERS: usize = 10_000;

/// The webhook command handlers.
#[derive(Debug, Clone)]
pub struct Inbox {
    bus: Arc<CommandBus>,
    pool: PgPool,
    channels: ChannelStore,
    owners: Arc<Cache<String, Uuid>>,
}

fn metadata(tenant: Uuid, provider: &str, idempotency_key: &str) -> CommandMetadata {
    CommandMetadata::new(
        Actor {
            kind: ActorKind::Provider,
            id: provider.to_owned(),
        },
        Some(tenant),
    )
    .with_idempotency_key(idempotency_key.to_owned())
}

/// Whether a refusal means "nothing to record here" rather than "try again": a provider
/// must not retry forever for a conversation or tenant that does not exist.
fn ignorable(e: &CommandError) -> bool {
    matches!(
        e,
        CommandError::Rejected {
            kind: ErrorKind::NotFound | ErrorKind::Conflict | ErrorKind::Unprocessable,
            ..
        }
    )
}

impl Inbox {
    /// Handlers recording through `bus`, routing with `pool`'s directories.
    pub fn new(bus: Arc<CommandBus>, pool: PgPool, channels: ChannelStore) -> Self {
        Self {
            bus,
            pool,
            channels,
            owners: Arc::new(Cache::new(KNOWN_NUMBERS)),
        }
    }

    /// The tenant that claimed the number. Claims are never released or moved (see
    /// `PgPhoneNumberDirectory`), so a found owner is remembered for good; an unknown number
    /// is asked again each time, as it may be linked any moment.
    async fn tenant_of_number(&self, phone_number_id: &str) -> Result<Option<Uuid>, WebhookError> {
        if let Some(tenant) = self.owners.get(phone_number_id) {
            return Ok(Some(tenant));
        }
        let tenant: Option<Uuid> = sqlx::query_scalar(
            "SELECT tenant_id FROM phone_number_claims WHERE phone_number_id = $1",
        )
        .bind(phone_number_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(tenant) = tenant {
            self.owners.insert(phone_number_id.to_owned(), tenant);
        }
        Ok(tenant)
    }

    /// Runs every command concurrently; counts the recorded and ignored ones, and fails if
    /// any failed otherwise (the provider retries; what did commit is deduplicated).
    async fn run(
        &self,
        commands: Vec<(Uuid, String, ConversationCommand, CommandMetadata)>,
        report: &mut IngestReport,
    ) -> Result<(), WebhookError> {
        // One conversation's items in payload order; different conversations concurrently.
        let mut groups: Vec<(String, Vec<(ConversationCommand, CommandMetadata)>)> = Vec::new();
        for (tenant, contact, command, md) in commands {
            let id = conversation_id(tenant, &contact).to_string();
            match groups.iter_mut().find(|(g, _)| *g == id) {
                Some((_, items)) => items.push((command, md)),
                None => groups.push((id, vec![(command, md)])),
            }
        }
        let results = join_all(groups.into_iter().map(|(id, items)| async move {
            let mut out = Vec::with_capacity(items.len());
            for (command, md) in items {
                out.push(self.bus.conversations.execute(&id, command, &md).await);
            }
            out
        }))
        .await
        .into_iter()
        .flatten();
        let mut failure = None;
        for r in results {
            match r {
                Ok(()) => report.recorded += 1,
                Err(e) if ignorable(&e) => {
                    tracing::info!(code = e.code(), "a webhook item was not recorded: {e}");
                    report.ignored += 1;
                }
                Err(e) => failure = Some(e),
            }
        }
        failure.map_or(Ok(()), |e| Err(e.into()))
    }

    /// Records a Cloud API webhook whose signature was already checked.
    pub async fn ingest_cloud(&self, body: &[u8]) -> Result<IngestReport, WebhookError> {
        self.record_cloud(Self::read_cloud(body)?).await
    }

    /// Reads a Cloud API webhook's messages and statuses, each with the number it came to
    /// (the route limits each number's rate before [`Self::record_cloud`], on one parse).
    pub fn read_cloud(body: &[u8]) -> Result<cloud::Batch, WebhookError> {
        let envelope: cloud::Envelope =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        Ok(envelope.into_batch(Utc::now()))
    }

    /// Records what [`Self::read_cloud`] read.
    #[tracing::instrument(name = "recording a WhatsApp Cloud API webhook", skip_all)]
    pub async fn record_cloud(&self, batch: cloud::Batch) -> Result<IngestReport, WebhookError> {
        let mut report = IngestReport {
            ignored: batch.skipped,
            ..Default::default()
        };
        let mut tenants = std::collections::HashMap::new();
        let mut commands = Vec::new();
        let numbers = batch
            .messages
            .iter()
            .map(|m| m.phone_number_id.clone())
            .chain(batch.statuses.iter().map(|s| s.phone_number_id.clone()));
        for number in numbers {
            if let std::collections::hash_map::Entry::Vacant(slot) = tenants.entry(number) {
                let tenant = self.tenant_of_number(slot.key()).await?;
                if tenant.is_none() {
                    tracing::warn!(phone_number_id = %slot.key(), "a webhook for a number no tenant has linked; ignored");
                }
                slot.insert(tenant);
            }
        }
        for m in batch.messages {
            let Some(tenant) = tenants.get(&m.phone_number_id).copied().flatten() else {
                report.ignored += 1;
                continue;
            };
            let md = metadata(tenant, "whatsapp_cloud_api", &m.id);
            let command = ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from(m.from.as_str()),
                contact_name: m.name.map(Personal::from),
                provider_message_id: m.id,
                content: m.content,
                sent_at: m.sent_at,
            };
            commands.push((tenant, m.from, command, md));
        }
        for s in batch.statuses {
            let Some(tenant) = tenants.get(&s.phone_number_id).copied().flatten() else {
                report.ignored += 1;
                continue;
            };
            let key = format!("{}:{:?}", s.id, s.status);
            let md = metadata(tenant, "whatsapp_cloud_api", &key);
            let command = ConversationCommand::RecordDelivery {
                provider_message_id: s.id,
                status: s.status,
                error: s.error,
            };
            commands.push((tenant, s.recipient, command, md));
        }
        self.run(commands, &mut report).await?;
        Ok(report)
    }

    /// Records an Evolution API webhook sent to the tenant's secret URL.
    pub async fn ingest_evolution(
        &self,
        secret: &str,
        body: &[u8],
    ) -> Result<IngestReport, WebhookError> {
        let tenant = self.tenant_of_secret(secret).await?;
        self.record_evolution(tenant, body).await
    }

    /// The tenant whose Evolution API instance posts to the secret address `secret`.
    pub async fn tenant_of_secret(&self, secret: &str) -> Result<Uuid, WebhookError> {
        self.channels
            .tenant_by_secret(secret)
            .await?
            .ok_or(WebhookError::UnknownSecret)
    }

    /// Records an Evolution API webhook of `tenant`'s instance ([`Self::tenant_of_secret`]).
    #[tracing::instrument(name = "recording an Evolution API webhook", skip_all)]
    pub async fn record_evolution(
        &self,
        tenant: Uuid,
        body: &[u8],
    ) -> Result<IngestReport, WebhookError> {
        let body: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        if let Some(state) = evolution::connection_update(&body) {
            self.channels.record_evolution_state(tenant, state).await?;
            return Ok(IngestReport {
                recorded: 1,
                ignored: 0,
            });
        }
        let envelope: evolution::Envelope =
            serde_json::from_value(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let upserts = envelope.into_upserts(Utc::now());
        let mut report = IngestReport {
            ignored: upserts.skipped,
            ..Default::default()
        };
        let commands = upserts
            .messages
            .into_iter()
            .map(|m| {
                let md = metadata(tenant, "evolution_api", &m.id);
                let command = if m.from_me {
                    ConversationCommand::RecordPhoneReply {
                        provider_message_id: m.id,
                        text: m.content.text().cloned(),
                        sent_at: m.sent_at,
                    }
                } else {
                    ConversationCommand::ReceiveMessage {
                        tenant_id: tenant,
                        contact_wa_id: Personal::from(m.number.as_str()),
                        contact_name: m.name.map(Personal::from),
                        provider_message_id: m.id,
                        content: m.content,
                        sent_at: m.sent_at,
                    }
                };
                (tenant, m.number, command, md)
            })
            .collect();
        self.run(commands, &mut report).await?;
        Ok(report)
    }
}
