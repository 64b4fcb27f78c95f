//! The `ticket` aggregate: a tenant's support request to the operator (F50). The AI
//! answers first when confident, otherwise an admin does; statuses move
//! open → in progress → resolved → closed, with reopening from resolved; the tenant may
//! close its own ticket at any time. Who may write what is checked here: a tenant only on
//! its own ticket (anything else is "not found"), admins public messages or internal notes,
//! the AI only while no admin handles the ticket or has been asked for.

mod aggregate;
mod commands;
mod error;
mod services;
#[cfg(test)]
mod tests;

pub use aggregate::{is_allowed_transition, Ticket, AI_ANSWER_MIN_CONFIDENCE};
pub use commands::{Author, NewAttachment, TicketCommand, MAX_ATTACHMENTS_PER_MESSAGE};
pub use error::TicketError;
pub use services::TicketServices;
