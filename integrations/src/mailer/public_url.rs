//! The dashboard's public base URL, from which e-mailed links are made.

use std::fmt;
use std::str::FromStr;

/// An absolute `http(s)://` base URL without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

/// Not an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an absolute http:// or https:// URL")]
pub struct InvalidPublicUrl(pub String);

impl PublicUrl {
    /// The link to `path` (which starts with `/`) under this base.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }

    /// The base itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for PublicUrl {
    fn default() -> Self {
        Self("http://127.0.0.1:8080".into())
    }
}

impl FromStr for PublicUrl {
    type Err = InvalidPublicUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim().trim_end_matches('/');
        let host = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"));
        match host {
            Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                Ok(Self(trimmed.to_owned()))
            }
            _ => Err(InvalidPublicUrl(s.to_owned())),
        }
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_join_the_base_without_a_double_slash() {
        let base: Result<PublicUrl, _> = "https://app.example/".parse();
        assert_eq!(
            base.map(|b| b.link("/reset-password?token=x")),
            Ok("https://app.example/reset-password?token=x".to_owned())
        );
    }

    #[test]
    fn only_absolute_http_urls_are_accepted() {
        assert!("app.example".parse::<PublicUrl>().is_err());
        assert!("ftp://app.example".parse::<PublicUrl>().is_err());
        assert!("https://".parse::<PublicUrl>().is_err());
        assert!("http://127.0.0.1:8080".parse::<PublicUrl>().is_ok());
    }
}
