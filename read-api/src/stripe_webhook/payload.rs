//! The parts of Stripe's event payloads the webhook reads.
//!
//! Minimal serde structs rather than async-stripe's `Event`: async-stripe types each object
//! for the one API version it was generated from and refuses payloads of other versions
//! (the invoice's subscription moved from `subscription` to
//! `parent.subscription_details.subscription` in 2025), while a webhook endpoint receives
//! whatever version its Stripe account pins. Reading only the fields the product needs, and
//! accepting both shapes, keeps old and new accounts working.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use std::collections::HashMap;

/// A Stripe event: its id, type and the object it is about.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    /// `evt_…`: the key redeliveries share.
    pub id: String,
    /// `invoice.paid`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// When Stripe created the event (unix seconds).
    pub created: i64,
    /// The object.
    pub data: EventData,
}

/// `data` of an event.
#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    /// The object as of the event.
    pub object: serde_json::Value,
}

impl Envelope {
    /// When Stripe created the event.
    pub fn created_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.created, 0)
            .single()
            .unwrap_or_default()
    }

    /// The object's `id`, if it has one.
    pub fn object_id(&self) -> Option<String> {
        self.data.object["id"].as_str().map(str::to_owned)
    }

    /// The object read as `T`.
    pub fn object<T: for<'de> Deserialize<'de>>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.data.object)
    }
}

/// A reference that Stripe sends as an id or, when expanded, as the object.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IdOrObject {
    /// `cus_…`
    Id(String),
    /// `{"id": "cus_…", …}`
    Object {
        /// The object's id.
        id: String,
    },
}

impl IdOrObject {
    /// The id either way.
    pub fn id(&self) -> &str {
        match self {
            Self::Id(id) | Self::Object { id } => id,
        }
    }
}

/// `checkout.session.completed`'s object.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    /// `cs_…`
    pub id: String,
    /// The customer the checkout created or used.
    pub customer: Option<IdOrObject>,
    /// The subscription it created (subscription mode).
    pub subscription: Option<IdOrObject>,
    /// Our own reference, set when the checkout was created.
    pub client_reference_id: Option<String>,
    /// Set by our checkout: `plan`, and `email` / `business_name` as the buyer typed them.
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    /// The e-mail the checkout was opened with.
    pub customer_email: Option<String>,
    /// What the buyer entered on Stripe's page.
    pub customer_details: Option<CustomerDetails>,
    /// `paid`, `unpaid` or `no_payment_required`.
    pub payment_status: Option<String>,
}

/// `customer_details` of a checkout.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CustomerDetails {
    /// The buyer's e-mail.
    pub email: Option<String>,
    /// The buyer's name.
    pub name: Option<String>,
}

impl CheckoutSession {
    /// The owner's e-mail: ours first (`metadata.email`, `customer_email`), then what the
    /// buyer typed on Stripe's page.
    pub fn email(&self) -> Option<String> {
        let details = self.customer_details.clone().unwrap_or_default();
        [
            self.metadata.get("email").cloned(),
            self.customer_email.clone(),
            details.email,
        ]
        .into_iter()
        .flatten()
        .map(|e| e.trim().to_owned())
        .find(|e| !e.is_empty())
    }

    /// The business's name: ours, else the buyer's name on Stripe's page.
    pub fn business_name(&self) -> Option<String> {
        let details = self.customer_details.clone().unwrap_or_default();
        [self.metadata.get("business_name").cloned(), details.name]
            .into_iter()
            .flatten()
            .map(|n| n.trim().to_owned())
            .find(|n| !n.is_empty())
    }
}

/// An invoice (`invoice.paid`, `invoice.payment_succeeded`, `invoice.payment_failed`).
#[derive(Debug, Clone, Deserialize)]
pub struct Invoice {
    /// `in_…`
    pub id: String,
    /// Whose invoice.
    pub customer: Option<IdOrObject>,
    /// Its subscription, in API versions before 2025-03-31.
    pub subscription: Option<IdOrObject>,
    /// Its subscription, in later versions.
    pub parent: Option<InvoiceParent>,
    /// What was paid, in the currency's minor unit.
    #[serde(default)]
    pub amount_paid: i64,
    /// ISO 4217, lower case.
    #[serde(default)]
    pub currency: String,
    /// The end of the invoice's own period (unix seconds).
    pub period_end: Option<i64>,
    /// The lines; the first one's period is the subscription period paid for.
    pub lines: Option<InvoiceLines>,
    /// The customer's e-mail as of the invoice.
    pub customer_email: Option<String>,
    /// The customer's name as of the invoice.
    pub customer_name: Option<String>,
    /// Payment attempts so far.
    #[serde(default)]
    pub attempt_count: u32,
}

