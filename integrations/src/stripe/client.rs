//! The Stripe API client: async-stripe's typed requests, sent with an idempotency key each,
//! whose answers are read into the few fields atende needs (a fake Stripe in tests answers
//! only those).

use super::StripeError;
use ::stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use std::collections::HashMap;
use std::time::Duration;
use stripe_billing::billing_meter_event::CreateBillingMeterEvent;
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::{CancelSubscription, UpdateSubscription};
use stripe_checkout::checkout_session::{CreateCheckoutSession, CreateCheckoutSessionLineItems};
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_core::refund::CreateRefund;

/// Stripe's production API.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// How to reach Stripe.
#[derive(Clone)]
pub struct StripeConfig {
    /// The secret key (`sk_…`).
    pub secret_key: String,
    /// The API's base URL (`https://api.stripe.com`; a fake in tests).
    pub api_base: String,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &"***")
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A session Stripe created (Checkout or customer portal): where to send the customer.
#[derive(Debug, Clone, PartialEq, Eq, miniserde::Deserialize)]
pub struct HostedSession {
    /// Stripe's id (`cs_…`, `bps_…`).
    pub id: String,
    /// The page to redirect the customer to.
    pub url: Option<String>,
}

/// Any object Stripe answers with, by id only.
#[derive(Debug, Clone, PartialEq, Eq, miniserde::Deserialize)]
pub struct StripeObject {
    /// Stripe's id.
    pub id: Option<String>,
}

/// A refund Stripe created: it is recorded when its webhook arrives, not from this answer.
#[derive(Debug, Clone, PartialEq, Eq, miniserde::Deserialize)]
pub struct CreatedRefund {
    /// `re_…`
    pub id: String,
    /// `pending`, `succeeded`, `failed`, …
    pub status: Option<String>,
    /// The amount refunded, in the currency's minor unit.
    pub amount: Option<i64>,
}

/// What to refund and why: the payment of one invoice, all or part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The invoice whose payment is refunded (`in_…`).
    pub invoice_id: String,
    /// The tenant paying it, copied to `metadata[atende_tenant]` so the webhook finds it.
    pub tenant_id: String,
    /// The admin asking, copied to `metadata[atende_admin]`.
    pub admin_id: String,
    /// The amount in the currency's minor unit; `None` refunds what remains.
    pub amount_cents: Option<i64>,
}

/// `GET /v1/invoice_payments`: an invoice's payments.
#[derive(Debug, Clone, miniserde::Deserialize)]
struct InvoicePayments {
    data: Vec<InvoicePayment>,
}

#[derive(Debug, Clone, miniserde::Deserialize)]
struct InvoicePayment {
    status: Option<String>,
    payment: Option<PaymentReference>,
}

/// What paid an invoice: a PaymentIntent or, out of band, a charge.
#[derive(Debug, Clone, miniserde::Deserialize)]
struct PaymentReference {
    payment_intent: Option<String>,
    charge: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct InvoicePaymentsQuery<'a> {
    invoice: &'a str,
    status: &'a str,
}

/// What a new Checkout Session sells and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// The plan's key, copied to `metadata[plan]` for provisioning.
    pub plan: String,
    /// The Stripe Price of the plan.
    pub price_id: String,
    /// Prefills Checkout and becomes the owner's login.
    pub email: String,
    /// An existing Stripe customer to subscribe again (a cancelled tenant's); Checkout then
    /// takes its e-mail from the customer, and the new subscription maps to the same tenant.
    pub customer: Option<String>,
    /// Our reference, echoed in `checkout.session.completed`.
    pub client_reference_id: String,
    /// The business's name, copied to `metadata[business_name]` to name the new tenant.
    pub business_name: Option<String>,
    /// The language of the owner's mail (`pt-BR`, `en`), copied to `metadata[locale]`.
    pub locale: Option<String>,
    /// Where Stripe sends the customer after paying.
    pub success_url: String,
    /// Where Stripe sends the customer when they give up.
    pub cancel_url: String,
}

