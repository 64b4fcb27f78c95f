//! The stream runtime: reading the global event stream in commit order.
//!
//! `Tail` reads committed events after a checkpoint; `Runner` drives one handler from its
//! own checkpoint, writing the handler's effect and the checkpoint in one transaction, and
//! parks an event the handler keeps failing on so the consumer moves on. `KafkaRunner` drives the
//! same handlers from Kafka topics when the deployment is distributed, and `replay` rebuilds a
//! handler's tables beside the live ones and swaps them in without downtime. Read models live in
//! `projections`; effects on outside systems in `workers`; both run on this runtime.

mod apply;
pub mod checkpoint;
pub mod handle;
pub mod handler;
pub mod kafka;
pub mod notifications;
pub mod parked;
pub mod progress;
pub mod registry;
pub mod replay;
pub mod runner;
pub mod source;
pub mod tail;

pub(crate) use apply::fence;

pub use checkpoint::{Checkpoint, CheckpointStore};
pub use handle::{Handle, Stop};
pub use handler::{of_aggregate, EventHandler, HandlerError, BACKGROUND_PACE, LIVE_PACE};
pub use kafka::{KafkaConfig, KafkaRunner};
pub use parked::{ParkedEvent, RetryError};
pub use progress::{Progress, Unwatched};
pub use registry::Registry;
pub use runner::{ConsumerStatus, RetryPolicy, Runner};
pub use source::EventSource;
pub use tail::{CommitSignal, Tail, TailError};
