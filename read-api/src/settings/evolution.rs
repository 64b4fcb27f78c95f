//! Connecting a phone through the Evolution API (F40): `POST
//! /api/v1/settings/whatsapp/evolution/instance` creates the tenant's instance and points its
//! webhook at atende, `GET …/evolution/qr` shows the QR code to scan, `GET …/evolution/state`
//! whether the phone is connected. The Evolution server is the one the owner names, or the
//! platform's (`EVOLUTION_API_URL`); the instance's own key is stored sealed with the other
//! channel credentials, never in an event.

use super::SettingsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiJson, RequireTenantOwner};
use axum::extract::State;
use axum::Json;
use commands::whatsapp::{Channel, ChannelUpdate, Provider};
use integrations::evolution::{ConnectionState, EvolutionError, Qr};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which Evolution server to create the instance on; every field is optional.
#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct CreateInstanceRequest {
    /// The Evolution server's base URL; default: the one stored in the WhatsApp settings,
    /// else the platform's.
    pub evolution_url: Option<String>,
    /// The server's global API key (it creates instances); default: the platform's for the
    /// platform's server, else the key stored in the WhatsApp settings. Never stored as
    /// given: the instance's own key is kept instead when Evolution returns one.
    pub global_api_key: Option<String>,
    /// The instance's name (letters, digits, `_`, `-`); default: the stored one, else
    /// `atende-<tenant id>`.
    pub instance_name: Option<String>,
}

impl std::fmt::Debug for CreateInstanceRequest {
    // The key is a credential: it must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateInstanceRequest")
            .field("evolution_url", &self.evolution_url)
            .field("instance_name", &self.instance_name)
            .finish_non_exhaustive()
    }
}

/// The phone's connection: `open` (connected), `connecting` (waiting for the QR code to be
/// scanned) or `close`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvolutionState {
    /// `open`, `connecting` or `close`, as Evolution reports it.
    #[schema(value_type = String, example = "connecting")]
    pub state: ConnectionState,
    /// Whether messages flow (`state` is `open`).
    pub connected: bool,
}

impl From<ConnectionState> for EvolutionState {
    fn from(state: ConnectionState) -> Self {
        Self {
            state,
            connected: state == ConnectionState::Open,
        }
    }
}

/// A QR code to scan (while not connected), with the state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvolutionQr {
    /// The QR image: PNG, base64 (no `data:` prefix). Absent once connected. It expires
    /// within about a minute: ask again while `state` is not `open`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_png_base64: Option<String>,
    /// A code to type on the phone instead of scanning, when Evolution gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairing_code: Option<String>,
    /// `open`, `connecting` or `close`.
    #[schema(value_type = String, example = "connecting")]
    pub state: ConnectionState,
    /// Whether the phone is connected.
    pub connected: bool,
}

/// The instance created (or found) and ready to be scanned.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvolutionInstance {
    /// The instance's name on the Evolution server.
    pub instance: String,
    /// The Evolution server.
    pub evolution_url: String,
    /// Where the instance posts its webhooks (under `ATENDE_PUBLIC_URL`; keep it private).
    pub webhook_url: String,
    /// The first QR code and the state.
    #[serde(flatten)]
    pub qr: EvolutionQr,
}

impl From<EvolutionError> for ApiError {
    fn from(e: EvolutionError) -> Self {
        match &e {
            EvolutionError::Refused { status, .. } if *status < 500 => Self::Unprocessable {
                code: "evolution_refused",
                message: e.to_string(),
                details: None,
            },
            EvolutionError::Refused { .. } | EvolutionError::Unexpected(_) => {
                Self::DependencyUnavailable {
                    code: "evolution_failed",
                    message: e.to_string(),
                }
            }
            EvolutionError::Unreachable(_) => Self::DependencyUnavailable {
                code: "evolution_unreachable",
                message: e.to_string(),
            },
        }
    }
}

fn not_configured(message: &str) -> ApiError {
    ApiError::Unprocessable {
        code: "evolution_not_configured",
        message: message.to_owned(),
        details: None,
    }
}

