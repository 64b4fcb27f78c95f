//! The read models: each projection turns the event stream into the tables the API reads.
//! They run on the `stream` runtime (tail, runners, checkpoints, replay).

pub mod audit;
pub mod billing;
pub mod builtin;
pub mod content;
pub mod conversations;
pub mod knowledge;
pub mod metrics;
pub mod notifications;
pub mod plans;
pub mod reports;
// The usage monitor's AI spend thresholds (issue 18).
pub mod spend;
pub mod tenants;
pub mod tickets;
pub mod usage;
