//! Usage per tenant and billing period (`GET /api/v1/usage` for a tenant's users,
//! `GET /api/v1/admin/usage` for admins), read from the `tenant_usage` projection and
//! priced with the configured price table when read (see [`period`] for how periods are
//! cut).

mod admin;
pub mod period;
mod report;
mod tenant;

pub use admin::{AdminUsagePage, AdminUsageQuery};
pub use period::BillingPeriod;
pub use report::{ModelUsage, TenantUsage};
pub use tenant::UsageQuery;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The usage routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tenant::usage))
        .routes(routes!(admin::usage))
}
