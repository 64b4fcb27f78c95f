//! The languages the product writes in: stored in events (a tenant's language) and with
//! every queued e-mail.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A language the product speaks to a tenant in (e-mails, notices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum Locale {
    /// Brazilian Portuguese, the default: most tenants are in Brazil.
    #[default]
    #[serde(rename = "pt-BR")]
    PtBr,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// The BCP 47 tag, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PtBr => "pt-BR",
            Self::En => "en",
        }
    }

    /// The locale for a tag such as `en-US` or `pt`; anything unknown (or nothing) is the
    /// default, since a mail in the default language beats no mail.
    pub fn from_tag(tag: Option<&str>) -> Self {
        tag.and_then(|t| t.parse().ok()).unwrap_or_default()
    }

    /// The first supported language of an `Accept-Language` header, in the client's order
    /// (quality values are rarely anything but descending).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(|tag| tag.trim().parse().ok())
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language tag the product is not written in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a supported language; use pt-BR or en")]
pub struct UnsupportedLocale(pub String);

impl FromStr for Locale {
    type Err = UnsupportedLocale;

    /// Accepts any tag of a supported language (`pt`, `pt-PT`, `en-GB`, `EN_us`).
    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        let language = tag.split(['-', '_']).next().unwrap_or("");
        match language.to_ascii_lowercase().as_str() {
            "pt" => Ok(Self::PtBr),
            "en" => Ok(Self::En),
            _ => Err(UnsupportedLocale(tag.to_owned())),
        }
    }
}
