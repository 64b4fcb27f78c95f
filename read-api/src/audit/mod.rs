//! The auditors' API (F46, F47): the event log itself, proof that nobody edited it, and
//! one feed of what was done and what was refused ([`rejections`] records the refusals).

mod events;
mod log;
pub mod rejections;
mod verify;

pub use events::{events, AuditEvent, EventPage, EventQuery};
pub use log::{log, LogEntry, LogKind, LogPage, LogQuery};
pub use verify::verify;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The audit routes (auditors and admins).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify::verify))
        .routes(routes!(events::events))
        .routes(routes!(log::log))
}
