//! XChaCha20-Poly1305 for subject keys (sealing values) and the master key (wrapping keys).
//!
//! XChaCha's 192-bit nonces are drawn at random for every value: no counter to keep, and
//! collisions are negligible at any volume we will ever store under one key.

use super::scope::{Opener, Sealer};
use super::Sealed;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

const NONCE_LEN: usize = 24;

/// A key could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The master key text is not 32 bytes of base64.
    #[error("the master key must be 32 bytes, base64-encoded")]
    MalformedMasterKey,
    /// A wrapped key did not open: wrong master key, or the stored bytes were altered.
    #[error("a stored key does not open with this master key")]
    WrongMasterKey,
}

/// The key that wraps every subject key. Never stored in the database.
#[derive(Clone)]
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
    bytes: [u8; 32],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A fresh random master key.
    pub fn generate() -> Self {
        Self::from_bytes(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// Reads a base64 master key.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| CryptoError::MalformedMasterKey)?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::MalformedMasterKey)?;
        Ok(Self::from_bytes(bytes))
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&bytes)),
            bytes,
        }
    }

    /// The key as base64, for writing the generated key file.
    pub fn to_base64(&self) -> String {
        B64.encode(self.bytes)
    }

    /// Encrypts `plain` (a subject key, or the check value) as nonce ‖ ciphertext.
    pub fn wrap(&self, plain: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        // Encryption into a Vec only fails on absurd lengths, never for 32-byte keys.
        out.extend(self.cipher.encrypt(&nonce, plain).unwrap_or_default());
        out
    }

    /// Reverses [`MasterKey::wrap`].
    pub fn unwrap_bytes(&self, wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if wrapped.len() < NONCE_LEN {
            return Err(CryptoError::WrongMasterKey);
        }
        let (nonce, ct) = wrapped.split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::WrongMasterKey)
    }

    /// A fresh subject key and its wrapped form for storage.
    pub fn new_subject_key(&self, id: Uuid) -> (SubjectKey, Vec<u8>) {
        let bytes: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        (SubjectKey::from_bytes(id, &bytes), self.wrap(&bytes))
    }

    /// Opens a stored subject key.
    pub fn open_subject_key(&self, id: Uuid, wrapped: &[u8]) -> Result<SubjectKey, CryptoError> {
        let bytes = self.unwrap_bytes(wrapped)?;
        if bytes.len() != 32 {
            return Err(CryptoError::WrongMasterKey);
        }
        Ok(SubjectKey::from_bytes(id, &bytes))
    }
}

/// One data subject's key for one period.
#[derive(Clone)]
pub struct SubjectKey {
    id: Uuid,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectKey").field("id", &self.id).finish()
    }
}

impl SubjectKey {
    fn from_bytes(id: Uuid, bytes: &[u8]) -> Self {
        Self {
            id,
            cipher: XChaCha20Poly1305::new(Key::from_slice(bytes)),
        }
    }

    /// The key's id, as stored in sealed values.
    pub fn id(&self) -> Uuid {
        self.id
    }
}

impl Sealer for SubjectKey {
    fn seal(&self, plaintext: &str) -> Sealed {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut body = nonce.to_vec();
        body.extend(
            self.cipher
                .encrypt(&nonce, plaintext.as_bytes())
                .unwrap_or_default(),
        );
        Sealed { k: self.id, body }
    }
}

impl Opener for SubjectKey {
    fn open(&self, sealed: &Sealed) -> Option<String> {
        if sealed.k != self.id {
            return None;
        }
        open_with(&self.cipher, sealed)
    }
}

fn open_with(cipher: &XChaCha20Poly1305, sealed: &Sealed) -> Option<String> {
    if sealed.body.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = sealed.body.split_at(NONCE_LEN);
    let plain = cipher.decrypt(XNonce::from_slice(nonce), ct).ok()?;
    String::from_utf8(plain).ok()
}

/// An opener over a set of keys; a sealed value whose key is not in the set is erased.
#[derive(Debug, Default, Clone)]
pub struct KeySet {
    keys: HashMap<Uuid, SubjectKey>,
}

impl KeySet {
    /// Adds a key.
    pub fn insert(&mut self, key: SubjectKey) {
        self.keys.insert(key.id, key);
    }
}

impl Opener for KeySet {
    fn open(&self, sealed: &Sealed) -> Option<String> {
        open_with(&self.keys.get(&sealed.k)?.cipher, sealed)
    }
}
