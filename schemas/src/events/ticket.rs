//! Events of the `ticket` aggregate: a tenant's support request to the operator (F50).

use crate::Personal;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// New or reopened.
    #[default]
    Open,
    /// Someone is working on it.
    InProgress,
    /// Answered; the tenant may reopen it.
    Resolved,
    /// Done; final.
    Closed,
}

impl TicketStatus {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketPriority {
    /// Whenever convenient.
    Low,
    /// The default.
    Normal,
    /// Soon.
    High,
    /// Now.
    Urgent,
}

/// Who wrote a ticket message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    /// A user of the tenant that opened the ticket.
    Tenant,
    /// An operator.
    Admin,
    /// The support AI.
    Ai,
}

/// What happened to a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum TicketEvent {
    /// A tenant opened a ticket.
    TicketOpened {
        /// The ticket's id (also the aggregate id).
        ticket_id: Uuid,
        /// The tenant that opened it.
        tenant_id: Uuid,
        /// Its category (e.g. `billing`, `whatsapp`, `ai`).
        category: String,
        /// One-line summary.
        subject: Personal<String>,
        /// The full request.
        description: Personal<String>,
        /// How urgent it is.
        priority: TicketPriority,
        /// When.
        at: DateTime<Utc>,
    },
    /// The support AI answered from the admin knowledge.
    TicketAiAnswered {
        /// The answer.
        text: Personal<String>,
        /// The AI's confidence, 0..=1.
        confidence: f64,
        /// When.
        at: DateTime<Utc>,
    },
    /// The AI could not answer; the ticket waits for an operator.
    TicketAwaitingAdmin {
        /// When.
        at: DateTime<Utc>,
    },
    /// Someone wrote in the ticket's thread.
    TicketMessageAdded {
        /// What sort of author.
        author_kind: AuthorKind,
        /// The author's id (a user id, or the AI's name).
        author_id: String,
        /// The message.
        text: Personal<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// An operator took the ticket.
    TicketAssigned {
        /// The operator.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The ticket moved between statuses.
    TicketStatusChanged {
        /// The status before.
        from: TicketStatus,
        /// The status after.
        to: TicketStatus,
        /// When.
        at: DateTime<Utc>,
    },
    /// The support AI answered from the platform knowledge, naming the passages it used.
    /// Succeeds `TicketAiAnswered`, which recorded no sources (still read, never written).
    TicketAiAnswerGiven {
        /// The answer.
        text: Personal<String>,
        /// The AI's confidence, 0..=1.
        confidence: f64,
        /// The ids of the knowledge chunks the answer came from, best first.
        sources: Vec<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The tenant asked for a person; the AI stays silent and the ticket waits for an admin.
    TicketHumanRequested {
        /// The user who asked.
        user_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// An admin wrote a note only admins see.
    TicketInternalNoteAdded {
        /// The admin.
        admin_id: Uuid,
        /// The note.
        text: Personal<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A file was attached to the message recorded just before it. Only its description
    /// is an event; the bytes are stored outside the log (`ticket_attachments`), by id.
    TicketAttachmentAdded {
        /// The attachment's id, under which its bytes are stored.
        attachment_id: Uuid,
        /// Who attached it.
        author_kind: AuthorKind,
        /// The file name as uploaded.
        name: Personal<String>,
        /// Its size in bytes.
        size: u64,
        /// The media type found in its bytes (`image/png`, `application/pdf`, …).
        content_type: String,
        /// SHA-256 of the bytes, lowercase hex.
        sha256: String,
        /// When.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::test_support::{at, tag};
    use serde_json::json;

    pub(crate) fn samples() -> Vec<TicketEvent> {
        vec![
            TicketEvent::TicketOpened {
                ticket_id: Uuid::from_u128(9),
                tenant_id: Uuid::from_u128(1),
                category: "billing".into(),
                subject: "Cobrança".into(),
                description: "Fui cobrado duas vezes".into(),
                priority: TicketPriority::High,
                at: at(),
            },
            TicketEvent::TicketAiAnswered {
                text: "Veja…".into(),
                confidence: 0.8,
                at: at(),
            },
            TicketEvent::TicketAwaitingAdmin { at: at() },
            TicketEvent::TicketMessageAdded {
                author_kind: AuthorKind::Admin,
                author_id: "admin-1".into(),
                text: "Resolvido".into(),
                at: at(),
            },
            TicketEvent::TicketAssigned {
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
            TicketEvent::TicketStatusChanged {
                from: TicketStatus::Open,
                to: TicketStatus::InProgress,
                at: at(),
            },
            TicketEvent::TicketAiAnswerGiven {
                text: "Veja…".into(),
                confidence: 0.8,
                sources: vec!["chunk-1".into()],
                at: at(),
            },
            TicketEvent::TicketHumanRequested {
                user_id: Uuid::from_u128(4),
                at: at(),
            },
            TicketEvent::TicketInternalNoteAdded {
                admin_id: Uuid::from_u128(3),
                text: "Cliente antigo".into(),
                at: at(),
            },
            TicketEvent::TicketAttachmentAdded {
                attachment_id: Uuid::from_u128(7),
                author_kind: AuthorKind::Tenant,
                name: "fatura.pdf".into(),
                size: 1024,
                content_type: "application/pdf".into(),
                sha256: "ab".repeat(32),
                at: at(),
            },
        ]
    }

    #[test]
    fn every_variant_is_listed_and_tagged_by_its_type_name() {
        let samples = samples();
        let names: Vec<_> = samples.iter().map(TicketEvent::type_name).collect();
        assert_eq!(names, TicketEvent::EVENT_TYPES);
        for e in &samples {
            assert_eq!(tag(e), e.type_name());
            let back: TicketEvent =
                serde_json::from_value(serde_json::to_value(e).expect("ser")).expect("de");
            assert_eq!(&back, e);
        }
    }

    #[test]
    fn stored_shape_of_ticket_opened_never_changes() {
        assert_eq!(
            serde_json::to_value(&samples()[0]).expect("serializes"),
            json!({"TicketOpened": {
                "ticket_id": "00000000-0000-0000-0000-000000000009",
                "tenant_id": "00000000-0000-0000-0000-000000000001",
                "category": "billing",
                "subject": "Cobrança",
                "description": "Fui cobrado duas vezes",
                "priority": "high",
                "at": "2025-01-02T03:04:05Z"
            }})
        );
    }

    #[test]
    fn stored_shape_of_ticket_status_changed_never_changes() {
        assert_eq!(
            serde_json::to_value(&samples()[5]).expect("serializes"),
            json!({"TicketStatusChanged": {
                "from": "open", "to": "in_progress", "at": "2025-01-02T03:04:05Z"
            }})
        );
    }
}
