//! What executing a command can fail with.

use aggregates::error::{DomainError, ErrorKind};
use cqrs_es::AggregateError;
use std::error::Error as StdError;

/// A command was refused or could not be executed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A business rule refused it; `kind` says how the caller should treat it.
    #[error("{message}")]
    Rejected {
        /// Stable machine code (e.g. `knowledge_too_long`).
        code: &'static str,
        /// Not found, conflict, unprocessable, forbidden or unavailable.
        kind: ErrorKind,
        /// Human-readable reason.
        message: String,
    },
    /// Other writers kept changing the aggregate; retries ran out.
    #[error("the {aggregate} was changed concurrently too many times; try again")]
    Contended {
        /// The aggregate type.
        aggregate: &'static str,
    },
    /// The event store failed (database down, unreadable stored data).
    #[error("the event store failed")]
    Store(#[source] Box<dyn StdError + Send + Sync>),
}

impl CommandError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rejected { code, .. } => code,
            Self::Contended { .. } => "concurrent_modification",
            Self::Store(_) => "internal",
        }
    }

    pub(crate) fn from_aggregate<E: DomainError>(
        aggregate: &'static str,
        e: AggregateError<E>,
    ) -> Self {
        match e {
            AggregateError::UserError(e) => Self::Rejected {
                code: e.code(),
                kind: e.kind(),
                message: e.to_string(),
            },
            AggregateError::AggregateConflict => Self::Contended { aggregate },
            AggregateError::DatabaseConnectionError(e) => Self::Store(e),
            AggregateError::DeserializationError(e) => Self::Store(e),
            AggregateError::UnexpectedError(e) => Self::Store(e),
        }
    }
}
