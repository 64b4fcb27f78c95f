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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    fn period(anchor: Option<&str>, date: &str) -> (NaiveDate, NaiveDate) {
        let p = BillingPeriod::containing(anchor.map(d), d(date));
        (p.start, p.end)
    }

    #[test]
    fn without_a_subscription_periods_are_calendar_months() {
        assert_eq!(
            period(None, "2026-02-14"),
            (d("2026-02-01"), d("2026-03-01"))
        );
        assert_eq!(
            period(None, "2026-12-31"),
            (d("2026-12-01"), d("2027-01-01"))
        );
    }

    #[test]
    fn periods_begin_on_the_subscription_day_of_the_month() {
        assert_eq!(
            period(Some("2026-01-10"), "2026-03-09"),
            (d("2026-02-10"), d("2026-03-10"))
        );
        assert_eq!(
            period(Some("2026-01-10"), "2026-03-10"),
            (d("2026-03-10"), d("2026-04-10"))
        );
    }

    #[test]
    fn an_anchor_on_the_31st_clamps_to_the_last_day_of_shorter_months() {
        let anchor = Some("2026-01-31");
        assert_eq!(
            period(anchor, "2026-02-27"),
            (d("2026-01-31"), d("2026-02-28"))
        );
        assert_eq!(
            period(anchor, "2026-02-28"),
            (d("2026-02-28"), d("2026-03-31"))
        );
        assert_eq!(
            period(anchor, "2026-04-30"),
            (d("2026-04-30"), d("2026-05-31"))
        );
        assert_eq!(
            period(anchor, "2028-02-29"),
            (d("2028-02-29"), d("2028-03-31"))
        );
    }

    #[test]
    fn an_anchor_on_the_29th_clamps_only_in_february_of_common_years() {
        let anchor = Some("2025-12-29");
        assert_eq!(
            period(anchor, "2027-02-28"),
            (d("2027-02-28"), d("2027-03-29"))
        );
        assert_eq!(
            period(anchor, "2028-02-29"),
            (d("2028-02-29"), d("2028-03-29"))
        );
        assert_eq!(
            period(anchor, "2027-03-28"),
            (d("2027-02-28"), d("2027-03-29"))
        );
    }
}
