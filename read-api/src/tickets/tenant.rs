//! The tenant's ticket routes.

use super::upload::{self, Form};
use super::view::{self, summary_columns, Side, SummaryRow, TicketPage, TicketThread};
use super::TicketsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::command_metadata;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireTenantUser};
use aggregates::ticket::Author;
use aggregates::TicketCommand;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::Json;
use schemas::events::TicketPriority;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The form that opens a ticket (`multipart/form-data`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads it part by part
pub struct OpenTicketForm {
    /// One-line summary.
    pub subject: String,
    /// A category key from `GET /api/v1/tickets/categories`.
    pub category: String,
    /// `low`, `normal` (the default), `high` or `urgent`.
    pub priority: Option<String>,
    /// The request itself.
    pub message: String,
    /// Up to 5 files (images or PDF, at most 5 MiB each), as parts named `attachments`.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub attachments: Option<Vec<String>>,
}

/// The opened ticket.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketOpened {
    /// Its id.
    pub id: Uuid,
    /// How many files were attached.
    pub attachments: usize,
}

/// A message to the ticket's thread.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TicketReply {
    /// The text.
    pub text: String,
}

fn priority(text: Option<&str>) -> Result<TicketPriority, ApiError> {
    match text.map(str::trim).unwrap_or("normal") {
        "" | "normal" => Ok(TicketPriority::Normal),
        "low" => Ok(TicketPriority::Low),
        "high" => Ok(TicketPriority::High),
        "urgent" => Ok(TicketPriority::Urgent),
        other => Err(ApiError::Unprocessable {
            code: "invalid_priority",
            message: format!("{other:?} is not low, normal, high or urgent"),
            details: None,
        }),
    }
}

/// Opens a ticket with its first message and up to 5 files. Files are judged by their
/// bytes: over 5 MiB is 413, anything but an image or a PDF is 415, and then nothing at all
/// is stored. The support AI answers first when the platform knowledge covers the question.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    operation_id = "open_ticket",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body(content = OpenTicketForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Opened", body = TicketOpened),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 413, description = "A file is over 5 MiB", body = crate::error::ErrorBody),
        (status = 415, description = "A file is not an image or a PDF by its bytes (`unsupported_attachment_type`)", body = crate::error::ErrorBody),
        (status = 422, description = "Blank subject, unknown category (`unknown_category`), bad priority, more than 5 files", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "opening a support ticket", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn open(
    State(state): State<TicketsState>,
    user: RequireTenantUser,
    request: RequestMeta,
    multipart: Multipart,
) -> Result<(StatusCode, Json<TicketOpened>), ApiError> {
    let form = Form::read(multipart).await?;
    let category = form.text("category")?.trim().to_owned();
    let known: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ticket_categories WHERE key = $1)")
            .bind(&category)
            .fetch_one(&state.pool)
            .await
            .map_err(ApiError::internal)?;
    if !known {
        return Err(ApiError::Unprocessable {
            code: "unknown_category",
            message: format!("{category:?} is not one of the ticket categories"),
            details: None,
        });
    }
    let subject = form.text("subject")?.trim().to_owned();
    let message = form.text("message")?.trim().to_owned();
    if message.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "text_required",
            message: "the message must not be blank".into(),
            details: None,
        });
    }
    let priority = priority(form.fields.get("priority").map(String::as_str))?;
    if subject.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "subject_required",
            message: "the subject must not be blank".into(),
            details: None,
        });
    }
    let id = Uuid::now_v7();
    let attachments = upload::store(&state.pool, user.tenant_id, id, form.files).await?;
    let count = attachments.len();
    let md = command_metadata(&user.user, user.tenant_id, request);
    let command = TicketCommand::OpenTicket {
        ticket_id: id,
        tenant_id: user.tenant_id,
        category,
        subject: subject.into(),
        description: message.into(),
        priority,
        attachments: attachments.clone(),
    };
    if let Err(e) = state
        .bus
        .tickets
        .execute(&id.to_string(), command, &md)
        .await
    {
        upload::forget(&state.pool, &attachments).await;
        return Err(e.into());
    }
    Ok((
        StatusCode::CREATED,
        Json(TicketOpened {
            id,
            attachments: count,
        }),
    ))
}

