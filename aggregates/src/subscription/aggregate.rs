//! The subscription's state and its rules.

use super::{SubscriptionCommand, SubscriptionError, SubscriptionServices};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::{SubscriptionEvent, SubscriptionStatus};
use schemas::{AggregateKind, Plan};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// A tenant's paid plan.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Subscription {
    status: Option<SubscriptionStatus>,
    tenant_id: Option<Uuid>,
    stripe_customer_id: String,
    stripe_subscription_id: String,
    plan: Plan,
    trial_end: Option<DateTime<Utc>>,
    current_period_end: Option<DateTime<Utc>>,
    past_due_since: Option<DateTime<Utc>>,
    // Unbounded on purpose: Stripe may redeliver any old invoice, and a monthly plan adds
    // only twelve ids a year.
    paid_invoices: BTreeSet<String>,
    // Highest failed attempt per unpaid invoice; dropped once the invoice is paid.
    failed_attempts: BTreeMap<String, u32>,
    // A checkout seen before the tenant existed; cleared when the subscription starts.
    #[serde(default)]
    pending_checkout: Option<PendingCheckout>,
    // Invoices paid before the start, released as payments when it starts.
    #[serde(default)]
    held_payments: BTreeMap<String, HeldPayment>,
    #[serde(default)]
    cancel_at_period_end: bool,
    // Plans managed by admins (issue 18): when it moved onto its current plan, so readers
    // find the plan revision it bought. `None` in snapshots taken before it was kept.
    #[serde(default)]
    plan_since: Option<DateTime<Utc>>,
    // Refunds (issue 18): the Stripe refunds recorded, so a redelivered webhook records
    // none twice. Older snapshots have none, as no refund existed before.
    #[serde(default)]
    refunds: BTreeSet<String>,
}

/// A completed Stripe Checkout waiting for its first payment to provision the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCheckout {
    /// Stripe's customer id.
    pub stripe_customer_id: String,
    /// Stripe's subscription id.
    pub stripe_subscription_id: String,
    /// The plan bought.
    pub plan: Plan,
}

/// An invoice paid before the subscription started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct HeldPayment {
    amount_cents: i64,
    currency: String,
    period_end: DateTime<Utc>,
}

impl Subscription {
    /// Where it stands; `None` before it started.
    pub fn status(&self) -> Option<SubscriptionStatus> {
        self.status
    }

    /// The tenant it pays for.
    pub fn tenant_id(&self) -> Option<Uuid> {
        self.tenant_id
    }

    /// The current plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// When it moved onto its current plan (its start or its latest plan change): the
    /// plan's revision in force then holds its terms. `None` before it started, and for a
    /// state restored from a snapshot older than this field.
    pub fn plan_since(&self) -> Option<DateTime<Utc>> {
        self.plan_since
    }

    /// Stripe's customer id.
    pub fn stripe_customer_id(&self) -> &str {
        &self.stripe_customer_id
    }

    /// Stripe's subscription id.
    pub fn stripe_subscription_id(&self) -> &str {
        &self.stripe_subscription_id
    }

    /// End of the free trial, if there was one.
    pub fn trial_end(&self) -> Option<DateTime<Utc>> {
        self.trial_end
    }

    /// The end of the latest period paid for.
    pub fn current_period_end(&self) -> Option<DateTime<Utc>> {
        self.current_period_end
    }

    /// Since when payments have been failing (the start of the grace period).
    pub fn past_due_since(&self) -> Option<DateTime<Utc>> {
        self.past_due_since
    }

    /// Whether `invoice_id` has been recorded as paid.
    pub fn has_paid(&self, invoice_id: &str) -> bool {
        self.paid_invoices.contains(invoice_id)
    }

    /// Whether Stripe refund `refund_id` has been recorded.
    pub fn has_refund(&self, refund_id: &str) -> bool {
        self.refunds.contains(refund_id)
    }

    /// The checkout waiting for the tenant to be provisioned, if any.
    pub fn pending_checkout(&self) -> Option<&PendingCheckout> {
        self.pending_checkout.as_ref()
    }

