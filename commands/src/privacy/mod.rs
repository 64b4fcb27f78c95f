//! Crypto-shredding on the write side: which subject an event's personal data belongs to,
//! and the key ring that seals it.

mod keyring;
mod subject;

pub use keyring::{KeyError, KeyRing};
pub use subject::Subject;
