//! Opaque page cursors: a timestamp and a tie-breaker, base64url.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};

/// Encodes `(at, key)`.
pub(super) fn encode(at: DateTime<Utc>, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{key}",
        at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    ))
}

/// Decodes what [`encode`] made; `None` for anything else.
pub(super) fn decode(s: &str) -> Option<(DateTime<Utc>, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    let (at, key) = text.split_once('|')?;
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some((at, key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_the_same_time_and_key() {
        let at = Utc::now();
        assert_eq!(decode(&encode(at, "k|1")), Some((at, "k|1".to_owned())));
        assert_eq!(decode("garbage"), None);
    }
}
