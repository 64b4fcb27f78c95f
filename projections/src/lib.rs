//! The read side: the event-store tail, consumer checkpoints and the runners that feed
//! projections and workers from it.

pub mod audit;
pub mod builtin;
pub mod stream;

pub use stream::checkpoint::{Checkpoint, CheckpointStore};
pub use stream::runner::{ConsumerStatus, EventHandler, HandlerError, Runner, RunnerHandle};
pub use stream::tail::{CommitSignal, Tail, TailError};
