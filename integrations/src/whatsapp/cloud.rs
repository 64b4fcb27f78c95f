//! Meta's WhatsApp Cloud API webhook payload: entries of changes, each with the messages or
//! statuses of one business number.

use chrono::{DateTime, TimeZone, Utc};
use schemas::events::{DeliveryStatus, MessageContent};
use schemas::Personal;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A Cloud API webhook body.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    #[serde(default)]
    value: Option<ChangeValue>,
}

#[derive(Debug, Deserialize)]
struct ChangeValue {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Debug, Deserialize)]
struct Contact {
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    from: String,
    id: String,
    timestamp: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    status: String,
    recipient_id: String,
    #[serde(default)]
    errors: Vec<Value>,
}

/// A customer's message, routed by the business number that received it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    /// The business number that received it.
    pub phone_number_id: String,
    /// The customer's number.
    pub from: String,
    /// The customer's profile name, when sent.
    pub name: Option<String>,
    /// Meta's id of the message.
    pub id: String,
    /// What it says.
    pub content: MessageContent,
    /// When the customer sent it (the webhook's arrival when unreadable).
    pub sent_at: DateTime<Utc>,
}

/// A delivery status of a message the business sent.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundStatus {
    /// The business number that sent the message.
    pub phone_number_id: String,
    /// The customer's number.
    pub recipient: String,
    /// Meta's id of the message.
    pub id: String,
    /// What became of it.
    pub status: DeliveryStatus,
    /// Meta's explanation of a failure.
    pub error: Option<String>,
}

/// What one webhook carried; `skipped` counts what is deliberately not recorded (group
/// messages, statuses of kinds atende does not track).
#[derive(Debug, Default)]
pub struct Batch {
    /// The customers' messages.
    pub messages: Vec<InboundMessage>,
    /// The delivery statuses.
    pub statuses: Vec<InboundStatus>,
    /// How many were left out.
    pub skipped: usize,
}

impl Batch {
    /// The business numbers (`phone_number_id`) its items came to, each once.
    pub fn numbers(&self) -> std::collections::BTreeSet<&str> {
        self.messages
            .iter()
            .map(|m| m.phone_number_id.as_str())
            .chain(self.statuses.iter().map(|s| s.phone_number_id.as_str()))
            .collect()
    }
}

fn unix_time(ts: Option<&str>, now: DateTime<Utc>) -> DateTime<Utc> {
    ts.and_then(|t| t.trim().parse::<i64>().ok())
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .unwrap_or(now)
}

