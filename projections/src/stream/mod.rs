//! Reading the global event stream in commit order.
//!
//! `Tail` reads committed events after a checkpoint; `Runner` drives one handler from its
//! own checkpoint, writing the handler's effect and the checkpoint in one transaction.

pub mod checkpoint;
pub mod runner;
pub mod tail;
