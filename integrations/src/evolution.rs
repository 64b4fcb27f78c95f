//! Evolution API v2's instance API: creating a tenant's instance, its QR code, its
//! connection state and where it posts its webhooks. Every call carries the `apikey`
//! header (the server's global key to create an instance, the instance's own key after).
//! Shapes vary between Evolution releases, so answers are read leniently.

use serde_json::{json, Value};
use std::time::Duration;

/// The events the tenant's webhook receives.
const WEBHOOK_EVENTS: [&str; 2] = ["MESSAGES_UPSERT", "CONNECTION_UPDATE"];

/// How long one call may take: an owner waits for it in the console.
const TIMEOUT: Duration = Duration::from_secs(15);

/// A failed call to the Evolution API.
#[derive(Debug, thiserror::Error)]
pub enum EvolutionError {
    /// The server could not be reached or did not answer in time.
    #[error("the Evolution API could not be reached: {0}")]
    Unreachable(String),
    /// The server answered with an error status.
    #[error("the Evolution API refused the call (HTTP {status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Evolution's explanation, short.
        message: String,
    },
    /// The server answered 2xx with a body this client cannot use.
    #[error("the Evolution API answered in an unexpected shape: {0}")]
    Unexpected(String),
}

impl EvolutionError {
    /// Whether Evolution said the instance does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Refused { status: 404, .. })
    }
}

/// An instance just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedInstance {
    /// Its name.
    pub name: String,
    /// Its own API key (`hash`), when Evolution returned one.
    pub api_key: Option<String>,
    /// The first QR code, when Evolution returned one.
    pub qr: Option<Qr>,
}

/// A QR code to scan with the phone, or a code to type on it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Qr {
    /// The QR image, PNG, base64 (without a `data:` prefix).
    pub png_base64: Option<String>,
    /// The code to type on the phone instead of scanning.
    pub pairing_code: Option<String>,
}

/// Whether the phone is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionState {
    /// Connected: messages flow.
    Open,
    /// Waiting for the QR code to be scanned.
    Connecting,
    /// Not connected.
    Close,
}

impl ConnectionState {
    /// Evolution's name of the state; anything unknown counts as `close`.
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" | "connected" => Self::Open,
            "connecting" => Self::Connecting,
            _ => Self::Close,
        }
    }

    /// The state's name, as Evolution spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Connecting => "connecting",
            Self::Close => "close",
        }
    }
}

/// A client of one Evolution API server.
#[derive(Debug, Clone)]
pub struct EvolutionClient {
    http: reqwest::Client,
}

impl Default for EvolutionClient {
    fn default() -> Self {
        Self::new()
    }
}

/// `base64` without the `data:image/png;base64,` prefix Evolution usually adds.
fn bare_base64(s: &str) -> String {
    match s.split_once(";base64,") {
        Some((prefix, data)) if prefix.starts_with("data:") => data.to_owned(),
        _ => s.to_owned(),
    }
}