fn content(m: &Message) -> MessageContent {
    if m.kind == "text" {
        let body = m
            .rest
            .get("text")
            .and_then(|t| t.get("body"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        return MessageContent::Text(Personal::from(body));
    }
    // Media types carry their caption inside the object named after the type.
    let caption = m
        .rest
        .get(&m.kind)
        .and_then(|o| o.get("caption"))
        .and_then(Value::as_str)
        .map(Personal::from);
    MessageContent::Media {
        kind: m.kind.clone(),
        caption,
    }
}

fn is_group(m: &Message) -> bool {
    m.from.ends_with("@g.us") || m.rest.contains_key("group_id")
}

fn delivery_status(s: &str) -> Option<DeliveryStatus> {
    Some(match s {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        _ => return None,
    })
}

fn error_text(errors: &[Value]) -> Option<String> {
    let e = errors.first()?;
    let code = e.get("code").map(|c| c.to_string());
    let title = e
        .get("title")
        .or_else(|| e.get("message"))
        .and_then(Value::as_str);
    Some(match (code, title) {
        (Some(c), Some(t)) => format!("{c}: {t}"),
        (Some(c), None) => c,
        (None, Some(t)) => t.to_owned(),
        (None, None) => e.to_string(),
    })
}

impl Envelope {
    /// Every message and status of every entry and change, in payload order.
    pub fn into_batch(self, now: DateTime<Utc>) -> Batch {
        let mut batch = Batch::default();
        for value in self
            .entry
            .into_iter()
            .flat_map(|e| e.changes)
            .filter_map(|c| c.value)
        {
            let Some(metadata) = value.metadata else {
                batch.skipped += value.messages.len() + value.statuses.len();
                continue;
            };
            for m in &value.messages {
                if is_group(m) {
                    batch.skipped += 1;
                    continue;
                }
                let name = value
                    .contacts
                    .iter()
                    .find(|c| c.wa_id == m.from)
                    .and_then(|c| c.profile.as_ref())
                    .and_then(|p| p.name.clone());
                batch.messages.push(InboundMessage {
                    phone_number_id: metadata.phone_number_id.clone(),
                    from: m.from.clone(),
                    name,
                    id: m.id.clone(),
                    content: content(m),
                    sent_at: unix_time(m.timestamp.as_deref(), now),
                });
            }
            for s in value.statuses {
                let Some(status) = delivery_status(&s.status) else {
                    batch.skipped += 1;
                    continue;
                };
                batch.statuses.push(InboundStatus {
                    phone_number_id: metadata.phone_number_id.clone(),
                    recipient: s.recipient_id,
                    id: s.id,
                    status,
                    error: error_text(&s.errors),
                });
            }
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Batch {
        serde_json::from_value::<Envelope>(v)
            .expect("a valid envelope")
            .into_batch(Utc::now())
    }

    #[test]
    fn every_message_of_every_entry_and_change_is_read_with_its_contact_name() {
        let change = |pid: &str, id: &str| {
            json!({"field": "messages", "value": {
                "metadata": {"phone_number_id": pid},
                "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
                "messages": [{"from": "16505551234", "id": id, "timestamp": "1749416383",
                              "type": "text", "text": {"body": "Oi"}}]}})
        };
        let batch = parse(json!({"object": "whatsapp_business_account", "entry": [
            {"id": "w1", "changes": [change("n1", "wamid.1"), change("n1", "wamid.2")]},
            {"id": "w2", "changes": [change("n2", "wamid.3")]}]}));
        let ids: Vec<_> = batch.messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["wamid.1", "wamid.2", "wamid.3"]);
        assert_eq!(batch.messages[2].phone_number_id, "n2");
        assert_eq!(
            batch.numbers().into_iter().collect::<Vec<_>>(),
            ["n1", "n2"]
        );
        assert_eq!(batch.messages[0].name.as_deref(), Some("Sheena"));
        assert_eq!(batch.messages[0].sent_at.timestamp(), 1_749_416_383);
    }

    #[test]
    fn media_is_recorded_as_its_type_with_its_caption() {
        let batch = parse(json!({"entry": [{"changes": [{"value": {
            "metadata": {"phone_number_id": "n1"},
            "messages": [{"from": "1", "id": "w", "timestamp": "1", "type": "image",
                          "image": {"caption": "olha", "id": "media-1"}}]}}]}]}));
        match &batch.messages[0].content {
            MessageContent::Media { kind, caption } => {
                assert_eq!(kind, "image");
                assert_eq!(caption.as_ref().map(|c| c.expose().as_str()), Some("olha"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn group_messages_and_unknown_statuses_are_skipped() {
        let batch = parse(json!({"entry": [{"changes": [{"value": {
            "metadata": {"phone_number_id": "n1"},
            "messages": [{"from": "1", "id": "g", "type": "text", "group_id": "G1",
                          "text": {"body": "x"}}],
            "statuses": [{"id": "s", "status": "deleted", "recipient_id": "1"},
                         {"id": "s", "status": "failed", "recipient_id": "1",
                          "errors": [{"code": 131047, "title": "Re-engagement message"}]}]}}]}]}));
        assert!(batch.messages.is_empty());
        assert_eq!(batch.skipped, 2);
        assert_eq!(batch.statuses[0].status, DeliveryStatus::Failed);
        assert_eq!(
            batch.statuses[0].error.as_deref(),
            Some("131047: Re-engagement message")
        );
    }
}
