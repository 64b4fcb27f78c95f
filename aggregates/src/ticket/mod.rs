//! The `ticket` aggregate: a tenant's support request to the operator (F50). The AI
//! answers first when confident, otherwise an admin does; statuses move
//! open → in progress → resolved → closed, with reopening from resolved.

mod aggregate;
mod commands;
mod error;
mod services;
#[cfg(test)]
mod tests;

pub use aggregate::{is_allowed_transition, Ticket, AI_ANSWER_MIN_CONFIDENCE};
pub use commands::TicketCommand;
pub use error::TicketError;
pub use services::TicketServices;
