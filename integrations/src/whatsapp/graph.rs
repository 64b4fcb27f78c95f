//! The providers' send endpoints: Meta's Cloud API (Graph) and the Evolution API.

use serde_json::{json, Value};
use std::time::Duration;

/// The Cloud API's limit on a text body, in characters.
const MAX_BODY_CHARS: usize = 4096;

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Accepted, with the provider's id of the message.
    Sent(String),
    /// A temporary failure (429, 5xx, network): try again later.
    Retry(String),
    /// Refused for good (4xx): trying again would fail the same way.
    Refused(String),
}

/// What to send.
#[derive(Debug, Clone)]
pub enum Content<'a> {
    /// Free text, inside the 24 h customer window.
    Text(&'a str),
    /// An approved template, outside it.
    Template {
        /// The template's name.
        name: &'a str,
        /// Its language code.
        language: &'a str,
    },
}

fn truncated(text: &str) -> String {
    text.chars().take(MAX_BODY_CHARS).collect()
}

/// The Cloud API request body for `content` to `to`.
pub fn cloud_body(to: &str, content: &Content<'_>) -> Value {
    match content {
        Content::Text(text) => json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"preview_url": false, "body": truncated(text)},
        }),
        Content::Template { name, language } => json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": {"name": name, "language": {"code": language}},
        }),
    }
}

/// The provider's explanation of a refusal, short.
fn reason(status: reqwest::StatusCode, body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let detail = parsed.as_ref().and_then(|v| {
        let e = v.get("error").unwrap_or(v);
        let message = e
            .get("message")
            .or_else(|| e.get("error_user_msg"))
            .and_then(Value::as_str)?;
        Some(match e.get("code") {
            Some(code) => format!("{code}: {message}"),
            None => message.to_owned(),
        })
    });
    let detail = detail.unwrap_or_else(|| body.chars().take(300).collect());
    format!("HTTP {}: {detail}", status.as_u16())
}

async fn post(request: reqwest::RequestBuilder, id_of: fn(&Value) -> Option<&str>) -> Attempt {
    let response = match request.timeout(Duration::from_secs(20)).send().await {
        Ok(r) => r,
        Err(e) => return Attempt::Retry(format!("the request failed: {e}")),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        return match id_of(&body) {
            Some(id) => Attempt::Sent(id.to_owned()),
            // Accepted without an id: sending again would duplicate it.
            None => Attempt::Sent(String::new()),
        };
    }
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Attempt::Retry(reason(status, &text))
    } else {
        Attempt::Refused(reason(status, &text))
    }
}

/// `POST {base}/{phone_number_id}/messages` with the Bearer token.
pub async fn send_cloud(
    http: &reqwest::Client,
    base: &str,
    phone_number_id: &str,
    token: &str,
    to: &str,
    content: &Content<'_>,
) -> Attempt {
    let url = format!("{}/{phone_number_id}/messages", base.trim_end_matches('/'));
    let request = http
        .post(url)
        .bearer_auth(token)
        .json(&cloud_body(to, content));
    post(request, |v| {
        v.pointer("/messages/0/id").and_then(Value::as_str)
    })
    .await
}

/// `POST {url}/message/sendText/{instance}` with the `apikey` header (Evolution API v2).
pub async fn send_evolution(
    http: &reqwest::Client,
    url: &str,
    instance: &str,
    api_key: &str,
    to: &str,
    text: &str,
) -> Attempt {
    let url = format!("{}/message/sendText/{instance}", url.trim_end_matches('/'));
    let request = http
        .post(url)
        .header("apikey", api_key)
        .json(&json!({"number": to, "text": truncated(text)}));
    post(request, |v| v.pointer("/key/id").and_then(Value::as_str)).await
}