fn valid_instance_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn given(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The instance the tenant connected, with its server and key.
struct Connected {
    url: String,
    instance: String,
    key: String,
}

async fn connected(state: &SettingsState, tenant: Uuid) -> Result<Connected, ApiError> {
    let channel: Option<Channel> = state.whatsapp.channels.get(tenant).await?;
    let Some(channel) = channel.filter(|c| c.provider == Provider::Evolution) else {
        return Err(ApiError::NotFound {
            code: "no_evolution_instance",
            message: "no Evolution instance is set up: create one first".into(),
        });
    };
    let key = state.whatsapp.channels.evolution_api_key(&channel).await?;
    match (channel.evolution_url, channel.evolution_instance, key) {
        (Some(url), Some(instance), Some(key)) => Ok(Connected { url, instance, key }),
        _ => Err(ApiError::NotFound {
            code: "no_evolution_instance",
            message: "the Evolution settings lack a URL, an instance or an API key".into(),
        }),
    }
}

async fn remember(state: &SettingsState, tenant: Uuid, s: ConnectionState) -> Result<(), ApiError> {
    state
        .whatsapp
        .channels
        .record_evolution_state(tenant, s.as_str())
        .await?;
    Ok(())
}

/// A fresh QR code unless the phone is connected.
async fn qr_of(
    state: &SettingsState,
    tenant: Uuid,
    c: &Connected,
) -> Result<EvolutionQr, ApiError> {
    let client = &state.whatsapp.evolution_client;
    let mut current = client.connection_state(&c.url, &c.key, &c.instance).await?;
    let mut qr = Qr::default();
    if current != ConnectionState::Open {
        qr = client.connect(&c.url, &c.key, &c.instance).await?;
        // Asking for a QR code starts a connection attempt.
        if current == ConnectionState::Close && qr.png_base64.is_some() {
            current = ConnectionState::Connecting;
        }
    }
    remember(state, tenant, current).await?;
    Ok(EvolutionQr {
        qr_png_base64: qr.png_base64,
        pairing_code: qr.pairing_code,
        state: current,
        connected: current == ConnectionState::Open,
    })
}

/// Creates the tenant's Evolution instance (or reuses the one already set up), points its
/// webhook at `<ATENDE_PUBLIC_URL>/webhooks/evolution/<secret>`, stores the instance's key
/// sealed and switches the channel to `evolution`; answers the first QR code.
/// 422 `evolution_not_configured` without a server and key, 422 `invalid_instance_name`,
/// 422 `evolution_refused` when Evolution refuses (bad key, name taken), 503
/// `evolution_unreachable`.
#[utoipa::path(
    post,
    path = "/api/v1/settings/whatsapp/evolution/instance",
    operation_id = "create_evolution_instance",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body = CreateInstanceRequest,
    responses(
        (status = 200, description = "The instance, its webhook and its first QR code", body = EvolutionInstance),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::Unprocessable,
        r::Unavailable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "creating an owner's Evolution instance", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn create(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
    ApiJson(body): ApiJson<CreateInstanceRequest>,
) -> Result<Json<EvolutionInstance>, ApiError> {
    let tenant = owner.tenant_id;
    let channels = &state.whatsapp.channels;
    let channel = channels.ensure(tenant).await?;
    let platform = state.whatsapp.evolution.as_ref();
    let url = given(&body.evolution_url)
        .map(|u| u.trim_end_matches('/').to_owned())
        .or_else(|| channel.evolution_url.clone())
        .or_else(|| platform.map(|p| p.url.clone()))
        .ok_or_else(|| {
            not_configured("no Evolution server: give evolution_url and global_api_key")
        })?;
    let on_platform = platform.filter(|p| p.url == url);
    let key = match (given(&body.global_api_key), on_platform) {
        (Some(key), _) => Some(key),
        (None, Some(p)) => Some(p.global_key.clone()),
        (None, None) => channels.evolution_api_key(&channel).await?,
    }
    .ok_or_else(|| not_configured("no API key for the Evolution server: give global_api_key"))?;
    let name = given(&body.instance_name)
        .or_else(|| channel.evolution_instance.clone())
        .unwrap_or_else(|| format!("atende-{}", tenant.simple()));
    if !valid_instance_name(&name) {
        return Err(ApiError::Unprocessable {
            code: "invalid_instance_name",
            message: "an instance name is 1 to 64 letters, digits, `_` or `-`".into(),
            details: None,
        });
    }
    let client = &state.whatsapp.evolution_client;
    // The instance this channel already set up is reused: pressing "create" again after a
    // failure must not fail on the name being taken by ourselves.
    let stored_key = channels.evolution_api_key(&channel).await?;
    let existing = match (
        &channel.evolution_instance,
        &channel.evolution_url,
        stored_key,
    ) {
        (Some(i), Some(u), Some(k)) if *i == name && *u == url => {
            match client.connection_state(&url, &k, &name).await {
                Ok(_) => Some(k),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    let (instance, instance_key) = match existing {
        Some(k) => (name, k),
        None => {
            let created = client.create_instance(&url, &key, &name).await?;
            let own = created.api_key.unwrap_or(key);
            (created.name, own)
        }
    };
    let webhook_url = state
        .public_url
        .link(&format!("/webhooks/evolution/{}", channel.webhook_secret));
    client
        .set_webhook(&url, &instance_key, &instance, &webhook_url)
        .await?;
    channels
        .update(
            tenant,
            ChannelUpdate {
                provider: Some(Provider::Evolution),
                evolution_url: Some(url.clone()),
                evolution_instance: Some(instance.clone()),
                evolution_api_key: Some(instance_key.clone()),
                ..ChannelUpdate::default()
            },
        )
        .await?;
    let connected = Connected {
        url: url.clone(),
        instance: instance.clone(),
        key: instance_key,
    };
    let qr = qr_of(&state, tenant, &connected).await?;
    Ok(Json(EvolutionInstance {
        instance,
        evolution_url: url,
        webhook_url,
        qr,
    }))
}

/// A fresh QR code to scan, unless the phone is already connected (then only the state).
/// 404 `no_evolution_instance` before one is created.
#[utoipa::path(
    get,
    path = "/api/v1/settings/whatsapp/evolution/qr",
    operation_id = "show_evolution_qr",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The QR code and the state", body = EvolutionQr),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Unprocessable,
        r::Unavailable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing an owner the Evolution QR code", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn qr(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
) -> Result<Json<EvolutionQr>, ApiError> {
    let c = connected(&state, owner.tenant_id).await?;
    Ok(Json(qr_of(&state, owner.tenant_id, &c).await?))
}

/// Whether the phone is connected, as Evolution says now. 404 `no_evolution_instance`
/// before one is created.
#[utoipa::path(
    get,
    path = "/api/v1/settings/whatsapp/evolution/state",
    operation_id = "show_evolution_state",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The connection state", body = EvolutionState),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Unprocessable,
        r::Unavailable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing an owner the Evolution connection state", skip_all, fields(tenant = %owner.tenant_id))]
pub(super) async fn connection_state(
    State(state): State<SettingsState>,
    owner: RequireTenantOwner,
) -> Result<Json<EvolutionState>, ApiError> {
    let c = connected(&state, owner.tenant_id).await?;
    let current = state
        .whatsapp
        .evolution_client
        .connection_state(&c.url, &c.key, &c.instance)
        .await?;
    remember(&state, owner.tenant_id, current).await?;
    Ok(Json(current.into()))
}
