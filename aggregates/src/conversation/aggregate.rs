//! The conversation's state and how events change it.

use super::recent::Recent;
use super::{ConversationCommand, ConversationError, ConversationServices};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::{ConversationEvent, ConversationStatus, DeliveryStatus};
use schemas::AggregateKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use schemas::events::CUSTOMER_WINDOW;

/// How many inbound provider message ids (and outbound delivery statuses) are kept for
/// deduplication. Bounded because the state is snapshotted and snapshots must stay small
/// however long a conversation lives; providers redeliver within hours, long before a
/// thousand newer messages could push an id out.
pub const RECENT_IDS_KEPT: usize = 1_000;

/// One tenant × WhatsApp contact conversation.
///
/// The state keeps no message text or number, so snapshots hold no personal data.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Conversation {
    pub(super) tenant_id: Option<Uuid>,
    pub(super) status: ConversationStatus,
    pub(super) last_inbound_at: Option<DateTime<Utc>>,
    pub(super) last_human_activity_at: Option<DateTime<Utc>>,
    pub(super) handed_off_at: Option<DateTime<Utc>>,
    pub(super) assigned_agent: Option<Uuid>,
    pub(super) message_count: u64,
    pub(super) inbound_ids: Recent<()>,
    pub(super) outbound_statuses: Recent<DeliveryStatus>,
    /// Recent outbound messages by `outbound_id`, with the provider's id once sent.
    /// Defaulted so snapshots taken before it existed still load.
    #[serde(default)]
    pub(super) outbound_sent: Recent<Option<String>>,
    /// Whether the customer was greeted, or answered otherwise (no greeting is due then).
    /// Snapshots taken before it existed are of conversations past their greeting.
    #[serde(default = "already_greeted")]
    pub(super) greeted: bool,
}

fn already_greeted() -> bool {
    true
}

impl Conversation {
    /// The tenant, once the first message arrived.
    pub fn tenant_id(&self) -> Option<Uuid> {
        self.tenant_id
    }

    /// Whether any message has been received (i.e. the conversation exists).
    pub fn exists(&self) -> bool {
        self.tenant_id.is_some()
    }

    /// Who is answering.
    pub fn status(&self) -> ConversationStatus {
        self.status
    }

    /// Whether the tenant resolved it (and no message arrived since).
    pub fn is_resolved(&self) -> bool {
        self.status == ConversationStatus::Resolved
    }

    /// When the customer last wrote (the provider's send time, never later than receipt).
    pub fn last_inbound_at(&self) -> Option<DateTime<Utc>> {
        self.last_inbound_at
    }

    /// The last human reply or assignment; the 24 h timeout saga (F8) watches it.
    pub fn last_human_activity_at(&self) -> Option<DateTime<Utc>> {
        self.last_human_activity_at
    }

    /// When the current hand-off to a human began, while it lasts.
    pub fn handed_off_at(&self) -> Option<DateTime<Utc>> {
        self.handed_off_at
    }

    /// The tenant user assigned, if any.
    pub fn assigned_agent(&self) -> Option<Uuid> {
        self.assigned_agent
    }

    /// Messages exchanged: customer messages, AI replies and human replies.
    pub fn message_count(&self) -> u64 {
        self.message_count
    }

    /// When the 24 h customer-service window closes; `None` if the customer never wrote.
    pub fn customer_window_ends_at(&self) -> Option<DateTime<Utc>> {
        self.last_inbound_at.map(|t| t + CUSTOMER_WINDOW)
    }

    /// Whether free-form messages may be sent at `now`; the window is closed from the
    /// instant it ends.
    pub fn is_customer_window_open(&self, now: DateTime<Utc>) -> bool {
        self.customer_window_ends_at().is_some_and(|end| now < end)
    }

    /// Whether the provider message id is among the recent inbound ones.
    pub fn has_received(&self, provider_message_id: &str) -> bool {
        self.inbound_ids.contains(provider_message_id)
    }

    /// Whether a recent outbound message has this `outbound_id`, and if so the provider's id
    /// it was sent as (`None` while unsent).
    pub fn outbound(&self, outbound_id: Uuid) -> Option<Option<&str>> {
        self.outbound_sent
            .get(&outbound_id.to_string())
            .map(Option::as_deref)
    }

    /// Whether a recent outbound message was given up (`OutboundRefused`).
    pub fn is_refused(&self, outbound_id: Uuid) -> bool {
        self.outbound_statuses
            .get(&refused_key(outbound_id))
            .is_some()
    }

