//! The read side: the event-store tail, consumer checkpoints and the runners that feed
//! projections and workers from it.

pub mod audit;
pub mod billing;
pub mod builtin;
pub mod content;
pub mod conversations;
pub mod knowledge;
pub mod metrics;
pub mod replay;
pub mod reports;
pub mod stream;
pub mod tenants;
pub mod tickets;
pub mod usage;

pub use stream::checkpoint::{Checkpoint, CheckpointStore};
pub use stream::handler::{of_aggregate, EventHandler, HandlerError, BACKGROUND_PACE, LIVE_PACE};
pub use stream::kafka::{KafkaConfig, KafkaRunner};
pub use stream::parked::{ParkedEvent, RetryError};
pub use stream::registry::Registry;
pub use stream::runner::{ConsumerStatus, RetryPolicy, Runner, RunnerHandle};
pub use stream::source::EventSource;
pub use stream::tail::{CommitSignal, Tail, TailError};
