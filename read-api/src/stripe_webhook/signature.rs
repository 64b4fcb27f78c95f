//! Verifying `Stripe-Signature`: HMAC-SHA256 over `"<t>.<raw body>"` with an endpoint
//! secret, any `v1` matching, within a tolerance of `t`.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signature was refused; each becomes a 400 with its own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("the Stripe-Signature header is missing")]
    Missing,
    /// The header has no `t=` or no `v1=`.
    #[error("the Stripe-Signature header is malformed: it needs t=<unix time> and v1=<hex>")]
    Malformed,
    /// `t` is further from now than the tolerance.
    #[error("the signature's timestamp is {age_secs} s from now (tolerance {tolerance_secs} s)")]
    Stale {
        /// How far from now, in seconds.
        age_secs: i64,
        /// The tolerance.
        tolerance_secs: i64,
    },
    /// No `v1` matches any configured secret.
    #[error("no v1 signature matches an endpoint secret")]
    Mismatch,
    /// No endpoint secret is configured, so nothing can be verified.
    #[error("no Stripe webhook secret is configured (STRIPE_WEBHOOK_SECRET)")]
    NotConfigured,
}

impl SignatureError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "signature_missing",
            Self::Malformed => "signature_malformed",
            Self::Stale { .. } => "signature_stale",
            Self::Mismatch => "signature_mismatch",
            Self::NotConfigured => "webhook_not_configured",
        }
    }
}

/// Checks `header` against `body` with any of `secrets`, at `now`.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[String],
    tolerance_secs: i64,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NotConfigured);
    }
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => {
                // An undecodable v1 cannot match; others in the header still may.
                if let Ok(bytes) = hex::decode(sig) {
                    candidates.push(bytes);
                }
            }
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() && !header.contains("v1=") {
        return Err(SignatureError::Malformed);
    }
    let age_secs = (now.timestamp() - t).abs();
    if age_secs > tolerance_secs {
        return Err(SignatureError::Stale {
            age_secs,
            tolerance_secs,
        });
    }
    let signed_prefix = format!("{t}.");
    for secret in secrets {
        for candidate in &candidates {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
                continue;
            };
            mac.update(signed_prefix.as_bytes());
            mac.update(body);
            // `verify_slice` compares in constant time.
            if mac.verify_slice(candidate).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000, 0).unwrap()
    }

    fn sign(secret: &str, t: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn any_v1_signed_with_any_configured_secret_is_accepted() {
        let body = r#"{"id":"evt_1"}"#;
        let t = now().timestamp();
        let secrets = vec!["whsec_old".to_owned(), "whsec_new".to_owned()];
        let header = format!(
            "t={t},v1={},v1={}",
            "00".repeat(32),
            sign("whsec_new", t, body)
        );
        assert_eq!(
            verify(Some(&header), body.as_bytes(), &secrets, 300, now()),
            Ok(())
        );
    }

    #[test]
    fn a_body_changed_after_signing_is_refused() {
        let t = now().timestamp();
        let header = format!("t={t},v1={}", sign("whsec_a", t, "{}"));
        let secrets = vec!["whsec_a".to_owned()];
        assert_eq!(
            verify(Some(&header), b"{ }", &secrets, 300, now()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_timestamp_outside_the_tolerance_is_stale_even_when_signed_right() {
        let t = now().timestamp() - 301;
        let header = format!("t={t},v1={}", sign("whsec_a", t, "{}"));
        let secrets = vec!["whsec_a".to_owned()];
        assert!(matches!(
            verify(Some(&header), b"{}", &secrets, 300, now()),
            Err(SignatureError::Stale { age_secs: 301, .. })
        ));
    }

    #[test]
    fn a_header_without_timestamp_or_signature_is_malformed() {
        let secrets = vec!["whsec_a".to_owned()];
        for header in ["v1=abcd", "t=1700000000", "garbage"] {
            assert_eq!(
                verify(Some(header), b"{}", &secrets, 300, now()),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }
}
