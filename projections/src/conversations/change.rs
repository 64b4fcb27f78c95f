//! What the projection announces after each change of a conversation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The PostgreSQL notification channel the projection announces changes on. Notifications
/// are sent inside the projection's transaction, so listeners (in any process) hear of a
/// change exactly when it becomes visible, and never of one that rolled back.
pub const CHANNEL: &str = "atende_conversations";

/// One change of a conversation, as announced on [`CHANNEL`] (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationChange {
    /// The conversation's tenant: listeners forward a change to that tenant's users only.
    pub tenant_id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// Its status after the change (`ai_active`, `awaiting_human`, `human_replied`,
    /// `resolved`).
    pub status: String,
    /// Its `updated_at` after the change.
    pub updated_at: DateTime<Utc>,
    /// The position of the event that changed it.
    pub position: i64,
}
