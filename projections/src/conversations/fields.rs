//! Reading the fields of a stored conversation event, and opening the contact's.

use chrono::{DateTime, Utc};
use schemas::personal::{open_json, sealed_key_id, KeySet, ERASED};
use schemas::StoredEvent;
use serde_json::Value;
use stream::HandlerError;
use uuid::Uuid;

/// The event's body; payloads are externally tagged by the event type.
pub(super) struct Body<'a> {
    event: &'a StoredEvent,
    body: Option<&'a Value>,
}

impl<'a> Body<'a> {
    pub(super) fn of(event: &'a StoredEvent) -> Self {
        Self {
            event,
            body: event.payload.get(&event.event_type),
        }
    }

    fn rejected(&self, name: &str, what: &str) -> HandlerError {
        HandlerError::Rejected(format!(
            "{} has no {what} field {name}",
            self.event.event_type
        ))
    }

    /// The field, absent and `null` alike as `None`.
    pub(super) fn get(&self, name: &str) -> Option<&'a Value> {
        self.body?.get(name).filter(|v| !v.is_null())
    }

    pub(super) fn text(&self, name: &str) -> Result<&'a str, HandlerError> {
        self.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| self.rejected(name, "text"))
    }

    pub(super) fn uuid(&self, name: &str) -> Result<Uuid, HandlerError> {
        self.get(name)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| self.rejected(name, "uuid"))
    }

    pub(super) fn time(&self, name: &str) -> Result<DateTime<Utc>, HandlerError> {
        self.get(name)
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| self.rejected(name, "time"))
    }
}

/// A message's content: `{"text": …}` or `{"media": {"kind": …, "caption": …}}`.
pub(super) struct Content<'a> {
    /// `text` or `media`.
    pub kind: &'static str,
    /// The provider's media type.
    pub media_type: Option<&'a str>,
    /// The text or caption, sealed as stored.
    pub text: Option<&'a Value>,
}

impl<'a> Content<'a> {
    pub(super) fn of(value: Option<&'a Value>) -> Result<Self, HandlerError> {
        let unreadable = || HandlerError::Rejected("the message content is unreadable".into());
        let value = value.ok_or_else(unreadable)?;
        if let Some(text) = value.get("text") {
            return Ok(Self {
                kind: "text",
                media_type: None,
                text: Some(text),
            });
        }
        let media = value.get("media").ok_or_else(unreadable)?;
        Ok(Self {
            kind: "media",
            media_type: media.get("kind").and_then(Value::as_str),
            text: media.get("caption").filter(|v| !v.is_null()),
        })
    }
}

/// The contact as the projection keeps it: in clear while its key exists.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Contact {
    pub phone: Option<String>,
    pub name: Option<String>,
    /// Lower-case name and the number's digits.
    pub search: Option<String>,
    /// The key that sealed the number.
    pub key_id: Option<Uuid>,
}

/// Every key id sealing a contact field of `event`.
pub(super) fn contact_key_ids(event: &StoredEvent, out: &mut Vec<Uuid>) {
    let body = Body::of(event);
    for name in ["contact_wa_id", "contact_name"] {
        if let Some(id) = body.get(name).and_then(sealed_key_id) {
            out.push(id);
        }
    }
}

/// A personal field in clear; `None` when absent or unreadable.
fn open(value: Option<&Value>, keys: &KeySet) -> Option<String> {
    let mut value = value?.clone();
    open_json(&mut value, keys);
    value.as_str().filter(|s| *s != ERASED).map(str::to_owned)
}

impl Contact {
    /// The contact of a `MessageReceived`. Unreadable fields (key destroyed) are left out,
    /// so a replay after retention builds what the sweep leaves.
    pub(super) fn open(body: &Body<'_>, keys: &KeySet) -> Self {
        let phone = open(body.get("contact_wa_id"), keys);
        let name = open(body.get("contact_name"), keys);
        let key_id = phone
            .as_ref()
            .and(body.get("contact_wa_id"))
            .and_then(sealed_key_id);
        let search = search_text(phone.as_deref(), name.as_deref());
        Self {
            phone,
            name,
            search,
            key_id,
        }
    }
}

/// What `q` is matched against: the lower-case name, then the number's digits.
pub(super) fn search_text(phone: Option<&str>, name: Option<&str>) -> Option<String> {
    let digits: String = phone
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let text = format!("{} {digits}", name.unwrap_or_default().to_lowercase());
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
