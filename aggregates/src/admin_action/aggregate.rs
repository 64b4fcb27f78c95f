//! The command, its refusals and the rules.

use super::AdminActionServices;
use crate::error::{DomainError, ErrorKind};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::{ActionOutcome, ActionTarget, AdminActionEvent};
use schemas::AggregateKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A request to record an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminActionCommand {
    /// Record what was done, to what, by whom, and how it ended.
    Record {
        /// The API operation (e.g. `unblock_ip`).
        action: String,
        /// What it was done to.
        target: ActionTarget,
        /// How it ended.
        outcome: ActionOutcome,
        /// The error code of a refusal or failure, or a short note.
        detail: Option<String>,
        /// Who did it; none for the platform itself.
        actor_id: Option<Uuid>,
        /// Their role.
        actor_role: String,
    },
}

/// A refused admin-action command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminActionError {
    /// Something is recorded under this id already: ids are fresh per action.
    #[error("an action is already recorded under this id")]
    AlreadyRecorded,
    /// The action is not 1 to 80 lowercase letters, digits and `_`.
    #[error("the action must be 1 to 80 lowercase letters, digits and underscores")]
    InvalidAction,
    /// The target's kind is blank.
    #[error("the target must say what kind of thing it is")]
    TargetKindRequired,
}

impl DomainError for AdminActionError {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRecorded => "action_already_recorded",
            Self::InvalidAction => "invalid_action",
            Self::TargetKindRequired => "target_kind_required",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::AlreadyRecorded => ErrorKind::Conflict,
            Self::InvalidAction | Self::TargetKindRequired => ErrorKind::Unprocessable,
        }
    }
}

/// One recorded action. The state keeps only whether it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdminAction {
    recorded: bool,
}

fn is_action_name(action: &str) -> bool {
    (1..=80).contains(&action.len())
        && action
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl AdminAction {
    /// Whether the action is recorded.
    pub fn is_recorded(&self) -> bool {
        self.recorded
    }

    fn decide(
        &self,
        command: AdminActionCommand,
        at: DateTime<Utc>,
    ) -> Result<Vec<AdminActionEvent>, AdminActionError> {
        let AdminActionCommand::Record {
            action,
            target,
            outcome,
            detail,
            actor_id,
            actor_role,
        } = command;
        if self.recorded {
            return Err(AdminActionError::AlreadyRecorded);
        }
        if !is_action_name(&action) {
            return Err(AdminActionError::InvalidAction);
        }
        if target.kind.trim().is_empty() {
            return Err(AdminActionError::TargetKindRequired);
        }
        Ok(vec![AdminActionEvent::AdminActionRecorded {
            action,
            target,
            outcome,
            detail: detail.filter(|d| !d.trim().is_empty()),
            actor_id,
            actor_role,
            at,
        }])
    }
}

impl Aggregate for AdminAction {
    const TYPE: &'static str = AggregateKind::AdminAction.as_str();
    type Command = AdminActionCommand;
    type Event = AdminActionEvent;
    type Error = AdminActionError;
    type Services = AdminActionServices;

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
        match event {
            AdminActionEvent::AdminActionRecorded { .. } => self.recorded = true,
        }
    }
}
