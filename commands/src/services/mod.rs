//! Implementations of the aggregates' service traits over the database.

mod phone_numbers;
mod tenant_gate;

pub use phone_numbers::PgPhoneNumberDirectory;
pub use tenant_gate::EventStoreTenantGate;
