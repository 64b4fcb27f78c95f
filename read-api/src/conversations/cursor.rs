//! Opaque page cursors: callers pass back what they were given and never build one.

use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where the next page of the list starts: after this `(updated_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ListCursor {
    pub updated_at: DateTime<Utc>,
    pub id: Uuid,
}

fn invalid() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_cursor",
        message: "the cursor is not one this API gave out".into(),
    }
}

impl ListCursor {
    pub(super) fn encode(&self) -> String {
        B64.encode(format!(
            "c1.{}.{}",
            self.updated_at.timestamp_micros(),
            self.id.simple()
        ))
    }

    pub(super) fn decode(text: &str) -> Result<Self, ApiError> {
        let raw =
            String::from_utf8(B64.decode(text).map_err(|_| invalid())?).map_err(|_| invalid())?;
        let mut parts = raw.splitn(3, '.');
        if parts.next() != Some("c1") {
            return Err(invalid());
        }
        let micros: i64 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let updated_at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
        let id = parts
            .next()
            .and_then(|p| Uuid::parse_str(p).ok())
            .ok_or_else(invalid)?;
        Ok(Self { updated_at, id })
    }
}

/// Where the next page of messages starts: after this sequence.
pub(super) fn encode_sequence(sequence: i64) -> String {
    B64.encode(format!("m1.{sequence}"))
}

pub(super) fn decode_sequence(text: &str) -> Result<i64, ApiError> {
    let raw = String::from_utf8(B64.decode(text).map_err(|_| invalid())?).map_err(|_| invalid())?;
    raw.strip_prefix("m1.")
        .and_then(|n| n.parse().ok())
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(invalid)
}

/// A page size: `limit` within 1..=200, 50 when absent.
pub(super) fn page_size(limit: Option<&str>) -> Result<i64, ApiError> {
    let Some(limit) = limit else {
        return Ok(50);
    };
    limit
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=200).contains(n))
        .ok_or_else(|| ApiError::Unprocessable {
            code: "invalid_limit",
            message: "limit must be a whole number from 1 to 200".into(),
            details: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_cursor_reads_back_as_itself() {
        let c = ListCursor {
            updated_at: DateTime::from_timestamp_micros(1_772_366_400_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(ListCursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn a_cursor_of_the_other_kind_is_refused() {
        assert!(ListCursor::decode(&encode_sequence(3)).is_err());
        assert!(decode_sequence("bm9wZQ").is_err());
        assert_eq!(decode_sequence(&encode_sequence(42)).unwrap(), 42);
    }
}
