//! Where runners read the stream from: the event-store tail or Kafka.

use super::handler::EventHandler;
use super::kafka::{KafkaConfig, KafkaRunner};
use super::runner::{RetryPolicy, Runner, RunnerHandle};
use super::tail::Tail;
use rdkafka::error::KafkaError;
use std::sync::Arc;

/// The stream a process's runners read. Handlers do not know which: the same
/// [`EventHandler`] runs from either.
#[derive(Debug, Clone)]
pub enum EventSource {
    /// The in-process tail of the event store.
    Tail(Tail),
    /// Kafka consumer groups; handlers that need commit order across aggregates
    /// ([`EventHandler::needs_commit_order`]) still read `tail`.
    Kafka {
        /// The brokers and names.
        config: KafkaConfig,
        /// The tail, for handlers that need commit order.
        tail: Tail,
    },
}

impl EventSource {
    /// Starts a runner for `handler` on this source.
    pub fn spawn(&self, handler: Arc<dyn EventHandler>) -> Result<RunnerHandle, KafkaError> {
        match self {
            Self::Tail(tail) => Ok(Runner::spawn(handler, tail.clone())),
            Self::Kafka { tail, .. } if handler.needs_commit_order() => {
                Ok(Runner::spawn(handler, tail.clone()))
            }
            Self::Kafka { config, tail } => KafkaRunner::spawn(
                handler,
                tail.pool().clone(),
                config.clone(),
                RetryPolicy::default(),
            ),
        }
    }

    /// Whether events come from Kafka.
    pub fn is_kafka(&self) -> bool {
        matches!(self, Self::Kafka { .. })
    }
}