/// `parent` of an invoice.
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceParent {
    /// Set for subscription invoices.
    pub subscription_details: Option<SubscriptionDetails>,
}

/// `parent.subscription_details`.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionDetails {
    /// The subscription.
    pub subscription: Option<IdOrObject>,
}

/// `lines` of an invoice.
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceLines {
    /// The lines.
    #[serde(default)]
    pub data: Vec<InvoiceLine>,
}

/// One line.
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceLine {
    /// The service period.
    pub period: Option<Period>,
}

/// A service period.
#[derive(Debug, Clone, Deserialize)]
pub struct Period {
    /// Its end (unix seconds).
    pub end: i64,
}

impl Invoice {
    /// The subscription, whichever API version sent the invoice.
    pub fn subscription_id(&self) -> Option<&str> {
        self.subscription.as_ref().map(IdOrObject::id).or_else(|| {
            self.parent
                .as_ref()?
                .subscription_details
                .as_ref()?
                .subscription
                .as_ref()
                .map(IdOrObject::id)
        })
    }

    /// The end of the period paid for: the first line's, else the invoice's own.
    pub fn paid_until(&self) -> Option<DateTime<Utc>> {
        let line_end = self
            .lines
            .as_ref()
            .and_then(|l| l.data.iter().find_map(|line| line.period.as_ref()))
            .map(|p| p.end);
        let end = line_end.or(self.period_end)?;
        Utc.timestamp_opt(end, 0).single()
    }
}

/// A subscription (`customer.subscription.updated|deleted`).
#[derive(Debug, Clone, Deserialize)]
pub struct StripeSubscription {
    /// `sub_…`
    pub id: String,
    /// Whose.
    pub customer: Option<IdOrObject>,
    /// Our `plan`, when the checkout copied it onto the subscription.
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    /// The prices subscribed to.
    pub items: Option<SubscriptionItems>,
    /// Whether it ends with the current period.
    #[serde(default)]
    pub cancel_at_period_end: bool,
    /// Why it was cancelled, when it was.
    pub cancellation_details: Option<CancellationDetails>,
}

/// `items` of a subscription.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionItems {
    /// The items.
    #[serde(default)]
    pub data: Vec<SubscriptionItem>,
}

/// One item.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionItem {
    /// Its price.
    pub price: Option<Price>,
}

/// A price.
#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    /// The lookup key, which our catalogue sets to the plan's key.
    pub lookup_key: Option<String>,
    /// The price's metadata; `plan` names our plan.
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

/// `cancellation_details`.
#[derive(Debug, Clone, Deserialize)]
pub struct CancellationDetails {
    /// `cancellation_requested`, `payment_failed`, …
    pub reason: Option<String>,
}

impl StripeSubscription {
    /// The plan it is on: its metadata, else its price's metadata or lookup key.
    pub fn plan(&self) -> Option<String> {
        let price = self
            .items
            .as_ref()
            .and_then(|i| i.data.iter().find_map(|item| item.price.clone()));
        let from_price = price.and_then(|p| p.metadata.get("plan").cloned().or(p.lookup_key));
        self.metadata
            .get("plan")
            .cloned()
            .or(from_price)
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
    }
}

/// A refund (`refund.created`, `refund.updated`, and each of `charge.refunded`'s
/// `refunds.data` when Stripe includes them).
#[derive(Debug, Clone, Deserialize)]
pub struct StripeRefund {
    /// `re_…`: a refund is recorded once, whichever events carry it.
    pub id: String,
    /// Amount returned, in the currency's minor unit.
    #[serde(default)]
    pub amount: i64,
    /// ISO 4217, lower case.
    #[serde(default)]
    pub currency: String,
    /// `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    pub status: Option<String>,
    /// Set by atende's refund request: `atende_tenant`, `atende_invoice`, `atende_admin`.
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

impl StripeRefund {
    /// Whether the money went back: only then is the refund recorded.
    pub fn succeeded(&self) -> bool {
        self.status.as_deref() == Some("succeeded")
    }
}

/// A charge (`charge.refunded`).
#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    /// `ch_…`
    pub id: String,
    /// Whose charge.
    pub customer: Option<IdOrObject>,
    /// The invoice it paid, in API versions before 2025-03-31.
    pub invoice: Option<IdOrObject>,
    /// Its refunds, when the API version includes them.
    pub refunds: Option<RefundList>,
}

/// `refunds` of a charge.
#[derive(Debug, Clone, Deserialize)]
pub struct RefundList {
    /// The refunds.
    #[serde(default)]
    pub data: Vec<StripeRefund>,
}
