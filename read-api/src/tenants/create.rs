//! `POST /api/v1/admin/tenants`: onboarding a tenant by hand.

use super::TenantsState;
use crate::auth::password;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireAdmin, Role};
use crate::users::{self, NewUser, User};
use aggregates::{SubscriptionCommand, TenantCommand};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use schemas::{Personal, Plan};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The request body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CreateTenantRequest {
    /// The business's name; not blank.
    pub name: String,
    /// The owner's e-mail: their login, unique across users.
    pub owner_email: String,
    /// The plan given, free of charge; not blank.
    pub plan: String,
    /// The language the product writes to the tenant in: `pt-BR` (the default) or `en`.
    #[serde(default)]
    pub locale: Option<String>,
}

/// The response: the tenant, its owner and the owner's password, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedTenant {
    /// The new tenant's id.
    pub tenant_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its plan (a complimentary subscription, active).
    pub plan: String,
    /// Its language.
    pub locale: String,
    /// The owner's account.
    pub owner: User,
    /// The owner's generated password; only its hash is kept.
    pub password: String,
}

fn required(value: &str, code: &'static str, what: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::Unprocessable {
            code,
            message: format!("{what} must not be blank"),
            details: None,
        });
    }
    Ok(())
}

/// Registers the tenant, creates its owner and gives it a complimentary subscription.
///
/// The owner is created first: the users table's unique e-mail is the only check that can
/// fail for reasons outside this request, and it is atomic, so a duplicate e-mail answers
/// 409 before any event exists. The events cannot be undone, whereas a user row can: if
/// registering then fails, the user is deleted again.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tenants",
    operation_id = "create_tenant",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = CreateTenantRequest,
    responses(
        (status = 201, description = "Onboarded; the owner's password is shown this once", body = CreatedTenant),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "The owner's e-mail is taken (`email_taken`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "onboarding a tenant for an admin", skip_all, fields(by = %admin.id))]
pub(super) async fn create(
    State(state): State<TenantsState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    ApiJson(body): ApiJson<CreateTenantRequest>,
) -> Result<(StatusCode, Json<CreatedTenant>), ApiError> {
    required(&body.name, "name_required", "the name")?;
    required(&body.plan, "plan_required", "the plan")?;
    let locale = body
        .locale
        .as_deref()
        .map(crate::settings::parse_locale)
        .transpose()?
        .unwrap_or_default();
    let tenant_id = Uuid::now_v7();
    let password = password::generate();
    let owner = users::create(
        &state.pool,
        NewUser {
            email: body.owner_email.clone(),
            password: password.clone(),
            role: Role::Owner,
            tenant_id: Some(tenant_id),
        },
    )
    .await?;
    let md = command_metadata(&admin, tenant_id, request);
    let id = tenant_id.to_string();
    let register = TenantCommand::RegisterTenant {
        tenant_id,
        name: body.name.trim().to_owned(),
        owner_email: Personal::from(owner.email.clone()),
        plan: Plan::new(body.plan.trim()),
    };
    if let Err(e) = state.bus.tenants.execute(&id, register, &md).await {
        forget_user(&state, owner.id).await;
        return Err(e.into());
    }
    let subscribe = SubscriptionCommand::StartComplimentary {
        tenant_id,
        plan: Plan::new(body.plan.trim()),
    };
    // The tenant exists now; a failure here leaves it without a subscription, which an
    // admin sees in the timeline. Retrying the whole request is not possible (the e-mail is
    // taken), so the error is reported as is.
    state.bus.subscriptions.execute(&id, subscribe, &md).await?;
    let speak = TenantCommand::ChangeLocale { locale };
    state.bus.tenants.execute(&id, speak, &md).await?;
    tracing::info!(%tenant_id, "a tenant was onboarded");
    Ok((
        StatusCode::CREATED,
        Json(CreatedTenant {
            tenant_id,
            name: body.name.trim().to_owned(),
            plan: body.plan.trim().to_owned(),
            locale: locale.as_str().to_owned(),
            owner,
            password,
        }),
    ))
}

/// Deletes the owner created for a tenant that could not be registered.
async fn forget_user(state: &TenantsState, id: Uuid) {
    if let Err(e) = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(&state.pool)
        .await
    {
        tracing::error!(error = %e, user_id = %id, "an orphaned owner could not be deleted");
    }
}
