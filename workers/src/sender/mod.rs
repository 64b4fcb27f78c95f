//! The WhatsApp sender: every message the platform owes a customer (AI answers, the tenant's
//! fallback, waiting and return messages, human replies) goes out exactly once per causing
//! event.
//!
//! - [`OutboundQueue`], a stream consumer, turns each event that carries an `outbound_id`
//!   into a row of `whatsapp_outbound`, in the transaction that moves its checkpoint and
//!   keyed by that id: redeliveries and restarts add nothing.
//! - [`Sender`] claims due rows (`FOR UPDATE SKIP LOCKED`), sends them through the Cloud API
//!   (Graph), the tenant's Evolution API, or — with no token at all — keeps them in the
//!   table as the local outbox (logged, counted as sent). 429 and 5xx are retried with
//!   exponential backoff; other refusals, and attempts running out, are given up. The
//!   outcome is recorded on the conversation: `OutboundSent` with the provider's id, or
//!   `OutboundRefused`.
//! - Inside the 24 h customer window a message is free text; outside it, the tenant's
//!   approved template.

mod deliver;
mod queue;
mod status;
mod worker;

pub use queue::{OutboundQueue, NOTIFY_CHANNEL};
pub use status::{status, OutboundStatus};
pub use worker::{Sender, SenderConfig};
