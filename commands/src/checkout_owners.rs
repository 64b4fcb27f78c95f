//! Who a Stripe checkout is for (`stripe_checkout_owners`): what the webhook learns from
//! Stripe's payloads and the subscription's events do not carry (the owner's e-mail, the
//! business's name, the language, whether the session was paid), kept for the provisioning
//! saga until it has created the tenant's owner.

use sqlx::PgPool;
use uuid::Uuid;

/// The remembered details of a checkout's owner.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckoutOwner {
    /// Their e-mail (their login), normalized; `None` when no usable one was given.
    pub email: Option<String>,
    /// The business's name.
    pub business_name: Option<String>,
    /// The language of their mail, as a tag (`en`, `pt-BR`).
    pub locale: Option<String>,
    /// The checkout session said it was paid.
    pub paid: bool,
}

/// Records what a completed checkout says about `tenant`'s owner; its details replace
/// earlier ones, and a paid session stays paid.
pub async fn remember_checkout(
    pool: &PgPool,
    tenant: Uuid,
    owner: &CheckoutOwner,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stripe_checkout_owners (tenant_id, email, business_name, locale, paid)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id) DO UPDATE
            SET email = EXCLUDED.email, business_name = EXCLUDED.business_name,
                locale = EXCLUDED.locale,
                paid = stripe_checkout_owners.paid OR EXCLUDED.paid, recorded_at = now()",
    )
    .bind(tenant)
    .bind(&owner.email)
    .bind(&owner.business_name)
    .bind(&owner.locale)
    .bind(owner.paid)
    .execute(pool)
    .await?;
    Ok(())
}

/// Fills in what the checkout left out of `tenant`'s owner from a later payment's details
/// (the checkout's own stay).
pub async fn fill_in(
    pool: &PgPool,
    tenant: Uuid,
    owner: &CheckoutOwner,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stripe_checkout_owners (tenant_id, email, business_name, locale)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id) DO UPDATE
            SET email = COALESCE(stripe_checkout_owners.email, EXCLUDED.email),
                business_name = COALESCE(stripe_checkout_owners.business_name,
                                         EXCLUDED.business_name),
                locale = COALESCE(stripe_checkout_owners.locale, EXCLUDED.locale)",
    )
    .bind(tenant)
    .bind(&owner.email)
    .bind(&owner.business_name)
    .bind(&owner.locale)
    .execute(pool)
    .await?;
    Ok(())
}

/// What was remembered about `tenant`'s owner, if anything.
pub async fn remembered(
    db: impl sqlx::PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Option<CheckoutOwner>, sqlx::Error> {
    sqlx::query_as(
        "SELECT email, business_name, locale, paid FROM stripe_checkout_owners
          WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(db)
    .await
}

/// Drops what was remembered about `tenant`'s owner: personal data no longer needed once
/// the owner exists.
pub async fn forget(pool: &PgPool, tenant: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM stripe_checkout_owners WHERE tenant_id = $1")
        .bind(tenant)
        .execute(pool)
        .await?;
    Ok(())
}

/// Drops what was remembered for checkouts recorded before `cutoff` and never paid for;
/// how many.
pub async fn forget_recorded_before(
    pool: &PgPool,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM stripe_checkout_owners WHERE recorded_at < $1")
            .bind(cutoff)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