/// Whether the Evolution instance already sent `text` to `to` since `since`, and under
/// which message id: `POST {url}/chat/findMessages/{instance}` (Evolution API v2), the
/// instance's own record of its messages (kept while its `DATABASE_SAVE_DATA_NEW_MESSAGE`
/// is on, the default). The sender asks before sending again a message whose earlier
/// attempt's outcome was lost, since Evolution's send endpoints take no id of ours. An
/// error means the instance cannot tell (no stored messages, unreachable).
pub async fn find_evolution_sent(
    http: &reqwest::Client,
    url: &str,
    instance: &str,
    api_key: &str,
    to: &str,
    text: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, String> {
    let url = format!("{}/chat/findMessages/{instance}", url.trim_end_matches('/'));
    // Both bounds are required; the upper one only has to be past any clock skew.
    let until = chrono::Utc::now() + chrono::Duration::hours(1);
    let body = json!({"where": {
        "key": {"fromMe": true},
        "messageTimestamp": {"gte": since.to_rfc3339(), "lte": until.to_rfc3339()},
    }});
    let response = http
        .post(url)
        .header("apikey", api_key)
        .json(&body)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(|e| format!("the lookup failed: {e}"))?;
    let status = response.status();
    let text_body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(reason(status, &text_body));
    }
    let found: Value = serde_json::from_str(&text_body)
        .map_err(|e| format!("the lookup's answer is not JSON: {e}"))?;
    let records = found
        .pointer("/messages/records")
        .and_then(Value::as_array)
        .ok_or("the lookup's answer has no messages.records")?;
    let sent = truncated(text);
    Ok(records.iter().find_map(|r| {
        let jid = r.pointer("/key/remoteJid").and_then(Value::as_str)?;
        let body = r
            .pointer("/message/conversation")
            .or_else(|| r.pointer("/message/extendedTextMessage/text"))
            .and_then(Value::as_str)?;
        if body != sent || !same_number(jid, to) {
            return None;
        }
        r.pointer("/key/id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }))
}

/// Whether a WhatsApp JID (`5511988887777@s.whatsapp.net`) is the number `to`. Brazilian
/// mobile numbers are known to WhatsApp with or without the ninth digit, so those compare
/// on country and area code and the last eight digits.
fn same_number(jid: &str, to: &str) -> bool {
    let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
    let (a, b) = (
        digits(jid.split('@').next().unwrap_or_default()),
        digits(to),
    );
    if a == b {
        return true;
    }
    let brazilian = |n: &str| n.starts_with("55") && (12..=13).contains(&n.len());
    brazilian(&a) && brazilian(&b) && a[..4] == b[..4] && a[a.len() - 8..] == b[b.len() - 8..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_sent_as_the_cloud_api_documents_it() {
        let body = cloud_body("5511999999999", &Content::Text("Olá"));
        assert_eq!(
            body,
            json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                   "to": "5511999999999", "type": "text",
                   "text": {"preview_url": false, "body": "Olá"}})
        );
    }

    #[test]
    fn a_long_text_is_cut_at_the_cloud_api_limit() {
        let long = "a".repeat(5000);
        let body = cloud_body("1", &Content::Text(&long));
        assert_eq!(body["text"]["body"].as_str().map(str::len), Some(4096));
    }

    #[test]
    fn a_jid_is_its_number_with_or_without_the_brazilian_ninth_digit() {
        assert!(same_number("5511988887777@s.whatsapp.net", "5511988887777"));
        assert!(same_number("551188887777@s.whatsapp.net", "5511988887777"));
        assert!(!same_number(
            "5511988887770@s.whatsapp.net",
            "5511988887777"
        ));
        assert!(!same_number(
            "5521988887777@s.whatsapp.net",
            "5511988887777"
        ));
        assert!(!same_number("14155550100@s.whatsapp.net", "4155550100"));
    }

    #[test]
    fn a_refusal_names_the_provider_error() {
        let r = reason(
            reqwest::StatusCode::BAD_REQUEST,
            r#"{"error":{"message":"Invalid parameter","code":100}}"#,
        );
        assert_eq!(r, "HTTP 400: 100: Invalid parameter");
    }
}