    /// Whether an invoice was paid before the subscription started.
    pub fn has_held_payment(&self) -> bool {
        !self.held_payments.is_empty()
    }

    /// Whether the subscription ends with the current period.
    pub fn cancels_at_period_end(&self) -> bool {
        self.cancel_at_period_end
    }

    fn started(&self) -> Result<SubscriptionStatus, SubscriptionError> {
        self.status.ok_or(SubscriptionError::NotFound)
    }

    fn not_cancelled(&self) -> Result<(), SubscriptionError> {
        match self.started()? {
            SubscriptionStatus::Cancelled => Err(SubscriptionError::Cancelled),
            _ => Ok(()),
        }
    }

    fn decide(
        &self,
        command: SubscriptionCommand,
        at: DateTime<Utc>,
    ) -> Result<Vec<SubscriptionEvent>, SubscriptionError> {
        use SubscriptionCommand as C;
        use SubscriptionEvent as E;
        let one = match command {
            C::StartFromCheckout {
                tenant_id,
                stripe_customer_id,
                stripe_subscription_id,
                plan,
                trial_end,
            } => {
                if self.status.is_some() {
                    let same = self.tenant_id == Some(tenant_id)
                        && self.stripe_customer_id == stripe_customer_id
                        && self.stripe_subscription_id == stripe_subscription_id;
                    if same {
                        return Ok(vec![]);
                    }
                    // A cancelled tenant that subscribes again (a new Stripe subscription of
                    // its customer) starts anew; anything else is a conflict.
                    let again = self.status == Some(SubscriptionStatus::Cancelled)
                        && self.tenant_id == Some(tenant_id)
                        && !self.stripe_subscription_id.is_empty();
                    if !again {
                        return Err(SubscriptionError::AlreadyStarted);
                    }
                }
                if stripe_customer_id.trim().is_empty() || stripe_subscription_id.trim().is_empty()
                {
                    return Err(SubscriptionError::StripeIdRequired);
                }
                if plan.as_str().trim().is_empty() {
                    return Err(SubscriptionError::PlanRequired);
                }
                let status = match trial_end {
                    Some(end) if end > at => SubscriptionStatus::Trialing,
                    _ => SubscriptionStatus::Active,
                };
                let started = E::SubscriptionStarted {
                    tenant_id,
                    stripe_customer_id,
                    stripe_subscription_id,
                    plan,
                    trial_end,
                    status,
                    at,
                };
                // Payments Stripe reported before the start count from the start on.
                let released =
                    self.held_payments
                        .iter()
                        .map(|(invoice_id, p)| E::PaymentSucceeded {
                            invoice_id: invoice_id.clone(),
                            amount_cents: p.amount_cents,
                            currency: p.currency.clone(),
                            period_end: p.period_end,
                            at,
                        });
                return Ok(std::iter::once(started).chain(released).collect());
            }
            C::RecordCheckout {
                stripe_customer_id,
                stripe_subscription_id,
                plan,
            } => {
                if self.status.is_some() {
                    // A redelivered checkout of the running subscription says nothing new.
                    if self.stripe_subscription_id == stripe_subscription_id {
                        return Ok(vec![]);
                    }
                    // After a cancellation, a checkout of a new subscription waits for its
                    // payment like a first one (the provisioning saga then restarts it).
                    if self.status != Some(SubscriptionStatus::Cancelled) {
                        return Err(SubscriptionError::AlreadyStarted);
                    }
                }
                if stripe_customer_id.trim().is_empty() || stripe_subscription_id.trim().is_empty()
                {
                    return Err(SubscriptionError::StripeIdRequired);
                }
                if plan.as_str().trim().is_empty() {
                    return Err(SubscriptionError::PlanRequired);
                }
                let checkout = PendingCheckout {
                    stripe_customer_id,
                    stripe_subscription_id,
                    plan,
                };
                let new = self.pending_checkout.as_ref() != Some(&checkout);
                new.then_some(E::CheckoutCompleted {
                    stripe_customer_id: checkout.stripe_customer_id,
                    stripe_subscription_id: checkout.stripe_subscription_id,
                    plan: checkout.plan,
                    at,
                })
            }
            C::SetCancelAtPeriodEnd {
                cancel_at_period_end,
            } => {
                self.not_cancelled()?;
                (cancel_at_period_end != self.cancel_at_period_end).then_some(
                    E::CancelAtPeriodEndChanged {
                        cancel_at_period_end,
                        at,
                    },
                )
            }
            C::StartComplimentary { tenant_id, plan } => {
                if self.status.is_some() {
                    // A retried onboarding must not fail; anything else already started is
                    // a real conflict (e.g. the tenant pays through Stripe).
                    let same = self.tenant_id == Some(tenant_id)
                        && self.stripe_subscription_id.is_empty()
                        && self.plan == plan;
                    return if same {
                        Ok(vec![])
                    } else {
                        Err(SubscriptionError::AlreadyStarted)
                    };
                }
                if plan.as_str().trim().is_empty() {
                    return Err(SubscriptionError::PlanRequired);
                }
                Some(E::ComplimentarySubscriptionStarted {
                    tenant_id,
                    plan,
                    status: SubscriptionStatus::Active,
                    at,
                })
            }
            C::RecordPayment {
                invoice_id,
                amount_cents,
                currency,
                period_end,
            } => {
                if self.has_paid(&invoice_id) || self.held_payments.contains_key(&invoice_id) {
                    return Ok(vec![]);
                }
                // Before the start, and after a cancellation (the first invoice of a new
                // subscription may come before its checkout), a payment is held until the
                // subscription starts.
                let held = matches!(self.status, None | Some(SubscriptionStatus::Cancelled));
                if invoice_id.trim().is_empty() {
                    return Err(SubscriptionError::InvoiceIdRequired);
                }
                if amount_cents < 0 {
                    return Err(SubscriptionError::InvalidAmount);
                }
                if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
                    return Err(SubscriptionError::InvalidCurrency);
                }
                let currency = currency.to_ascii_lowercase();
                Some(if !held {
                    E::PaymentSucceeded {
                        invoice_id,
                        amount_cents,
                        currency,
                        period_end,
                        at,
                    }
                } else {
                    // Stripe may deliver the invoice before the checkout: keep it.
                    E::PaymentHeld {
                        invoice_id,
                        amount_cents,
                        currency,
                        period_end,
                        at,
                    }
                })
            }
            C::RecordPaymentFailure {
                invoice_id,
                attempt,
            } => {
                self.started()?;
                // A failure of a paid invoice, or one not newer than what we know, is a
                // late or repeated webhook: it says nothing new.
                let known = self.failed_attempts.get(&invoice_id).copied();
                if self.has_paid(&invoice_id) || known.is_some_and(|k| k >= attempt) {
                    return Ok(vec![]);
                }
                self.not_cancelled()?;
                if invoice_id.trim().is_empty() {
                    return Err(SubscriptionError::InvoiceIdRequired);
                }
                Some(E::PaymentFailed {
                    invoice_id,
                    attempt,
                    at,
                })
            }
            // A timer: firing it late, twice, or after the customer paid or cancelled must
            // be harmless, so anything but past-due is a quiet no-op.
            C::ExpireGrace => (self.started()? == SubscriptionStatus::PastDue)
                .then_some(E::GracePeriodExpired { at }),
            C::Cancel { reason } => (self.started()? != SubscriptionStatus::Cancelled)
                .then_some(E::SubscriptionCancelled { reason, at }),
            C::ChangePlan { plan } => {
                self.not_cancelled()?;
                if plan.as_str().trim().is_empty() {
                    return Err(SubscriptionError::PlanRequired);
                }
                (plan != self.plan).then(|| E::PlanChanged {
                    from: self.plan.clone(),
                    to: plan,
                    at,
                })
            }
            C::RecordRefund {
                refund_id,
                invoice_id,
                amount_cents,
                currency,
            } => {
                // Money goes back after a cancellation too: no status check beyond the start.
                self.started()?;
                if self.has_refund(&refund_id) {
                    return Ok(vec![]);
                }
                if refund_id.trim().is_empty() {
                    return Err(SubscriptionError::RefundIdRequired);
                }
                if !self.has_paid(&invoice_id) {
                    return Err(SubscriptionError::PaymentNotFound);
                }
                if amount_cents <= 0 {
                    return Err(SubscriptionError::InvalidAmount);
                }
                if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
                    return Err(SubscriptionError::InvalidCurrency);
                }
                Some(E::PaymentRefunded {
                    refund_id,
                    invoice_id,
                    amount_cents,
                    currency: currency.to_ascii_lowercase(),
                    at,
                })
            }
        };
        Ok(one.into_iter().collect())
    }
}

