//! Evolution API's `messages.upsert` webhook: one message (or a list of them) seen by the
//! tenant's connected phone, either from a customer or typed on the phone itself.

use chrono::{DateTime, TimeZone, Utc};
use schemas::events::MessageContent;
use schemas::Personal;
use serde::Deserialize;
use serde_json::{Map, Value};

/// An Evolution API webhook body.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    event: String,
    #[serde(default)]
    data: Option<OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Box<Data>),
    Many(Vec<Data>),
}

#[derive(Debug, Deserialize)]
struct Data {
    key: Key,
    #[serde(rename = "pushName")]
    push_name: Option<String>,
    #[serde(default)]
    message: Option<Map<String, Value>>,
    #[serde(rename = "messageType")]
    message_type: Option<String>,
    #[serde(rename = "messageTimestamp")]
    message_timestamp: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Key {
    #[serde(rename = "remoteJid")]
    remote_jid: String,
    #[serde(rename = "fromMe", default)]
    from_me: bool,
    id: String,
}

/// One message of the upsert, for a one-to-one chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Upserted {
    /// The customer's number (the chat's, also when the phone's owner wrote).
    pub number: String,
    /// The sender's push name, when sent.
    pub name: Option<String>,
    /// The phone's id of the message.
    pub id: String,
    /// Typed on the tenant's phone, not by the customer.
    pub from_me: bool,
    /// What it says.
    pub content: MessageContent,
    /// When it was sent (the webhook's arrival when unreadable).
    pub sent_at: DateTime<Utc>,
}

/// What the webhook carried: the one-to-one messages, and how many were left out (groups,
/// broadcasts, events other than `messages.upsert`).
#[derive(Debug, Default)]
pub struct Upserts {
    /// The one-to-one messages.
    pub messages: Vec<Upserted>,
    /// How many were left out.
    pub skipped: usize,
}

/// The state a `connection.update` webhook reports (`open`, `connecting` or `close`), if
/// `body` is one.
pub fn connection_update(body: &Value) -> Option<&'static str> {
    let event = body.get("event")?.as_str()?;
    if event.to_ascii_lowercase().replace('_', ".") != "connection.update" {
        return None;
    }
    let state = body.pointer("/data/state")?.as_str()?;
    Some(match state.to_ascii_lowercase().as_str() {
        "open" => "open",
        "connecting" => "connecting",
        _ => "close",
    })
}

fn is_upsert(event: &str) -> bool {
    // Evolution names events `messages.upsert` in webhooks and `MESSAGES_UPSERT` in its
    // settings; some versions send the latter.
    event.to_ascii_lowercase().replace('_', ".") == "messages.upsert"
}

fn time_of(v: Option<&Value>, now: DateTime<Utc>) -> DateTime<Utc> {
    let secs = match v {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    secs.and_then(|s| Utc.timestamp_opt(s, 0).single())
        .unwrap_or(now)
}

fn content(d: &Data) -> MessageContent {
    let message = d.message.as_ref();
    let text = message
        .and_then(|m| m.get("conversation"))
        .and_then(Value::as_str)
        .or_else(|| {
            message
                .and_then(|m| m.get("extendedTextMessage"))
                .and_then(|e| e.get("text"))
                .and_then(Value::as_str)
        });
    if let Some(text) = text {
        return MessageContent::Text(Personal::from(text));
    }
    // `imageMessage`, `audioMessage`, …: the kind without the suffix, as the Cloud API names it.
    let field = d
        .message_type
        .clone()
        .or_else(|| message.and_then(|m| m.keys().next().cloned()))
        .unwrap_or_else(|| "unknown".into());
    let caption = message
        .and_then(|m| m.get(&field))
        .and_then(|o| o.get("caption"))
        .and_then(Value::as_str)
        .map(Personal::from);
    MessageContent::Media {
        kind: field.trim_end_matches("Message").to_owned(),
        caption,
    }
}

impl Envelope {
    /// The one-to-one messages of the upsert, in payload order.
    pub fn into_upserts(self, now: DateTime<Utc>) -> Upserts {
        let mut out = Upserts::default();
        let data = match self.data {
            None => Vec::new(),
            Some(OneOrMany::One(d)) => vec![*d],
            Some(OneOrMany::Many(v)) => v,
        };
        if !is_upsert(&self.event) {
            out.skipped = data.len().max(1);
            return out;
        }
        for d in data {
            let jid = d.key.remote_jid.as_str();
            let Some(number) = jid.strip_suffix("@s.whatsapp.net") else {
                // Groups (`@g.us`), status broadcasts and channels are not conversations.
                out.skipped += 1;
                continue;
            };
            // Multi-device ids look like `5511…:12@s.whatsapp.net`.
            let number = number.split(':').next().unwrap_or(number).to_owned();
            out.messages.push(Upserted {
                number,
                name: d.push_name.clone().filter(|_| !d.key.from_me),
                id: d.key.id.clone(),
                from_me: d.key.from_me,
                content: content(&d),
                sent_at: time_of(d.message_timestamp.as_ref(), now),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Upserts {
        serde_json::from_value::<Envelope>(v)
            .expect("an envelope")
            .into_upserts(Utc::now())
    }

    fn upsert(jid: &str, from_me: bool, message: Value) -> Value {
        json!({"event": "messages.upsert", "instance": "loja", "data": {
            "key": {"remoteJid": jid, "fromMe": from_me, "id": "3EB0A"},
            "pushName": "João", "message": message, "messageType": "conversation",
            "messageTimestamp": 1_717_000_000}})
    }

    #[test]
    fn text_comes_from_conversation_or_extended_text() {
        for message in [
            json!({"conversation": "Olá"}),
            json!({"extendedTextMessage": {"text": "Olá"}}),
        ] {
            let u = parse(upsert("5511999999999@s.whatsapp.net", false, message));
            let m = &u.messages[0];
            assert_eq!(m.number, "5511999999999");
            assert_eq!(m.content.text().map(|t| t.expose().as_str()), Some("Olá"));
            assert_eq!(m.sent_at.timestamp(), 1_717_000_000);
        }
    }

    #[test]
    fn a_connection_update_names_its_state() {
        let update = |state: &str| {
            json!({"event": "connection.update", "instance": "loja",
                   "data": {"instance": "loja", "state": state, "statusReason": 200}})
        };
        assert_eq!(connection_update(&update("open")), Some("open"));
        assert_eq!(connection_update(&update("close")), Some("close"));
        assert_eq!(
            connection_update(
                &json!({"event": "CONNECTION_UPDATE", "data": {"state": "connecting"}})
            ),
            Some("connecting")
        );
        assert_eq!(
            connection_update(&upsert("1@s.whatsapp.net", false, json!({}))),
            None
        );
    }

    #[test]
    fn groups_are_skipped_and_from_me_is_flagged() {
        let g = parse(upsert("1203630@g.us", false, json!({"conversation": "x"})));
        assert!(g.messages.is_empty());
        assert_eq!(g.skipped, 1);
        let me = parse(upsert(
            "5511999999999@s.whatsapp.net",
            true,
            json!({"conversation": "x"}),
        ));
        assert!(me.messages[0].from_me);
        assert_eq!(me.messages[0].name, None);
    }
}
