//! `GET /api/v1/admin/tenants/{id}/profile` and `PATCH /api/v1/admin/tenants/{id}`: what an
//! admin reads on a tenant's page beyond the directory row, and the corrections they make.

use super::TenantsState;
use crate::error::ApiError;
use crate::metrics::dates::today;
use crate::openapi::{responses as r, tags};
use crate::request::{command_metadata, ApiJson, RequestMeta, RequireAdmin};
use crate::usage::TenantUsage;
use aggregates::{SubscriptionCommand, TenantCommand};
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use commands::whatsapp::Provider;
use schemas::Plan;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How many billing periods of usage the profile lists.
const USAGE_PERIODS: usize = 6;

/// The size of the tenant's knowledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KnowledgeSize {
    /// Its length in Unicode scalar values.
    pub chars: i64,
    /// 0 before any text, then one more per replacement.
    pub version: i64,
}

/// The tenant's WhatsApp channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WhatsAppState {
    /// `cloud_api` or `evolution`; null before the owner configured a channel.
    pub provider: Option<String>,
    /// Meta's id of the linked Cloud API number.
    pub phone_number_id: Option<String>,
    /// The last state the Evolution instance reported: `open`, `connecting` or `close`.
    pub evolution_state: Option<String>,
    /// When it reported it.
    pub evolution_state_at: Option<DateTime<Utc>>,
    /// A Cloud API number is linked, or the Evolution phone was last seen connected.
    pub connected: bool,
}

/// One of the tenant's users.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TeamMember {
    /// The user.
    pub id: Uuid,
    /// Their login.
    pub email: String,
    /// `owner` or `agent`.
    pub role: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When it was disabled, if it was.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Their latest successful sign-in.
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The address it came from.
    pub last_sign_in_ip: Option<String>,
}

/// A tenant as its page shows it. Name, plan, locale and status are read from the
/// aggregates, so a change shows at once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenantProfile {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The business's name.
    pub name: String,
    /// Its plan now: its subscription's, else the one it registered with.
    pub plan: String,
    /// `active` or `suspended`.
    pub status: String,
    /// `pt-BR` or `en`.
    pub locale: String,
    /// When it registered; null until the directory has it.
    pub registered_at: Option<DateTime<Utc>>,
    /// The subscription's status; null when it never subscribed.
    pub subscription_status: Option<String>,
    /// Whether the subscription is complimentary (no Stripe); null without one.
    pub complimentary: Option<bool>,
    /// The knowledge text's size.
    pub knowledge: KnowledgeSize,
    /// The WhatsApp channel.
    pub whatsapp: WhatsAppState,
    /// Owners first, then agents, oldest first.
    pub team: Vec<TeamMember>,
    /// Usage in the latest billing periods, the current one first.
    pub usage: Vec<TenantUsage>,
}

/// Corrections; absent fields stay as they are.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct UpdateTenantRequest {
    /// The business's name; not blank.
    pub name: Option<String>,
    /// The plan; not blank. Only a complimentary subscription's plan is changed here
    /// (Stripe bills the others).
    pub plan: Option<String>,
    /// `pt-BR` or `en`.
    pub locale: Option<String>,
}