impl Aggregate for Subscription {
    const TYPE: &'static str = AggregateKind::Subscription.as_str();
    type Command = SubscriptionCommand;
    type Event = SubscriptionEvent;
    type Error = SubscriptionError;
    type Services = SubscriptionServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services.clock.now())? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use SubscriptionStatus as S;
        match event {
            SubscriptionEvent::SubscriptionStarted {
                tenant_id,
                stripe_customer_id,
                stripe_subscription_id,
                plan,
                trial_end,
                status,
                at,
                ..
            } => {
                self.plan_since = Some(at);
                self.tenant_id = Some(tenant_id);
                self.stripe_customer_id = stripe_customer_id;
                self.stripe_subscription_id = stripe_subscription_id;
                self.plan = plan;
                self.trial_end = trial_end;
                self.status = Some(status);
                self.pending_checkout = None;
                // A start after a cancellation owes nothing of the old subscription.
                self.past_due_since = None;
                self.failed_attempts.clear();
                self.cancel_at_period_end = false;
            }
            SubscriptionEvent::ComplimentarySubscriptionStarted {
                tenant_id,
                plan,
                status,
                at,
                ..
            } => {
                self.plan_since = Some(at);
                self.tenant_id = Some(tenant_id);
                self.plan = plan;
                self.status = Some(status);
            }
            SubscriptionEvent::PaymentSucceeded {
                invoice_id,
                period_end,
                ..
            } => {
                self.failed_attempts.remove(&invoice_id);
                self.held_payments.remove(&invoice_id);
                self.paid_invoices.insert(invoice_id);
                self.current_period_end = self.current_period_end.max(Some(period_end));
                self.past_due_since = None;
                self.status = Some(S::Active);
            }
            SubscriptionEvent::PaymentFailed {
                invoice_id,
                attempt,
                at,
            } => {
                self.failed_attempts.insert(invoice_id, attempt);
                self.past_due_since.get_or_insert(at);
                // A retry failing after suspension must not lift the suspension.
                if !matches!(self.status, Some(S::Suspended | S::Cancelled)) {
                    self.status = Some(S::PastDue);
                }
            }
            SubscriptionEvent::GracePeriodExpired { .. } => self.status = Some(S::Suspended),
            SubscriptionEvent::SubscriptionCancelled { .. } => self.status = Some(S::Cancelled),
            SubscriptionEvent::PlanChanged { to, at, .. } => {
                if to != self.plan {
                    self.plan_since = Some(at);
                }
                self.plan = to;
            }
            SubscriptionEvent::CheckoutCompleted {
                stripe_customer_id,
                stripe_subscription_id,
                plan,
                ..
            } => {
                self.pending_checkout = Some(PendingCheckout {
                    stripe_customer_id,
                    stripe_subscription_id,
                    plan,
                });
            }
            SubscriptionEvent::PaymentHeld {
                invoice_id,
                amount_cents,
                currency,
                period_end,
                ..
            } => {
                self.held_payments.insert(
                    invoice_id,
                    HeldPayment {
                        amount_cents,
                        currency,
                        period_end,
                    },
                );
            }
            SubscriptionEvent::CancelAtPeriodEndChanged {
                cancel_at_period_end,
                ..
            } => self.cancel_at_period_end = cancel_at_period_end,
            SubscriptionEvent::PaymentRefunded { refund_id, .. } => {
                self.refunds.insert(refund_id);
            }
        }
    }
}
