//! The signing keys and settings every auth route and extractor shares, and access tokens.

use super::revocations::Revocations;
use super::{AuthUser, JwtSecret, Role};
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long an access token is accepted. Short, because nothing revokes it before then.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a refresh token (and so a login that keeps being refreshed) lasts unused.
pub const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Access-token keys and client-address policy; cheap to clone.
#[derive(Clone)]
pub struct AuthConfig {
    inner: Arc<Inner>,
}

struct Inner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    trust_proxy: bool,
    revocations: Arc<Revocations>,
}

/// A signed access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// An access token that cannot be issued or accepted.
#[derive(Debug, thiserror::Error)]
#[error("access token: {0}")]
pub struct TokenError(#[from] jsonwebtoken::errors::Error);

/// The JWT claims. `role` and `tenant_id` are copied at issue time, so a role change takes
/// effect at the next refresh at the latest.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    role: Role,
    tenant_id: Option<Uuid>,
    exp: i64,
    iat: i64,
    jti: Uuid,
}

impl AuthConfig {
    /// Keys from `secret`; `trust_proxy` takes the client address from `X-Forwarded-For`
    /// (only right behind a reverse proxy that sets it).
    pub fn new(secret: &JwtSecret, trust_proxy: bool) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Tokens are only ever checked by the processes that sign them, on synchronised
        // clocks, so the expiry is exact.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            inner: Arc::new(Inner {
                encoding: EncodingKey::from_secret(secret.as_bytes()),
                decoding: DecodingKey::from_secret(secret.as_bytes()),
                validation,
                trust_proxy,
                revocations: Arc::default(),
            }),
        }
    }

    /// Whether `X-Forwarded-For` names the client.
    pub fn trust_proxy(&self) -> bool {
        self.inner.trust_proxy
    }

    /// Signs an access token for `user`, valid from now.
    pub fn issue_access_token(&self, user: &AuthUser) -> Result<AccessToken, TokenError> {
        self.issue_access_token_at(user, Utc::now())
    }

    /// Signs an access token for `user` as if issued at `issued_at` (tests mint expired
    /// tokens with it).
    pub fn issue_access_token_at(
        &self,
        user: &AuthUser,
        issued_at: DateTime<Utc>,
    ) -> Result<AccessToken, TokenError> {
        let ttl = ACCESS_TOKEN_TTL.as_secs();
        let claims = Claims {
            sub: user.id,
            role: user.role,
            tenant_id: user.tenant_id,
            iat: issued_at.timestamp(),
            exp: issued_at.timestamp().saturating_add_unsigned(ttl),
            jti: Uuid::now_v7(),
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.encoding,
        )?;
        Ok(AccessToken {
            token,
            expires_in: ttl,
        })
    }

    /// The tenants and users whose tokens are refused before they expire.
    pub fn revocations(&self) -> &Arc<Revocations> {
        &self.inner.revocations
    }

    /// The user an access token speaks for, when its signature holds, it has not expired
    /// and neither its user is disabled nor its tenant suspended (401, or 403
    /// `tenant_suspended`, as sign-in answers).
    pub fn authenticate(&self, token: &str) -> Result<AuthUser, ApiError> {
        let user = self.verify_access_token(token).map_err(|e| {
            tracing::debug!(error = %e, "an access token was refused");
            ApiError::Unauthorized("the access token is invalid or expired; sign in again".into())
        })?;
        match self.inner.revocations.refusal(&user) {
            Some(refused) => {
                tracing::info!(user_id = %user.id, "a disabled user's or suspended tenant's access token was refused");
                Err(refused)
            }
            None => Ok(user),
        }
    }

    /// The user an access token speaks for, if its signature holds and it has not expired.
    pub fn verify_access_token(&self, token: &str) -> Result<AuthUser, TokenError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.inner.decoding, &self.inner.validation)?;
        Ok(AuthUser {
            id: data.claims.sub,
            role: data.claims.role,
            tenant_id: data.claims.tenant_id,
        })
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("keys", &"***")
            .field("trust_proxy", &self.inner.trust_proxy)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> AuthUser {
        AuthUser {
            id: Uuid::now_v7(),
            role: Role::Agent,
            tenant_id: Some(Uuid::now_v7()),
        }
    }

    #[test]
    fn a_fresh_token_names_its_user_role_and_tenant() {
        let config = AuthConfig::new(&JwtSecret::generate(), false);
        let user = agent();
        let token = config.issue_access_token(&user).map(|t| t.token);
        let back = token.map(|t| config.verify_access_token(&t).ok());
        assert_eq!(back.ok().flatten(), Some(user));
    }

    #[test]
    fn expired_or_foreign_tokens_are_refused() {
        let config = AuthConfig::new(&JwtSecret::generate(), false);
        let old = Utc::now() - chrono::Duration::minutes(16);
        let expired = config.issue_access_token_at(&agent(), old).map(|t| t.token);
        assert!(expired.is_ok_and(|t| config.verify_access_token(&t).is_err()));
        let other = AuthConfig::new(&JwtSecret::generate(), false);
        let foreign = other.issue_access_token(&agent()).map(|t| t.token);
        assert!(foreign.is_ok_and(|t| config.verify_access_token(&t).is_err()));
    }
}
