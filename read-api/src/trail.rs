//! Every operator action leaves a trace (F46).
//!
//! Most changes are commands, and their events already say who did what (the metadata
//! carries the actor, the request id and the client's address). The actions below write no
//! such event — creating a platform user, lifting an IP block, exporting a contact's data,
//! replaying a read model, asking Stripe to cancel… — so their handlers hand their result
//! to [`Trail::record`], which records an `AdminActionRecorded` event in an `admin_action`
//! aggregate of its own (one per action: recording never contends). Being events, they are
//! in the hash chain the auditors verify and in `GET /api/v1/audit/log`.
//!
//! A refusal (4xx) is recorded as `refused`, a failure (5xx) as `failed`, each with the
//! error code answered. An export is recorded before its data leaves: when the trace cannot
//! be written the export answers 500 instead. A change is made already when it is recorded,
//! so a trace that cannot be written is logged as an error and the answer stands. Callers
//! the role guard refuses are in `rejected_attempts` (see [`crate::audit::rejections`]);
//! a path or body that cannot be read is a 400 before the handler, and is not traced.
//!
//! [`Action`] lists the traced operations, [`DOMAIN_EVENT_OPERATIONS`] the admin
//! operations whose own events are their trace and [`OWN_VIEW_OPERATIONS`] those that change
//! only the caller's own view; a test walks the OpenAPI document and fails for an admin
//! operation that changes something and is in none of them.

use crate::error::ApiError;
use crate::request::{request_metadata, AuthConfig, AuthRejection, AuthUser, RequestMeta};
use aggregates::AdminActionCommand;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use commands::CommandBus;
use schemas::events::{ActionOutcome, ActionTarget};
use schemas::CommandMetadata;
use std::sync::Arc;
use uuid::Uuid;

/// The part of the application state the trail uses.
#[derive(Debug, Clone)]
pub struct TrailState {
    /// The write side: the traces are commands.
    pub bus: Arc<CommandBus>,
}

/// An operation whose handler records its trace here. Its [`Action::name`] is what the
/// audit log shows; it never changes once released (it is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `POST /api/v1/admin/users`.
    CreatePlatformUser,
    /// `POST /api/v1/users` (an owner, or an admin in their workspace).
    CreateAgent,
    /// `DELETE /api/v1/users/{id}`.
    DisableAgent,
    /// `POST /api/v1/users/invitations`.
    InviteUser,
    /// `DELETE /api/v1/users/invitations/{id}`.
    RevokeInvitation,
    /// `DELETE /api/v1/admin/ip-blocks/{ip}`.
    UnblockIp,
    /// `POST /api/v1/admin/tenants/{id}/reset-password`.
    ResetOwnerPassword,
    /// `GET /api/v1/admin/privacy/export`.
    ExportContactData,
    /// `GET /api/v1/audit/events` as NDJSON: the whole selection downloaded.
    DownloadAuditEvents,
    /// `POST /api/v1/admin/privacy/erasures` (done ones also record `SubjectErased`).
    EraseContactData,
    /// `POST /api/v1/admin/projections/{name}/parked/{position}/retry`.
    RetryParkedEvent,
    /// `POST /api/v1/admin/projections/{name}/replay`.
    ReplayProjection,
    /// `POST /api/v1/admin/subscriptions/{id}/cancel`: the request to Stripe (its webhook
    /// records the cancellation itself).
    CancelSubscription,
    /// `POST /api/v1/admin/subscriptions/{id}/reactivate`.
    ReactivateSubscription,
    // Refunds (issue 18).
    /// `POST /api/v1/admin/payments/{id}/refund`: the request to Stripe (its webhook
    /// records the refund itself, `PaymentRefunded`).
    RefundPayment,
    /// `PUT /api/v1/admin/tickets/categories`.
    ReplaceTicketCategories,
    /// `PUT /api/v1/admin/support-knowledge`.
    ReplaceSupportKnowledge,
    /// `POST /api/v1/admin/workspace`: an admin takes owner rights on their workspace.
    OpenWorkspace,
    // Platform users page (issue 18).
    /// `POST /api/v1/admin/users/{id}/disable`.
    DisablePlatformUser,
    /// `POST /api/v1/admin/users/{id}/enable`.
    EnablePlatformUser,
    /// `GET /api/v1/admin/reports/export/{table}`: an admin table or the monthly overview
    /// downloaded (issue 18, F45).
    ExportReport,
}

