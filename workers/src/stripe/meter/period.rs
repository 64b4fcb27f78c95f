//! Billing periods, cut as `GET /api/v1/usage` cuts them: monthly from the subscription's
//! first day (clamped to the last day of shorter months), calendar months without one.
//! The usage API and the AI's 100% stop count the same periods, so the 80% alert must too.

use chrono::{Datelike, Months, NaiveDate};

/// The day `anchor_day` of `month`'s month, or the month's last day when it is shorter.
fn clamped(month: NaiveDate, anchor_day: u32) -> NaiveDate {
    let first = month.with_day(1).unwrap_or(month);
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(first);
    first.with_day(anchor_day.min(last.day())).unwrap_or(last)
}

/// The period containing `date` as `(first day, first day of the next period)`.
pub fn containing(anchor: Option<NaiveDate>, date: NaiveDate) -> (NaiveDate, NaiveDate) {
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
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::containing;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn periods_begin_on_the_subscription_day_and_shorter_months_clamp_it() {
        assert_eq!(
            containing(Some(d("2026-01-10")), d("2026-03-09")),
            (d("2026-02-10"), d("2026-03-10"))
        );
        assert_eq!(
            containing(Some(d("2026-01-31")), d("2026-03-01")),
            (d("2026-02-28"), d("2026-03-31"))
        );
        assert_eq!(
            containing(None, d("2026-12-31")),
            (d("2026-12-01"), d("2027-01-01"))
        );
    }
}
