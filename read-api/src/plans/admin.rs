//! The admin plan routes.

use super::{history, PlansState};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{request_metadata, ApiJson, RequestMeta, RequireAdmin};
use aggregates::PlanCommand;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use projections::plans::{ManagedPlan, PlanRevision};
use schemas::plans::PlanSpec;
use schemas::CommandMetadata;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// A plan as an admin writes it: its whole spec.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// Its key: 1 to 40 lowercase letters, digits, `-` and `_`, starting with a letter.
    /// Required to create; when editing, the path names the plan and this may be left out.
    #[serde(default)]
    pub id: Option<String>,
    /// The name shown to people (1 to 80 characters).
    pub name: String,
    /// Monthly price in the currency's minor unit (cents), 0 or more.
    pub monthly_price_cents: i64,
    /// ISO 4217 code (`brl`, `usd`); stored lower case.
    pub currency: String,
    /// AI answers included per month, 0 or more; `null` or absent means unlimited.
    #[serde(default)]
    pub monthly_ai_message_quota: Option<i64>,
    /// Feature keys the plan includes.
    #[serde(default)]
    pub features: Vec<String>,
    /// The Stripe Price (`price_…`) a checkout sells; without one the plan is listed but
    /// cannot be bought online.
    #[serde(default)]
    pub stripe_price_id: Option<String>,
}

/// One spec an admin set, and when it took effect.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminPlanRevision {
    /// When it took effect: checkouts from then on bought it.
    pub effective_at: DateTime<Utc>,
    /// The admin who set it.
    pub admin_id: Uuid,
    /// Their e-mail, when the account still exists.
    pub admin_email: Option<String>,
    /// The name then.
    pub name: String,
    /// The monthly price then, in the minor unit.
    pub monthly_price_cents: i64,
    /// The currency then.
    pub currency: String,
    /// The quota then; `null` is unlimited.
    pub monthly_ai_message_quota: Option<i64>,
    /// The features then.
    pub features: Vec<String>,
    /// The Stripe price then.
    pub stripe_price_id: Option<String>,
}

/// A plan as admins manage it: its spec in force, where it came from, whether it is still
/// sold, and every revision.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminPlan {
    /// Its key.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Monthly price in the currency's minor unit.
    pub monthly_price_cents: i64,
    /// ISO 4217 code, lower case.
    pub currency: String,
    /// AI answers included per month; `null` means unlimited.
    pub monthly_ai_message_quota: Option<i64>,
    /// Feature keys.
    pub features: Vec<String>,
    /// The Stripe price a checkout sells.
    pub stripe_price_id: Option<String>,
    /// Whether the configured catalogue (built-in or `ATENDE_PLANS`) lists it.
    pub configured: bool,
    /// When it was retired; `null` while it is on sale.
    pub retired_at: Option<DateTime<Utc>>,
    /// The admin who retired it.
    pub retired_by: Option<Uuid>,
    /// Every spec admins set, newest first; empty for a configured plan nobody edited.
    pub revisions: Vec<AdminPlanRevision>,
}

/// Every plan, retired ones included.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminPlanList {
    /// By key.
    pub items: Vec<AdminPlan>,
}

fn revision(r: PlanRevision, emails: &HashMap<Uuid, String>) -> AdminPlanRevision {
    AdminPlanRevision {
        effective_at: r.effective_at,
        admin_id: r.admin_id,
        admin_email: emails.get(&r.admin_id).cloned(),
        name: r.spec.name,
        monthly_price_cents: r.spec.monthly_price_cents,
        currency: r.spec.currency,
        monthly_ai_message_quota: r.spec.monthly_ai_message_quota,
        features: r.spec.features,
        stripe_price_id: r.spec.stripe_price_id,
    }
}

