//! The projections every `atende serve` runs.

mod aggregate_index;

pub use aggregate_index::AggregateIndex;

use crate::audit::EventChain;
use crate::stream::runner::{Runner, RunnerHandle};
use crate::stream::tail::Tail;

/// Starts every built-in projection on `tail`, and the sealer of the event chain.
pub fn spawn_all(tail: &Tail) -> Vec<RunnerHandle> {
    vec![
        Runner::spawn(AggregateIndex, tail.clone()),
        Runner::spawn(EventChain::new(), tail.clone()),
    ]
}
