//! `GET /api/v1/audit/verify`: recomputes the event chain and reports where it breaks (F47).

use super::AuditState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequireAuditor;
use axum::extract::State;
use axum::Json;
use projections::audit::{self, VerifyError, VerifyReport};
use tokio::sync::Semaphore;

/// One verification at a time per process: each reads the whole log, and concurrent ones
/// would only compete for the same disk and CPU.
static VERIFYING: Semaphore = Semaphore::const_new(1);

/// Recomputes the chain; 200 with the report whether or not it is intact (the report says).
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    operation_id = "verify_event_chain",
    tag = tags::AUDITOR,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The verification report, whether or not the chain is intact", body = crate::openapi::foreign::VerifyReportDoc),
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "A verification is already running (`audit_verify_running`)", body = crate::error::ErrorBody),
        r::Internal,
        r::Unavailable,
    )
)]
#[tracing::instrument(name = "verifying the event chain for an auditor", skip_all)]
pub async fn verify(
    State(state): State<AuditState>,
    _auditor: RequireAuditor,
) -> Result<Json<VerifyReport>, ApiError> {
    let _running = VERIFYING.try_acquire().map_err(|_| ApiError::Conflict {
        code: "audit_verify_running",
        message: "a verification of the event chain is already running; retry when it ends".into(),
    })?;
    match audit::verify(&state.pool).await {
        Ok(report) => Ok(Json(report)),
        Err(VerifyError::Database(
            e @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)),
        )) => {
            tracing::warn!(error = %e, "the database is unreachable for verification");
            Err(ApiError::Unavailable(
                "the database is unreachable; retry later".into(),
            ))
        }
        Err(e) => Err(ApiError::internal(e)),
    }
}
