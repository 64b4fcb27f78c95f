//! Support tickets' workers (F50).
//!
//! - [`SupportAi`] (`support_ai`) answers first: when a ticket is opened, or its tenant writes
//!   again while no admin handles it, it retrieves from the platform knowledge (indexed like
//!   a tenant's knowledge, under [`PLATFORM_KNOWLEDGE`]) and, with a confidence above
//!   [`AI_ANSWER_MIN_CONFIDENCE`], records `TicketAiAnswerGiven` with the chunks it used;
//!   otherwise it hands the ticket to the admins (`TicketAwaitingAdmin`). It writes the answer
//!   as the responder does: with the responder's providers and response cache when a model
//!   is configured (every provider failing hands the ticket to the admins), extractively
//!   otherwise; what it spends is the platform's, counted in `support_ai_runs` (mode and
//!   tokens) apart from any tenant's usage.
//! - [`TicketNotifier`] (`ticket_notifier`) e-mails the admins on every new ticket and every
//!   ticket handed to them, and the tenant's owner (in the tenant's language) when support
//!   answers; each mail once, keyed by the event that caused it.

mod ai;
mod notifier;

pub use ai::SupportAi;
pub use notifier::TicketNotifier;

pub use aggregates::ticket::AI_ANSWER_MIN_CONFIDENCE;
pub use knowledge::PLATFORM_KNOWLEDGE;
