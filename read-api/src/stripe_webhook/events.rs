//! Each Stripe event type, as subscription commands.

use super::dedup;
use super::handler::{malformed, Outcome};
use super::payload::{
    Charge, CheckoutSession, Envelope, IdOrObject, Invoice, StripeRefund, StripeSubscription,
};
use super::StripeWebhookState;
use crate::error::ApiError;
use crate::request::RequestMeta;
use crate::users::email;
use aggregates::{ErrorKind, SubscriptionCommand};
use commands::checkout_owners::{self, CheckoutOwner};
use commands::CommandError;
use schemas::events::SubscriptionStatus;
use schemas::ids::tenant_for_stripe_customer;
use schemas::{Actor, ActorKind, CommandMetadata, Plan};
use uuid::Uuid;

/// Applies `event`; `Ignored` for types the product does not use.
pub(super) async fn dispatch(
    state: &StripeWebhookState,
    event: &Envelope,
    request: RequestMeta,
) -> Result<Outcome, ApiError> {
    let md = |tenant: Uuid| {
        crate::request::request_metadata(
            CommandMetadata::new(
                Actor {
                    kind: ActorKind::Provider,
                    id: "stripe".into(),
                },
                Some(tenant),
            )
            .with_idempotency_key(event.id.clone()),
            request,
        )
    };
    match event.kind.as_str() {
        "checkout.session.completed" => {
            let session: CheckoutSession = event.object().map_err(|e| malformed(&e))?;
            let tenant = tenant_of(session.customer.as_ref())?;
            checkout(state, session, tenant, &md(tenant)).await
        }
        "invoice.paid" | "invoice.payment_succeeded" => {
            let invoice: Invoice = event.object().map_err(|e| malformed(&e))?;
            let tenant = tenant_of(invoice.customer.as_ref())?;
            invoice_paid(state, invoice, tenant, &md(tenant)).await
        }
        "invoice.payment_failed" => {
            let invoice: Invoice = event.object().map_err(|e| malformed(&e))?;
            let tenant = tenant_of(invoice.customer.as_ref())?;
            let command = SubscriptionCommand::RecordPaymentFailure {
                invoice_id: invoice.id,
                attempt: invoice.attempt_count.max(1),
            };
            execute(state, tenant, command, &md(tenant)).await
        }
        "customer.subscription.updated" => {
            let sub: StripeSubscription = event.object().map_err(|e| malformed(&e))?;
            let tenant = tenant_of(sub.customer.as_ref())?;
            let newer = dedup::newer_handled(&state.pool, &event.kind, &sub.id, event.created_at())
                .await
                .map_err(ApiError::internal)?;
            if newer {
                tracing::info!("an older subscription update arrived after a newer one; ignored");
                return Ok(Outcome::Ignored);
            }
            if replaced(state, tenant, &sub.id).await? {
                return Ok(Outcome::Ignored);
            }
            subscription_updated(state, sub, tenant, &md(tenant)).await
        }
        "customer.subscription.deleted" => {
            let sub: StripeSubscription = event.object().map_err(|e| malformed(&e))?;
            let tenant = tenant_of(sub.customer.as_ref())?;
            if replaced(state, tenant, &sub.id).await? {
                return Ok(Outcome::Ignored);
            }
            let reason = sub
                .cancellation_details
                .and_then(|d| d.reason)
                .unwrap_or_else(|| "deleted in Stripe".into());
            let command = SubscriptionCommand::Cancel { reason };
            execute(state, tenant, command, &md(tenant)).await
        }
        // Refunds (issue 18): recorded once the money went back, once per refund id.
        "refund.created" | "refund.updated" => {
            let refund: StripeRefund = event.object().map_err(|e| malformed(&e))?;
            refunded(state, &refund, None, None, &md).await
        }
        "charge.refunded" => {
            let charge: Charge = event.object().map_err(|e| malformed(&e))?;
            let tenant = charge
                .customer
                .as_ref()
                .map(IdOrObject::id)
                .filter(|c| !c.trim().is_empty())
                .map(tenant_for_stripe_customer);
            let invoice = charge.invoice.as_ref().map(IdOrObject::id);
            let refunds = charge.refunds.map(|r| r.data).unwrap_or_default();
            if refunds.is_empty() {
                // API versions since 2022-11-15 leave the list out: `refund.*` carries them.
                tracing::info!(charge = %charge.id, "a charge refund without its refunds was acknowledged");
            }
            let mut outcome = Outcome::Ignored;
            for refund in &refunds {
                if refunded(state, refund, tenant, invoice, &md).await? == Outcome::Applied {
                    outcome = Outcome::Applied;
                }
            }
            Ok(outcome)
        }
        other => {
            tracing::info!(
                event_type = other,
                "a Stripe event the product does not use was acknowledged"
            );
            Ok(Outcome::Ignored)
        }
    }
}