fn view(plan: ManagedPlan, emails: &HashMap<Uuid, String>) -> AdminPlan {
    let spec = plan.spec;
    AdminPlan {
        id: spec.id,
        name: spec.name,
        monthly_price_cents: spec.monthly_price_cents,
        currency: spec.currency,
        monthly_ai_message_quota: spec.monthly_ai_message_quota,
        features: spec.features,
        stripe_price_id: spec.stripe_price_id,
        configured: plan.configured,
        retired_at: plan.retired.map(|r| r.at),
        retired_by: plan.retired.map(|r| r.admin_id),
        revisions: plan
            .revisions
            .into_iter()
            .rev()
            .map(|r| revision(r, emails))
            .collect(),
    }
}

/// The e-mails of the admins who changed `plans`.
async fn emails(
    state: &PlansState,
    plans: &[ManagedPlan],
) -> Result<HashMap<Uuid, String>, ApiError> {
    let mut ids: Vec<Uuid> = plans
        .iter()
        .flat_map(|p| p.revisions.iter().map(|r| r.admin_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, email FROM users WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(&state.pool)
            .await
            .map_err(ApiError::internal)?;
    Ok(rows.into_iter().collect())
}

/// Every plan ever configured or published, retired ones included, with its revisions.
#[utoipa::path(
    get,
    path = "/api/v1/admin/plans",
    operation_id = "admin_list_plans",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every plan, with its origin, retirement and revisions", body = AdminPlanList),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing the plans for an admin", skip_all)]
pub(super) async fn list(
    State(state): State<PlansState>,
    _admin: RequireAdmin,
) -> Result<Json<AdminPlanList>, ApiError> {
    let plans = history(&state.pool, &state.pricing.plans).await?.plans();
    let emails = emails(&state, &plans).await?;
    Ok(Json(AdminPlanList {
        items: plans.into_iter().map(|p| view(p, &emails)).collect(),
    }))
}

/// The spec `body` describes for plan `key`.
fn spec(key: &str, body: PlanInput) -> PlanSpec {
    PlanSpec {
        id: key.to_owned(),
        name: body.name,
        monthly_price_cents: body.monthly_price_cents,
        currency: body.currency,
        monthly_ai_message_quota: body.monthly_ai_message_quota,
        features: body.features,
        stripe_price_id: body.stripe_price_id,
    }
}

/// Runs `command` on plan `key`, waits for the read model to show it, and answers the plan
/// as admins see it.
async fn run(
    state: &PlansState,
    key: &str,
    command: PlanCommand,
    md: &CommandMetadata,
) -> Result<AdminPlan, ApiError> {
    state.bus.plans.execute(key, command, md).await?;
    settled(state, key).await?;
    let plan = history(&state.pool, &state.pricing.plans)
        .await?
        .plan(key)
        .ok_or_else(|| ApiError::internal(std::io::Error::other("a changed plan is not listed")))?;
    let emails = emails(state, std::slice::from_ref(&plan)).await?;
    Ok(view(plan, &emails))
}

/// Waits until the read model has applied the caller's own write, so the page that saves
/// and lists again sees its change.
async fn settled(state: &PlansState, key: &str) -> Result<(), ApiError> {
    let (_, version) = state.bus.plans.load(key).await?;
    if version == 0 {
        return Ok(());
    }
    for _ in 0..100 {
        let seen: Option<i64> =
            sqlx::query_scalar("SELECT last_sequence FROM plan_catalogue WHERE plan_id = $1")
                .bind(key)
                .fetch_optional(&state.pool)
                .await
                .map_err(ApiError::internal)?;
        if seen.is_some_and(|s| s >= version as i64) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

fn metadata(admin: &crate::request::AuthUser, request: RequestMeta) -> CommandMetadata {
    request_metadata(CommandMetadata::new(admin.actor(), None), request)
}

/// Puts a new plan on sale; it can be bought from now on (with a Stripe price).
#[utoipa::path(
    post,
    path = "/api/v1/admin/plans",
    operation_id = "create_plan",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = PlanInput,
    responses(
        (status = 201, description = "On sale", body = AdminPlan),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "A plan has this key (`plan_exists`), or had it and was retired (`plan_retired`)", body = crate::error::ErrorBody),
        (status = 422, description = "A bad key (`invalid_plan_key`), name (`invalid_plan_name`), price (`invalid_price`), currency (`invalid_currency`), quota (`invalid_quota`), feature (`invalid_feature`) or Stripe price (`invalid_stripe_price`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin creates a plan", skip_all, fields(by = %admin.id))]
pub(super) async fn create(
    State(state): State<PlansState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    ApiJson(body): ApiJson<PlanInput>,
) -> Result<(StatusCode, Json<AdminPlan>), ApiError> {
    let key = body
        .id
        .as_deref()
        .map(str::trim)
        .filter(|k| schemas::plans::PlanCatalogue::is_plan_key(k))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::Unprocessable {
            code: "invalid_plan_key",
            message:
                "id must be 1 to 40 lowercase letters, digits, - and _, starting with a letter"
                    .into(),
            details: Some(json!({"field": "id"})),
        })?;
    let command = PlanCommand::Create {
        configured: state.pricing.plans.get(&key).is_some(),
        spec: spec(&key, body),
        admin_id: admin.id,
    };
    let plan = run(&state, &key, command, &metadata(&admin, request)).await?;
    Ok((StatusCode::CREATED, Json(plan)))
}

