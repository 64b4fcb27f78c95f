//! What the projection announces after each change of a ticket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The PostgreSQL notification channel the projection announces ticket changes on, inside
/// its transaction: listeners hear of a change exactly when it becomes visible.
pub const TICKET_CHANNEL: &str = "atende_tickets";

/// One change of a support ticket, as announced on [`TICKET_CHANNEL`] (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketChange {
    /// The ticket's tenant: listeners forward a change to that tenant's users only.
    pub tenant_id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its status after the change (`open`, `in_progress`, `resolved`, `closed`).
    pub status: String,
    /// Its `updated_at` after the change.
    pub updated_at: DateTime<Utc>,
    /// The position of the event that changed it.
    pub position: i64,
}
