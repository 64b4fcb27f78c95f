//! CORS (F34): which browser origins may call the API. Unset, no CORS header is ever sent,
//! so browsers keep every other origin out; `*` must be asked for explicitly.

use axum::http::{header, HeaderName, HeaderValue, Method};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers: only same-origin pages (and non-browser clients) can call.
    #[default]
    None,
    /// Any origin (`*`). Tokens travel in `Authorization`, never in cookies, so no
    /// credentials mode is ever allowed.
    Any,
    /// Exactly these origins (`scheme://host[:port]`).
    List(Vec<HeaderValue>),
}

/// An `ATENDE_CORS_ORIGINS` entry that is not an origin.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an origin: expected scheme://host[:port] (no path), or * alone")]
pub struct InvalidOrigin(pub String);

impl FromStr for CorsOrigins {
    type Err = InvalidOrigin;

    /// Parses a comma-separated list; blank means [`CorsOrigins::None`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let entries: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if entries.is_empty() {
            return Ok(Self::None);
        }
        if entries.contains(&"*") {
            // Mixing `*` with origins would read as a list and allow everything.
            return match entries.as_slice() {
                ["*"] => Ok(Self::Any),
                _ => Err(InvalidOrigin(s.to_owned())),
            };
        }
        entries
            .into_iter()
            .map(parse_origin)
            .collect::<Result<_, _>>()
            .map(Self::List)
    }
}

/// Browsers send `Origin` as `scheme://host[:port]`, lowercase, without a trailing slash;
/// an entry in any other form would never match, so it is refused at start-up instead.
fn parse_origin(entry: &str) -> Result<HeaderValue, InvalidOrigin> {
    let invalid = || InvalidOrigin(entry.to_owned());
    let (scheme, rest) = entry.split_once("://").ok_or_else(invalid)?;
    if !matches!(scheme, "http" | "https")
        || rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' '])
        || entry != entry.to_ascii_lowercase()
    {
        return Err(invalid());
    }
    HeaderValue::from_str(entry).map_err(|_| invalid())
}

impl fmt::Display for CorsOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => Ok(()),
            Self::Any => f.write_str("*"),
            Self::List(list) => {
                let names: Vec<&str> = list.iter().filter_map(|v| v.to_str().ok()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

/// The headers the API reads from browsers.
const ALLOWED_HEADERS: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    HeaderName::from_static("idempotency-key"),
    HeaderName::from_static("last-event-id"),
];

/// The layer for `origins`, or `None` when CORS is off.
pub fn layer(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allow = match origins {
        CorsOrigins::None => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(list.iter().cloned()),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers(ALLOWED_HEADERS)
            .expose_headers([HeaderName::from_static("x-request-id")])
            // Browsers cap this anyway (Chromium at 2 h); it saves a preflight per call.
            .max_age(Duration::from_secs(3600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_setting_turns_cors_off() {
        assert_eq!(" ".parse(), Ok(CorsOrigins::None));
    }

    #[test]
    fn a_list_of_origins_is_kept_exactly() {
        let parsed: Result<CorsOrigins, _> = "https://app.example, http://localhost:5173".parse();
        assert_eq!(
            parsed.map(|o| o.to_string()).ok().as_deref(),
            Some("https://app.example,http://localhost:5173")
        );
    }

    #[test]
    fn a_wildcard_must_stand_alone() {
        assert_eq!("*".parse(), Ok(CorsOrigins::Any));
        assert!("*,https://app.example".parse::<CorsOrigins>().is_err());
    }

    #[test]
    fn an_entry_that_no_browser_would_send_is_refused() {
        for bad in [
            "app.example",
            "https://app.example/",
            "https://App.example",
            "ftp://app.example",
        ] {
            assert!(bad.parse::<CorsOrigins>().is_err(), "{bad}");
        }
    }
}
