//! The ticket's state and its rules.

use super::{
    Author, NewAttachment, TicketCommand, TicketError, TicketServices, MAX_ATTACHMENTS_PER_MESSAGE,
};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::{AuthorKind, TicketEvent, TicketStatus};
use schemas::AggregateKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The AI answers a ticket only with a confidence strictly above this (F50).
pub const AI_ANSWER_MIN_CONFIDENCE: f64 = 0.7;

/// Whether an admin may move a ticket from `from` to `to`: open → in progress → resolved →
/// closed, and resolved → open when it is reopened. Nothing leaves closed. (The tenant may
/// also close its own ticket from any status: [`TicketCommand::CloseByTenant`].)
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
    /// An admin wrote in the thread: from then on the AI stays silent.
    #[serde(default)]
    admin_engaged: bool,
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

    /// Whether the AI may still answer: nobody asked for a person and no admin took the
    /// ticket or wrote in it.
    pub fn ai_may_answer(&self) -> bool {
        !self.awaiting_admin && !self.admin_engaged && self.assigned_admin.is_none()
    }

    /// Refuses a tenant acting on another tenant's ticket as if it did not exist.
    fn check_tenant(&self, tenant_id: Uuid) -> Result<(), TicketError> {
        if self.tenant_id == Some(tenant_id) {
            Ok(())
        } else {
            Err(TicketError::NotFound)
        }
    }

    fn decide(
        &self,
        command: TicketCommand,
        at: DateTime<Utc>,
    ) -> Result<Vec<TicketEvent>, TicketError> {
        use TicketCommand as C;
        use TicketEvent as E;
        if let C::OpenTicket { .. } = command {
            if self.exists() {
                return Err(if self.status == TicketStatus::Closed {
                    TicketError::Closed
                } else {
                    TicketError::AlreadyOpened
                });
            }
        } else if !self.exists() {
            return Err(TicketError::NotFound);
        }
        // Another tenant learns nothing, not even that the ticket is closed.
        match &command {
            C::RequestHuman { tenant_id, .. } | C::CloseByTenant { tenant_id } => {
                self.check_tenant(*tenant_id)?
            }
            C::AddMessage {
                author: Author::Tenant { tenant_id, .. },
                ..
            } => self.check_tenant(*tenant_id)?,
            _ => {}
        }
        if self.status == TicketStatus::Closed {
            return Err(TicketError::Closed);
        }
        let not_blank = |text: &str, error: TicketError| {
            if text.trim().is_empty() {
                Err(error)
            } else {
                Ok(())
            }
        };
        let files = |attachments: Vec<NewAttachment>, author_kind: AuthorKind| {
            if attachments.len() > MAX_ATTACHMENTS_PER_MESSAGE {
                return Err(TicketError::TooManyAttachments {
                    max: MAX_ATTACHMENTS_PER_MESSAGE,
                });
            }
            Ok(attachments
                .into_iter()
                .map(|a| E::TicketAttachmentAdded {
                    attachment_id: a.attachment_id,
                    author_kind,
                    name: a.name,
                    size: a.size,
                    content_type: a.content_type,
                    sha256: a.sha256,
                    at,
                })
                .collect::<Vec<_>>())
        };
        Ok(match command {
            C::OpenTicket {
                ticket_id,
                tenant_id,
                category,
                subject,
                description,
                priority,
                attachments,
            } => {
                not_blank(&category, TicketError::CategoryRequired)?;
                not_blank(subject.expose(), TicketError::SubjectRequired)?;
                let files = files(attachments, AuthorKind::Tenant)?;
                let mut events = vec![E::TicketOpened {
                    ticket_id,
                    tenant_id,
                    category,
                    subject,
                    description,
                    priority,
                    at,
                }];
                events.extend(files);
                events
            }
            C::RecordAiAnswer {
                text,
                confidence,
                sources,
            } => {
                if !(0.0..=1.0).contains(&confidence) {
                    return Err(TicketError::InvalidConfidence);
                }
                if confidence <= AI_ANSWER_MIN_CONFIDENCE {
                    return Err(TicketError::AiNotConfident);
                }
                if !self.ai_may_answer() {
                    return Err(TicketError::AiNotAllowed);
                }
                not_blank(text.expose(), TicketError::TextRequired)?;
                vec![E::TicketAiAnswerGiven {
                    text,
                    confidence,
                    sources,
                    at,
                }]
            }
            // An admin already handling the ticket needs no call.
            C::AwaitAdmin => {
                if self.awaiting_admin || self.admin_engaged {
                    vec![]
                } else {
                    vec![E::TicketAwaitingAdmin { at }]
                }
            }
            C::RequestHuman { user_id, .. } => {
                if self.awaiting_admin {
                    vec![]
                } else {
                    vec![E::TicketHumanRequested { user_id, at }]
                }
            }
            C::AddMessage {
                author,
                text,
                attachments,
            } => {
                not_blank(text.expose(), TicketError::TextRequired)?;
                let (author_kind, author_id) = match author {
                    Author::Tenant { user_id, .. } => (AuthorKind::Tenant, user_id),
                    Author::Admin { admin_id } => (AuthorKind::Admin, admin_id),
                };
                let files = files(attachments, author_kind)?;
                let mut events = vec![E::TicketMessageAdded {
                    author_kind,
                    author_id: author_id.to_string(),
                    text,
                    at,
                }];
                events.extend(files);
                // A tenant writing on a resolved ticket reopens it.
                if author_kind == AuthorKind::Tenant && self.status == TicketStatus::Resolved {
                    events.push(E::TicketStatusChanged {
                        from: TicketStatus::Resolved,
                        to: TicketStatus::Open,
                        at,
                    });
                }
                events
            }
            C::AddInternalNote { admin_id, text } => {
                not_blank(text.expose(), TicketError::TextRequired)?;
                vec![E::TicketInternalNoteAdded { admin_id, text, at }]
            }
            C::Assign { admin_id } => {
                if self.assigned_admin == Some(admin_id) {
                    vec![]
                } else {
                    vec![E::TicketAssigned { admin_id, at }]
                }
            }
            C::ChangeStatus { to } => {
                let from = self.status;
                if from == to {
                    return Ok(vec![]);
                }
                if !is_allowed_transition(from, to) {
                    return Err(TicketError::InvalidTransition { from, to });
                }
                vec![E::TicketStatusChanged { from, to, at }]
            }
            C::CloseByTenant { .. } => vec![E::TicketStatusChanged {
                from: self.status,
                to: TicketStatus::Closed,
                at,
            }],
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
        for event in self.decide(command, services.clock.now())? {
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
            TicketEvent::TicketAiAnswered { .. } | TicketEvent::TicketAiAnswerGiven { .. } => {
                self.message_count += 1
            }
            TicketEvent::TicketAwaitingAdmin { .. } | TicketEvent::TicketHumanRequested { .. } => {
                self.awaiting_admin = true
            }
            TicketEvent::TicketMessageAdded { author_kind, .. } => {
                self.message_count += 1;
                if author_kind == AuthorKind::Admin {
                    self.awaiting_admin = false;
                    self.admin_engaged = true;
                }
            }
            TicketEvent::TicketInternalNoteAdded { .. }
            | TicketEvent::TicketAttachmentAdded { .. } => {}
            TicketEvent::TicketAssigned { admin_id, .. } => self.assigned_admin = Some(admin_id),
            TicketEvent::TicketStatusChanged { to, .. } => self.status = to,
        }
    }
}
