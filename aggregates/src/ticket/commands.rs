//! What can be asked of a ticket.

use schemas::events::{TicketPriority, TicketStatus};
use schemas::Personal;
use uuid::Uuid;

/// The most files one message may carry.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 5;

/// Who writes in a ticket's thread. The aggregate checks what each may write: a tenant
/// only on its own ticket, the AI only through [`TicketCommand::RecordAiAnswer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// A user of a tenant.
    Tenant {
        /// The user's tenant; must be the ticket's.
        tenant_id: Uuid,
        /// The user.
        user_id: Uuid,
    },
    /// An operator of the platform.
    Admin {
        /// The operator.
        admin_id: Uuid,
    },
}

/// A file to attach, already checked and stored outside the log by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The id its bytes are stored under.
    pub attachment_id: Uuid,
    /// The file name as uploaded.
    pub name: Personal<String>,
    /// Its size in bytes.
    pub size: u64,
    /// The media type found in its bytes.
    pub content_type: String,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
}

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
        /// Files sent with it; at most [`MAX_ATTACHMENTS_PER_MESSAGE`].
        attachments: Vec<NewAttachment>,
    },
    /// Record the support AI's answer; only when confident (above
    /// [`super::AI_ANSWER_MIN_CONFIDENCE`]) and no admin handles the ticket or has been
    /// asked for.
    RecordAiAnswer {
        /// The answer; not blank.
        text: Personal<String>,
        /// The AI's confidence, 0..=1.
        confidence: f64,
        /// The knowledge chunks it came from.
        sources: Vec<String>,
    },
    /// The AI could not answer; wait for an admin.
    AwaitAdmin,
    /// The tenant asks for a person.
    RequestHuman {
        /// The asking user's tenant; must be the ticket's.
        tenant_id: Uuid,
        /// The asking user.
        user_id: Uuid,
    },
    /// Add a public message to the ticket's thread.
    AddMessage {
        /// Who writes it.
        author: Author,
        /// The message; not blank.
        text: Personal<String>,
        /// Files sent with it; at most [`MAX_ATTACHMENTS_PER_MESSAGE`].
        attachments: Vec<NewAttachment>,
    },
    /// An admin adds a note the tenant never sees.
    AddInternalNote {
        /// The admin.
        admin_id: Uuid,
        /// The note; not blank.
        text: Personal<String>,
    },
    /// An admin takes the ticket.
    Assign {
        /// The admin.
        admin_id: Uuid,
    },
    /// An admin moves the ticket to another status (see [`super::is_allowed_transition`]).
    ChangeStatus {
        /// The target status.
        to: TicketStatus,
    },
    /// The tenant closes its own ticket, from any status.
    CloseByTenant {
        /// The closing user's tenant; must be the ticket's.
        tenant_id: Uuid,
    },
}
