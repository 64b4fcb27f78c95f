//! The auditors' API (F46, F47): the event log itself, and proof that nobody edited it.

mod events;
mod verify;

pub use events::{events, AuditEvent, EventPage, EventQuery};
pub use verify::verify;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;

/// The audit routes (auditors and admins).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit/verify", get(verify))
        .route("/api/v1/audit/events", get(events))
}
