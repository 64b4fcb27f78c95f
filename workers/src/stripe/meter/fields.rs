//! Reading fields of stored payloads (`{"<EventType>": {...}}`).

use chrono::{DateTime, Utc};
use schemas::StoredEvent;
use serde_json::Value;
use stream::HandlerError;
use uuid::Uuid;

fn field<'a>(event: &'a StoredEvent, name: &str) -> Option<&'a Value> {
    event.payload.get(&event.event_type)?.get(name)
}

fn missing(event: &StoredEvent, name: &str) -> HandlerError {
    HandlerError::Rejected(format!("{} has no usable field {name}", event.event_type))
}

/// A required text field.
pub(super) fn text(event: &StoredEvent, name: &str) -> Result<String, HandlerError> {
    field(event, name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| missing(event, name))
}

/// The event's business time, so a re-read log files usage under the same period.
pub(super) fn at(event: &StoredEvent) -> Result<DateTime<Utc>, HandlerError> {
    field(event, "at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| missing(event, "at"))
}

/// The aggregate id as a uuid (tenants and subscriptions are keyed by the tenant's id).
pub(super) fn aggregate_uuid(event: &StoredEvent) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(&event.aggregate_id)
        .map_err(|_| HandlerError::Rejected("the aggregate id is not a uuid".into()))
}
