//! What a tenant's owner configures (F17, F30): the bot's settings, the WhatsApp number, the
//! tenant's language and its agents. Every route needs [`RequireTenantOwner`] and acts on the tenant of
//! the caller's token, never on one named in the request (F32).
//!
//! [`RequireTenantOwner`]: crate::auth::RequireTenantOwner

mod bot;
mod evolution;
mod locale;
mod team;
mod whatsapp;

pub use evolution::{CreateInstanceRequest, EvolutionInstance, EvolutionQr, EvolutionState};
pub(crate) use locale::parse as parse_locale;
pub use locale::LocaleSetting;
pub use team::NewAgentRequest;
pub use whatsapp::{LinkNumberRequest, LinkedNumber};

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every tenant-owner route as `(method, path)`: agents and platform users get 403 on each.
/// A route added to [`routes`] must be added here (the isolation test needs no list: see
/// [`tenant_routes`]).
pub const OWNER_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/settings/bot"),
    ("PUT", "/api/v1/settings/bot"),
    ("GET", "/api/v1/settings/whatsapp"),
    ("PUT", "/api/v1/settings/whatsapp"),
    ("POST", "/api/v1/settings/whatsapp/evolution/instance"),
    ("GET", "/api/v1/settings/whatsapp/evolution/qr"),
    ("GET", "/api/v1/settings/whatsapp/evolution/state"),
    ("GET", "/api/v1/settings/locale"),
    ("PUT", "/api/v1/settings/locale"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("DELETE", "/api/v1/users/{id}"),
    ("GET", "/api/v1/users/invitations"),
    ("POST", "/api/v1/users/invitations"),
    ("DELETE", "/api/v1/users/invitations/{id}"),
    ("PUT", "/api/v1/knowledge"),
    ("GET", "/api/v1/onboarding"),
    ("POST", "/api/v1/onboarding/bot-tried"),
    ("POST", "/api/v1/onboarding/go-live"),
];

/// Every tenant route (owner or agent) as `(method, path)`: the operations the OpenAPI
/// document tags `tenant`. A route is served only through the `routes!` call that documents
/// it, so a new tenant route is here as soon as it exists, and the isolation test walks it.
pub fn tenant_routes() -> Vec<(String, String)> {
    crate::openapi::operations_tagged(
        &crate::http::openapi_document(),
        crate::openapi::tags::TENANT,
    )
}

/// The tenant-owner routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bot::show, bot::change))
        .routes(routes!(whatsapp::show, whatsapp::link))
        .routes(routes!(evolution::create))
        .routes(routes!(evolution::qr))
        .routes(routes!(evolution::connection_state))
        .routes(routes!(locale::show, locale::change))
        .routes(routes!(team::list, team::create))
        .routes(routes!(team::disable))
}
