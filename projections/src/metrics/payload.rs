//! Reading fields of stored payloads, shared by the metrics, usage and report projections.
//! Payloads are externally tagged by the event type: `{"AiReplied": {...}}`.

use chrono::{DateTime, Utc};
use schemas::StoredEvent;
use serde_json::Value;
use stream::HandlerError;
use uuid::Uuid;

/// A field of the event's body.
pub(crate) fn field<'a>(event: &'a StoredEvent, name: &str) -> Option<&'a Value> {
    event.payload.get(&event.event_type)?.get(name)
}

fn missing(event: &StoredEvent, what: &str, name: &str) -> HandlerError {
    HandlerError::Rejected(format!("{} has no {what} field {name}", event.event_type))
}

/// A required text field.
pub(crate) fn text(event: &StoredEvent, name: &str) -> Result<String, HandlerError> {
    field(event, name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| missing(event, "text", name))
}

/// A required integer field.
pub(crate) fn integer(event: &StoredEvent, name: &str) -> Result<i64, HandlerError> {
    field(event, name)
        .and_then(Value::as_i64)
        .ok_or_else(|| missing(event, "integer", name))
}

/// A required uuid field.
pub(crate) fn uuid(event: &StoredEvent, name: &str) -> Result<Uuid, HandlerError> {
    field(event, name)
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| missing(event, "uuid", name))
}

/// The business time of the event: its `at` field. Used rather than `recorded_at` so a
/// replay of the same log files everything under the same day.
pub(crate) fn at(event: &StoredEvent) -> Result<DateTime<Utc>, HandlerError> {
    field(event, "at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| missing(event, "timestamp", "at"))
}

/// The aggregate id as a uuid (tenants and subscriptions are keyed by the tenant's id).
pub(crate) fn aggregate_uuid(event: &StoredEvent) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(&event.aggregate_id)
        .map_err(|_| HandlerError::Rejected("the aggregate id is not a uuid".into()))
}
