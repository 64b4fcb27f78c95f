//! The provisioning saga (F22): a new customer's first payment registers its tenant,
//! creates the owner with a generated password, e-mails it, and starts the subscription.
//!
//! The Stripe webhook only records facts: the checkout (`CheckoutCompleted`), the payments
//! (`PaymentHeld` before the subscription starts), and, beside them, what the events do
//! not carry (`commands::checkout_owners`: the owner's e-mail, the business's name, the
//! language, whether the checkout session was paid). [`Provisioning`] reacts to those events:
//! once a subscription has a pending checkout, no status yet and is paid (a held payment or
//! a paid session), it provisions. It never calls Stripe. Each step is idempotent and the
//! subscription's start comes last, so a process that dies half-way resumes where it
//! stopped on the event's retry (or the next payment event):
//! 1. `RegisterTenant` on the subscription's (the tenant's) id; `already_registered` means
//!    done before. Then `ChangeLocale`: every later e-mail is written in the checkout's
//!    language.
//! 2. The owner's row and the welcome mail, in one transaction: the generated password
//!    exists only in that mail (the row keeps its argon2id hash), and a tenant that has an
//!    owner already gets neither again.
//! 3. `StartFromCheckout`, which also records the payments Stripe reported early; then the
//!    remembered owner details, personal data no longer needed, are dropped.
//!
//! An e-mail that already signs in to another account cannot become the owner: the saga
//! logs it once per event and moves on (retrying would not change it); a later payment
//! event of the tenant tries again, once the cause is fixed.

use aggregates::subscription::PendingCheckout;
use aggregates::{SubscriptionCommand, TenantCommand};
use commands::checkout_owners::{self, CheckoutOwner};
use commands::users::{self, FirstOwner};
use commands::{CommandBus, CommandError};
use integrations::mailer::{enqueue, Locale, NewMail, PublicUrl, Template};
use schemas::events::SubscriptionStatus;
use schemas::{Actor, CommandMetadata, EventType, Personal, StoredEvent};
use sqlx::{PgConnection, PgPool};
use std::fmt;
use std::sync::Arc;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// The consumer's name (its checkpoint, its line in /health).
pub const CONSUMER: &str = "stripe_provisioning";

/// Provisions the tenants of new paying customers from their subscription's events.
pub struct Provisioning {
    bus: Arc<CommandBus>,
    pool: PgPool,
    public_url: PublicUrl,
}

impl fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provisioning").finish_non_exhaustive()
    }
}

/// Why a step of the saga failed.
#[derive(Debug, thiserror::Error)]
enum StepError {
    /// A command failed for a reason a retry may cure.
    #[error("{step}: {source}")]
    Command {
        step: &'static str,
        source: CommandError,
    },
    /// The database failed.
    #[error("database error while provisioning")]
    Database(#[from] sqlx::Error),
    /// Hashing the generated password failed.
    #[error("generating the owner's password: {0}")]
    Password(#[from] users::password::PasswordError),
    /// Queueing the welcome mail failed.
    #[error("queueing the welcome mail: {0}")]
    Mail(String),
}

impl From<StepError> for HandlerError {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Database(e) => HandlerError::Database(e),
            other => HandlerError::Rejected(other.to_string()),
        }
    }
}

fn step(step: &'static str) -> impl FnOnce(CommandError) -> StepError {
    move |source| StepError::Command { step, source }
}

/// How a provisioning ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The tenant is provisioned.
    Done,
    /// The owner cannot be created from what the customer gave.
    GaveUp,
}

impl Provisioning {
    /// A saga writing with `bus` and `pool`, linking its mails to `public_url`.
    pub fn new(bus: Arc<CommandBus>, pool: PgPool, public_url: PublicUrl) -> Self {
        Self {
            bus,
            pool,
            public_url,
        }
    }

    /// Runs (or resumes) the saga for `tenant`, which paid for `checkout`.
    async fn provision(
        &self,
        tenant: Uuid,
        checkout: &PendingCheckout,
        owner: CheckoutOwner,
        md: &CommandMetadata,
    ) -> Result<Ending, StepError> {
        let Some(login) = owner.email else {
            tracing::error!("the paying customer gave no usable e-mail; no owner created");
            return Ok(Ending::GaveUp);
        };
        let id = tenant.to_string();
        let register = TenantCommand::RegisterTenant {
            tenant_id: tenant,
            name: owner.business_name.unwrap_or_else(|| login.clone()),
            owner_email: Personal::from(login.clone()),
            plan: checkout.plan.clone(),
        };
        match self.bus.tenants.execute(&id, register, md).await {
            Ok(()) => tracing::info!("the tenant was registered"),
            Err(CommandError::Rejected {
                code: "already_registered",
                ..
            }) => tracing::info!("the tenant was registered before; resuming"),
            Err(e) => return Err(step("registering the tenant")(e)),
        }
        let locale = Locale::from_tag(owner.locale.as_deref());
        let speak = TenantCommand::ChangeLocale { locale };
        self.bus
            .tenants
            .execute(&id, speak, md)
            .await
            .map_err(step("setting the tenant's language"))?;
        let (registered, _) = self
            .bus
            .tenants
            .load(&id)
            .await
            .map_err(step("loading the tenant"))?;
        if self
            .create_owner(tenant, registered.name(), &login, locale)
            .await?
            == Ending::GaveUp
        {
            return Ok(Ending::GaveUp);
        }
        let start = SubscriptionCommand::StartFromCheckout {
            tenant_id: tenant,
            stripe_customer_id: checkout.stripe_customer_id.clone(),
            stripe_subscription_id: checkout.stripe_subscription_id.clone(),
            plan: checkout.plan.clone(),
            trial_end: None,
        };
        match self.bus.subscriptions.execute(&id, start, md).await {
            Ok(()) => {}
            // Another process provisioning the same tenant at once started it first.
            Err(CommandError::Rejected {
                code: "already_started",
                ..
            }) => tracing::info!("the subscription was started before"),
            Err(e) => return Err(step("starting the subscription")(e)),
        }
        checkout_owners::forget(&self.pool, tenant).await?;
        tracing::info!("a tenant was provisioned from its first payment");
        Ok(Ending::Done)
    }