async fn profile(state: &TenantsState, id: Uuid) -> Result<TenantProfile, ApiError> {
    let tenant = super::registered_tenant(&state.bus, id)
        .await
        .map_err(|_| ApiError::NotFound {
            code: "tenant_not_found",
            message: "no such tenant".into(),
        })?;
    let (subscription, _) = state.bus.subscriptions.load(&id.to_string()).await?;
    let subscribed = subscription.status();
    let registered_at: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT registered_at FROM tenant_directory WHERE tenant_id = $1")
            .bind(id)
            .fetch_optional(&state.pool)
            .await
            .map_err(ApiError::internal)?;
    let channel = state.whatsapp.channels.get(id).await?;
    let (evolution_state, evolution_state_at): (Option<String>, Option<DateTime<Utc>>) =
        sqlx::query_as(
            "SELECT evolution_state, evolution_state_at FROM whatsapp_channels
              WHERE tenant_id = $1",
        )
        .bind(id)
        .fetch_optional(&state.pool)
        .await
        .map_err(ApiError::internal)?
        .unwrap_or((None, None));
    let provider = channel.as_ref().map(|c| c.provider);
    let connected = match provider {
        Some(Provider::Evolution) => evolution_state.as_deref() == Some("open"),
        _ => tenant.phone_number_id().is_some(),
    };
    let team: Vec<TeamMember> = sqlx::query_as(
        "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at,
                l.at AS last_sign_in_at, host(l.ip) AS last_sign_in_ip
           FROM users u
           LEFT JOIN LATERAL (
                SELECT a.at, a.ip FROM login_attempts a
                 WHERE a.email = u.email AND a.success
                 ORDER BY a.at DESC LIMIT 1) l ON true
          WHERE u.tenant_id = $1
          ORDER BY u.role = 'owner' DESC, u.created_at, u.id",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let usage = crate::usage::history(&state.pool, &state.pricing, id, today(), USAGE_PERIODS)
        .await
        .map_err(ApiError::internal)?;
    Ok(TenantProfile {
        tenant_id: id,
        name: tenant.name().to_owned(),
        plan: match subscribed {
            Some(_) => subscription.plan().as_str().to_owned(),
            None => tenant.plan().as_str().to_owned(),
        },
        status: if tenant.is_suspended() {
            "suspended"
        } else {
            "active"
        }
        .to_owned(),
        locale: tenant.locale().as_str().to_owned(),
        registered_at,
        subscription_status: subscribed.map(|s| s.as_str().to_owned()),
        complimentary: subscribed.map(|_| subscription.stripe_subscription_id().is_empty()),
        knowledge: KnowledgeSize {
            chars: i64::try_from(tenant.knowledge().chars().count()).unwrap_or(i64::MAX),
            version: i64::from(tenant.knowledge_version()),
        },
        whatsapp: WhatsAppState {
            provider: provider.map(|p| {
                match p {
                    Provider::CloudApi => "cloud_api",
                    Provider::Evolution => "evolution",
                }
                .to_owned()
            }),
            phone_number_id: tenant.phone_number_id().map(str::to_owned),
            evolution_state,
            evolution_state_at,
            connected,
        },
        team,
        usage,
    })
}

/// The tenant's plan, status, language, knowledge size, WhatsApp channel, team with their
/// latest sign-in, and usage in its latest billing periods.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tenants/{id}/profile",
    operation_id = "show_tenant_profile",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    responses(
        (status = 200, description = "The tenant's page", body = TenantProfile),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing a tenant's profile to an admin", skip_all, fields(tenant = %id))]
pub(super) async fn show(
    State(state): State<TenantsState>,
    _admin: RequireAdmin,
    Path(id): Path<Uuid>,
) -> Result<Json<TenantProfile>, ApiError> {
    Ok(Json(profile(&state, id).await?))
}

fn not_blank(value: Option<&str>, code: &'static str, what: &str) -> Result<(), ApiError> {
    if value.is_some_and(|v| v.trim().is_empty()) {
        return Err(ApiError::Unprocessable {
            code,
            message: format!("{what} must not be blank"),
            details: None,
        });
    }
    Ok(())
}

/// Renames the tenant, moves its complimentary subscription to another plan, or changes its
/// language; every field is checked before anything is recorded.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/tenants/{id}",
    operation_id = "update_tenant",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant")),
    request_body = UpdateTenantRequest,
    responses(
        (status = 200, description = "Changed; the tenant's page as it now stands", body = TenantProfile),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "A plan change for a subscription Stripe bills (`plan_billed_by_stripe`), for a tenant without a subscription (`no_subscription`) or a cancelled one (`subscription_cancelled`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "changing a tenant for an admin", skip_all, fields(tenant = %id, by = %admin.id))]
pub(super) async fn update(
    State(state): State<TenantsState>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<Uuid>,
    request: RequestMeta,
    ApiJson(body): ApiJson<UpdateTenantRequest>,
) -> Result<Json<TenantProfile>, ApiError> {
    not_blank(body.name.as_deref(), "name_required", "the name")?;
    not_blank(body.plan.as_deref(), "plan_required", "the plan")?;
    let locale = body
        .locale
        .as_deref()
        .map(crate::settings::parse_locale)
        .transpose()?;
    let tenant = super::registered_tenant(&state.bus, id)
        .await
        .map_err(|_| ApiError::NotFound {
            code: "tenant_not_found",
            message: "no such tenant".into(),
        })?;
    let plan = body.plan.as_deref().map(str::trim);
    if plan.is_some() {
        let (subscription, _) = state.bus.subscriptions.load(&id.to_string()).await?;
        let conflict = |code, message: &str| ApiError::Conflict {
            code,
            message: message.into(),
        };
        match subscription.status() {
            None => {
                return Err(conflict(
                    "no_subscription",
                    "this tenant has no subscription whose plan could change",
                ))
            }
            Some(schemas::events::SubscriptionStatus::Cancelled) => {
                return Err(conflict(
                    "subscription_cancelled",
                    "a cancelled subscription keeps its plan",
                ))
            }
            Some(_) if !subscription.stripe_subscription_id().is_empty() => {
                return Err(conflict(
                    "plan_billed_by_stripe",
                    "Stripe bills this subscription: change its plan in Stripe",
                ))
            }
            Some(_) => {}
        }
    }
    let md = command_metadata(&admin, id, request);
    let key = id.to_string();
    if let Some(name) = body.name.as_deref().map(str::trim) {
        if name != tenant.name() {
            let rename = TenantCommand::Rename { name: name.into() };
            state.bus.tenants.execute(&key, rename, &md).await?;
        }
    }
    if let Some(locale) = locale {
        let speak = TenantCommand::ChangeLocale { locale };
        state.bus.tenants.execute(&key, speak, &md).await?;
    }
    if let Some(plan) = plan {
        let change = SubscriptionCommand::ChangePlan {
            plan: Plan::new(plan),
        };
        state.bus.subscriptions.execute(&key, change, &md).await?;
    }
    tracing::info!("an admin changed a tenant");
    Ok(Json(profile(&state, id).await?))
}
