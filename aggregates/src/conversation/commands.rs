//! What can be asked of a conversation.

use chrono::{DateTime, Utc};
use schemas::events::{AiRun, DeliveryStatus, HandoffReason, MessageContent, ResumeReason};
use schemas::Personal;
use uuid::Uuid;

/// A request to change a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationCommand {
    /// Record a customer's message from a provider webhook (F1, F2).
    ReceiveMessage {
        /// The tenant whose number received it.
        tenant_id: Uuid,
        /// The customer's WhatsApp id (phone number).
        contact_wa_id: Personal<String>,
        /// The customer's profile name, if the provider sent it.
        contact_name: Option<Personal<String>>,
        /// The provider's message id; repeats are ignored.
        provider_message_id: String,
        /// What was sent.
        content: MessageContent,
        /// When the customer sent it, by the provider's clock.
        sent_at: DateTime<Utc>,
    },
    /// Record the AI's answer, to be sent (F12).
    RecordAiReply {
        /// The answer; not blank.
        text: Personal<String>,
        /// The model's confidence, 0..=1.
        confidence: f64,
        /// Ids of the knowledge chunks used.
        sources: Vec<String>,
        /// The model that answered.
        model: String,
        /// Prompt tokens.
        tokens_in: u32,
        /// Completion tokens.
        tokens_out: u32,
        /// Provider, latency, cost and cache use (F16), when known.
        run: Option<AiRun>,
    },
    /// Record that the AI was not confident enough; hands the conversation to a human.
    RecordLowConfidence {
        /// The confidence, 0..=1.
        confidence: f64,
        /// The customer's question.
        question: Personal<String>,
        /// Why the AI hands over (`None`: low confidence).
        reason: Option<HandoffReason>,
    },
    /// The customer asked for a human.
    RequestHuman {
        /// What the customer wrote.
        question: Personal<String>,
    },
    /// A tenant user answers from the dashboard (F7).
    ReplyAsHuman {
        /// The user answering.
        agent_id: Uuid,
        /// The answer; not blank.
        text: Personal<String>,
    },
    /// Assign the conversation to a tenant user (F7).
    AssignAgent {
        /// The user.
        agent_id: Uuid,
    },
    /// Give the conversation back to the AI (F8 timeout, or manually).
    ResumeAi {
        /// Why.
        reason: ResumeReason,
    },
    /// Record a provider's delivery status for an outbound message.
    RecordDelivery {
        /// The provider's id of the outbound message.
        provider_message_id: String,
        /// The status reported.
        status: DeliveryStatus,
        /// The provider's error, for `failed`.
        error: Option<String>,
    },
    /// Record the provider's id of an outbound message once the provider accepted it, so
    /// its delivery statuses can be traced back to the event that asked for it.
    RecordOutboundSent {
        /// The `outbound_id` of the event that asked for the message.
        outbound_id: Uuid,
        /// The id the provider gave the message.
        provider_message_id: String,
    },
    /// Record that the platform gave up sending an outbound message the provider never
    /// accepted (permanent refusal, or attempts exhausted).
    RecordSendRefused {
        /// The `outbound_id` of the event that asked for the message.
        outbound_id: Uuid,
        /// Why.
        error: String,
    },
    /// Record a message a person typed on the tenant's connected phone (Evolution API's
    /// `fromMe`): human activity the 24 h saga must see; nothing is sent.
    RecordPhoneReply {
        /// The provider's message id; repeats (and echoes of messages atende sent) are
        /// ignored.
        provider_message_id: String,
        /// The text, when it was text.
        text: Option<Personal<String>>,
        /// When it was sent, by the provider's clock.
        sent_at: DateTime<Utc>,
    },
    /// Greet the customer before the AI's first answer of a new conversation; nothing
    /// happens once greeted or when the AI is not the one answering.
    Greet,
    /// Close the conversation (F7).
    Resolve,
    /// Record that the contact's personal data was destroyed (F65). The keys are destroyed
    /// by the caller; this keeps the fact (who, when, why) in the log.
    EraseSubject {
        /// Why.
        reason: String,
    },
}

impl ConversationCommand {
    /// Whether the command needs the tenant to be active. Customer messages and provider
    /// statuses (and the provider's id of a message already sent) are facts that happened
    /// whatever the tenant's standing, so they are recorded even for a suspended tenant;
    /// everything else is refused.
    pub fn requires_active_tenant(&self) -> bool {
        !matches!(
            self,
            Self::ReceiveMessage { .. }
                | Self::RecordDelivery { .. }
                | Self::RecordOutboundSent { .. }
                | Self::RecordSendRefused { .. }
                | Self::RecordPhoneReply { .. }
                | Self::EraseSubject { .. }
        )
    }
}