    /// Whether a recent outbound message was sent under this provider id (so a provider
    /// echoing it back is not a new message).
    pub fn sent_as(&self, provider_message_id: &str) -> bool {
        self.outbound_sent
            .values()
            .any(|v| v.as_deref() == Some(provider_message_id))
    }

    /// Whether the greeting was sent, or the conversation was answered without it.
    pub fn greeted(&self) -> bool {
        self.greeted
    }

    /// The furthest delivery status recorded for a recent outbound message.
    pub fn delivery_status(&self, provider_message_id: &str) -> Option<DeliveryStatus> {
        self.outbound_statuses.get(provider_message_id).copied()
    }
}

impl Aggregate for Conversation {
    const TYPE: &'static str = AggregateKind::Conversation.as_str();
    type Command = ConversationCommand;
    type Event = ConversationEvent;
    type Error = ConversationError;
    type Services = ConversationServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if let Some(event) = self.decide(command, services).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use ConversationStatus as S;
        if let Some(outbound_id) = asked_to_send(&event) {
            self.outbound_sent.insert(outbound_id.to_string(), None);
        }
        match event {
            ConversationEvent::MessageReceived {
                tenant_id,
                provider_message_id,
                sent_at,
                at,
                ..
            } => {
                self.tenant_id = Some(tenant_id);
                self.inbound_ids.insert(provider_message_id, ());
                // A provider clock ahead of ours must not stretch the window.
                let sent = sent_at.min(at);
                self.last_inbound_at = self.last_inbound_at.max(Some(sent));
                self.message_count += 1;
                if self.status == S::Resolved {
                    self.status = S::AiActive;
                }
            }
            ConversationEvent::AiReplied { .. } => {
                self.message_count += 1;
                self.greeted = true;
            }
            ConversationEvent::GreetingSent { .. } => self.greeted = true,
            ConversationEvent::ConfidenceLow { at, .. }
            | ConversationEvent::HumanRequested { at, .. } => {
                self.greeted = true;
                self.status = S::AwaitingHuman;
                self.handed_off_at = Some(at);
            }
            ConversationEvent::HumanReplied { at, .. } => {
                self.greeted = true;
                self.status = S::HumanReplied;
                self.last_human_activity_at = Some(at);
                self.message_count += 1;
            }
            ConversationEvent::AgentAssigned { agent_id, at } => {
                self.assigned_agent = Some(agent_id);
                self.last_human_activity_at = Some(at);
            }
            ConversationEvent::AiResumed { .. } => {
                self.status = S::AiActive;
                self.handed_off_at = None;
            }
            ConversationEvent::OutboundSent {
                outbound_id,
                provider_message_id,
                ..
            } => self
                .outbound_sent
                .insert(outbound_id.to_string(), Some(provider_message_id)),
            ConversationEvent::OutboundDelivered {
                provider_message_id,
                status,
                ..
            } => self.outbound_statuses.insert(provider_message_id, status),
            ConversationEvent::OutboundFailed {
                provider_message_id,
                ..
            } => self
                .outbound_statuses
                .insert(provider_message_id, DeliveryStatus::Failed),
            ConversationEvent::ConversationResolved { .. } => {
                self.status = S::Resolved;
                self.handed_off_at = None;
            }
            ConversationEvent::OutboundRefused { outbound_id, .. } => self
                .outbound_statuses
                .insert(refused_key(outbound_id), DeliveryStatus::Failed),
            ConversationEvent::HumanRepliedFromPhone {
                provider_message_id,
                at,
                ..
            } => {
                self.inbound_ids.insert(provider_message_id, ());
                self.greeted = true;
                self.status = S::HumanReplied;
                self.last_human_activity_at = Some(at);
                self.message_count += 1;
            }
            // The state holds no personal data, so there is nothing to forget here.
            ConversationEvent::SubjectErased { .. } => {}
        }
    }
}

/// Where a refused outbound message is remembered among the delivery statuses (keyed by
/// provider id, which a refused message never had).
fn refused_key(outbound_id: Uuid) -> String {
    format!("refused:{outbound_id}")
}

/// The `outbound_id` of an event after which a message is to be sent.
fn asked_to_send(event: &ConversationEvent) -> Option<Uuid> {
    match event {
        ConversationEvent::AiReplied { outbound_id, .. }
        | ConversationEvent::ConfidenceLow { outbound_id, .. }
        | ConversationEvent::HumanRequested { outbound_id, .. }
        | ConversationEvent::HumanReplied { outbound_id, .. }
        | ConversationEvent::AiResumed { outbound_id, .. }
        | ConversationEvent::GreetingSent { outbound_id, .. } => Some(*outbound_id),
        _ => None,
    }
}
