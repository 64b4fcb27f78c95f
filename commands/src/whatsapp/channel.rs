//! Each tenant's WhatsApp channel: provider, webhook secret, sealed credentials and the
//! template sent outside the 24 h window. Credentials never enter events; they are sealed
//! under the tenant's subject key, which the master key wraps.

use super::WebhookError;
use crate::privacy::{KeyRing, Subject};
use chrono::Utc;
use schemas::personal::{Opener, Sealed, Sealer};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

/// Which gateway the tenant's number is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Meta's WhatsApp Cloud API (Graph).
    #[default]
    CloudApi,
    /// A self-hosted Evolution API instance.
    Evolution,
}

impl Provider {
    fn as_str(self) -> &'static str {
        match self {
            Self::CloudApi => "cloud_api",
            Self::Evolution => "evolution",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "evolution" {
            Self::Evolution
        } else {
            Self::CloudApi
        }
    }
}

/// A tenant's channel as stored; credentials stay sealed here.
#[derive(Clone)]
pub struct Channel {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The gateway.
    pub provider: Provider,
    /// The secret in the tenant's Evolution webhook URL.
    pub webhook_secret: String,
    /// The tenant's own Cloud API token, sealed.
    sealed_access_token: Option<String>,
    /// The approved template sent outside the 24 h window.
    pub template_name: Option<String>,
    /// Its language code (e.g. `pt_BR`).
    pub template_language: Option<String>,
    /// The Evolution API's base URL.
    pub evolution_url: Option<String>,
    /// The Evolution instance name.
    pub evolution_instance: Option<String>,
    sealed_evolution_api_key: Option<String>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("tenant_id", &self.tenant_id)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// Whether the tenant stored its own access token.
    pub fn has_access_token(&self) -> bool {
        self.sealed_access_token.is_some()
    }

    /// Whether an Evolution API key is stored.
    pub fn has_evolution_api_key(&self) -> bool {
        self.sealed_evolution_api_key.is_some()
    }
}

/// A change to a channel. `None` keeps a field; an empty string clears it.
#[derive(Default, Clone)]
pub struct ChannelUpdate {
    /// The gateway.
    pub provider: Option<Provider>,
    /// The Cloud API access token (stored sealed).
    pub access_token: Option<String>,
    /// The template's name.
    pub template_name: Option<String>,
    /// The template's language code.
    pub template_language: Option<String>,
    /// The Evolution API's base URL.
    pub evolution_url: Option<String>,
    /// The Evolution instance.
    pub evolution_instance: Option<String>,
    /// The Evolution API key (stored sealed).
    pub evolution_api_key: Option<String>,
}

impl std::fmt::Debug for ChannelUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelUpdate")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

