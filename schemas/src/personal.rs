//! Marker for personal data inside events.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value that is personal data of a data subject (a message text, a phone number, an
/// e-mail address, a name).
///
/// Today it serializes as the bare inner value. It exists so the storage layer can find
/// every personal field and encrypt it per subject (crypto-shredding) without changing the
/// event types again. `Debug` never prints the value, so logs stay free of personal data.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Personal<T>(pub T);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_values_never_show_in_debug_output() {
        let p = Personal::from("+55 11 99999-0000");
        assert_eq!(format!("{p:?}"), "Personal(..)");
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"+55 11 99999-0000\"");
    }
}
