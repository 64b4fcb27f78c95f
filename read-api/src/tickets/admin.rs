//! The admins' ticket routes: the queue, a ticket, replies and notes, assignment, status.

use super::view::{self, summary_columns, Side, SummaryRow, TicketPage, TicketThread};
use super::TicketsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::ApiQuery;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireAdmin};
use aggregates::ticket::Author;
use aggregates::TicketCommand;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemas::events::TicketStatus;
use serde::Deserialize;
use uuid::Uuid;

/// Filters of the queue; all optional.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open`, `in_progress`, `resolved` or `closed`.
    pub status: Option<String>,
    /// Only tickets waiting (or not) for an admin.
    pub awaiting_admin: Option<bool>,
    /// A category key.
    pub category: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: Option<String>,
    /// One tenant's tickets.
    pub tenant_id: Option<Uuid>,
    /// The tickets one admin took.
    pub assignee: Option<Uuid>,
}

/// An admin's message: public (the tenant sees it) or an internal note.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AdminTicketMessage {
    /// The text.
    pub text: String,
    /// An internal note only admins see (false by default).
    #[serde(default)]
    pub internal: bool,
}

/// Who takes the ticket.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AssignTicket {
    /// An admin's id; the caller when absent.
    pub admin_id: Option<Uuid>,
}

/// The status to move to.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ChangeTicketStatus {
    /// `open`, `in_progress`, `resolved` or `closed`, along the allowed moves.
    #[schema(value_type = String)]
    pub status: TicketStatus,
}

/// The ticket's tenant, from the write side (404 when there is no such ticket).
async fn tenant_of(state: &TicketsState, id: Uuid) -> Result<Uuid, ApiError> {
    let (ticket, _) = state.bus.tickets.load(&id.to_string()).await?;
    ticket.tenant_id().ok_or_else(|| ApiError::NotFound {
        code: "ticket_not_found",
        message: "no such ticket".into(),
    })
}

/// The queue: every tenant's tickets, oldest-waiting first (then oldest opened), with the
/// tenants' messages no admin has read.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tickets",
    operation_id = "ticket_queue",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(QueueQuery),
    responses(
        (status = 200, description = "The matching tickets", body = TicketPage),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "reading the ticket queue", skip_all)]
pub(super) async fn queue(
    State(state): State<TicketsState>,
    _admin: RequireAdmin,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<TicketPage>, ApiError> {
    let sql = format!(
        "SELECT {} FROM tickets t
          WHERE ($1::text IS NULL OR t.status = $1)
            AND ($2::boolean IS NULL OR t.awaiting_admin = $2)
            AND ($3::text IS NULL OR t.category = $3)
            AND ($4::text IS NULL OR t.priority = $4)
            AND ($5::uuid IS NULL OR t.tenant_id = $5)
            AND ($6::uuid IS NULL OR t.assigned_admin = $6)
          ORDER BY t.waiting_since ASC NULLS LAST, t.opened_at ASC
          LIMIT 500",
        summary_columns(Side::Admin)
    );
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
        .bind(q.status)
        .bind(q.awaiting_admin)
        .bind(q.category)
        .bind(q.priority)
        .bind(q.tenant_id)
        .bind(q.assignee)
        .fetch_all(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(TicketPage {
        items: view::summaries(&state, rows).await?,
    }))
}

/// A ticket with its whole thread, internal notes and AI confidence included; marks the
/// tenant's messages read.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tickets/{id}",
    operation_id = "admin_show_ticket",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 200, description = "The ticket and its thread", body = TicketThread),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing a ticket to an admin", skip_all, fields(ticket = %id))]
pub(super) async fn show(
    State(state): State<TicketsState>,
    _admin: RequireAdmin,
    Path(id): Path<Uuid>,
) -> Result<Json<TicketThread>, ApiError> {
    Ok(Json(view::thread(&state, id, None, Side::Admin).await?))
}

/// Answers the tenant, or notes something only admins see (`internal: true`). Once an
/// admin answered, the support AI stays silent on this ticket.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tickets/{id}/messages",
    operation_id = "admin_reply_to_ticket",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket")),
    request_body = AdminTicketMessage,
    responses(
        (status = 204, description = "Recorded"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "The ticket is closed (`ticket_closed`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin writes in a ticket", skip_all, fields(ticket = %id))]
pub(super) async fn reply(
    State(state): State<TicketsState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<AdminTicketMessage>,
) -> Result<StatusCode, ApiError> {
    let tenant = tenant_of(&state, id).await?;
    let md = command_metadata(&admin, tenant, request);
    let command = if body.internal {
        TicketCommand::AddInternalNote {
            admin_id: admin.id,
            text: body.text.into(),
        }
    } else {
        TicketCommand::AddMessage {
            author: Author::Admin { admin_id: admin.id },
            text: body.text.into(),
            attachments: vec![],
        }
    };
    state
        .bus
        .tickets
        .execute(&id.to_string(), command, &md)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the ticket to an admin (the caller by default); the AI stays silent from then on.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tickets/{id}/assign",
    operation_id = "assign_ticket",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket")),
    request_body = AssignTicket,
    responses(
        (status = 204, description = "Assigned"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Conflict,
        (status = 422, description = "Not an active admin (`not_an_admin`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "assigning a ticket", skip_all, fields(ticket = %id))]
pub(super) async fn assign(
    State(state): State<TicketsState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<AssignTicket>,
) -> Result<StatusCode, ApiError> {
    let assignee = body.admin_id.unwrap_or(admin.id);
    let is_admin: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1
                         AND role IN ('admin', 'super_admin') AND disabled_at IS NULL)",
    )
    .bind(assignee)
    .fetch_one(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    if !is_admin {
        return Err(ApiError::Unprocessable {
            code: "not_an_admin",
            message: "tickets are assigned to active admins only".into(),
            details: None,
        });
    }
    let tenant = tenant_of(&state, id).await?;
    let md = command_metadata(&admin, tenant, request);
    state
        .bus
        .tickets
        .execute(
            &id.to_string(),
            TicketCommand::Assign { admin_id: assignee },
            &md,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves the ticket along `open → in_progress → resolved → closed` (or reopens a resolved
/// one); any other move is 409 `invalid_transition`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tickets/{id}/status",
    operation_id = "change_ticket_status",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket")),
    request_body = ChangeTicketStatus,
    responses(
        (status = 204, description = "Moved (or already there)"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "Not an allowed move (`invalid_transition`) or closed (`ticket_closed`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "changing a ticket's status", skip_all, fields(ticket = %id))]
pub(super) async fn change_status(
    State(state): State<TicketsState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ChangeTicketStatus>,
) -> Result<StatusCode, ApiError> {
    let tenant = tenant_of(&state, id).await?;
    let md = command_metadata(&admin, tenant, request);
    state
        .bus
        .tickets
        .execute(
            &id.to_string(),
            TicketCommand::ChangeStatus { to: body.status },
            &md,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
