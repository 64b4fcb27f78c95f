//! The ticket's state and its rules.

use super::{TicketCommand, TicketError, TicketServices};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::{AuthorKind, TicketEvent, TicketStatus};
use schemas::AggregateKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The AI answers a ticket only with a confidence strictly above this (F50).
pub const AI_ANSWER_MIN_CONFIDENCE: f64 = 0.7;

/// Whether a ticket may move from `from` to `to`: open → in progress → resolved →
/// closed, and resolved → open when the tenant reopens it. Nothing leaves closed.
pub fn is_allowed_transition(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus as S;
    matches!(
        (from, to),
        (S::Open, S::InProgress)
            | (S::InProgress, S::Resolved)
            | (S::Resolved, S::Closed)
            | (S::Resolved, S::Open)
    )
}

/// A support ticket.
///
/// The state keeps no subject or message text, so snapshots hold no personal data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Ticket {
    ticket_id: Option<Uuid>,
    tenant_id: Option<Uuid>,
    status: TicketStatus,
    assigned_admin: Option<Uuid>,
    awaiting_admin: bool,
    message_count: u32,
    last_activity_at: Option<DateTime<Utc>>,
}

impl Ticket {
    /// The ticket's id, once opened.
    pub fn ticket_id(&self) -> Option<Uuid> {
        self.ticket_id
    }

    /// The tenant that opened it.
    pub fn tenant_id(&self) -> Option<Uuid> {
        self.tenant_id
    }

    /// Its status (`Open` before it is opened, too; check [`Ticket::exists`]).
    pub fn status(&self) -> TicketStatus {
        self.status
    }

    /// Whether it has been opened.
    pub fn exists(&self) -> bool {
        self.ticket_id.is_some()
    }

    /// The admin who took it.
    pub fn assigned_admin(&self) -> Option<Uuid> {
        self.assigned_admin
    }

    /// Whether it waits for an admin's answer.
    pub fn is_awaiting_admin(&self) -> bool {
        self.awaiting_admin
    }

    /// Messages in its thread (AI answers included).
    pub fn message_count(&self) -> u32 {
        self.message_count
    }

    /// When anything last happened to it.
    pub fn last_activity_at(&self) -> Option<DateTime<Utc>> {
        self.last_activity_at
    }

    fn decide(
        &self,
        command: TicketCommand,
        at: DateTime<Utc>,
    ) -> Result<Option<TicketEvent>, TicketError> {
        use TicketCommand as C;
        use TicketEvent as E;
        if self.status == TicketStatus::Closed {
            return Err(TicketError::Closed);
        }
        if let C::OpenTicket { .. } = command {
            if self.exists() {
                return Err(TicketError::AlreadyOpened);
            }
        } else if !self.exists() {
            return Err(TicketError::NotFound);
        }
        let not_blank = |text: &str, error: TicketError| {
            if text.trim().is_empty() {
                Err(error)
            } else {
                Ok(())
            }
        };
        Ok(match command {
            C::OpenTicket {
                ticket_id,
                tenant_id,
                category,
                subject,
                description,
                priority,
            } => {
                not_blank(&category, TicketError::CategoryRequired)?;
                not_blank(subject.expose(), TicketError::SubjectRequired)?;
                Some(E::TicketOpened {
                    ticket_id,
                    tenant_id,
                    category,
                    subject,
                    description,
                    priority,
                    at,
                })
            }
            C::RecordAiAnswer { text, confidence } => {
                if !(0.0..=1.0).contains(&confidence) {
                    return Err(TicketError::InvalidConfidence);
                }
                if confidence <= AI_ANSWER_MIN_CONFIDENCE {
                    return Err(TicketError::AiNotConfident);
                }
                if self.awaiting_admin {
                    return Err(TicketError::AiNotAllowed);
                }
                not_blank(text.expose(), TicketError::TextRequired)?;
                Some(E::TicketAiAnswered {
                    text,
                    confidence,
                    at,
                })
            }
            C::AwaitAdmin => (!self.awaiting_admin).then_some(E::TicketAwaitingAdmin { at }),
            C::AddMessage {
                author_kind,
                author_id,
                text,
            } => {
                not_blank(text.expose(), TicketError::TextRequired)?;
                Some(E::TicketMessageAdded {
                    author_kind,
                    author_id,
                    text,
                    at,
                })
            }
            C::Assign { admin_id } => (self.assigned_admin != Some(admin_id))
                .then_some(E::TicketAssigned { admin_id, at }),
            C::ChangeStatus { to } => {
                let from = self.status;
                if from == to {
                    return Ok(None);
                }
                if !is_allowed_transition(from, to) {
                    return Err(TicketError::InvalidTransition { from, to });
                }
                Some(E::TicketStatusChanged { from, to, at })
            }
        })
    }
}

impl Aggregate for Ticket {
    const TYPE: &'static str = AggregateKind::Ticket.as_str();
    type Command = TicketCommand;
    type Event = TicketEvent;
    type Error = TicketError;
    type Services = TicketServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if let Some(event) = self.decide(command, services.clock.now())? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.last_activity_at = Some(event.at());
        match event {
            TicketEvent::TicketOpened {
                ticket_id,
                tenant_id,
                ..
            } => {
                self.ticket_id = Some(ticket_id);
                self.tenant_id = Some(tenant_id);
                self.status = TicketStatus::Open;
            }
            TicketEvent::TicketAiAnswered { .. } => self.message_count += 1,
            TicketEvent::TicketAwaitingAdmin { .. } => self.awaiting_admin = true,
            TicketEvent::TicketMessageAdded { author_kind, .. } => {
                self.message_count += 1;
                if author_kind == AuthorKind::Admin {
                    self.awaiting_admin = false;
                }
            }
            TicketEvent::TicketAssigned { admin_id, .. } => self.assigned_admin = Some(admin_id),
            TicketEvent::TicketStatusChanged { to, .. } => self.status = to,
        }
    }
}
