//! The write side: executing commands against the aggregates, with metadata, snapshots
//! and retry on concurrent writes; the service implementations the aggregates use; and the
//! rows kept beside the events for the provisioning saga (a checkout's owner, a tenant's
//! first owner and its password hash), so the webhook and the saga share typed functions.

pub mod bus;
pub mod checkout_owners;
pub mod error;
mod group;
pub mod privacy;
pub mod services;
pub mod store;
pub mod users;
pub mod whatsapp;

pub use bus::{CommandBus, CommandBusConfig};
pub use error::CommandError;
pub use store::AggregateStore;
