//! Personal data inside events, and how it is sealed for storage (crypto-shredding).
//!
//! A `Personal<String>` serializes as a plain string, unless a [`Sealer`] is active on the
//! thread (the write side activates one around each event's serialization): then it is
//! stored as `{"$pii": {"k": key id, "n": nonce, "c": ciphertext}}` under the data subject's
//! key. Reading reverses it with an active [`Opener`]; a value whose key was destroyed
//! (erasure, retention) reads as [`ERASED`], so every reader still gets a well-formed event.

mod crypto;
mod scope;

pub use crypto::{CryptoError, KeySet, MasterKey, SubjectKey};
pub use scope::{with_opener, with_sealer, Opener, Sealer};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use uuid::Uuid;

/// What a personal value reads as once its key is gone.
pub const ERASED: &str = "[erased]";

/// What a sealed value reads as where no opener was provided (a bug, never shown to users).
pub const SEALED: &str = "[sealed]";

/// A value that is personal data of a data subject (a message text, a phone number, an
/// e-mail address, a name). `Debug` never prints it, so logs stay free of personal data.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Personal<T>(pub T);

/// A personal value as stored: encrypted under one subject key.
///
/// On disk it is one compact string, `1.<key id>.<nonce ‖ ciphertext>` (base64url, no
/// padding), inside `{"$pii": …}`: every event carries a few of these, and their size is most
/// of what sealing costs the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The subject key's id.
    pub k: Uuid,
    /// The nonce followed by the ciphertext and its tag.
    pub body: Vec<u8>,
}

const FORMAT: &str = "1";

impl Sealed {
    /// The stored string.
    pub fn encode(&self) -> String {
        format!(
            "{FORMAT}.{}.{}",
            B64URL.encode(self.k.as_bytes()),
            B64URL.encode(&self.body)
        )
    }

    /// Reads a stored string; `None` when it is not one.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '.');
        if parts.next()? != FORMAT {
            return None;
        }
        let k = Uuid::from_slice(&B64URL.decode(parts.next()?).ok()?).ok()?;
        let body = B64URL.decode(parts.next()?).ok()?;
        Some(Self { k, body })
    }
}

impl<T> Personal<T> {
    /// Wraps a personal value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The clear value, for code that is allowed to see it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Consumes the wrapper and returns the clear value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl Personal<String> {
    /// Whether this value was erased (its key destroyed).
    pub fn is_erased(&self) -> bool {
        self.0 == ERASED
    }
}

impl From<&str> for Personal<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for Personal<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personal(..)")
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<S> {
    #[serde(rename = "$pii")]
    pii: S,
}

impl Serialize for Personal<String> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match scope::seal(&self.0) {
            Some(sealed) => Envelope {
                pii: sealed.encode(),
            }
            .serialize(serializer),
            None => serializer.serialize_str(&self.0),
        }
    }
}

/// Published schemas show both stored forms: clear (never written since sealing began,
/// kept readable) and the sealed envelope `{"$pii": "<base64url>"}`.
impl schemars::JsonSchema for Personal<String> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Personal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Personal data: sealed with the data subject's key as {\"$pii\": \"<base64url>\"}, or clear in events written before sealing.",
            "anyOf": [
                { "type": "string" },
                {
                    "type": "object",
                    "properties": { "$pii": { "type": "string" } },
                    "required": ["$pii"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Clear(String),
    Sealed(Envelope<String>),
}

impl<'de> Deserialize<'de> for Personal<String> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Clear(s) => Personal(s),
            Stored::Sealed(env) => Personal(match Sealed::decode(&env.pii) {
                Some(sealed) => scope::open(&sealed),
                // Not a value we wrote: unreadable is the only honest answer.
                None => ERASED.to_owned(),
            }),
        })
    }
}

fn sealed_in(value: &serde_json::Value) -> Option<Sealed> {
    value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("$pii"))
        .and_then(|p| p.as_str())
        .and_then(Sealed::decode)
}

/// Whether a stored JSON value is a sealed personal value, and its key id.
pub fn sealed_key_id(value: &serde_json::Value) -> Option<Uuid> {
    sealed_in(value).map(|s| s.k)
}

#[cfg(test)]
mod tests;

/// Every subject key id used by sealed values inside `value`.
pub fn sealed_key_ids(value: &serde_json::Value, out: &mut Vec<Uuid>) {
    if let Some(id) = sealed_key_id(value) {
        out.push(id);
        return;
    }
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| sealed_key_ids(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| sealed_key_ids(v, out)),
        _ => {}
    }
}

/// Replaces every sealed value inside `value` by its clear text, or [`ERASED`] when `opener`
/// lacks its key: how readers of raw stored JSON (exports, the audit log) see personal data.
pub fn open_json(value: &mut serde_json::Value, opener: &dyn Opener) {
    if let Some(sealed) = sealed_in(value) {
        let clear = opener.open(&sealed).unwrap_or_else(|| ERASED.to_owned());
        *value = serde_json::Value::String(clear);
        return;
    }
    match value {
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| open_json(v, opener)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| open_json(v, opener)),
        _ => {}
    }
}
