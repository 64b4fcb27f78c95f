use super::*;
use chrono::TimeZone;

#[test]
fn a_cost_equal_to_the_threshold_reaches_it_and_a_millionth_less_does_not() {
    assert!(reached(5.0, 500));
    assert!(!reached(4.999_999, 500));
    assert!(reached(5.000_001, 500));
    assert!(!reached(0.0, 1));
    assert!(reached(0.0, 0), "a zero threshold is reached by any answer");
}

#[test]
fn a_floating_point_residue_below_the_threshold_still_reaches_it() {
    // 0.1 + 0.2 is 0.30000000000000004 and 0.7 - 0.4 is 0.29999999999999993.
    assert!(reached(0.7 - 0.4, 30));
    assert!(reached(0.1 + 0.2, 30));
}

#[test]
fn the_month_of_an_instant_is_its_utc_calendar_month() {
    let last = Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap();
    let first = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    assert_eq!(
        month_of(last),
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
    );
    assert_eq!(
        month_of(first),
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    );
}