/// One usage report to a Billing Meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterEvent {
    /// The meter's `event_name`.
    pub event_name: String,
    /// The customer billed.
    pub stripe_customer_id: String,
    /// Units.
    pub value: i64,
    /// Unique per report: Stripe counts an identifier once.
    pub identifier: String,
    /// Unix seconds of the usage.
    pub timestamp: i64,
}

/// A cheap-to-clone Stripe client.
#[derive(Clone)]
pub struct StripeClient {
    inner: ::stripe::Client,
    api_base: String,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

fn key(value: &str) -> Result<RequestStrategy, StripeError> {
    IdempotencyKey::new(value)
        .map(RequestStrategy::Idempotent)
        .map_err(|_| StripeError::IdempotencyKey(value.to_owned()))
}

impl StripeClient {
    /// A client for `config`.
    pub fn new(config: &StripeConfig) -> Result<Self, StripeError> {
        // async-stripe joins the base and `v1/…` without a separator of its own.
        let base = format!("{}/", config.api_base.trim_end_matches('/'));
        let inner = ::stripe::ClientBuilder::new(config.secret_key.clone())
            .url(base.clone())
            .timeout(config.timeout)
            .app_info("atende", Some(env!("CARGO_PKG_VERSION").to_owned()), None)
            .build()
            .map_err(|e| StripeError::Config(e.to_string()))?;
        Ok(Self {
            inner,
            api_base: base,
        })
    }

    /// `POST /v1/checkout/sessions`: a subscription checkout for one plan.
    #[tracing::instrument(name = "creating a Stripe checkout session", skip_all, fields(plan = %req.plan))]
    pub async fn create_checkout_session(
        &self,
        req: &CheckoutRequest,
        idempotency_key: &str,
    ) -> Result<HostedSession, StripeError> {
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price = Some(req.price_id.clone());
        item.quantity = Some(1);
        // Provisioning reads these back from `checkout.session.completed` (with
        // `customer_email`, which the session echoes) and never calls Stripe.
        let mut metadata = HashMap::from([("plan".to_owned(), req.plan.clone())]);
        if let Some(name) = &req.business_name {
            metadata.insert("business_name".to_owned(), name.clone());
        }
        if let Some(locale) = &req.locale {
            metadata.insert("locale".to_owned(), locale.clone());
        }
        let request = CreateCheckoutSession::new()
            .mode(stripe_checkout::CheckoutSessionMode::Subscription)
            .line_items(vec![item])
            .client_reference_id(req.client_reference_id.clone());
        // Stripe takes one or the other: a customer already has its e-mail.
        let request = match &req.customer {
            Some(customer) => request.customer(customer.clone()),
            None => request.customer_email(req.email.clone()),
        };
        let request = request
            .metadata(metadata)
            .success_url(req.success_url.clone())
            .cancel_url(req.cancel_url.clone());
        let session: HostedSession = request
            .build()
            .customize()
            .request_strategy(key(idempotency_key)?)
            .send(&self.inner)
            .await?;
        Ok(session)
    }

    /// `POST /v1/billing_portal/sessions`: the customer portal for `customer`.
    #[tracing::instrument(name = "creating a Stripe customer portal session", skip_all)]
    pub async fn create_portal_session(
        &self,
        customer: &str,
        return_url: &str,
        idempotency_key: &str,
    ) -> Result<HostedSession, StripeError> {
        let session: HostedSession = CreateBillingPortalSession::new()
            .customer(customer)
            .return_url(return_url)
            .build()
            .customize()
            .request_strategy(key(idempotency_key)?)
            .send(&self.inner)
            .await?;
        Ok(session)
    }