impl Action {
    /// Every traced operation.
    pub const ALL: &'static [Action] = &[
        Self::CreatePlatformUser,
        Self::CreateAgent,
        Self::DisableAgent,
        Self::InviteUser,
        Self::RevokeInvitation,
        Self::UnblockIp,
        Self::ResetOwnerPassword,
        Self::ExportContactData,
        Self::DownloadAuditEvents,
        Self::EraseContactData,
        Self::RetryParkedEvent,
        Self::ReplayProjection,
        Self::CancelSubscription,
        Self::ReactivateSubscription,
        // Refunds (issue 18).
        Self::RefundPayment,
        Self::ReplaceTicketCategories,
        Self::ReplaceSupportKnowledge,
        Self::OpenWorkspace,
        // Platform users page (issue 18).
        Self::DisablePlatformUser,
        Self::EnablePlatformUser,
        Self::ExportReport,
    ];

    /// The stored name, as the audit log shows it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::CreatePlatformUser => "create_platform_user",
            Self::CreateAgent => "create_agent",
            Self::DisableAgent => "disable_agent",
            Self::InviteUser => "invite_user",
            Self::RevokeInvitation => "revoke_invitation",
            Self::UnblockIp => "unblock_ip",
            Self::ResetOwnerPassword => "reset_owner_password",
            Self::ExportContactData => "export_contact_data",
            Self::DownloadAuditEvents => "download_audit_events",
            Self::EraseContactData => "erase_contact_data",
            Self::RetryParkedEvent => "retry_parked_event",
            Self::ReplayProjection => "replay_projection",
            Self::CancelSubscription => "cancel_subscription",
            Self::ReactivateSubscription => "reactivate_subscription",
            // Refunds (issue 18).
            Self::RefundPayment => "refund_payment",
            Self::ReplaceTicketCategories => "replace_ticket_categories",
            Self::ReplaceSupportKnowledge => "replace_support_knowledge",
            Self::OpenWorkspace => "open_my_workspace",
            // Platform users page (issue 18).
            Self::DisablePlatformUser => "disable_platform_user",
            Self::EnablePlatformUser => "enable_platform_user",
            Self::ExportReport => "export_report",
        }
    }

    /// The OpenAPI operation that does it.
    pub const fn operation_id(self) -> &'static str {
        match self {
            Self::DownloadAuditEvents => "list_audit_events",
            Self::CancelSubscription => "admin_cancel_subscription",
            Self::ReactivateSubscription => "admin_reactivate_subscription",
            // Refunds (issue 18).
            Self::RefundPayment => "admin_refund_payment",
            other => other.name(),
        }
    }

    /// Whether it hands data out rather than changing anything: its trace is written before
    /// the data leaves, and no data leaves without it.
    pub const fn is_export(self) -> bool {
        matches!(
            self,
            Self::ExportContactData | Self::DownloadAuditEvents | Self::ExportReport
        )
    }

    /// This action on the target `kind` named `id`.
    pub fn on(self, kind: &str, id: impl ToString) -> Entry {
        Entry {
            action: self,
            // Ids, addresses and names are short; a path segment of junk is cut.
            target: ActionTarget::new(kind, id.to_string().chars().take(200).collect::<String>()),
            tenant: None,
            note: None,
        }
    }
}

/// Admin operations that change something and whose own events (with the actor, request
/// id and client address in their metadata) are their trace.
pub const DOMAIN_EVENT_OPERATIONS: &[&str] = &[
    "create_tenant",
    "suspend_tenant",
    "reactivate_tenant",
    "update_tenant",
    "create_tutorial",
    "update_tutorial",
    "create_announcement",
    "update_announcement",
    "admin_reply_to_ticket",
    "assign_ticket",
    "change_ticket_status",
    // Plans managed by admins (issue 18): `PlanSet` and `PlanRetired` name the admin.
    "create_plan",
    "edit_plan",
    "retire_plan",
    // Per-tenant AI limits (issue 18): `AiLimitsChanged` names the admin.
    "set_tenant_ai_limits",
    // The usage monitor (issue 18): `AiSpendThresholdSet` and `AiSpendThresholdCleared` name
    // the admin, and their metadata the actor, request and address.
    "set_global_ai_spend_threshold",
    "clear_global_ai_spend_threshold",
    "set_tenant_ai_spend_threshold",
    "clear_tenant_ai_spend_threshold",
];