type Row = (
    Uuid,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const COLUMNS: &str = "tenant_id, provider, webhook_secret, access_token, template_name, \
                       template_language, evolution_url, evolution_instance, evolution_api_key";

fn channel((t, p, s, tok, tn, tl, eu, ei, ek): Row) -> Channel {
    Channel {
        tenant_id: t,
        provider: Provider::parse(&p),
        webhook_secret: s,
        sealed_access_token: tok,
        template_name: tn,
        template_language: tl,
        evolution_url: eu,
        evolution_instance: ei,
        sealed_evolution_api_key: ek,
    }
}

/// The `whatsapp_channels` table.
#[derive(Debug, Clone)]
pub struct ChannelStore {
    pool: PgPool,
    keys: Arc<KeyRing>,
}

impl ChannelStore {
    /// A store over `pool`, sealing with `keys`.
    pub fn new(pool: PgPool, keys: Arc<KeyRing>) -> Self {
        Self { pool, keys }
    }

    /// The tenant's channel, if it has one.
    pub async fn get(&self, tenant: Uuid) -> Result<Option<Channel>, WebhookError> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM whatsapp_channels WHERE tenant_id = $1"
        ))
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(channel))
    }

    /// The tenant's channel, created (with a fresh webhook secret) on first use.
    pub async fn ensure(&self, tenant: Uuid) -> Result<Channel, WebhookError> {
        let secret = hex::encode(rand::random::<[u8; 24]>());
        sqlx::query(
            "INSERT INTO whatsapp_channels (tenant_id, webhook_secret) VALUES ($1, $2)
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(secret)
        .execute(&self.pool)
        .await?;
        let row: Row = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM whatsapp_channels WHERE tenant_id = $1"
        ))
        .bind(tenant)
        .fetch_one(&self.pool)
        .await?;
        Ok(channel(row))
    }

    /// Applies `update`, sealing credentials first.
    pub async fn update(
        &self,
        tenant: Uuid,
        update: ChannelUpdate,
    ) -> Result<Channel, WebhookError> {
        self.ensure(tenant).await?;
        let token = self
            .seal_opt(tenant, update.access_token.as_deref())
            .await?;
        let api_key = self
            .seal_opt(tenant, update.evolution_api_key.as_deref())
            .await?;
        // `NULLIF(x, '')` turns an empty string into "clear"; NULL keeps the stored value.
        sqlx::query(
            "UPDATE whatsapp_channels SET
                provider = COALESCE($2, provider),
                access_token = CASE WHEN $3::text IS NULL THEN access_token ELSE NULLIF($3, '') END,
                template_name = CASE WHEN $4::text IS NULL THEN template_name ELSE NULLIF($4, '') END,
                template_language = CASE WHEN $5::text IS NULL THEN template_language ELSE NULLIF($5, '') END,
                evolution_url = CASE WHEN $6::text IS NULL THEN evolution_url ELSE NULLIF($6, '') END,
                evolution_instance = CASE WHEN $7::text IS NULL THEN evolution_instance ELSE NULLIF($7, '') END,
                evolution_api_key = CASE WHEN $8::text IS NULL THEN evolution_api_key ELSE NULLIF($8, '') END,
                updated_at = now()
              WHERE tenant_id = $1",
        )
        .bind(tenant)
        .bind(update.provider.map(Provider::as_str))
        .bind(token)
        .bind(update.template_name.map(|s| s.trim().to_owned()))
        .bind(update.template_language.map(|s| s.trim().to_owned()))
        .bind(update.evolution_url.map(|s| s.trim().trim_end_matches('/').to_owned()))
        .bind(update.evolution_instance.map(|s| s.trim().to_owned()))
        .bind(api_key)
        .execute(&self.pool)
        .await?;
        self.ensure(tenant).await
    }

    /// Remembers the connection state Evolution last reported for the tenant's instance
    /// (`open`, `connecting` or `close`).
    pub async fn record_evolution_state(
        &self,
        tenant: Uuid,
        state: &str,
    ) -> Result<(), WebhookError> {
        sqlx::query(
            "UPDATE whatsapp_channels SET evolution_state = $2, evolution_state_at = now()
              WHERE tenant_id = $1",
        )
        .bind(tenant)
        .bind(state)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The connection state Evolution last reported for the tenant's instance.
    pub async fn evolution_state(&self, tenant: Uuid) -> Result<Option<String>, WebhookError> {
        Ok(
            sqlx::query_scalar(
                "SELECT evolution_state FROM whatsapp_channels WHERE tenant_id = $1",
            )
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?
            .flatten(),
        )
    }

    /// The tenant whose Evolution webhook URL carries `secret`.
    pub async fn tenant_by_secret(&self, secret: &str) -> Result<Option<Uuid>, WebhookError> {
        Ok(
            sqlx::query_scalar("SELECT tenant_id FROM whatsapp_channels WHERE webhook_secret = $1")
                .bind(secret)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The tenant's own Cloud API token, opened; `None` when unset or its key is gone.
    pub async fn access_token(&self, channel: &Channel) -> Result<Option<String>, WebhookError> {
        self.open(channel.sealed_access_token.as_deref()).await
    }

    /// The Evolution API key, opened.
    pub async fn evolution_api_key(
        &self,
        channel: &Channel,
    ) -> Result<Option<String>, WebhookError> {
        self.open(channel.sealed_evolution_api_key.as_deref()).await
    }

    async fn seal_opt(
        &self,
        tenant: Uuid,
        value: Option<&str>,
    ) -> Result<Option<String>, WebhookError> {
        let Some(value) = value.map(str::trim) else {
            return Ok(None);
        };
        if value.is_empty() {
            return Ok(Some(String::new()));
        }
        let subject = Subject::tenant(&tenant.to_string());
        let key = self
            .keys
            .key_for(&subject, subject.period(Utc::now()))
            .await?;
        Ok(Some(key.seal(value).encode()))
    }

    async fn open(&self, sealed: Option<&str>) -> Result<Option<String>, WebhookError> {
        let Some(sealed) = sealed.and_then(Sealed::decode) else {
            return Ok(None);
        };
        let keys = self.keys.keys(&[sealed.k]).await?;
        Ok(keys.open(&sealed))
    }
}
