//! Crypto-shredding on the write side: which subject an event's personal data belongs to,
//! the key ring that seals it, and the LGPD operations built on them.

mod keyring;
mod ops;
mod subject;

pub(crate) use keyring::NewKeyRow;
pub use keyring::{KeyError, KeyRing, PendingKey};
pub use ops::{
    erase_contact, erasures, export_contact, Erasure, ErasureRecord, ExportedEvent, PrivacyError,
    SubjectExport,
};
pub use subject::Subject;