/// Admin operations that change only what the caller sees (their own read marks), with why
/// each is no operator action: they neither change the platform nor anyone else's view.
pub const OWN_VIEW_OPERATIONS: &[(&str, &str)] = &[
    (
        "admin_read_notification",
        "marks a notification read for the calling admin only",
    ),
    (
        "admin_read_all_notifications",
        "marks the notifications read for the calling admin only",
    ),
];

/// What to record: the action, its target, the tenant concerned, a note for success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    action: Action,
    target: ActionTarget,
    tenant: Option<Uuid>,
    note: Option<String>,
}

impl Entry {
    /// The tenant concerned: the entry shows under it in the audit log.
    pub fn tenant(mut self, tenant: Uuid) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// A short note recorded when it is done (never personal data).
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Names the target once the action has told which it is (a user just created).
    pub fn target_id(mut self, id: impl ToString) -> Self {
        self.target.id = id.to_string();
        self
    }
}

/// The recorder a handler takes as an argument: who asks, from where, in which request.
/// Put it after the route's role guard, so a caller the guard refuses is refused first.
#[derive(Debug, Clone)]
pub struct Trail {
    bus: Arc<CommandBus>,
    user: AuthUser,
    request: RequestMeta,
}

impl<S> FromRequestParts<S> for Trail
where
    TrailState: FromRef<S>,
    AuthConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let Ok(request) = RequestMeta::from_request_parts(parts, state).await;
        Ok(Self {
            bus: TrailState::from_ref(state).bus,
            user,
            request,
        })
    }
}

/// How a result ends, and the code that says why when it is not done.
fn outcome<T>(result: &Result<T, ApiError>) -> (ActionOutcome, Option<String>) {
    match result {
        Ok(_) => (ActionOutcome::Done, None),
        Err(e) if e.status().is_server_error() => (ActionOutcome::Failed, Some(e.code().into())),
        Err(e) => (ActionOutcome::Refused, Some(e.code().into())),
    }
}

impl Trail {
    /// Records `entry` with the outcome of `result`, then hands `result` back (see the
    /// module's notes for when the trace cannot be written).
    pub async fn record<T>(
        &self,
        entry: Entry,
        result: Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (outcome, code) = outcome(&result);
        let detail = match outcome {
            ActionOutcome::Done => entry.note,
            _ => code,
        };
        let id = Uuid::now_v7();
        let md = request_metadata(
            CommandMetadata::new(self.user.actor(), entry.tenant),
            self.request,
        );
        let command = AdminActionCommand::Record {
            action: entry.action.name().to_owned(),
            target: entry.target,
            outcome,
            detail,
            actor_id: Some(self.user.id),
            actor_role: self.user.role.as_str().to_owned(),
        };
        match self
            .bus
            .admin_actions
            .execute(&id.to_string(), command, &md)
            .await
        {
            Ok(()) => result,
            Err(e) if entry.action.is_export() && result.is_ok() => {
                tracing::error!(error = %e, action = entry.action.name(),
                    "an export was withheld: its trace could not be recorded");
                Err(ApiError::internal(e))
            }
            Err(e) => {
                tracing::error!(error = %e, action = entry.action.name(),
                    outcome = outcome.as_str(), "an action's trace could not be recorded");
                result
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_action_has_its_own_stored_name_and_operation() {
        let names: HashSet<_> = Action::ALL.iter().map(|a| a.name()).collect();
        let ops: HashSet<_> = Action::ALL.iter().map(|a| a.operation_id()).collect();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(ops.len(), Action::ALL.len());
        assert!(ops.iter().all(|op| !DOMAIN_EVENT_OPERATIONS.contains(op)));
    }

    #[test]
    fn a_refusal_and_a_failure_are_told_apart_by_status() {
        let refused: Result<(), _> = Err(ApiError::NotFound {
            code: "not_parked",
            message: String::new(),
        });
        assert_eq!(
            outcome(&refused),
            (ActionOutcome::Refused, Some("not_parked".into()))
        );
        let failed: Result<(), _> = Err(ApiError::DependencyUnavailable {
            code: "stripe_failed",
            message: String::new(),
        });
        assert_eq!(
            outcome(&failed),
            (ActionOutcome::Failed, Some("stripe_failed".into()))
        );
        assert_eq!(outcome(&Ok::<_, ApiError>(())), (ActionOutcome::Done, None));
    }
}
