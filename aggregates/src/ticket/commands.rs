//! What can be asked of a ticket.

use schemas::events::{AuthorKind, TicketPriority, TicketStatus};
use schemas::Personal;
use uuid::Uuid;

/// A request to change a ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketCommand {
    /// A tenant opens a ticket.
    OpenTicket {
        /// The new ticket's id; the caller uses it as the aggregate id too.
        ticket_id: Uuid,
        /// The tenant opening it.
        tenant_id: Uuid,
        /// Its category; not blank.
        category: String,
        /// One-line summary; not blank.
        subject: Personal<String>,
        /// The full request.
        description: Personal<String>,
        /// How urgent it is.
        priority: TicketPriority,
    },
    /// Record the support AI's answer; only when confident (above
    /// [`super::AI_ANSWER_MIN_CONFIDENCE`]) and no admin has been asked for.
    RecordAiAnswer {
        /// The answer; not blank.
        text: Personal<String>,
        /// The AI's confidence, 0..=1.
        confidence: f64,
    },
    /// The AI could not answer; wait for an admin.
    AwaitAdmin,
    /// Add a message to the ticket's thread.
    AddMessage {
        /// What sort of author.
        author_kind: AuthorKind,
        /// The author's id (a user id, or the AI's name).
        author_id: String,
        /// The message; not blank.
        text: Personal<String>,
    },
    /// An admin takes the ticket.
    Assign {
        /// The admin.
        admin_id: Uuid,
    },
    /// Move the ticket to another status (see [`super::is_allowed_transition`]).
    ChangeStatus {
        /// The target status.
        to: TicketStatus,
    },
}
