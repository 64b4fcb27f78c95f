//! The one error type handlers return, and how it looks on the wire.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::error::Error as StdError;

/// An API failure. Every variant but `Internal` is the client's to fix and is shown as is;
/// `Internal` is logged once with its cause chain and shown opaquely.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read.
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: credentials valid, action not allowed.
    #[error("{message}")]
    Forbidden {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// 404: no such thing (or not visible to the caller).
    #[error("{message}")]
    NotFound {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// 409: the request conflicts with the current state.
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// 422: the request was understood but breaks a rule.
    #[error("{message}")]
    Unprocessable {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
        /// Per-field details, when there are any.
        details: Option<serde_json::Value>,
    },
    /// 413: the request body is larger than the API accepts.
    #[error("the request body is larger than {limit_bytes} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit_bytes: usize,
    },
    /// 415: the request carries content of a type the route does not accept.
    #[error("{message}")]
    UnsupportedMediaType {
        /// Stable machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// 429: too many requests; retry after the given seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 429 `rate_limited`: the caller's rate limit (per tenant, user, client IP or provider
    /// number) is spent; retry after the given seconds.
    #[error("too many requests: this client's rate limit is spent; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry may succeed, rounded up.
        retry_after_secs: u64,
    },
    /// 503: a dependency is down.
    #[error("{0}")]
    Unavailable(String),
    /// 503 with its own code: a dependency is not configured or refused (billing without
    /// `STRIPE_SECRET_KEY`, Stripe unreachable).
    #[error("{message}")]
    DependencyUnavailable {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// 500: a bug or an unexpected failure. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    #[schema(value_type = String, example = "forbidden")]
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Extra structured details.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    /// Wraps an unexpected failure.
    pub fn internal(e: impl StdError + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }

    /// The HTTP status it answers.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// The machine-readable code it answers.
    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden { code, .. } => (StatusCode::FORBIDDEN, code),
            Self::NotFound { code, .. } => (StatusCode::NOT_FOUND, code),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            Self::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            Self::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType { code, .. } => (StatusCode::UNSUPPORTED_MEDIA_TYPE, code),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::DependencyUnavailable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, code),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// Marks a response as a rate-limit refusal: the audit log does not record those one by
/// one (a flood would write a row per refused request), the metrics count them.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitedResponse;

/// Renders an error and its sources as one line, outermost first.
pub fn cause_chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let (message, details) = match &self {
            Self::Internal(cause) => {
                tracing::error!(cause = %cause_chain(cause.as_ref()), "request failed with an internal error");
                ("internal error; the cause was logged".to_owned(), None)
            }
            Self::Unprocessable {
                message, details, ..
            } => (message.clone(), details.clone()),
            other => (other.to_string(), None),
        };
        let mut resp = (
            status,
            Json(ErrorBody {
                code,
                message,
                details,
            }),
        )
            .into_response();
        if let Self::TooManyRequests { retry_after_secs } | Self::RateLimited { retry_after_secs } =
            self
        {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
        if matches!(self, Self::RateLimited { .. }) {
            resp.extensions_mut().insert(RateLimitedResponse);
        }
        resp
    }
}

impl From<commands::CommandError> for ApiError {
    fn from(e: commands::CommandError) -> Self {
        use aggregates::ErrorKind;
        use commands::CommandError as C;
        match e {
            C::Rejected {
                code,
                kind,
                message,
            } => match kind {
                ErrorKind::NotFound => Self::NotFound { code, message },
                ErrorKind::Conflict => Self::Conflict { code, message },
                ErrorKind::Unprocessable => Self::Unprocessable {
                    code,
                    message,
                    details: None,
                },
                ErrorKind::Forbidden => Self::Forbidden { code, message },
                ErrorKind::Unavailable => Self::Unavailable(message),
            },
            e @ C::Contended { .. } => Self::Conflict {
                code: "concurrent_modification",
                message: e.to_string(),
            },
            e @ C::Store(_) => Self::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause_from_the_client() {
        let e = ApiError::internal(std::io::Error::other("disk on fire"));
        let resp = e.into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn too_many_requests_says_when_to_retry() {
        let resp = ApiError::TooManyRequests {
            retry_after_secs: 900,
        }
        .into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "900");
    }

    #[test]
    fn a_spent_rate_limit_says_when_to_retry_and_is_marked_for_the_audit_log() {
        let resp = ApiError::RateLimited {
            retry_after_secs: 2,
        }
        .into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "2");
        assert!(resp.extensions().get::<RateLimitedResponse>().is_some());
    }
}
