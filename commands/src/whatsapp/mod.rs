//! The WhatsApp channel's write side: webhook command handlers (Meta's Cloud API and the
//! Evolution API) and each tenant's channel settings, whose credentials are stored sealed.
//!
//! The HTTP routes live in `read-api`; everything they do is here: check the signature over
//! the raw body, parse the provider's payload (both with `integrations::whatsapp`), route it
//! to a tenant and record each message or status on its conversation. A route answers only after every command has committed.

mod channel;
mod error;
mod inbox;

pub use channel::{Channel, ChannelStore, ChannelUpdate, Provider};
pub use error::WebhookError;
pub use inbox::{Inbox, IngestReport};
