//! The write side: executing commands against the aggregates, with metadata, snapshots
//! and retry on concurrent writes; and the service implementations the aggregates use.

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