fn non_empty(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The QR of a `connect` answer or of a `create` answer's `qrcode`.
fn qr_of(v: &Value) -> Qr {
    Qr {
        png_base64: non_empty(v.get("base64")).map(|s| bare_base64(&s)),
        pairing_code: non_empty(v.get("pairingCode")),
    }
}

fn refusal(status: reqwest::StatusCode, body: &str) -> EvolutionError {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    // Evolution answers `{status, error, response: {message: [..]}}`.
    let message = parsed
        .as_ref()
        .and_then(|v| {
            let m = v
                .pointer("/response/message")
                .or_else(|| v.get("message"))?;
            Some(match m {
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("; "),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        })
        .or_else(|| non_empty(parsed.as_ref().and_then(|v| v.get("error"))))
        .unwrap_or_else(|| body.chars().take(300).collect());
    EvolutionError::Refused {
        status: status.as_u16(),
        message,
    }
}

impl EvolutionClient {
    /// A client with its own connection pool.
    pub fn new() -> Self {
        // reqwest's rustls needs a process-wide crypto provider; another component may have
        // installed it already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the Evolution client's settings were refused; using defaults");
                reqwest::Client::new()
            });
        Self { http }
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, EvolutionError> {
        let response = request
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| EvolutionError::Unreachable(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| EvolutionError::Unreachable(e.to_string()))?;
        if !status.is_success() {
            return Err(refusal(status, &text));
        }
        serde_json::from_str(&text).map_err(|e| EvolutionError::Unexpected(e.to_string()))
    }

    fn url(base: &str, path: &str) -> String {
        format!("{}{path}", base.trim_end_matches('/'))
    }

    /// `POST /instance/create` with the server's global key: a Baileys instance named
    /// `name` that returns a QR code.
    #[tracing::instrument(name = "creating an Evolution instance", skip(self, global_key))]
    pub async fn create_instance(
        &self,
        base: &str,
        global_key: &str,
        name: &str,
    ) -> Result<CreatedInstance, EvolutionError> {
        let body = self
            .call(
                self.http
                    .post(Self::url(base, "/instance/create"))
                    .header("apikey", global_key)
                    .json(&json!({
                        "instanceName": name,
                        "qrcode": true,
                        "integration": "WHATSAPP-BAILEYS",
                    })),
            )
            .await?;
        // v2 answers `hash: "<key>"`, older releases `hash: {apikey}`.
        let api_key =
            non_empty(body.get("hash")).or_else(|| non_empty(body.pointer("/hash/apikey")));
        let name = non_empty(body.pointer("/instance/instanceName")).unwrap_or_else(|| {
            tracing::warn!("the created instance's answer did not name it");
            name.to_owned()
        });
        let qr = body
            .get("qrcode")
            .map(qr_of)
            .filter(|q| *q != Qr::default());
        Ok(CreatedInstance { name, api_key, qr })
    }

    /// `GET /instance/connect/{instance}`: a fresh QR code (none when already connected).
    #[tracing::instrument(name = "asking Evolution for a QR code", skip(self, key))]
    pub async fn connect(
        &self,
        base: &str,
        key: &str,
        instance: &str,
    ) -> Result<Qr, EvolutionError> {
        let body = self
            .call(
                self.http
                    .get(Self::url(base, &format!("/instance/connect/{instance}")))
                    .header("apikey", key),
            )
            .await?;
        // Some releases nest it under `qrcode`.
        Ok(match body.get("qrcode") {
            Some(inner) if inner.is_object() => qr_of(inner),
            _ => qr_of(&body),
        })
    }

    /// `GET /instance/connectionState/{instance}`.
    #[tracing::instrument(name = "asking Evolution for a connection state", skip(self, key))]
    pub async fn connection_state(
        &self,
        base: &str,
        key: &str,
        instance: &str,
    ) -> Result<ConnectionState, EvolutionError> {
        let body = self
            .call(
                self.http
                    .get(Self::url(
                        base,
                        &format!("/instance/connectionState/{instance}"),
                    ))
                    .header("apikey", key),
            )
            .await?;
        let state = non_empty(body.pointer("/instance/state"))
            .or_else(|| non_empty(body.get("state")))
            .ok_or_else(|| EvolutionError::Unexpected(format!("no state in {body}")))?;
        Ok(ConnectionState::parse(&state))
    }

    /// `POST /webhook/set/{instance}`: messages and connection changes posted to `url`.
    #[tracing::instrument(
        name = "pointing an Evolution instance's webhook at atende",
        skip(self, key, url)
    )]
    pub async fn set_webhook(
        &self,
        base: &str,
        key: &str,
        instance: &str,
        url: &str,
    ) -> Result<(), EvolutionError> {
        self.call(
            self.http
                .post(Self::url(base, &format!("/webhook/set/{instance}")))
                .header("apikey", key)
                .json(&json!({"webhook": {
                    "enabled": true,
                    "url": url,
                    "byEvents": false,
                    "base64": false,
                    "events": WEBHOOK_EVENTS,
                }})),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_url_loses_its_prefix_and_bare_base64_is_kept() {
        assert_eq!(bare_base64("data:image/png;base64,iVBOR"), "iVBOR");
        assert_eq!(bare_base64("iVBOR"), "iVBOR");
    }

    #[test]
    fn states_are_read_as_evolution_names_them() {
        assert_eq!(ConnectionState::parse("open"), ConnectionState::Open);
        assert_eq!(
            ConnectionState::parse("connecting"),
            ConnectionState::Connecting
        );
        assert_eq!(ConnectionState::parse("close"), ConnectionState::Close);
        assert_eq!(ConnectionState::parse("refused"), ConnectionState::Close);
    }

    #[test]
    fn a_refusal_names_evolutions_messages() {
        let e = refusal(
            reqwest::StatusCode::FORBIDDEN,
            r#"{"status":403,"error":"Forbidden","response":{"message":["This name \"loja\" is already in use."]}}"#,
        );
        assert_eq!(
            e.to_string(),
            "the Evolution API refused the call (HTTP 403): This name \"loja\" is already in use."
        );
    }
}
