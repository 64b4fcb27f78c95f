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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The subject key's id.
    pub k: Uuid,
    /// The nonce, base64.
    pub n: String,
    /// The ciphertext with its tag, base64.
    pub c: String,
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
            Some(sealed) => Envelope { pii: sealed }.serialize(serializer),
            None => serializer.serialize_str(&self.0),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Clear(String),
    Sealed(Envelope<Sealed>),
}

impl<'de> Deserialize<'de> for Personal<String> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Clear(s) => Personal(s),
            Stored::Sealed(env) => Personal(scope::open(&env.pii)),
        })
    }
}

/// Whether a stored JSON value is a sealed personal value, and its key id.
pub fn sealed_key_id(value: &serde_json::Value) -> Option<Uuid> {
    value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("$pii"))
        .and_then(|p| p.get("k"))
        .and_then(|k| k.as_str())
        .and_then(|k| Uuid::parse_str(k).ok())
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
    if sealed_key_id(value).is_some() {
        let clear = value
            .get("$pii")
            .and_then(|p| serde_json::from_value::<Sealed>(p.clone()).ok())
            .and_then(|s| opener.open(&s))
            .unwrap_or_else(|| ERASED.to_owned());
        *value = serde_json::Value::String(clear);
        return;
    }
    match value {
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| open_json(v, opener)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| open_json(v, opener)),
        _ => {}
    }
}
