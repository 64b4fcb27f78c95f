//! Metadata every command carries and every event stores beside its payload.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use uuid::Uuid;

/// Who asked for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// The platform itself (workers, sagas, scheduled jobs).
    System,
    /// A tenant's owner or agent acting from the dashboard.
    TenantUser,
    /// A SaaS operator.
    Admin,
    /// Reads the log and its proofs; their own traced actions (downloads) name them so.
    Auditor,
    /// A WhatsApp user, through a provider webhook.
    Customer,
    /// A third-party service calling a webhook (Stripe, Meta).
    Provider,
}

impl ActorKind {
    /// The stable string stored in event metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::TenantUser => "tenant_user",
            Self::Admin => "admin",
            Self::Auditor => "auditor",
            Self::Customer => "customer",
            Self::Provider => "provider",
        }
    }

    /// Parses the stored string; unknown strings are `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "system" => Self::System,
            "tenant_user" => Self::TenantUser,
            "admin" => Self::Admin,
            "auditor" => Self::Auditor,
            "customer" => Self::Customer,
            "provider" => Self::Provider,
            _ => return None,
        })
    }
}

/// The actor behind a command: its kind and an identifier meaningful for that kind
/// (a user id, a worker name, a provider name). Never personal data in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// What sort of actor this is.
    pub kind: ActorKind,
    /// Its identifier.
    pub id: String,
}

