//! Provider webhooks (#5): `GET/POST /webhooks/whatsapp` (Meta's Cloud API) and
//! `POST /webhooks/evolution/{secret}` (Evolution API). The routes only check the request
//! and hand the raw body to [`commands::whatsapp::Inbox`]; they answer 200 once every
//! message and status is committed, so a provider retries exactly what was not recorded.

mod cloud;
mod evolution;

use crate::error::ApiError;
use crate::request::BODY_LIMIT_BYTES;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use commands::privacy::KeyRing;
use commands::whatsapp::{ChannelStore, Inbox, WebhookError};
use commands::CommandBus;
use sqlx::PgPool;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the WhatsApp webhooks use.
#[derive(Debug, Clone)]
pub struct WebhooksState {
    /// The WhatsApp channel: webhook secrets, handlers and tenants' channel settings.
    pub whatsapp: WhatsAppHttp,
    /// Each provider number's rate limit (issue 19).
    pub rate_limits: crate::rate_limit::RateLimiters,
}

/// The WhatsApp channel as the HTTP side sees it.
#[derive(Clone)]
pub struct WhatsAppHttp {
    /// Meta's app secret (`WHATSAPP_APP_SECRET`), the key of `X-Hub-Signature-256`.
    pub app_secret: Option<Arc<[u8]>>,
    /// The token Meta echoes when verifying the callback (`WHATSAPP_VERIFY_TOKEN`).
    pub verify_token: Option<String>,
    /// The webhook command handlers.
    pub inbox: Inbox,
    /// The tenants' channel settings.
    pub channels: ChannelStore,
    /// The platform's own Evolution API server, offered to tenants that bring none.
    pub evolution: Option<EvolutionServer>,
    /// The client of tenants' Evolution API servers.
    pub evolution_client: integrations::evolution::EvolutionClient,
}

/// An Evolution API server and its global key (`EVOLUTION_API_URL`, `EVOLUTION_API_KEY`).
#[derive(Clone)]
pub struct EvolutionServer {
    /// Its base URL.
    pub url: String,
    /// Its global API key, which creates instances.
    pub global_key: String,
}

impl std::fmt::Debug for EvolutionServer {
    // The key is a credential: it must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvolutionServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for WhatsAppHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppHttp")
            .field("app_secret_set", &self.app_secret.is_some())
            .field("verify_token_set", &self.verify_token.is_some())
            .field("evolution", &self.evolution)
            .finish_non_exhaustive()
    }
}

impl WhatsAppHttp {
    /// The channel over `pool` with no secrets configured (webhooks are refused).
    pub fn new(pool: PgPool, bus: Arc<CommandBus>, keys: Arc<KeyRing>) -> Self {
        let channels = ChannelStore::new(pool.clone(), keys);
        Self {
            app_secret: None,
            verify_token: None,
            inbox: Inbox::new(bus, pool, channels.clone()),
            channels,
            evolution: None,
            evolution_client: integrations::evolution::EvolutionClient::new(),
        }
    }
}

/// The webhook routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    WebhooksState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(cloud::verify, cloud::receive))
        .routes(routes!(evolution::receive))
}

/// The raw body, or the reason it could not be read (413 beyond the limit).
pub(crate) fn raw_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit_bytes: BODY_LIMIT_BYTES,
            }
        } else {
            ApiError::BadRequest {
                code: "unreadable_body",
                message: e.body_text(),
            }
        }
    })
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::BadSignature => ApiError::Unauthorized(e.to_string()),
            WebhookError::Malformed(_) => ApiError::BadRequest {
                code: "malformed_webhook",
                message: e.to_string(),
            },
            WebhookError::UnknownSecret => ApiError::NotFound {
                code: "webhook_not_found",
                message: e.to_string(),
            },
            WebhookError::NotConfigured => ApiError::Unavailable(e.to_string()),
            WebhookError::Command(c) => c.into(),
            other => ApiError::internal(other),
        }
    }
}
