//! The console's first-run onboarding (#15): connect WhatsApp → load knowledge → try the bot
//! → go live. `GET /api/v1/onboarding` derives each step from what already exists where it
//! can (the WhatsApp channel, the knowledge, answers the AI gave); the steps nothing else
//! records ("tried", "live") are `OnboardingStepCompleted` events on the tenant.

use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::RequireTenantOwner;
use aggregates::TenantCommand;
use axum::extract::State;
use axum::Json;
use commands::whatsapp::Provider;
use schemas::events::OnboardingStep;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The part of the application state the onboarding routes use.
#[derive(Debug, Clone)]
pub struct OnboardingState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// The WhatsApp channel: webhook secrets, handlers and tenants' channel settings.
    pub whatsapp: crate::webhooks::WhatsAppHttp,
}

/// Where the owner is in the onboarding; the console resumes at the first step not done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OnboardingProgress {
    /// A Cloud API number is linked, or the Evolution phone was last seen connected.
    pub whatsapp_connected: bool,
    /// The knowledge text is not empty.
    pub knowledge_loaded: bool,
    /// The owner tried the bot (`POST /api/v1/onboarding/bot-tried`), or the AI already
    /// answered a customer.
    pub bot_tried: bool,
    /// The owner pressed "go live".
    pub live: bool,
}

async fn progress(
    state: &OnboardingState,
    tenant_id: Uuid,
) -> Result<OnboardingProgress, ApiError> {
    let tenant = crate::tenants::registered_tenant(&state.bus, tenant_id).await?;
    let channel = state.whatsapp.channels.get(tenant_id).await?;
    let whatsapp_connected = match channel.as_ref().map(|c| c.provider) {
        Some(Provider::Evolution) => {
            state
                .whatsapp
                .channels
                .evolution_state(tenant_id)
                .await?
                .as_deref()
                == Some("open")
        }
        _ => tenant.phone_number_id().is_some(),
    };
    let answered = || async {
        sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM ai_usage WHERE tenant_id = $1)")
            .bind(tenant_id)
            .fetch_one(&state.pool)
            .await
            .map_err(ApiError::internal)
    };
    let bot_tried = tenant.completed(OnboardingStep::BotTried) || answered().await?;
    Ok(OnboardingProgress {
        whatsapp_connected,
        knowledge_loaded: !tenant.knowledge().trim().is_empty(),
        bot_tried,
        live: tenant.completed(OnboardingStep::WentLive),
    })
}

/// The onboarding's progress. 404 `tenant_not_found` when the caller's tenant is not
/// registered.
#[utoipa::path(
    get,
    path = "/api/v1/onboarding",
    operation_id = "show_onboarding",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Each step, done or not", body = OnboardingProgress),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing an owner the onboarding progress", skip_all, fields(tenant = %owner.tenant_id))]
pub(crate) async fn show(
    State(state): State<OnboardingState>,
    owner: RequireTenantOwner,
) -> Result<Json<OnboardingProgress>, ApiError> {
    Ok(Json(progress(&state, owner.tenant_id).await?))
}

async fn complete(
    state: &OnboardingState,
    owner: &RequireTenantOwner,
    request: RequestMeta,
    step: OnboardingStep,
) -> Result<Json<OnboardingProgress>, ApiError> {
    let md = command_metadata(&owner.user, owner.tenant_id, request);
    state
        .bus
        .tenants
        .execute(
            &owner.tenant_id.to_string(),
            TenantCommand::CompleteOnboardingStep { step },
            &md,
        )
        .await?;
    Ok(Json(progress(state, owner.tenant_id).await?))
}

/// Records that the owner tried the bot (the console calls it after "try the bot");
/// answers the progress. Recording it again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/onboarding/bot-tried",
    operation_id = "record_bot_tried",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The progress", body = OnboardingProgress),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Conflict,
        r::Internal,
    )
)]
#[tracing::instrument(name = "recording that an owner tried the bot", skip_all, fields(tenant = %owner.tenant_id))]
pub(crate) async fn bot_tried(
    State(state): State<OnboardingState>,
    owner: RequireTenantOwner,
    request: RequestMeta,
) -> Result<Json<OnboardingProgress>, ApiError> {
    complete(&state, &owner, request, OnboardingStep::BotTried).await
}

/// "Go live": the owner declares the bot ready to answer customers; answers the progress.
/// Going live again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/onboarding/go-live",
    operation_id = "go_live",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The progress", body = OnboardingProgress),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Conflict,
        r::Internal,
    )
)]
#[tracing::instrument(name = "taking an owner's bot live", skip_all, fields(tenant = %owner.tenant_id))]
pub(crate) async fn go_live(
    State(state): State<OnboardingState>,
    owner: RequireTenantOwner,
    request: RequestMeta,
) -> Result<Json<OnboardingProgress>, ApiError> {
    complete(&state, &owner, request, OnboardingStep::WentLive).await
}

/// The onboarding routes (tenant owner).
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    OnboardingState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(bot_tried))
        .routes(routes!(go_live))
}