    /// Creates the owner and queues the welcome mail, together or not at all. Its own
    /// transaction, committed before the subscription starts: a start must never stand
    /// without its owner.
    async fn create_owner(
        &self,
        tenant: Uuid,
        tenant_name: &str,
        login: &str,
        locale: Locale,
    ) -> Result<Ending, StepError> {
        // Made before the transaction: it holds a lock other provisionings wait on.
        let (secret, hash) = users::password::generated().await?;
        let mut tx = self.pool.begin().await?;
        match users::create_first_owner(&mut tx, tenant, login, &hash).await? {
            FirstOwner::Existing => return Ok(Ending::Done),
            FirstOwner::EmailTaken => {
                tracing::error!(
                    "the paying customer's e-mail already signs in to another account; no owner created"
                );
                return Ok(Ending::GaveUp);
            }
            FirstOwner::Created(_) => {}
        }
        let mail = NewMail {
            idempotency_key: format!("welcome:{tenant}"),
            to: login.to_owned(),
            locale,
            template: Template::Welcome {
                tenant_name: tenant_name.to_owned(),
                login_email: login.to_owned(),
                password: secret,
                dashboard_url: self.public_url.link("/login"),
            },
        };
        enqueue(&mut tx, &mail)
            .await
            .map_err(|e| StepError::Mail(e.to_string()))?;
        tx.commit().await?;
        tracing::info!("the owner was created and their welcome mail queued");
        Ok(Ending::Done)
    }
}

#[async_trait::async_trait]
impl EventHandler for Provisioning {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        matches!(
            event.kind(),
            Some(EventType::CheckoutCompleted | EventType::PaymentHeld)
        )
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["subscription"]
    }

    #[tracing::instrument(name = "provisioning a tenant from its first payment", skip_all, fields(event = %event.event_type, tenant = %event.aggregate_id))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if !self.wants(event) {
            return Ok(());
        }
        // A subscription's id is its tenant's id.
        let tenant = event.aggregate_uuid()?;
        // The subscription as it is now, not as of the event: an earlier event may have
        // provisioned it already.
        let (subscription, _) = self
            .bus
            .subscriptions
            .load(&event.aggregate_id)
            .await
            .map_err(|e| HandlerError::Rejected(format!("loading the subscription: {e}")))?;
        let remembered = checkout_owners::remembered(&mut *db, tenant).await?;
        if subscription.status() == Some(SubscriptionStatus::Cancelled) {
            return self.restart(tenant, &subscription, remembered, event).await;
        }
        if subscription.status().is_some() {
            // Started: a crash after the start may have left the details behind.
            if remembered.is_some() {
                checkout_owners::forget(&self.pool, tenant).await?;
            }
            return Ok(());
        }
        let Some(checkout) = subscription.pending_checkout() else {
            // A payment before its checkout: the checkout provisions.
            return Ok(());
        };
        let paid = subscription.has_held_payment() || remembered.as_ref().is_some_and(|o| o.paid);
        if !paid {
            return Ok(());
        }
        let Some(owner) = remembered else {
            tracing::error!("a paid checkout has no remembered owner; no owner created");
            return Ok(());
        };
        let md = CommandMetadata::new(Actor::system(CONSUMER), Some(tenant)).with_idempotency_key(
            format!("{CONSUMER}:{}:{}", event.aggregate_id, event.sequence),
        );
        self.provision(tenant, checkout, owner, &md).await?;
        Ok(())
    }
}

impl Provisioning {
    /// A cancelled tenant that checked out again (its own Stripe customer, a new
    /// subscription): once paid, the new subscription starts. The tenant and its owner
    /// exist already, so only the start is left; the lifecycle then lifts the suspension.
    async fn restart(
        &self,
        tenant: Uuid,
        subscription: &aggregates::Subscription,
        remembered: Option<CheckoutOwner>,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let Some(checkout) = subscription.pending_checkout() else {
            return Ok(());
        };
        let paid = subscription.has_held_payment() || remembered.as_ref().is_some_and(|o| o.paid);
        if !paid {
            return Ok(());
        }
        let md = CommandMetadata::new(Actor::system(CONSUMER), Some(tenant)).with_idempotency_key(
            format!("{CONSUMER}:{}:{}", event.aggregate_id, event.sequence),
        );
        let start = SubscriptionCommand::StartFromCheckout {
            tenant_id: tenant,
            stripe_customer_id: checkout.stripe_customer_id.clone(),
            stripe_subscription_id: checkout.stripe_subscription_id.clone(),
            plan: checkout.plan.clone(),
            trial_end: None,
        };
        self.bus
            .subscriptions
            .execute(&tenant.to_string(), start, &md)
            .await
            .map_err(step("starting the subscription again"))?;
        if remembered.is_some() {
            checkout_owners::forget(&self.pool, tenant).await?;
        }
        tracing::info!("a cancelled tenant subscribed again");
        Ok(())
    }
}
