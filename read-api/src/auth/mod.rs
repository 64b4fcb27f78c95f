//! Authentication (F30, F31, F33): sign-in, refresh, sign-out, `/me`, password change and
//! reset, and login throttling by IP.
//!
//! The claims and role guards every feature uses ([`AuthUser`], [`RequireAdmin`], …) and the
//! token keys live below the features, in [`crate::request`]; they are re-exported here.

mod attempts;
mod handlers;
mod ip_blocks;
pub mod password;
pub mod refresh;
pub mod reset;
pub mod session_cookie;
pub mod throttle;

pub use handlers::{MeResponse, TokenResponse};
// The lists reports export pages through whole (issue 18, F45).
pub(crate) use attempts::list as list_attempts;
pub(crate) use ip_blocks::list as list_ip_blocks;
// The claims, guards and token keys live below every feature, in `request`; they stay
// reachable here, where callers outside this crate have always found them.
pub use crate::request::{
    AccessToken, ApiJson, AuthConfig, AuthRejection, AuthUser, ClientIp, JwtSecret, RequireAdmin,
    RequireAuditor, RequireTenantOwner, RequireTenantUser, Role, SecretError, TokenError,
    UnknownRole, ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL,
};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the sign-in, session and password routes use.
#[derive(Debug, Clone)]
pub struct AuthState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// Access-token keys and client-address policy.
    pub auth: crate::request::AuthConfig,
    /// The dashboard's base URL, for links in e-mails.
    pub public_url: integrations::mailer::PublicUrl,
    /// The write side, read here for whether a user's tenant is suspended.
    pub bus: std::sync::Arc<commands::CommandBus>,
}

/// The auth routes: sign-in, refresh, logout, `/me`, password change and IP blocks.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(handlers::login))
        .routes(routes!(handlers::refresh))
        .routes(routes!(handlers::logout))
        .routes(routes!(handlers::me))
        .routes(routes!(handlers::change_password))
        .routes(routes!(reset::request))
        .routes(routes!(reset::confirm))
        .routes(routes!(ip_blocks::list))
        .routes(routes!(ip_blocks::unblock))
        .routes(routes!(attempts::list))
}
