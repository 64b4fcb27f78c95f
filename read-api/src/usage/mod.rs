//! Usage per tenant and billing period (`GET /api/v1/usage` for a tenant's users,
//! `GET /api/v1/admin/usage` for admins), read from the `tenant_usage` projection and
//! priced with the configured price table when read (see [`period`] for how periods are
//! cut); the usage monitor's per-tenant history and AI spend thresholds (issue 18).

mod admin;
// The usage monitor (issue 18): a tenant's history and the AI spend thresholds.
mod history;
pub mod period;
mod report;
mod spend;
mod tenant;

pub use admin::{AdminTenantUsage, AdminUsagePage, AdminUsageQuery, UsageBasis};
pub use history::{ThresholdSource, UsageHistory, UsageHistoryQuery, UsagePoint};
pub use period::BillingPeriod;
pub(crate) use report::history;
pub use report::{ModelUsage, TenantUsage};
pub use spend::{AiSpendThreshold, AiSpendThresholdInput, AiSpendThresholds};
pub use tenant::UsageQuery;
// Top spenders, paged through whole by reports export (issue 18, F45).
pub(crate) use admin::usage as admin_usage;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the usage routes use.
#[derive(Debug, Clone)]
pub struct UsageState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// Plan prices and quotas, and the AI models' token prices.
    pub pricing: std::sync::Arc<schemas::plans::Pricing>,
    /// The write side: the AI spend thresholds are commands.
    pub bus: std::sync::Arc<commands::CommandBus>,
}

/// The usage routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    UsageState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(tenant::usage))
        .routes(routes!(admin::usage))
        // The usage monitor (issue 18).
        .routes(routes!(history::history))
        .routes(routes!(spend::list))
        .routes(routes!(spend::set_global, spend::clear_global))
        .routes(routes!(spend::set_tenant, spend::clear_tenant))
}
