//! What a tenant's owner configures (F17, F30): the bot's settings, the WhatsApp number, the
//! tenant's language and its agents. Every route needs [`RequireTenantOwner`] and acts on the tenant of
//! the caller's token, never on one named in the request (F32).
//!
//! [`RequireTenantOwner`]: crate::request::RequireTenantOwner

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

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the owner's settings routes use.
#[derive(Debug, Clone)]
pub struct SettingsState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// The dashboard's base URL, for links in e-mails.
    pub public_url: integrations::mailer::PublicUrl,
    /// The WhatsApp channel: webhook secrets, handlers and tenants' channel settings.
    pub whatsapp: crate::webhooks::WhatsAppHttp,
}

/// Every tenant-owner route as `(method, path)`: agents and platform users get 403 on each.
/// A route added to [`routes`] must be added here (the isolation test needs no list: it walks
/// every operation the OpenAPI document tags `tenant`).
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

/// The tenant-owner routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    SettingsState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
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
