//! `tickets`: every support ticket (F50) with its thread and files, for the tenant's list,
//! the admin queue and the support metrics: status, who waits since when, first response
//! times (AI and human) and resolution time.
//!
//! Subjects, messages and file names stay sealed exactly as in the events and are opened
//! when read, so erasure reaches them with no work here. Every change is announced on
//! [`TICKET_CHANNEL`] for the tenant's live stream.

mod change;
mod projector;
#[cfg(test)]
mod tests;

pub use change::{TicketChange, TICKET_CHANNEL};
pub use projector::Tickets;
