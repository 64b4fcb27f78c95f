//! What all aggregate errors have in common, so the HTTP layer maps them uniformly.

use std::fmt;

/// How a caller should treat a refused command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The aggregate does not exist (HTTP 404).
    NotFound,
    /// The command contradicts the aggregate's current state (HTTP 409).
    Conflict,
    /// The command itself is invalid (HTTP 422).
    Unprocessable,
    /// The command is not allowed for this tenant right now (HTTP 403).
    Forbidden,
    /// A service the rule depends on failed; retrying may succeed (HTTP 503).
    Unavailable,
}

impl ErrorKind {
    /// The HTTP status code this kind maps to.
    pub fn http_status(self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::Unprocessable => 422,
            Self::Forbidden => 403,
            Self::Unavailable => 503,
        }
    }
}

/// An aggregate's error: a message for people, a stable code for machines and a kind.
pub trait DomainError: std::error::Error {
    /// A stable snake_case code (e.g. `knowledge_too_long`); never changes once released.
    fn code(&self) -> &'static str;
    /// How the caller should treat it.
    fn kind(&self) -> ErrorKind;
}

/// A service an aggregate consulted failed (database down, timeout).
///
/// Only the message is kept: aggregate errors must be comparable in tests and the cause
/// is logged by the service implementation, which knows it best.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ServiceError(pub String);

impl ServiceError {
    /// A service error with a message.
    pub fn new(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_its_http_status() {
        let all = [
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::Unprocessable,
            ErrorKind::Forbidden,
            ErrorKind::Unavailable,
        ];
        let statuses: Vec<_> = all.iter().map(|k| k.http_status()).collect();
        assert_eq!(statuses, [404, 409, 422, 403, 503]);
    }
}
