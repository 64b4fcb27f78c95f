//! Billing periods as the usage API shows them; the rule that cuts them is
//! [`schemas::billing`]'s, shared with the AI's quota and the Stripe meter.

use chrono::NaiveDate;
use serde::Serialize;

/// A billing period: `start` included, `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BillingPeriod {
    /// The first day.
    pub start: NaiveDate,
    /// The first day of the next period.
    pub end: NaiveDate,
}

impl BillingPeriod {
    /// The period that contains `date`, for a subscription that started on `anchor` (`None`:
    /// calendar months), by the one rule in [`schemas::billing`].
    pub fn containing(anchor: Option<NaiveDate>, date: NaiveDate) -> Self {
        let schemas::BillingPeriod { start, end } =
            schemas::BillingPeriod::containing(anchor, date);
        Self { start, end }
    }
}
