//! `tickets`: every support ticket (F50) with its thread and files, for the tenant's list,
//! the admin queue and the support metrics: status, who waits since when, first response
//! times (AI and human) and resolution time.
//!
//! Subjects, messages and file names stay sealed exactly as in the events and are opened
//! when read, so erasure reaches them with no work here.

mod projector;
#[cfg(test)]
mod tests;

pub use projector::Tickets;
