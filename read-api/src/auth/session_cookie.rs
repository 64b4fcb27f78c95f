//! The browser session: the console keeps its refresh token in an `HttpOnly`,
//! `SameSite=Strict` cookie scoped to the auth routes, so no script can read it; only the
//! short-lived access token lives in the page's memory. API clients that never ask for
//! the cookie keep getting the token in the JSON body.

use axum::http::{header, HeaderMap, HeaderValue};

/// The cookie's name.
pub const NAME: &str = "atende_refresh";
/// The only path the browser sends it to: login, refresh and logout.
const PATH: &str = "/api/v1/auth";

/// The refresh token the request's `Cookie` header carries, if any.
pub fn read(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == NAME)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` carrying `token` for as long as a refresh token lasts; `Secure` when the
/// console is served over https.
pub fn set(token: &str, secure: bool) -> Option<HeaderValue> {
    let max_age = super::REFRESH_TOKEN_TTL.as_secs();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{NAME}={token}; Path={PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// `Set-Cookie` that makes the browser forget it.
pub fn clear(secure: bool) -> HeaderValue {
    let value = if secure {
        "atende_refresh=; Path=/api/v1/auth; Max-Age=0; HttpOnly; SameSite=Strict; Secure"
    } else {
        "atende_refresh=; Path=/api/v1/auth; Max-Age=0; HttpOnly; SameSite=Strict"
    };
    HeaderValue::from_static(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; atende_refresh=abc_DEF-1; lang=en"),
        );
        assert_eq!(read(&headers).as_deref(), Some("abc_DEF-1"));
        headers.insert(header::COOKIE, HeaderValue::from_static("atende_refresh="));
        assert_eq!(read(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped_to_the_auth_routes() {
        let plain = set("t", false).map(|v| v.to_str().map(str::to_owned).ok());
        let plain = plain.flatten().unwrap_or_default();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(plain.contains("Path=/api/v1/auth") && !plain.contains("Secure"));
        let secure = set("t", true).map(|v| v.to_str().map(str::to_owned).ok());
        assert!(secure.flatten().unwrap_or_default().ends_with("; Secure"));
    }
}
