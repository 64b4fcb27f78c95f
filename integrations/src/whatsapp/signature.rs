//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, keyed with the Meta app secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header value Meta would send for `body`: `sha256=<hex>`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(app_secret).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is the signature of `body` under `app_secret`, compared in constant
/// time. A missing, malformed or differently prefixed header is simply not valid.
pub fn verify_signature(app_secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(app_secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_signed_with_the_app_secret_verifies() {
        let header = sign(b"app-secret", b"{\"a\":1}");
        assert!(verify_signature(b"app-secret", b"{\"a\":1}", Some(&header)));
    }

    #[test]
    fn another_body_secret_or_format_does_not_verify() {
        let header = sign(b"app-secret", b"{\"a\":1}");
        assert!(!verify_signature(
            b"app-secret",
            b"{\"a\":2}",
            Some(&header)
        ));
        assert!(!verify_signature(b"other", b"{\"a\":1}", Some(&header)));
        assert!(!verify_signature(b"app-secret", b"{\"a\":1}", None));
        let bare = header.trim_start_matches("sha256=");
        assert!(!verify_signature(b"app-secret", b"{\"a\":1}", Some(bare)));
        assert!(!verify_signature(
            b"app-secret",
            b"{\"a\":1}",
            Some("sha256=zz")
        ));
    }
}
