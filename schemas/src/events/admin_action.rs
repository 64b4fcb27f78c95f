//! Events of the `admin_action` aggregate: the trace of an operator's action that changes
//! nothing in the other aggregates — creating a platform user, lifting an IP block, sending
//! an owner a reset link, exporting a contact's data, replaying a read model, asking Stripe
//! to cancel — so that it, too, sits in the hash-chained log the auditors read (F46).
//!
//! One aggregate per action (its id a fresh v7 uuid): recording never contends with another
//! admin's action. Who did it, from which address and in which request is the event's
//! metadata, as for every event; the payload says what was done, to what, and how it ended.
//! Targets are named by ids (a user's, a tenant's, a conversation's), never by an e-mail or
//! a phone number, so the trace carries no personal data in clear.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionOutcome {
    /// It was done.
    Done,
    /// It was refused: the request broke a rule (4xx).
    Refused,
    /// It failed: the platform or a dependency could not do it (5xx).
    Failed,
}

impl ActionOutcome {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// What an action was done to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct ActionTarget {
    /// What sort of thing: `user`, `tenant`, `ip`, `projection`, `parked_event`,
    /// `subscription`, `conversation`, `event_log`, `ticket_categories`, ….
    pub kind: String,
    /// Which one: an id, an address, a consumer's name; empty when the kind is one thing.
    pub id: String,
}

impl ActionTarget {
    /// A target of `kind` named `id`.
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
        }
    }
}

/// What an operator did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum AdminActionEvent {
    /// An action was asked for and ended as `outcome`.
    AdminActionRecorded {
        /// The action, by the API operation that does it (e.g. `unblock_ip`,
        /// `reset_owner_password`): lowercase letters, digits and `_`.
        action: String,
        /// What it was done to.
        target: ActionTarget,
        /// How it ended.
        outcome: ActionOutcome,
        /// For a refusal or failure, the error code answered; otherwise a short note
        /// (the role given, `immediately`, …). Never personal data.
        detail: Option<String>,
        /// Who did it (also in the metadata); none for the platform itself (the command
        /// line run on the server).
        actor_id: Option<Uuid>,
        /// Their role then: `admin`, `super_admin`, `auditor`, `owner`, …; `system` for the
        /// platform itself.
        actor_role: String,
        /// When.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::test_support::{at, tag};
    use serde_json::json;

    /// One of every event, for the decoding tests.
    pub(crate) fn samples() -> Vec<AdminActionEvent> {
        vec![AdminActionEvent::AdminActionRecorded {
            action: "unblock_ip".into(),
            target: ActionTarget::new("ip", "192.0.2.7"),
            outcome: ActionOutcome::Done,
            detail: None,
            actor_id: Some(Uuid::from_u128(3)),
            actor_role: "admin".into(),
            at: at(),
        }]
    }

    #[test]
    fn a_refused_action_serializes_its_outcome_and_target_in_snake_case() {
        let event = AdminActionEvent::AdminActionRecorded {
            action: "create_platform_user".into(),
            target: ActionTarget::new("user", ""),
            outcome: ActionOutcome::Refused,
            detail: Some("forbidden".into()),
            actor_id: Some(Uuid::from_u128(3)),
            actor_role: "admin".into(),
            at: at(),
        };
        assert_eq!(tag(&event), event.type_name());
        let value = serde_json::to_value(&event).unwrap_or_default();
        let body = &value["AdminActionRecorded"];
        assert_eq!(body["outcome"], json!("refused"));
        assert_eq!(body["target"], json!({"kind": "user", "id": ""}));
        let back: AdminActionEvent =
            serde_json::from_value(value).unwrap_or_else(|_| samples().remove(0));
        assert_eq!(back, event);
    }
}
