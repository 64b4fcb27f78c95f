//! The `conversation` aggregate: everything between one tenant and one WhatsApp contact
//! (F1–F9). Its id is [`schemas::conversation_id`] of the tenant and the contact.

mod aggregate;
mod commands;
mod decide;
mod error;
mod recent;
mod services;
#[cfg(test)]
mod tests;

pub use aggregate::{Conversation, CUSTOMER_WINDOW, RECENT_IDS_KEPT};
pub use commands::ConversationCommand;
pub use error::ConversationError;
pub use services::{ConversationServices, TenantGate, TenantStatus};
