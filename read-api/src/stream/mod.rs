//! `GET /api/v1/stream` (F41): server-sent events telling a tenant's users which of their
//! conversations (`conversation`) and support tickets (`ticket`, F50) changed, as soon as the
//! `conversations` or `tickets` projection committed the change.
//!
//! The projection announces each change with `pg_notify` inside its transaction; one
//! [`Changes`] listener per process fans them out to the connected clients, each of which
//! sees its own tenant's only. Admins hear of new admin notifications the same way
//! (`stream::notifications`), and of nothing else. A client that falls behind, or a listener that lost its
//! connection (notifications in between are gone), gets a `resync` event: reload the list.

pub(crate) mod auth;
mod changes;
mod route;

pub use auth::{Audience, StreamUser};
pub use changes::{Changes, Signal};
pub use route::{ChangeEvent, NotificationEvent, TicketChangeEvent};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the live stream route uses.
#[derive(Debug, Clone)]
pub struct StreamState {
    /// Conversation and ticket changes for the live stream.
    pub changes: Changes,
}

/// The stream route.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    StreamState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(route::stream))
}
