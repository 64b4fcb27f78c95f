//! `POST /api/v1/admin/users`: admins create platform users and get their password once.

use super::UsersState;
use super::{NewUser, User};
use crate::auth::password;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiJson, RequireAdmin, Role};
use crate::trail::{Action, Trail};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

/// The request body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CreateUserRequest {
    /// The new user's e-mail.
    pub email: String,
    /// `admin`, `auditor` or `super_admin`.
    pub role: Role,
}

/// The response: the user and the password nobody will see again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    /// The user.
    #[serde(flatten)]
    pub user: User,
    /// Their generated password; only its hash is kept.
    pub password: String,
}

/// Creates an admin, auditor or super admin. Admins may create admins and auditors; only a
/// super admin may create another super admin. Tenant users come with their tenant
/// (onboarding), not from here.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    operation_id = "create_platform_user",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created; the password is shown this once", body = CreatedUser),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "The e-mail is taken (`email_taken`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "creating a platform user for an admin", skip_all, fields(by = %admin.id))]
pub(super) async fn create_user(
    State(state): State<UsersState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let role = body.role;
    let result = create_user_as(&state, admin, body).await;
    let entry = Action::CreatePlatformUser
        .on("user", "")
        .note(role.as_str());
    let entry = match &result {
        Ok((_, created)) => entry.target_id(created.user.id),
        Err(_) => entry,
    };
    trail.record(entry, result).await
}

async fn create_user_as(
    state: &UsersState,
    admin: crate::request::AuthUser,
    body: CreateUserRequest,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    match body.role {
        Role::Owner | Role::Agent => {
            return Err(ApiError::Unprocessable {
                code: "invalid_role",
                message: "owners and agents are created with their tenant; here only admin, \
                          super_admin and auditor"
                    .into(),
                details: None,
            });
        }
        Role::SuperAdmin if admin.role != Role::SuperAdmin => {
            return Err(crate::request::forbidden(
                "only a super admin may create another super admin",
            ));
        }
        _ => {}
    }
    let password = password::generate();
    let user = super::create(
        &state.pool,
        NewUser {
            email: body.email,
            password: password.clone(),
            role: body.role,
            tenant_id: None,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { user, password })))
}
