//! Reading dates and day ranges from query strings, with 422s that name the parameter.

use crate::error::ApiError;
use chrono::{NaiveDate, TimeDelta, Utc};
use serde_json::json;

/// Today, in UTC.
pub(crate) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Parses `value` of query parameter `name` as `YYYY-MM-DD`.
pub(crate) fn parse_day(name: &str, value: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ApiError::Unprocessable {
            code: "invalid_date",
            message: format!("{name} must be a date as YYYY-MM-DD, not {v:?}"),
            details: Some(json!({ "field": name })),
        })
}

/// An inclusive range of days from `from` and `to` (either may be absent): `to` defaults to
/// today and `from` to `default_days - 1` days before `to`; at most `max_days` days.
pub(crate) fn day_range(
    from: Option<&str>,
    to: Option<&str>,
    default_days: i64,
    max_days: i64,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = parse_day("to", to)?.unwrap_or_else(today);
    let from = parse_day("from", from)?.unwrap_or(to - TimeDelta::days(default_days - 1));
    if from > to {
        return Err(ApiError::Unprocessable {
            code: "invalid_range",
            message: format!("from ({from}) is after to ({to})"),
            details: None,
        });
    }
    let days = (to - from).num_days() + 1;
    if days > max_days {
        return Err(ApiError::Unprocessable {
            code: "range_too_long",
            message: format!("the range covers {days} days; at most {max_days} are allowed"),
            details: Some(json!({ "max_days": max_days })),
        });
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn a_range_of_366_days_is_allowed_and_367_is_not() {
        let ok = day_range(Some("2024-01-01"), Some("2024-12-31"), 30, 366);
        assert_eq!(ok.ok(), Some((day("2024-01-01"), day("2024-12-31"))));
        let too_long = day_range(Some("2024-01-01"), Some("2025-01-01"), 30, 366);
        assert!(matches!(
            too_long,
            Err(ApiError::Unprocessable {
                code: "range_too_long",
                ..
            })
        ));
    }

    #[test]
    fn a_missing_from_means_the_default_number_of_days_up_to_to() {
        let r = day_range(None, Some("2026-03-30"), 30, 366).ok();
        assert_eq!(r, Some((day("2026-03-01"), day("2026-03-30"))));
    }

    #[test]
    fn a_malformed_date_names_its_parameter() {
        match parse_day("from", Some("01/02/2026")) {
            Err(ApiError::Unprocessable { code, message, .. }) => {
                assert_eq!(code, "invalid_date");
                assert!(message.starts_with("from "), "{message}");
            }
            other => panic!("expected a 422, got {other:?}"),
        }
    }
}
