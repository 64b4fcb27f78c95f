//! A tenant's metrics per UTC day (`GET /api/v1/metrics?from=&to=`), read from the
//! `tenant_metrics` projection; the definitions of every figure are in
//! [`projections::metrics`]. Tenant users only, scoped by the token's tenant.

mod daily;
pub(crate) mod dates;

pub use daily::{DayMetrics, Figures, MetricsQuery, MetricsReport};

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The metrics routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(daily::metrics))
}
