//! The sign-in accounts the write side creates itself: a tenant's first owner, made by the
//! provisioning saga (the API creates every other account), and the password hashing both
//! share.

mod attempts;
pub mod password;
mod prune;

pub use attempts::{sign_in_attempts, SignInAttempt, SignInFilter, SignInOutcome};
pub use prune::{prune_security_records, Pruned, RESET_REQUEST_DAYS, SPENT_RESET_LINK_DAYS};

use sqlx::PgConnection;
use uuid::Uuid;

/// The stored role of a tenant's owner (the API's `Role::Owner`).
pub const OWNER_ROLE: &str = "owner";

/// What became of a tenant's first owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstOwner {
    /// The owner was created now, with this id.
    Created(Uuid),
    /// The tenant had an owner already; nothing was written.
    Existing,
    /// The e-mail signs in to another account; nothing was written.
    EmailTaken,
}

/// Creates `tenant`'s owner signing in as `email` (normalized by the caller) with the argon2
/// `password_hash`, unless the tenant has an owner already. Run it in a transaction that
/// also writes what must happen only with the owner (its welcome mail): the transaction
/// holds a per-tenant lock until it ends, so two provisionings of one tenant at once create
/// one owner.
pub async fn create_first_owner(
    tx: &mut PgConnection,
    tenant: Uuid,
    email: &str,
    password_hash: &str,
) -> Result<FirstOwner, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("first-owner:{tenant}"))
        .execute(&mut *tx)
        .await?;
    let has_owner: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND role = $2)",
    )
    .bind(tenant)
    .bind(OWNER_ROLE)
    .fetch_one(&mut *tx)
    .await?;
    if has_owner {
        return Ok(FirstOwner::Existing);
    }
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, password_hash, role, tenant_id)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(id)
    .bind(email)
    .bind(password_hash)
    .bind(OWNER_ROLE)
    .bind(tenant)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(if inserted == 0 {
        FirstOwner::EmailTaken
    } else {
        FirstOwner::Created(id)
    })
}