/// The tenant's tickets, newest first, with the support messages it has not read.
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    operation_id = "list_tickets",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant's tickets", body = TicketPage),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing a tenant's tickets", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn list(
    State(state): State<TicketsState>,
    user: RequireTenantUser,
) -> Result<Json<TicketPage>, ApiError> {
    let sql = format!(
        "SELECT {} FROM tickets t WHERE t.tenant_id = $1 ORDER BY t.opened_at DESC LIMIT 500",
        summary_columns(Side::Tenant)
    );
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
        .bind(user.tenant_id)
        .fetch_all(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(TicketPage {
        items: view::summaries(&state, rows).await?,
    }))
}

/// One of the tenant's tickets with its thread (never internal notes); marks support's
/// messages read. Another tenant's ticket is 404.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
    operation_id = "show_ticket",
    tag = tags::TENANT,
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
#[tracing::instrument(name = "showing a ticket to its tenant", skip_all, fields(ticket = %id))]
pub(super) async fn show(
    State(state): State<TicketsState>,
    user: RequireTenantUser,
    Path(id): Path<Uuid>,
) -> Result<Json<TicketThread>, ApiError> {
    Ok(Json(
        view::thread(&state, id, Some(user.tenant_id), Side::Tenant).await?,
    ))
}

/// Writes in the tenant's ticket; a resolved ticket opens again, a closed one refuses
/// (409). While no admin handles it, the support AI answers again. The body is JSON
/// `{text}`, or a `multipart/form-data` form with a `text` field and up to 5 files as
/// parts named `attachments`, checked as when opening (413, 415; nothing stored then).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/messages",
    operation_id = "reply_to_ticket",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket")),
    request_body(content = TicketReply, description = "JSON `{text}`; or the same `text` as a multipart/form-data field with up to 5 `attachments` parts"),
    responses(
        (status = 204, description = "Recorded"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "The ticket is closed (`ticket_closed`)", body = crate::error::ErrorBody),
        (status = 413, description = "A file is over 5 MiB", body = crate::error::ErrorBody),
        (status = 415, description = "A file is not an image or a PDF by its bytes (`unsupported_attachment_type`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "a tenant writes in a ticket", skip_all, fields(ticket = %id))]
pub(super) async fn reply(
    State(state): State<TicketsState>,
    user: RequireTenantUser,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    body: Request,
) -> Result<StatusCode, ApiError> {
    let is_form = body
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/form-data"));
    let (text, files) = if is_form {
        let multipart =
            Multipart::from_request(body, &state)
                .await
                .map_err(|e| ApiError::BadRequest {
                    code: "invalid_form",
                    message: e.body_text(),
                })?;
        let form = Form::read(multipart).await?;
        (form.text("text")?.to_owned(), form.files)
    } else {
        let ApiJson(reply) = ApiJson::<TicketReply>::from_request(body, &state).await?;
        (reply.text, Vec::new())
    };
    let attachments = upload::store(&state.pool, user.tenant_id, id, files).await?;
    let md = command_metadata(&user.user, user.tenant_id, request);
    let command = TicketCommand::AddMessage {
        author: Author::Tenant {
            tenant_id: user.tenant_id,
            user_id: user.user.id,
        },
        text: text.into(),
        attachments: attachments.clone(),
    };
    if let Err(e) = state
        .bus
        .tickets
        .execute(&id.to_string(), command, &md)
        .await
    {
        upload::forget(&state.pool, &attachments).await;
        return Err(e.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Closes the tenant's ticket, whatever its status; closing is final.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/close",
    operation_id = "close_ticket",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 204, description = "Closed"),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "Already closed (`ticket_closed`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "a tenant closes a ticket", skip_all, fields(ticket = %id))]
pub(super) async fn close(
    State(state): State<TicketsState>,
    user: RequireTenantUser,
    request: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let md = command_metadata(&user.user, user.tenant_id, request);
    let command = TicketCommand::CloseByTenant {
        tenant_id: user.tenant_id,
    };
    state
        .bus
        .tickets
        .execute(&id.to_string(), command, &md)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Asks for a person: the AI stays silent and the ticket joins the admins' queue.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/human",
    operation_id = "ask_for_a_human",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 204, description = "Recorded (or already asked)"),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "The ticket is closed (`ticket_closed`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "a tenant asks for a person on a ticket", skip_all, fields(ticket = %id))]
pub(super) async fn ask_for_human(
    State(state): State<TicketsState>,
    user: RequireTenantUser,
    request: RequestMeta,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let md = command_metadata(&user.user, user.tenant_id, request);
    let command = TicketCommand::RequestHuman {
        tenant_id: user.tenant_id,
        user_id: user.user.id,
    };
    state
        .bus
        .tickets
        .execute(&id.to_string(), command, &md)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
