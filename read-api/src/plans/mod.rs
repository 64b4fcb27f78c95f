//! Plans managed by admins (issue 18): list, create, edit and retire plans under
//! `/api/v1/admin/plans`.
//!
//! Writing goes through the `plan` aggregate, so every change is an event with the admin as
//! actor (the hash chain covers it); reads come from the `plan_catalogue` read model laid
//! over the configured catalogue, the seed ([`projections::plans::PlanHistory`]). A change
//! applies to new checkouts; subscriptions keep the revision in force when they started.

mod admin;

pub use admin::{AdminPlan, AdminPlanList, AdminPlanRevision, PlanInput};

use crate::error::ApiError;
use projections::plans::PlanHistory;
use schemas::plans::{PlanCatalogue, Pricing};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the plan routes use.
#[derive(Debug, Clone)]
pub struct PlansState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// The configured catalogue (the seed) and the AI models' token prices.
    pub pricing: std::sync::Arc<Pricing>,
}

/// The admin plan routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    PlansState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::edit))
        .routes(routes!(admin::retire))
}

/// The configured catalogue with what admins set, as of now.
pub(crate) async fn history(
    pool: &sqlx::PgPool,
    configured: &PlanCatalogue,
) -> Result<PlanHistory, ApiError> {
    PlanHistory::load(pool, configured)
        .await
        .map_err(ApiError::internal)
}

/// The plans on sale now: what `GET /api/v1/plans` lists and checkouts buy.
pub(crate) async fn in_force(
    pool: &sqlx::PgPool,
    configured: &PlanCatalogue,
) -> Result<PlanCatalogue, ApiError> {
    Ok(history(pool, configured).await?.in_force())
}
