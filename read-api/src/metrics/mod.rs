//! A tenant's metrics per UTC day (`GET /api/v1/metrics?from=&to=`), read from the
//! `tenant_metrics` projection; the definitions of every figure are in
//! [`projections::metrics`]. Tenant users only, scoped by the token's tenant.

mod daily;
pub(crate) mod dates;

pub use daily::{DayMetrics, Figures, MetricsQuery, MetricsReport};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the metrics routes use.
#[derive(Debug, Clone)]
pub struct MetricsState {
    /// The database pool.
    pub pool: sqlx::PgPool,
}

/// The metrics routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    MetricsState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(daily::metrics))
}
