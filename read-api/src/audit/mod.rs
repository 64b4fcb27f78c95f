//! The auditors' API (F46, F47): the event log itself, and proof that nobody edited it.

mod events;
mod verify;

pub use events::{events, AuditEvent, EventPage, EventQuery};
pub use verify::verify;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The audit routes (auditors and admins).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify::verify))
        .routes(routes!(events::events))
}
