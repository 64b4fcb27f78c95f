//! What a tenant's owner configures (F17, F30): the bot's settings, the WhatsApp number and
//! the tenant's agents. Every route needs [`RequireTenantOwner`] and acts on the tenant of
//! the caller's token, never on one named in the request (F32).
//!
//! [`RequireTenantOwner`]: crate::auth::RequireTenantOwner

mod bot;
mod team;
mod whatsapp;

pub use team::NewAgentRequest;
pub use whatsapp::{LinkNumberRequest, LinkedNumber};

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every tenant-owner route as `(method, path)`: agents and platform users get 403 on each.
/// A route added to [`routes`] must be added here and to [`TENANT_ROUTES`].
pub const OWNER_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/settings/bot"),
    ("PUT", "/api/v1/settings/bot"),
    ("PUT", "/api/v1/settings/whatsapp"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("DELETE", "/api/v1/users/{id}"),
];

/// Every tenant route (owner or agent) as `(method, path)`. The isolation test walks this
/// list, so a tenant route must be added here too. (`GET /api/v1/stream` never ends, so its
/// isolation is tested on its own, in `tests/api/stream.rs`.)
pub const TENANT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/settings/bot"),
    ("PUT", "/api/v1/settings/bot"),
    ("PUT", "/api/v1/settings/whatsapp"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("DELETE", "/api/v1/users/{id}"),
    ("GET", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations/{id}"),
    ("GET", "/api/v1/metrics"),
    ("GET", "/api/v1/usage"),
];

/// The tenant-owner routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bot::show, bot::change))
        .routes(routes!(whatsapp::link))
        .routes(routes!(team::list, team::create))
        .routes(routes!(team::disable))
}
