//! Tenant management for admins (F43): onboard a tenant with its owner and a complimentary
//! subscription, browse the directory, suspend and reactivate, reset the owner's password
//! and read a tenant's whole event timeline. Every route needs [`RequireAdmin`].
//!
//! | route | what |
//! |---|---|
//! | `POST /api/v1/admin/tenants` | onboard; the owner's password is in the response, once |
//! | `GET /api/v1/admin/tenants?status=&q=&cursor=&limit=` | the directory, by page |
//! | `GET /api/v1/admin/tenants/{id}` | one tenant of the directory |
//! | `POST /api/v1/admin/tenants/{id}/suspend` `{reason}` | suspend |
//! | `POST /api/v1/admin/tenants/{id}/reactivate` | lift a suspension |
//! | `POST /api/v1/admin/tenants/{id}/reset-password` | new owner password, once; ends sessions |
//! | `GET /api/v1/admin/tenants/{id}/timeline?cursor=&limit=` | the tenant's events in order |
//!
//! [`RequireAdmin`]: crate::auth::RequireAdmin

mod create;
mod directory;
mod lifecycle;
mod timeline;

pub use create::{CreateTenantRequest, CreatedTenant};
pub use directory::{DirectoryEntry, DirectoryPage, DirectoryQuery};
pub use lifecycle::{PasswordReset, SuspendRequest};
pub use timeline::{TimelineEvent, TimelinePage, TimelineQuery};

use crate::auth::AuthUser;
use crate::http::RequestMeta;
use crate::state::AppState;
use schemas::CommandMetadata;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The admin tenant routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create::create, directory::list))
        .routes(routes!(directory::show))
        .routes(routes!(lifecycle::suspend))
        .routes(routes!(lifecycle::reactivate))
        .routes(routes!(lifecycle::reset_password))
        .routes(routes!(timeline::timeline))
}

/// Metadata for a command `user` runs on `tenant`, carrying the request's id and client
/// address so the events can be traced back to the HTTP request that caused them (F46).
/// Take a [`RequestMeta`] in the handler and pass it here.
pub(crate) fn command_metadata(
    user: &AuthUser,
    tenant: Uuid,
    request: impl Into<RequestMeta>,
) -> CommandMetadata {
    request_metadata(
        CommandMetadata::new(user.actor(), Some(tenant)),
        request.into(),
    )
}

/// `md` with the request's id and client address, when known.
pub(crate) fn request_metadata(mut md: CommandMetadata, request: RequestMeta) -> CommandMetadata {
    if let Some(id) = request.request_id {
        md = md.with_request_id(id);
    }
    if let Some(ip) = request.client_ip {
        md = md.with_client_ip(ip);
    }
    md
}

/// A page size from the query: 50 when absent, at most 200.
/// The caller's tenant as its aggregate now stands; 404 `tenant_not_found` before it is
/// registered.
pub(crate) async fn registered_tenant(
    state: &AppState,
    tenant_id: Uuid,
) -> Result<aggregates::Tenant, crate::error::ApiError> {
    let (tenant, _) = state.bus.tenants.load(&tenant_id.to_string()).await?;
    if !tenant.is_registered() {
        return Err(crate::error::ApiError::NotFound {
            code: "tenant_not_found",
            message: "your tenant is not registered".into(),
        });
    }
    Ok(tenant)
}

pub(crate) fn page_size(limit: Option<u32>) -> i64 {
    i64::from(limit.unwrap_or(50).clamp(1, 200))
}
