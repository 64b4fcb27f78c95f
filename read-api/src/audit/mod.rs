//! The auditors' API (F46, F47): the event log itself, proof that nobody edited it, and
//! one feed of what was done and what was refused ([`rejections`] records the refusals).

mod checkpoints;
mod events;
mod log;
pub mod rejections;
mod verify;

pub use checkpoints::{checkpoints, Checkpoint, CheckpointPage, CheckpointQuery};
pub use events::{event_types, events, AuditEvent, EventPage, EventQuery, EventTypeItem};
pub use log::{log, LogEntry, LogKind, LogPage, LogQuery};
pub use verify::verify;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the audit routes and the refusal recorder use.
#[derive(Debug, Clone)]
pub struct AuditState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// Access-token keys and client-address policy.
    pub auth: crate::request::AuthConfig,
}

/// The audit routes (auditors and admins).
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AuditState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(verify::verify))
        .routes(routes!(checkpoints::checkpoints))
        .routes(routes!(events::event_types))
        .routes(routes!(events::events))
        .routes(routes!(log::log))
}
