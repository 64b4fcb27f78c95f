//! Access tokens already issued to a suspended tenant's users or to a disabled user are
//! refused at once, not when they expire (at most [`ACCESS_TOKEN_TTL`] later).
//!
//! Checking the database on every request would cost a round trip each; instead every
//! process keeps two small sets in memory: the suspended tenants (from `tenant_directory`)
//! and the users disabled within the last [`DISABLED_WINDOW`] (older ones hold no access
//! token that has not expired: sign-in and refresh refuse them). A task re-reads both every
//! [`REFRESH_EVERY`]. What this process itself suspends, disables or restores is marked at
//! once ([`Revocations::mark`]) and wins over the polled sets until a poll agrees with it
//! (the directory is a read model and may lag behind the event) or a token's lifetime has
//! passed.
//!
//! The bound: a change made by this process applies to the next request; one made by
//! another process (a second server, the CLI) within [`REFRESH_EVERY`] plus the
//! directory's lag (normally well under a second).

use super::{AuthUser, ACCESS_TOKEN_TTL};
use crate::error::ApiError;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How often the sets are re-read from the database.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// How far back disabled users are read: a token's lifetime, with room for clock skew
/// between the database and this process.
pub const DISABLED_WINDOW: Duration = Duration::from_secs(ACCESS_TOKEN_TTL.as_secs() + 5 * 60);

/// Whose tokens a mark concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Every user of a tenant.
    Tenant(Uuid),
    /// One user.
    User(Uuid),
}

/// The refused tenants and users; shared by every request of the process.
#[derive(Debug, Default)]
pub struct Revocations {
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    suspended: HashSet<Uuid>,
    disabled: HashSet<Uuid>,
    /// Marks made here: refused or not, and when.
    marks: HashMap<Subject, (bool, Instant)>,
}

impl State {
    fn polled(&self, subject: Subject) -> bool {
        match subject {
            Subject::Tenant(id) => self.suspended.contains(&id),
            Subject::User(id) => self.disabled.contains(&id),
        }
    }

    fn refuses(&self, subject: Subject) -> bool {
        match self.marks.get(&subject) {
            Some((refused, at)) if at.elapsed() < ACCESS_TOKEN_TTL => *refused,
            _ => self.polled(subject),
        }
    }
}

impl Revocations {
    /// Records at once that `subject`'s tokens are refused (`true`) or accepted again.
    pub fn mark(&self, subject: Subject, refused: bool) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.marks.insert(subject, (refused, Instant::now()));
    }

    /// Why `user`'s token is refused, if it is: 401 for a disabled user, 403
    /// `tenant_suspended` for a suspended tenant's, as sign-in answers.
    pub fn refusal(&self, user: &AuthUser) -> Option<ApiError> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        if state.refuses(Subject::User(user.id)) {
            return Some(ApiError::Unauthorized(
                "this account is disabled; sign in again".into(),
            ));
        }
        match user.tenant_id {
            Some(tenant) if state.refuses(Subject::Tenant(tenant)) => Some(ApiError::Forbidden {
                code: "tenant_suspended",
                message: "this company's account is suspended; contact support".into(),
            }),
            _ => None,
        }
    }

    /// Replaces the polled sets; marks a poll agrees with (or that have outlived any token
    /// issued before them) are dropped.
    fn replace(&self, suspended: HashSet<Uuid>, disabled: HashSet<Uuid>) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.suspended = suspended;
        state.disabled = disabled;
        let State {
            marks,
            suspended,
            disabled,
        } = &mut *state;
        marks.retain(|subject, (refused, at)| {
            let polled = match subject {
                Subject::Tenant(id) => suspended.contains(id),
                Subject::User(id) => disabled.contains(id),
            };
            polled != *refused && at.elapsed() < ACCESS_TOKEN_TTL
        });
    }

    /// Re-reads the suspended tenants and the recently disabled users.
    #[tracing::instrument(name = "reading which tenants and users are refused", skip_all)]
    pub async fn refresh(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let suspended: Vec<Uuid> =
            sqlx::query_scalar("SELECT tenant_id FROM tenant_directory WHERE status = 'suspended'")
                .fetch_all(pool)
                .await?;
        let disabled: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM users WHERE disabled_at > now() - $1::float8 * interval '1 second'",
        )
        .bind(DISABLED_WINDOW.as_secs_f64())
        .fetch_all(pool)
        .await?;
        self.replace(
            suspended.into_iter().collect(),
            disabled.into_iter().collect(),
        );
        Ok(())
    }

    /// Re-reads the sets every [`REFRESH_EVERY`] until the task is aborted; a failed read
    /// keeps the last sets and is logged.
    pub fn spawn_refresh(self: Arc<Self>, pool: PgPool) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.refresh(&pool).await {
                    tracing::warn!(error = %e, "the refused tenants and users could not be re-read");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Role;

    fn agent_of(tenant: Uuid) -> AuthUser {
        AuthUser {
            id: Uuid::now_v7(),
            role: Role::Agent,
            tenant_id: Some(tenant),
        }
    }

    #[test]
    fn a_mark_made_here_outweighs_a_poll_that_has_not_seen_it_yet() {
        let r = Revocations::default();
        let tenant = Uuid::now_v7();
        let user = agent_of(tenant);
        assert!(r.refusal(&user).is_none());
        r.mark(Subject::Tenant(tenant), true);
        r.replace(HashSet::new(), HashSet::new());
        assert_eq!(r.refusal(&user).map(|e| e.code()), Some("tenant_suspended"));
        r.replace(HashSet::from([tenant]), HashSet::new());
        r.mark(Subject::Tenant(tenant), false);
        assert!(
            r.refusal(&user).is_none(),
            "reactivated here, not yet polled"
        );
        r.replace(HashSet::new(), HashSet::new());
        assert!(r.refusal(&user).is_none());
    }

    #[test]
    fn a_disabled_user_is_refused_with_a_401_before_their_tenant_is_looked_at() {
        let r = Revocations::default();
        let tenant = Uuid::now_v7();
        let user = agent_of(tenant);
        r.replace(HashSet::from([tenant]), HashSet::from([user.id]));
        assert!(matches!(r.refusal(&user), Some(ApiError::Unauthorized(_))));
        assert!(r.refusal(&agent_of(Uuid::now_v7())).is_none());
    }
}