/// Records `refund` once it succeeded, against the payment its metadata names (set by
/// atende's refund request), else the charge's customer and invoice. A refund of a payment
/// the product never recorded (made in Stripe's dashboard for another product, or of an
/// invoice it does not know) is acknowledged as ignored and logged.
async fn refunded(
    state: &StripeWebhookState,
    refund: &StripeRefund,
    charge_tenant: Option<Uuid>,
    charge_invoice: Option<&str>,
    md: &impl Fn(Uuid) -> CommandMetadata,
) -> Result<Outcome, ApiError> {
    if !refund.succeeded() {
        tracing::info!(refund = %refund.id, status = ?refund.status,
            "a refund that has not succeeded was acknowledged");
        return Ok(Outcome::Ignored);
    }
    let tenant = refund
        .metadata
        .get("atende_tenant")
        .and_then(|t| Uuid::parse_str(t.trim()).ok())
        .or(charge_tenant);
    let invoice = refund
        .metadata
        .get("atende_invoice")
        .map(String::as_str)
        .or(charge_invoice)
        .map(str::trim)
        .filter(|i| !i.is_empty());
    let (Some(tenant), Some(invoice)) = (tenant, invoice) else {
        tracing::warn!(refund = %refund.id,
            "a refund naming no payment the product knows was acknowledged without effect");
        return Ok(Outcome::Ignored);
    };
    let command = SubscriptionCommand::RecordRefund {
        refund_id: refund.id.clone(),
        invoice_id: invoice.to_owned(),
        amount_cents: refund.amount,
        currency: refund.currency.clone(),
    };
    match state
        .bus
        .subscriptions
        .execute(&tenant.to_string(), command, &md(tenant))
        .await
    {
        Ok(()) => Ok(Outcome::Applied),
        Err(CommandError::Rejected {
            kind: ErrorKind::NotFound,
            code,
            ..
        }) => {
            tracing::warn!(refund = %refund.id, %tenant, invoice, code,
                "a refund of a payment the product never recorded was acknowledged without effect");
            Ok(Outcome::Ignored)
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether `subscription` is one the tenant had before its current one (it cancelled and
/// subscribed again): Stripe's late news of it must not touch the new one.
async fn replaced(
    state: &StripeWebhookState,
    tenant: Uuid,
    subscription: &str,
) -> Result<bool, ApiError> {
    let (current, _) = state.bus.subscriptions.load(&tenant.to_string()).await?;
    let current = current.stripe_subscription_id();
    let replaced = !current.is_empty() && current != subscription;
    if replaced {
        tracing::info!(%tenant, "a Stripe event about a replaced subscription was ignored");
    }
    Ok(replaced)
}

fn unprocessable(code: &'static str, message: &str) -> ApiError {
    ApiError::Unprocessable {
        code,
        message: message.to_owned(),
        details: None,
    }
}

/// The refusal of a payment that would provision a tenant without an owner to create.
fn email_missing() -> ApiError {
    unprocessable(
        "email_missing",
        "the payment carries no usable customer e-mail to create the owner with",
    )
}

/// `raw` as a login: normalized, and only when it can be one.
fn login(raw: Option<String>) -> Option<String> {
    raw.map(|e| email::normalize(&e))
        .filter(|e| email::is_plausible(e))
}

/// The tenant the object's customer pays for.
fn tenant_of(customer: Option<&IdOrObject>) -> Result<Uuid, ApiError> {
    let customer = customer
        .map(IdOrObject::id)
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| unprocessable("customer_missing", "the Stripe object names no customer"))?;
    Ok(tenant_for_stripe_customer(customer))
}

/// Runs `command`; a subscription the product does not know is acknowledged and logged
/// (Stripe sends facts about subscriptions that never reached a paid start).
async fn execute(
    state: &StripeWebhookState,
    tenant: Uuid,
    command: SubscriptionCommand,
    md: &CommandMetadata,
) -> Result<Outcome, ApiError> {
    match state
        .bus
        .subscriptions
        .execute(&tenant.to_string(), command, md)
        .await
    {
        Ok(()) => Ok(Outcome::Applied),
        Err(CommandError::Rejected {
            kind: ErrorKind::NotFound,
            ..
        }) => {
            tracing::info!(%tenant, "a Stripe event about an unknown subscription was ignored");
            Ok(Outcome::Ignored)
        }
        // Stripe still sends updates about a subscription after deleting it.
        Err(CommandError::Rejected {
            code: "subscription_cancelled",
            ..
        }) => {
            tracing::info!(%tenant, "a Stripe event about a cancelled subscription was ignored");
            Ok(Outcome::Ignored)
        }
        Err(e) => Err(e.into()),
    }
}

async fn checkout(
    state: &StripeWebhookState,
    session: CheckoutSession,
    tenant: Uuid,
    md: &CommandMetadata,
) -> Result<Outcome, ApiError> {
    tracing::info!(session = %session.id, reference = ?session.client_reference_id, "a checkout completed");
    let subscription = session
        .subscription
        .as_ref()
        .map(|s| s.id().to_owned())
        .ok_or_else(|| {
            unprocessable(
                "subscription_missing",
                "the checkout created no subscription",
            )
        })?;
    let plan = session
        .metadata
        .get("plan")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| unprocessable("plan_missing", "the checkout's metadata has no plan"))?;
    // A plan retired after the buyer opened the checkout was still bought: it is known.
    let history = crate::plans::history(&state.pool, &state.pricing.plans).await?;
    if !history.is_known(&plan) {
        return Err(unprocessable(
            "unknown_plan",
            &format!("the checkout's plan {plan:?} is not on sale"),
        ));
    }
    let customer = session
        .customer
        .as_ref()
        .map(|c| c.id().to_owned())
        .unwrap_or_default();
    let id = tenant.to_string();
    let (before, _) = state.bus.subscriptions.load(&id).await?;
    // A cancelled tenant checking out again (its own customer, a new subscription) is
    // started by the same saga once paid; its owner exists, so no e-mail is needed.
    let again = before.status() == Some(SubscriptionStatus::Cancelled)
        && before.stripe_subscription_id() != subscription;
    if before.status().is_none() || again {
        // The provisioning saga (in `workers`) reacts to the checkout; what it needs and
        // the event does not carry is written first, so the saga finds it.
        let owner = CheckoutOwner {
            email: login(session.email()),
            business_name: session.business_name(),
            locale: session.metadata.get("locale").cloned(),
            paid: session.payment_status.as_deref() == Some("paid"),
        };
        if !again && (owner.paid || before.has_held_payment()) && owner.email.is_none() {
            return Err(email_missing());
        }
        checkout_owners::remember_checkout(&state.pool, tenant, &owner)
            .await
            .map_err(ApiError::internal)?;
    }
    let record = SubscriptionCommand::RecordCheckout {
        stripe_customer_id: customer,
        stripe_subscription_id: subscription,
        plan: Plan::new(&plan),
    };
    state.bus.subscriptions.execute(&id, record, md).await?;
    Ok(Outcome::Applied)
}

async fn invoice_paid(
    state: &StripeWebhookState,
    invoice: Invoice,
    tenant: Uuid,
    md: &CommandMetadata,
) -> Result<Outcome, ApiError> {
    tracing::info!(
        invoice = %invoice.id,
        subscription = invoice.subscription_id().unwrap_or_default(),
        "an invoice was paid"
    );
    let period_end = invoice
        .paid_until()
        .ok_or_else(|| unprocessable("period_missing", "the invoice has no period end"))?;
    let id = tenant.to_string();
    let (before, _) = state.bus.subscriptions.load(&id).await?;
    if let (None, Some(_)) = (before.status(), before.pending_checkout()) {
        // The checkout came first and was not paid yet: this payment provisions, for the
        // owner the checkout named, the invoice filling in what the checkout left out.
        let from_invoice = CheckoutOwner {
            email: login(invoice.customer_email.clone()),
            business_name: invoice.customer_name.clone(),
            locale: None,
            paid: false,
        };
        let remembered = checkout_owners::remembered(&state.pool, tenant)
            .await
            .map_err(ApiError::internal)?;
        if remembered
            .and_then(|o| o.email)
            .or_else(|| from_invoice.email.clone())
            .is_none()
        {
            return Err(email_missing());
        }
        checkout_owners::fill_in(&state.pool, tenant, &from_invoice)
            .await
            .map_err(ApiError::internal)?;
    }
    let record = SubscriptionCommand::RecordPayment {
        invoice_id: invoice.id,
        amount_cents: invoice.amount_paid,
        currency: invoice.currency,
        period_end,
    };
    state.bus.subscriptions.execute(&id, record, md).await?;
    Ok(Outcome::Applied)
}

async fn subscription_updated(
    state: &StripeWebhookState,
    sub: StripeSubscription,
    tenant: Uuid,
    md: &CommandMetadata,
) -> Result<Outcome, ApiError> {
    let mut outcome = Outcome::Ignored;
    let history = crate::plans::history(&state.pool, &state.pricing.plans).await?;
    match sub.plan() {
        Some(plan) if history.is_known(&plan) => {
            let change = SubscriptionCommand::ChangePlan {
                plan: Plan::new(&plan),
            };
            outcome = execute(state, tenant, change, md).await?;
        }
        Some(plan) => {
            tracing::warn!(
                plan,
                "a Stripe subscription names a plan that is not on sale; plan kept"
            );
        }
        None => {}
    }
    let schedule = SubscriptionCommand::SetCancelAtPeriodEnd {
        cancel_at_period_end: sub.cancel_at_period_end,
    };
    if execute(state, tenant, schedule, md).await? == Outcome::Applied {
        outcome = Outcome::Applied;
    }
    Ok(outcome)
}
