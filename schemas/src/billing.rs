//! Billing periods: one rule for the usage report, the AI's plan quota and its 80 % alert,
//! and the Stripe meter.
//!
//! A tenant is billed monthly from its subscription's start (`SubscriptionStarted` or
//! `ComplimentarySubscriptionStarted`): each period begins at 00:00 UTC on the start's
//! day of the month and ends where the next begins. A start on the 29th, 30th or 31st
//! begins periods on the last day of shorter months (a start on 31 January: 28 or
//! 29 February, then 31 March). A tenant without a subscription is billed by calendar month.

use chrono::{Datelike, Months, NaiveDate};

/// A billing period: `start` included, `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingPeriod {
    /// The first day.
    pub start: NaiveDate,
    /// The first day of the next period.
    pub end: NaiveDate,
}

/// The day `anchor_day` of the month of `month`, or the month's last day when it is shorter.
fn clamped(month: NaiveDate, anchor_day: u32) -> NaiveDate {
    let first = month.with_day(1).unwrap_or(month);
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(first);
    first.with_day(anchor_day.min(last.day())).unwrap_or(last)
}

impl BillingPeriod {
    /// The period that contains `date`, for a subscription that started on `anchor` (`None`:
    /// calendar months).
    pub fn containing(anchor: Option<NaiveDate>, date: NaiveDate) -> Self {
        let day = anchor.map_or(1, |a| a.day());
        let this_month = clamped(date, day);
        let start = if this_month <= date {
            this_month
        } else {
            clamped(date.checked_sub_months(Months::new(1)).unwrap_or(date), day)
        };
        let end = clamped(
            start.checked_add_months(Months::new(1)).unwrap_or(start),
            day,
        );
        Self { start, end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

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
            period(None, "2026-03-15"),
            (d("2026-03-01"), d("2026-04-01"))
        );
        assert_eq!(
            period(None, "2026-12-31"),
            (d("2026-12-01"), d("2027-01-01"))
        );
        assert_eq!(
            period(None, "2028-02-29"),
            (d("2028-02-01"), d("2028-03-01"))
        );
    }

    #[test]
    fn a_period_begins_on_the_anchor_day_and_its_eve_is_still_the_previous_period() {
        assert_eq!(
            period(Some("2026-01-10"), "2026-03-09"),
            (d("2026-02-10"), d("2026-03-10"))
        );
        assert_eq!(
            period(Some("2026-01-10"), "2026-03-10"),
            (d("2026-03-10"), d("2026-04-10"))
        );
        assert_eq!(
            period(Some("2026-01-20"), "2026-03-15"),
            (d("2026-02-20"), d("2026-03-20"))
        );
    }

    #[test]
    fn the_last_second_of_a_period_belongs_to_it_and_the_next_second_to_the_next() {
        let anchor = Some(d("2026-01-10"));
        let last: DateTime<Utc> = "2026-03-09T23:59:59Z".parse().expect("a time");
        let next: DateTime<Utc> = "2026-03-10T00:00:00Z".parse().expect("a time");
        let before = BillingPeriod::containing(anchor, last.date_naive());
        let after = BillingPeriod::containing(anchor, next.date_naive());
        assert_eq!(
            (before.start, before.end),
            (d("2026-02-10"), d("2026-03-10"))
        );
        assert_eq!(after.start, before.end);
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
            period(anchor, "2026-03-01"),
            (d("2026-02-28"), d("2026-03-31"))
        );
        assert_eq!(
            period(anchor, "2026-03-30"),
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
            period(anchor, "2027-03-28"),
            (d("2027-02-28"), d("2027-03-29"))
        );
        assert_eq!(
            period(anchor, "2028-02-28"),
            (d("2028-01-29"), d("2028-02-29"))
        );
        assert_eq!(
            period(anchor, "2028-02-29"),
            (d("2028-02-29"), d("2028-03-29"))
        );
    }

    #[test]
    fn a_period_crosses_the_year_end() {
        assert_eq!(
            period(Some("2026-06-15"), "2027-01-14"),
            (d("2026-12-15"), d("2027-01-15"))
        );
    }
}
