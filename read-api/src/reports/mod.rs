//! Admin reports (F42), read from the `admin_reports` projection. Every route needs
//! [`RequireAdmin`](crate::request::RequireAdmin).
//!
//! | route | what |
//! |---|---|
//! | `GET /api/v1/admin/reports/status` | tenants by status, subscriptions by status |
//! | `GET /api/v1/admin/reports/mrr` | monthly recurring revenue of active paying subscriptions |
//! | `GET /api/v1/admin/reports/signups?granularity=&from=&to=` | new and cancelled tenants per day, week or month |
//! | `GET /api/v1/admin/reports/revenue?from=&to=` | payments received per month and currency |
//! | `GET /api/v1/admin/reports/recent-tenants?limit=&cursor=` | the latest registered tenants |
//! | `GET /api/v1/admin/reports/overview?month=` | trial→paid conversion, average revenue, a month's AI cost against revenue |

mod mrr;
mod overview;
mod recent;
mod revenue;
mod signups;
mod status;

pub use mrr::{MrrReport, PlanMrr};
pub use overview::{AverageRevenue, MonthCost, OverviewQuery, OverviewReport, TrialConversion};
pub use recent::{RecentTenant, RecentTenantsPage, RecentTenantsQuery};
pub use revenue::{MonthRevenue, RevenueQuery, RevenueReport};
pub use signups::{Granularity, SignupBucket, SignupsQuery, SignupsReport};
pub use status::{StatusCount, StatusReport};
// The reports the monthly PDF gathers (issue 18, F45).
pub(crate) use mrr::compute as compute_mrr;
pub(crate) use overview::overview as overview_report;
pub(crate) use revenue::revenue as revenue_report;
pub(crate) use signups::signups as signups_report;
pub(crate) use status::status as status_report;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the report routes use.
#[derive(Debug, Clone)]
pub struct ReportsState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// Plan prices and quotas, and the AI models' token prices.
    pub pricing: std::sync::Arc<schemas::plans::Pricing>,
}

/// The report routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    ReportsState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(status::status))
        .routes(routes!(mrr::mrr))
        .routes(routes!(signups::signups))
        .routes(routes!(revenue::revenue))
        .routes(routes!(recent::recent))
        .routes(routes!(overview::overview))
}
