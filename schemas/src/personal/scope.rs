//! The sealer or opener active on this thread.
//!
//! Serde gives `Serialize` no context, and an event does not know its data subject; the
//! store does. So the store activates the subject's sealer around the (synchronous)
//! serialization of that event, and readers activate an opener around deserialization.

use super::{Sealed, ERASED, SEALED};
use std::cell::RefCell;
use std::sync::Arc;

/// Encrypts personal values under one subject key.
pub trait Sealer: Send + Sync {
    /// Seals one value.
    fn seal(&self, plaintext: &str) -> Sealed;
}

/// Decrypts sealed values with the keys it holds.
pub trait Opener: Send + Sync {
    /// The clear value, or `None` when the key is gone (or the value was tampered with).
    fn open(&self, sealed: &Sealed) -> Option<String>;
}

thread_local! {
    static SEALER: RefCell<Option<Arc<dyn Sealer>>> = const { RefCell::new(None) };
    static OPENER: RefCell<Option<Arc<dyn Opener>>> = const { RefCell::new(None) };
}

/// Runs `f` with `sealer` sealing every personal value serialized on this thread.
pub fn with_sealer<R>(sealer: Arc<dyn Sealer>, f: impl FnOnce() -> R) -> R {
    let previous = SEALER.with(|s| s.replace(Some(sealer)));
    let out = f();
    SEALER.with(|s| *s.borrow_mut() = previous);
    out
}

/// Runs `f` with `opener` opening every sealed value deserialized on this thread.
pub fn with_opener<R>(opener: Arc<dyn Opener>, f: impl FnOnce() -> R) -> R {
    let previous = OPENER.with(|o| o.replace(Some(opener)));
    let out = f();
    OPENER.with(|o| *o.borrow_mut() = previous);
    out
}

pub(super) fn seal(plaintext: &str) -> Option<Sealed> {
    SEALER.with(|s| s.borrow().as_ref().map(|s| s.seal(plaintext)))
}

pub(super) fn open(sealed: &Sealed) -> String {
    OPENER.with(|o| match o.borrow().as_ref() {
        Some(o) => o.open(sealed).unwrap_or_else(|| ERASED.to_owned()),
        None => SEALED.to_owned(),
    })
}
