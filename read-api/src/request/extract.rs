//! Extractors that authenticate a request (`AuthUser`) and guard a route by role.
//!
//! Put one in a handler's arguments; the handler only runs when it is satisfied:
//!
//! ```ignore
//! async fn queue(RequireTenantUser { tenant_id, user }: RequireTenantUser) -> … { … }
//! ```

use super::{AuthConfig, Role};
use crate::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use schemas::{Actor, ActorKind};
use uuid::Uuid;

/// The authenticated caller, from a valid `Authorization: Bearer <access token>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    /// The user's id.
    pub id: Uuid,
    /// Their role when the token was issued.
    pub role: Role,
    /// Their tenant: set for owners and agents, `None` for platform users.
    pub tenant_id: Option<Uuid>,
}

/// Any role-guard extractor's rejection: 401 (with `WWW-Authenticate: Bearer`) or 403.
#[derive(Debug)]
pub struct AuthRejection(pub ApiError);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let challenge = matches!(self.0, ApiError::Unauthorized(_));
        let mut resp = self.0.into_response();
        if challenge {
            resp.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<ApiError> for AuthRejection {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl AuthUser {
    /// Who to record as the actor of commands this user runs.
    pub fn actor(&self) -> Actor {
        Actor {
            kind: match self.role {
                Role::Owner | Role::Agent => ActorKind::TenantUser,
                Role::Auditor => ActorKind::Auditor,
                Role::Admin | Role::SuperAdmin => ActorKind::Admin,
            },
            id: self.id.to_string(),
        }
    }

    /// Whether this user may see `tenant`'s data: its own owners and agents, and every
    /// platform user (admins manage tenants, auditors read everything).
    pub fn can_access_tenant(&self, tenant: Uuid) -> bool {
        match self.tenant_id {
            Some(own) => own == tenant,
            None => !self.role.is_tenant_role(),
        }
    }

    /// [`Self::can_access_tenant`] as a 403, for routes that name a tenant in their path.
    pub fn ensure_tenant(&self, tenant: Uuid) -> Result<(), ApiError> {
        if self.can_access_tenant(tenant) {
            Ok(())
        } else {
            Err(forbidden("this tenant is not yours"))
        }
    }

    /// 403 unless `allowed` holds for the user's role.
    pub fn ensure_role(&self, allowed: impl Fn(Role) -> bool) -> Result<(), ApiError> {
        if allowed(self.role) {
            Ok(())
        } else {
            Err(forbidden("your role may not do this"))
        }
    }
}

/// The 403 every guard returns.
pub(crate) fn forbidden(message: &str) -> ApiError {
    ApiError::Forbidden {
        code: "forbidden",
        message: message.to_owned(),
    }
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()
        .and_then(|h| h.trim().split_once(' '))
        // The scheme name is case-insensitive (RFC 9110).
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

fn unauthorized(message: &str) -> AuthRejection {
    AuthRejection(ApiError::Unauthorized(message.to_owned()))
}

impl<S> FromRequestParts<S> for AuthUser
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Err(unauthorized(
                "sign in: an Authorization: Bearer token is required",
            ));
        }
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
        Ok(AuthConfig::from_ref(state).authenticate(token)?)
    }
}

/// An admin or super admin; 403 for anyone else.
#[derive(Debug, Clone, Copy)]
pub struct RequireAdmin(pub AuthUser);

/// An auditor, admin or super admin; 403 for anyone else.
#[derive(Debug, Clone, Copy)]
pub struct RequireAuditor(pub AuthUser);

/// A tenant's owner, with that tenant; 403 for anyone else.
#[derive(Debug, Clone, Copy)]
pub struct RequireTenantOwner {
    /// The owner.
    pub user: AuthUser,
    /// Their tenant: scope every query and command by it.
    pub tenant_id: Uuid,
}

/// A tenant's owner or agent, with that tenant; 403 for anyone else.
#[derive(Debug, Clone, Copy)]
pub struct RequireTenantUser {
    /// The owner or agent.
    pub user: AuthUser,
    /// Their tenant: scope every query and command by it.
    pub tenant_id: Uuid,
}

/// Authenticates, then checks the role with `allowed`.
async fn guarded<S>(
    parts: &mut Parts,
    state: &S,
    allowed: fn(Role) -> bool,
) -> Result<AuthUser, AuthRejection>
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    let user = AuthUser::from_request_parts(parts, state).await?;
    user.ensure_role(allowed)?;
    Ok(user)
}

/// The tenant of a user whose role needs one (the database guarantees it is set).
fn tenant_of(user: AuthUser) -> Result<Uuid, AuthRejection> {
    user.tenant_id
        .ok_or_else(|| AuthRejection(forbidden("your account belongs to no tenant")))
}

impl<S> FromRequestParts<S> for RequireAdmin
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        guarded(parts, state, Role::is_admin).await.map(Self)
    }
}

impl<S> FromRequestParts<S> for RequireAuditor
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        guarded(parts, state, Role::is_auditor).await.map(Self)
    }
}

impl<S> FromRequestParts<S> for RequireTenantOwner
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = guarded(parts, state, |r| r == Role::Owner).await?;
        Ok(Self {
            user,
            tenant_id: tenant_of(user)?,
        })
    }
}

impl<S> FromRequestParts<S> for RequireTenantUser
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = guarded(parts, state, Role::is_tenant_role).await?;
        Ok(Self {
            user,
            tenant_id: tenant_of(user)?,
        })
    }
}
