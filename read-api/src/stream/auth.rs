//! Who may open the stream: a tenant's owner or agent, or an admin (for notifications), by
//! `Authorization: Bearer` or by `?access_token=` (browsers' `EventSource` cannot set
//! headers).

use crate::error::ApiError;
use crate::request::{AuthConfig, AuthRejection, AuthUser};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use uuid::Uuid;

/// A user of the stream, with what they hear of.
#[derive(Debug, Clone, Copy)]
pub struct StreamUser {
    /// The owner, agent or admin.
    pub user: AuthUser,
    /// What they hear of.
    pub audience: Audience,
}

/// Whose changes a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A tenant's user: that tenant's conversation and ticket changes only.
    Tenant(Uuid),
    /// An admin: new admin notifications only.
    Admins,
}

/// The `access_token` query parameter, if any (the rate limits key the stream by it too).
pub(crate) fn token_in_query(uri: &axum::http::Uri) -> Option<String> {
    let query = uri.query()?;
    url_pairs(query)
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v)
}

/// `k=v` pairs of a query string, percent-decoded.
fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        Some((decode(k)?, decode(v)?))
    })
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

impl<S> FromRequestParts<S> for StreamUser
where
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = match token_in_query(&parts.uri) {
            Some(token) if !parts.headers.contains_key(AUTHORIZATION) => {
                AuthConfig::from_ref(state).authenticate(&token)?
            }
            _ => AuthUser::from_request_parts(parts, state).await?,
        };
        user.ensure_role(|r| r.is_tenant_role() || r.is_admin())?;
        if user.role.is_admin() {
            return Ok(Self {
                user,
                audience: Audience::Admins,
            });
        }
        let tenant_id = user.tenant_id.ok_or_else(|| {
            AuthRejection(ApiError::Forbidden {
                code: "forbidden",
                message: "your account belongs to no tenant".into(),
            })
        })?;
        Ok(Self {
            user,
            audience: Audience::Tenant(tenant_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::url_pairs;

    #[test]
    fn query_values_are_percent_decoded() {
        let pairs: Vec<_> = url_pairs("a=1&access_token=x%2Ey+z&b").collect();
        assert_eq!(pairs[1], ("access_token".into(), "x.y z".into()));
        assert_eq!(pairs[2], ("b".into(), String::new()));
    }
}
