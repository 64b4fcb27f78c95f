//! What a handler knows about the request it serves, whatever the feature: its id, the
//! client's address, the caller's verified claims and role guards, the JSON body reader and
//! the size limit. Feature modules import this module and their own sub-state; nothing here
//! imports a feature, the application state or the router.
//!
//! Put a guard in a handler's arguments; the handler runs only when it is satisfied:
//!
//! - [`AuthUser`]: any signed-in user (401 `unauthorized` otherwise, with
//!   `WWW-Authenticate: Bearer`); has `id`, `role`, `tenant_id`, plus [`AuthUser::actor`] for
//!   command metadata and [`AuthUser::ensure_tenant`] for routes naming a tenant.
//! - [`RequireAdmin`] (admin, super admin), [`RequireAuditor`] (auditor, admin, super admin):
//!   403 `forbidden` for other roles.
//! - [`RequireTenantOwner`], [`RequireTenantUser`] (owner or agent): 403 for other roles;
//!   they carry the caller's `tenant_id`, by which every query must be scoped.
//!
//! [`ApiJson`] reads JSON bodies with `ApiError`-shaped 400s; [`RequestMeta`] and
//! [`command_metadata`] carry the request's id and client address into commands (F46).

mod client_ip;
mod extract;
mod id;
mod json;
mod meta;
mod query;
pub mod revocations;
mod role;
mod secret;
mod tokens;

pub(crate) use client_ip::client_ip;
pub use client_ip::ClientIp;
pub(crate) use extract::{bearer_token, forbidden};
pub use extract::{
    AuthRejection, AuthUser, RequireAdmin, RequireAuditor, RequireTenantOwner, RequireTenantUser,
};
pub use id::{make_span, request_id_of, MakeRequestUuidV7};
pub use json::ApiJson;
pub use meta::RequestMeta;
pub(crate) use meta::{command_metadata, request_metadata};
pub use query::ApiQuery;
pub use role::{Role, UnknownRole};
pub use secret::{JwtSecret, SecretError};
pub use tokens::{AccessToken, AuthConfig, TokenError, ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL};

/// The largest request body accepted (WhatsApp and Stripe webhooks stay far below it);
/// larger ones get 413 before a handler parses them.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// A page size from the query: 50 when absent, at most 200.
pub(crate) fn page_size(limit: Option<u32>) -> i64 {
    i64::from(limit.unwrap_or(50).clamp(1, 200))
}
