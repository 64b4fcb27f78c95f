//! The provisioning saga (F22): the first payment of a new customer registers its tenant,
//! creates the owner with a generated password, e-mails it, and starts the subscription.
//!
//! It works from the webhook payloads alone and never calls Stripe. Each step is
//! idempotent and the last one (the subscription's start) is what marks the saga done, so a
//! process that dies half-way resumes where it stopped when Stripe redelivers the event
//! (the event is recorded as handled only after the saga finished):
//! 1. `RegisterTenant` on the derived tenant id; `already_registered` means done before.
//! 2. The owner's row and the welcome mail, in one transaction: the generated password
//!    exists only in that mail (the row keeps its argon2id hash), and a tenant that has an
//!    owner already gets neither again.
//! 3. `StartFromCheckout`, which also records the payments Stripe reported early.

use super::StripeWebhookState;
use crate::auth::password;
use crate::error::ApiError;
use crate::request::Role;
use crate::users::email;
use aggregates::subscription::PendingCheckout;
use aggregates::{SubscriptionCommand, TenantCommand};
use commands::CommandError;
use integrations::mailer::{enqueue, Locale, NewMail, Template};
use schemas::{CommandMetadata, Personal};
use uuid::Uuid;

/// Who the new tenant's owner is, as the payload says.
#[derive(Debug, Clone)]
pub(super) struct Owner {
    /// Their e-mail (their login).
    pub email: Option<String>,
    /// The business's name; the e-mail stands in for it when missing.
    pub business_name: Option<String>,
    /// The language of their mail (`pt-BR` when missing).
    pub locale: Option<String>,
}

impl Owner {
    /// These details, each missing one taken from `other`.
    pub(super) fn or(self, other: Owner) -> Owner {
        Owner {
            email: self.email.or(other.email),
            business_name: self.business_name.or(other.business_name),
            locale: self.locale.or(other.locale),
        }
    }
}

/// Keeps what an unpaid checkout said about its owner for the payment that provisions it.
pub(super) async fn remember_owner(
    state: &StripeWebhookState,
    tenant: Uuid,
    owner: &Owner,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO stripe_checkout_owners (tenant_id, email, business_name, locale)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id) DO UPDATE
            SET email = EXCLUDED.email, business_name = EXCLUDED.business_name,
                locale = EXCLUDED.locale, recorded_at = now()",
    )
    .bind(tenant)
    .bind(&owner.email)
    .bind(&owner.business_name)
    .bind(&owner.locale)
    .execute(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(())
}

/// What an unpaid checkout said about the owner of `tenant`, if one did.
pub(super) async fn remembered_owner(
    state: &StripeWebhookState,
    tenant: Uuid,
) -> Result<Option<Owner>, ApiError> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT email, business_name, locale FROM stripe_checkout_owners WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(row.map(|(email, business_name, locale)| Owner {
        email,
        business_name,
        locale,
    }))
}

/// Runs (or resumes) the saga for `tenant`, which paid for `checkout`.
#[tracing::instrument(name = "provisioning a tenant from its first payment", skip_all, fields(%tenant))]
pub(super) async fn provision(
    state: &StripeWebhookState,
    tenant: Uuid,
    checkout: &PendingCheckout,
    owner: Owner,
    md: &CommandMetadata,
) -> Result<(), ApiError> {
    let login = owner
        .email
        .as_deref()
        .map(email::normalize)
        .filter(|e| email::is_plausible(e))
        .ok_or_else(|| ApiError::Unprocessable {
            code: "email_missing",
            message: "the payment carries no usable customer e-mail to create the owner with"
                .into(),
            details: None,
        })?;
    let id = tenant.to_string();
    let register = TenantCommand::RegisterTenant {
        tenant_id: tenant,
        name: owner.business_name.unwrap_or_else(|| login.clone()),
        owner_email: Personal::from(login.clone()),
        plan: checkout.plan.clone(),
    };
    match state.bus.tenants.execute(&id, register, md).await {
        Ok(()) => tracing::info!("the tenant was registered"),
        Err(CommandError::Rejected {
            code: "already_registered",
            ..
        }) => tracing::info!("the tenant was registered before; resuming"),
        Err(e) => return Err(e.into()),
    }
    let locale = Locale::from_tag(owner.locale.as_deref());
    // The checkout's language is the tenant's: every later e-mail is written in it.
    let speak = TenantCommand::ChangeLocale { locale };
    state.bus.tenants.execute(&id, speak, md).await?;
    let (registered, _) = state.bus.tenants.load(&id).await?;
    create_owner(state, tenant, registered.name(), &login, locale).await?;
    let start = SubscriptionCommand::StartFromCheckout {
        tenant_id: tenant,
        stripe_customer_id: checkout.stripe_customer_id.clone(),
        stripe_subscription_id: checkout.stripe_subscription_id.clone(),
        plan: checkout.plan.clone(),
        trial_end: None,
    };
    state.bus.subscriptions.execute(&id, start, md).await?;
    // The owner's details from an unpaid checkout are personal data no longer needed.
    sqlx::query("DELETE FROM stripe_checkout_owners WHERE tenant_id = $1")
        .bind(tenant)
        .execute(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!("a tenant was provisioned from its first payment");
    Ok(())
}

/// Creates the owner and queues the welcome mail, together or not at all.
async fn create_owner(
    state: &StripeWebhookState,
    tenant: Uuid,
    tenant_name: &str,
    login: &str,
    locale: Locale,
) -> Result<(), ApiError> {
    // Made before the transaction: it holds a lock other deliveries wait on.
    let (secret, hash) = password::generated().await.map_err(ApiError::internal)?;
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    // Two deliveries provisioning the same tenant at once queue here.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("stripe-owner:{tenant}"))
        .execute(&mut *tx)
        .await
        .map_err(ApiError::internal)?;
    let has_owner: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND role = $2)",
    )
    .bind(tenant)
    .bind(Role::Owner.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    if has_owner {
        return Ok(());
    }
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, password_hash, role, tenant_id)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(login)
    .bind(hash)
    .bind(Role::Owner.as_str())
    .bind(tenant)
    .execute(&mut *tx)
    .await
    .map_err(ApiError::internal)?
    .rows_affected();
    if inserted == 0 {
        tracing::error!("the paying customer's e-mail already has an account; no owner created");
        return Err(ApiError::Conflict {
            code: "email_taken",
            message: "the customer's e-mail already signs in to another account".into(),
        });
    }
    let mail = NewMail {
        idempotency_key: format!("welcome:{tenant}"),
        to: login.to_owned(),
        locale,
        template: Template::Welcome {
            tenant_name: tenant_name.to_owned(),
            login_email: login.to_owned(),
            password: secret,
            dashboard_url: state.public_url.link("/login"),
        },
    };
    enqueue(&mut tx, &mail).await.map_err(ApiError::internal)?;
    tx.commit().await.map_err(ApiError::internal)?;
    tracing::info!("the owner was created and their welcome mail queued");
    Ok(())
}
