//! `conversations`: every conversation of a tenant (status, contact, last message, unanswered
//! count, assigned agent, 24 h window) and every message of it with its delivery state, for
//! the tenant's dashboard (F4–F9) and its live updates (F41).
//!
//! Message texts stay sealed exactly as in the events and are opened when read, so erasure
//! and retention reach them with no work here. The contact's number and name are the only
//! personal data kept in clear (search needs them): the projection opens them with a
//! [`SubjectKeys`] source and clears them on `SubjectErased` and, through [`forget_expired`],
//! once retention destroyed their key — so a replay after keys were destroyed builds the same
//! tables as the live model after the sweep.

mod change;
mod fields;
mod keys;
mod model;
mod projector;
mod retention;
mod store;
#[cfg(test)]
mod tests;

pub use change::{ConversationChange, CHANNEL};
pub use keys::{KeysUnavailable, SubjectKeys};
pub use projector::Conversations;
pub use retention::forget_expired;
