//! The stream through Kafka (F61): topic layout, the consumer-group runner and its dedup.
//!
//! The relay (in `workers`) publishes every stored event, in commit order, to one topic per
//! aggregate type, keyed by aggregate id, so one aggregate's events stay in one partition in
//! sequence order. [`KafkaRunner`] drives any [`EventHandler`](super::handler::EventHandler)
//! from those topics through a consumer group, with the same transaction discipline as the
//! tail's runner: effect and dedup record commit together, so effects happen exactly once.

mod config;
mod dedup;
mod probe;
mod runner;
mod topics;

pub use config::{KafkaConfig, AGGREGATE_TYPES};
pub(crate) use dedup::reset_to as reset_dedup;
pub use probe::BrokerProbe;
pub use runner::KafkaRunner;
pub use topics::ensure_topics;

/// Header names on every relayed message.
pub mod headers {
    /// The event's type (`TenantRegistered`).
    pub const EVENT_TYPE: &str = "event_type";
    /// The payload's version (`1`).
    pub const EVENT_VERSION: &str = "event_version";
    /// The event's global position in the store, decimal.
    pub const POSITION: &str = "position";
    /// The tenant the event belongs to, when it has one.
    pub const TENANT_ID: &str = "tenant_id";
    /// The correlation id of the request that caused it.
    pub const CORRELATION_ID: &str = "correlation_id";
}
