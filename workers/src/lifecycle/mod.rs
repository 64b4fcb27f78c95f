//! The subscription lifecycle (F23): what a payment failing, the grace period ending, a
//! payment arriving again or a cancellation does to the tenant, and the mails saying so.
//!
//! [`SubscriptionLifecycle`] consumes the event stream (its effects and its checkpoint
//! commit together); [`grace`] is the durable timer that ends grace periods.

pub mod grace;
mod handler;
mod notify;

pub use grace::{expire_due, spawn_grace_timer};
pub use handler::SubscriptionLifecycle;

/// The consumer's name (its checkpoint, its line in /health).
pub const CONSUMER: &str = "subscription_lifecycle";

/// Why a tenant is suspended when its grace period ends unpaid.
pub const OVERDUE_REASON: &str = "billing: payment overdue";

/// Why a tenant is suspended when its subscription is cancelled.
pub const CANCELLED_REASON: &str = "billing: subscription cancelled";