/// 404 for a path that cannot name a plan, before it names an aggregate.
fn plan_key(raw: &str) -> Result<String, ApiError> {
    let key = raw.trim();
    if schemas::plans::PlanCatalogue::is_plan_key(key) {
        Ok(key.to_owned())
    } else {
        Err(ApiError::NotFound {
            code: "plan_not_found",
            message: format!("there is no plan {raw:?}"),
        })
    }
}

/// Replaces a plan's spec; new checkouts buy the new one, subscriptions keep theirs.
#[utoipa::path(
    put,
    path = "/api/v1/admin/plans/{plan}",
    operation_id = "edit_plan",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("plan" = String, Path, description = "The plan's key")),
    request_body = PlanInput,
    responses(
        (status = 200, description = "The new spec is in force", body = AdminPlan),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "The plan was retired (`plan_retired`)", body = crate::error::ErrorBody),
        (status = 422, description = "A bad field, as when creating, or an `id` other than the path's (`plan_key_mismatch`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin edits a plan", skip_all, fields(by = %admin.id))]
pub(super) async fn edit(
    State(state): State<PlansState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(plan): Path<String>,
    ApiJson(body): ApiJson<PlanInput>,
) -> Result<Json<AdminPlan>, ApiError> {
    let key = plan_key(&plan)?;
    if let Some(id) = body.id.as_deref().map(str::trim) {
        if id != key {
            return Err(ApiError::Unprocessable {
                code: "plan_key_mismatch",
                message: format!("the body names plan {id:?}, the path {key:?}"),
                details: Some(json!({"field": "id"})),
            });
        }
    }
    let command = PlanCommand::Edit {
        configured: state.pricing.plans.get(&key).is_some(),
        spec: spec(&key, body),
        admin_id: admin.id,
    };
    Ok(Json(
        run(&state, &key, command, &metadata(&admin, request)).await?,
    ))
}

/// Takes a plan off sale for good: it leaves `GET /api/v1/plans` and checkouts refuse it;
/// subscriptions on it keep their terms.
#[utoipa::path(
    post,
    path = "/api/v1/admin/plans/{plan}/retire",
    operation_id = "retire_plan",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("plan" = String, Path, description = "The plan's key")),
    responses(
        (status = 200, description = "Retired (retiring again changes nothing)", body = AdminPlan),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin retires a plan", skip_all, fields(by = %admin.id))]
pub(super) async fn retire(
    State(state): State<PlansState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(plan): Path<String>,
) -> Result<Json<AdminPlan>, ApiError> {
    let key = plan_key(&plan)?;
    let command = PlanCommand::Retire {
        configured: state.pricing.plans.get(&key).is_some(),
        plan_id: key.clone(),
        admin_id: admin.id,
    };
    Ok(Json(
        run(&state, &key, command, &metadata(&admin, request)).await?,
    ))
}