impl Actor {
    /// The platform acting on its own, named after the component (e.g. `timeout-saga`).
    pub fn system(component: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: component.to_owned(),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

/// Metadata stored with every event a command produced.
///
/// `correlation_id` ties together everything that one outside request set off;
/// `causation_id` names the request or event that directly caused this command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMetadata {
    /// The HTTP request (or job run) that issued the command.
    pub request_id: Uuid,
    /// Who issued it.
    pub actor: Actor,
    /// The tenant it concerns, when there is one.
    pub tenant_id: Option<Uuid>,
    /// The id shared by every command of one business flow.
    pub correlation_id: Uuid,
    /// The request or event id that caused this command.
    pub causation_id: Uuid,
    /// A caller-chosen key; the same key twice means the same command.
    pub idempotency_key: Option<String>,
    /// The address of the HTTP client that asked for it (F46); `None` for commands no
    /// HTTP request caused, and in events recorded before it was kept.
    pub client_ip: Option<IpAddr>,
}

const REQUEST_ID: &str = "request_id";
const ACTOR_KIND: &str = "actor_kind";
const ACTOR_ID: &str = "actor_id";
const TENANT_ID: &str = "tenant_id";
const CORRELATION_ID: &str = "correlation_id";
const CAUSATION_ID: &str = "causation_id";
const IDEMPOTENCY_KEY: &str = "idempotency_key";
const CLIENT_IP: &str = "client_ip";

/// A metadata map that lacks a field or holds a malformed one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("event metadata field `{0}` is missing or malformed")]
pub struct MetadataError(pub &'static str);

impl CommandMetadata {
    /// Metadata for a command that starts a new flow: request, correlation and causation
    /// ids are all the same fresh id.
    pub fn new(actor: Actor, tenant_id: Option<Uuid>) -> Self {
        let id = Uuid::now_v7();
        Self {
            request_id: id,
            actor,
            tenant_id,
            correlation_id: id,
            causation_id: id,
            idempotency_key: None,
            client_ip: None,
        }
    }

    /// Metadata for a command issued in reaction to a stored event: same correlation,
    /// caused by that event. The client address is not inherited: the new command is not
    /// that client's request.
    pub fn caused_by(&self, event_id: Uuid, actor: Actor) -> Self {
        Self {
            request_id: Uuid::now_v7(),
            actor,
            tenant_id: self.tenant_id,
            correlation_id: self.correlation_id,
            causation_id: event_id,
            idempotency_key: None,
            client_ip: None,
        }
    }

    /// Sets the idempotency key.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Sets the request id (e.g. the one the HTTP layer assigned).
    pub fn with_request_id(mut self, request_id: Uuid) -> Self {
        self.request_id = request_id;
        self
    }

    /// Sets the client address of the HTTP request that issued the command.
    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }

    /// The flat string map cqrs-es stores in the `metadata` column.
    pub fn to_map(&self) -> HashMap<String, String> {
        let mut m = HashMap::with_capacity(8);
        m.insert(REQUEST_ID.into(), self.request_id.to_string());
        m.insert(ACTOR_KIND.into(), self.actor.kind.as_str().into());
        m.insert(ACTOR_ID.into(), self.actor.id.clone());
        if let Some(t) = self.tenant_id {
            m.insert(TENANT_ID.into(), t.to_string());
        }
        m.insert(CORRELATION_ID.into(), self.correlation_id.to_string());
        m.insert(CAUSATION_ID.into(), self.causation_id.to_string());
        if let Some(k) = &self.idempotency_key {
            m.insert(IDEMPOTENCY_KEY.into(), k.clone());
        }
        if let Some(ip) = self.client_ip {
            m.insert(CLIENT_IP.into(), ip.to_string());
        }
        m
    }

    /// Reads the map back; fails on a missing or malformed required field.
    pub fn from_map(m: &HashMap<String, String>) -> Result<Self, MetadataError> {
        let uuid = |k: &'static str| {
            m.get(k)
                .and_then(|v| Uuid::parse_str(v).ok())
                .ok_or(MetadataError(k))
        };
        let kind = m
            .get(ACTOR_KIND)
            .and_then(|k| ActorKind::parse(k))
            .ok_or(MetadataError(ACTOR_KIND))?;
        let tenant_id = match m.get(TENANT_ID) {
            Some(v) => Some(Uuid::parse_str(v).map_err(|_| MetadataError(TENANT_ID))?),
            None => None,
        };
        let client_ip = match m.get(CLIENT_IP) {
            Some(v) => Some(v.parse().map_err(|_| MetadataError(CLIENT_IP))?),
            None => None,
        };
        Ok(Self {
            request_id: uuid(REQUEST_ID)?,
            actor: Actor {
                kind,
                id: m.get(ACTOR_ID).cloned().ok_or(MetadataError(ACTOR_ID))?,
            },
            tenant_id,
            correlation_id: uuid(CORRELATION_ID)?,
            causation_id: uuid(CAUSATION_ID)?,
            idempotency_key: m.get(IDEMPOTENCY_KEY).cloned(),
            client_ip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_survives_the_round_trip_through_the_stored_map() {
        let md = CommandMetadata::new(Actor::system("test"), Some(Uuid::now_v7()))
            .with_idempotency_key("k-1");
        assert_eq!(CommandMetadata::from_map(&md.to_map()), Ok(md));
    }

    #[test]
    fn a_client_ip_survives_the_round_trip_through_the_stored_map() {
        for ip in ["203.0.113.7", "2001:db8::1"] {
            let md = CommandMetadata::new(Actor::system("test"), None)
                .with_client_ip(ip.parse().expect("an address"));
            let map = md.to_map();
            assert_eq!(map.get(CLIENT_IP).map(String::as_str), Some(ip));
            assert_eq!(CommandMetadata::from_map(&map), Ok(md));
        }
    }

    #[test]
    fn metadata_stored_before_client_ips_were_kept_reads_as_none() {
        let mut m = CommandMetadata::new(Actor::system("test"), None)
            .with_client_ip("203.0.113.7".parse().expect("an address"))
            .to_map();
        m.remove(CLIENT_IP);
        let md = CommandMetadata::from_map(&m);
        assert_eq!(md.map(|md| md.client_ip), Ok(None));
    }

    #[test]
    fn a_malformed_client_ip_is_rejected() {
        let mut m = CommandMetadata::new(Actor::system("test"), None).to_map();
        m.insert(CLIENT_IP.into(), "not-an-ip".into());
        assert_eq!(CommandMetadata::from_map(&m), Err(MetadataError(CLIENT_IP)));
    }

    #[test]
    fn metadata_without_an_actor_is_rejected() {
        let mut m = CommandMetadata::new(Actor::system("test"), None).to_map();
        m.remove(ACTOR_KIND);
        assert_eq!(
            CommandMetadata::from_map(&m),
            Err(MetadataError(ACTOR_KIND))
        );
    }

    #[test]
    fn a_caused_command_keeps_the_correlation_and_names_its_cause() {
        let first = CommandMetadata::new(Actor::system("a"), None);
        let cause = Uuid::now_v7();
        let next = first.caused_by(cause, Actor::system("b"));
        assert_eq!(next.correlation_id, first.correlation_id);
        assert_eq!(next.causation_id, cause);
    }
}
