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
//! | `POST /api/v1/admin/tenants/{id}/reset-password` | e-mails the owner a reset link (202) |
//! | `GET /api/v1/admin/tenants/{id}/timeline?cursor=&limit=` | the tenant's events in order |
//! | `GET /api/v1/admin/tenants/{id}/profile` | knowledge, WhatsApp, team with sign-ins, usage per period |
//! | `PATCH /api/v1/admin/tenants/{id}` `{name?, plan?, locale?}` | rename, change a complimentary plan, language |
//!
//! [`RequireAdmin`]: crate::request::RequireAdmin

mod create;
mod directory;
mod lifecycle;
mod profile;
mod timeline;

pub use create::{CreateTenantRequest, CreatedTenant};
pub use directory::{DirectoryEntry, DirectoryPage, DirectoryQuery};
pub use lifecycle::{OwnerResetLinkSent, SuspendRequest};
pub use profile::{KnowledgeSize, TeamMember, TenantProfile, UpdateTenantRequest, WhatsAppState};
pub use timeline::{TimelineEvent, TimelinePage, TimelineQuery};
// The directory, paged through whole by reports export (issue 18, F45).
pub(crate) use directory::list as list_directory;

use commands::CommandBus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The part of the application state the admin tenant routes use.
#[derive(Debug, Clone)]
pub struct TenantsState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// Plan quotas and the AI models' token prices (usage on a tenant's page).
    pub pricing: std::sync::Arc<schemas::plans::Pricing>,
    /// Tenants' WhatsApp channels.
    pub whatsapp: crate::webhooks::WhatsAppHttp,
    /// The dashboard's base URL, for the owner's reset link.
    pub public_url: integrations::mailer::PublicUrl,
}

/// The admin tenant routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    TenantsState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create::create, directory::list))
        .routes(routes!(directory::show, profile::update))
        .routes(routes!(profile::show))
        .routes(routes!(lifecycle::suspend))
        .routes(routes!(lifecycle::reactivate))
        .routes(routes!(lifecycle::reset_password))
        .routes(routes!(timeline::timeline))
}

/// The caller's tenant as its aggregate now stands; 404 `tenant_not_found` before it is
/// registered.
pub(crate) async fn registered_tenant(
    bus: &CommandBus,
    tenant_id: Uuid,
) -> Result<aggregates::Tenant, crate::error::ApiError> {
    let (tenant, _) = bus.tenants.load(&tenant_id.to_string()).await?;
    if !tenant.is_registered() {
        return Err(crate::error::ApiError::NotFound {
            code: "tenant_not_found",
            message: "your tenant is not registered".into(),
        });
    }
    Ok(tenant)
}