    /// Cancels `subscription`: at the end of the paid period
    /// (`POST /v1/subscriptions/{id}` with `cancel_at_period_end=true`), or at once
    /// (`DELETE /v1/subscriptions/{id}`).
    #[tracing::instrument(
        name = "cancelling a Stripe subscription",
        skip_all,
        fields(subscription)
    )]
    pub async fn cancel_subscription(
        &self,
        subscription: &str,
        at_period_end: bool,
        idempotency_key: &str,
    ) -> Result<(), StripeError> {
        let strategy = key(idempotency_key)?;
        let _: StripeObject = if at_period_end {
            UpdateSubscription::new(subscription)
                .cancel_at_period_end(true)
                .build()
                .customize()
                .request_strategy(strategy)
                .send(&self.inner)
                .await?
        } else {
            CancelSubscription::new(subscription)
                .build()
                .customize()
                .request_strategy(strategy)
                .send(&self.inner)
                .await?
        };
        Ok(())
    }

    /// Undoes a cancellation scheduled for the period's end
    /// (`POST /v1/subscriptions/{id}` with `cancel_at_period_end=false`).
    #[tracing::instrument(name = "reactivating a Stripe subscription", skip_all)]
    pub async fn reactivate_subscription(
        &self,
        subscription: &str,
        idempotency_key: &str,
    ) -> Result<(), StripeError> {
        let _: StripeObject = UpdateSubscription::new(subscription)
            .cancel_at_period_end(false)
            .build()
            .customize()
            .request_strategy(key(idempotency_key)?)
            .send(&self.inner)
            .await?;
        Ok(())
    }

    /// Refunds the payment of `req.invoice_id`: finds what paid the invoice
    /// (`GET /v1/invoice_payments?invoice=…&status=paid`), then `POST /v1/refunds` for its
    /// PaymentIntent (or charge) with the invoice and tenant in the refund's metadata, which
    /// Stripe echoes in `refund.*` and `charge.refunded` webhooks.
    #[tracing::instrument(name = "asking Stripe to refund a payment", skip_all,
        fields(invoice = %req.invoice_id, amount = ?req.amount_cents))]
    pub async fn create_refund(
        &self,
        req: &RefundRequest,
        idempotency_key: &str,
    ) -> Result<CreatedRefund, StripeError> {
        let strategy = key(idempotency_key)?;
        let payments: InvoicePayments = RequestBuilder::new(StripeMethod::Get, "/invoice_payments")
            .query(&InvoicePaymentsQuery {
                invoice: &req.invoice_id,
                status: "paid",
            })
            .customize()
            .send(&self.inner)
            .await?;
        let paid_by = payments
            .data
            .into_iter()
            .filter(|p| p.status.as_deref().is_none_or(|s| s == "paid"))
            .find_map(|p| p.payment)
            .ok_or_else(|| StripeError::Refused {
                status: 404,
                code: "invoice_payment_missing".into(),
                message: format!("invoice {} has no paid payment to refund", req.invoice_id),
            })?;
        let mut request = CreateRefund::new().metadata(HashMap::from([
            ("atende_invoice".to_owned(), req.invoice_id.clone()),
            ("atende_tenant".to_owned(), req.tenant_id.clone()),
            ("atende_admin".to_owned(), req.admin_id.clone()),
        ]));
        request = match (paid_by.payment_intent, paid_by.charge) {
            (Some(intent), _) => request.payment_intent(intent),
            (None, Some(charge)) => request.charge(charge),
            (None, None) => {
                return Err(StripeError::Refused {
                    status: 404,
                    code: "invoice_payment_missing".into(),
                    message: format!("invoice {} names no payment to refund", req.invoice_id),
                })
            }
        };
        if let Some(amount) = req.amount_cents {
            request = request.amount(amount);
        }
        let refund: CreatedRefund = request
            .build()
            .customize()
            .request_strategy(strategy)
            .send(&self.inner)
            .await?;
        Ok(refund)
    }

    /// `POST /v1/billing/meter_events`; the identifier is also the idempotency key, so a
    /// resent report is counted once either way.
    #[tracing::instrument(name = "reporting usage to a Stripe billing meter", skip_all,
        fields(identifier = %event.identifier, value = event.value))]
    pub async fn report_meter_event(&self, event: &MeterEvent) -> Result<(), StripeError> {
        let payload = HashMap::from([
            (
                "stripe_customer_id".to_owned(),
                event.stripe_customer_id.clone(),
            ),
            ("value".to_owned(), event.value.to_string()),
        ]);
        let _: StripeObject = CreateBillingMeterEvent::new(event.event_name.clone(), payload)
            .identifier(event.identifier.clone())
            .timestamp(event.timestamp)
            .build()
            .customize()
            .request_strategy(key(&event.identifier)?)
            .send(&self.inner)
            .await?;
        Ok(())
    }
}
