//! Reading a stored message's content, and opening the contact's fields.

use schemas::personal::{open_json, sealed_key_id, KeySet, ERASED};
use schemas::StoredEvent;
use serde_json::Value;
use stream::HandlerError;
use uuid::Uuid;

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
    for name in ["contact_wa_id", "contact_name"] {
        if let Some(id) = event.field(name).and_then(sealed_key_id) {
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
    pub(super) fn open(event: &StoredEvent, keys: &KeySet) -> Self {
        let phone = open(event.field("contact_wa_id"), keys);
        let name = open(event.field("contact_name"), keys);
        let key_id = phone
            .as_ref()
            .and(event.field("contact_wa_id"))
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
