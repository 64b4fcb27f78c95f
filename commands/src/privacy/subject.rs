//! Data subjects: whose personal data an aggregate's events carry.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A data subject, and whether its keys rotate daily (so old days can expire).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    /// Stable id: `contact:<conversation id>` or `tenant:<tenant id>`.
    pub id: String,
    /// Whether keys are per day (message content, subject to retention).
    pub rotates: bool,
    /// The tenant the subject belongs to.
    pub tenant_id: Option<Uuid>,
}

impl Subject {
    /// A WhatsApp contact of a tenant; its conversation id already names the pair.
    pub fn contact(conversation_id: &str, tenant_id: Option<Uuid>) -> Self {
        Self {
            id: format!("contact:{conversation_id}"),
            rotates: true,
            tenant_id,
        }
    }

    /// A tenant's users (owner e-mail, ticket texts).
    pub fn tenant(tenant_id: &str) -> Self {
        Self {
            id: format!("tenant:{tenant_id}"),
            rotates: false,
            tenant_id: Uuid::parse_str(tenant_id).ok(),
        }
    }

    /// The subject of an aggregate's events, or `None` for aggregates without personal data.
    pub fn of(aggregate_type: &str, aggregate_id: &str, tenant_id: Option<Uuid>) -> Option<Self> {
        match aggregate_type {
            "conversation" => Some(Self::contact(aggregate_id, tenant_id)),
            "tenant" => Some(Self::tenant(aggregate_id)),
            "ticket" => Some(match tenant_id {
                Some(t) => Self::tenant(&t.to_string()),
                None => Self {
                    id: format!("ticket:{aggregate_id}"),
                    rotates: false,
                    tenant_id: None,
                },
            }),
            _ => None,
        }
    }

    /// The key period for data written at `at`.
    pub fn period(&self, at: DateTime<Utc>) -> NaiveDate {
        if self.rotates {
            at.date_naive()
        } else {
            // Keys that never rotate share one period; 1970-01-01 fits PostgreSQL's date range.
            NaiveDate::default()
        }
    }
}
