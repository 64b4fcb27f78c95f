//! Reading the global event stream in commit order.
//!
//! `Tail` reads committed events after a checkpoint; `Runner` drives one handler from its
//! own checkpoint, writing the handler's effect and the checkpoint in one transaction, and
//! parks an event the handler keeps failing on so the consumer moves on.

mod apply;
pub mod checkpoint;
pub mod handler;
pub mod kafka;
pub mod parked;
pub mod registry;
pub mod runner;
pub mod source;
pub mod tail;

pub(crate) use apply::fence;
