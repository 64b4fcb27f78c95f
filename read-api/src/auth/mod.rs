//! Authentication and roles (F30, F31, F33).
//!
//! Other route modules use the extractors; a handler runs only when its guard is satisfied:
//!
//! - [`AuthUser`]: any signed-in user (401 `unauthorized` otherwise, with
//!   `WWW-Authenticate: Bearer`); has `id`, `role`, `tenant_id`, plus [`AuthUser::actor`] for
//!   command metadata and [`AuthUser::ensure_tenant`] for routes naming a tenant.
//! - [`RequireAdmin`] (admin, super admin), [`RequireAuditor`] (auditor, admin, super admin):
//!   403 `forbidden` for other roles.
//! - [`RequireTenantOwner`], [`RequireTenantUser`] (owner or agent): 403 for other roles;
//!   they carry the caller's `tenant_id`, by which every query must be scoped.
//!
//! [`ApiJson`] reads JSON bodies with `ApiError`-shaped 400s.

mod config;
mod extract;
mod handlers;
mod ip_blocks;
mod json;
pub mod password;
pub mod refresh;
pub mod reset;
mod role;
mod secret;
pub mod session_cookie;
pub mod throttle;

pub use config::{AccessToken, AuthConfig, TokenError, ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL};
pub(crate) use extract::forbidden;
pub use extract::{
    AuthRejection, AuthUser, RequireAdmin, RequireAuditor, RequireTenantOwner, RequireTenantUser,
};
pub use handlers::{MeResponse, TokenResponse};
pub use json::ApiJson;
pub use role::{Role, UnknownRole};
pub use secret::{JwtSecret, SecretError};
pub use throttle::ClientIp;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The auth routes: sign-in, refresh, logout, `/me`, password change and IP blocks.
pub fn routes() -> OpenApiRouter<AppState> {
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
}
