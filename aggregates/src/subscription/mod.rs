//! The `subscription` aggregate: a tenant's paid plan as Stripe reports it (F20–F23):
//! trial, payments, grace period, suspension, reactivation, cancellation.

mod aggregate;
mod commands;
mod error;
mod services;
#[cfg(test)]
mod tests;

pub use aggregate::{PendingCheckout, Subscription};
pub use commands::SubscriptionCommand;
pub use error::SubscriptionError;
pub use services::SubscriptionServices;
