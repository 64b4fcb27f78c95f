//! Attached files: what is accepted, and `GET /api/v1/tickets/{id}/attachments/{attachment_id}`.

use super::TicketsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::AuthUser;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// The most files one message carries.
pub const MAX_ATTACHMENTS: usize = aggregates::ticket::MAX_ATTACHMENTS_PER_MESSAGE;

/// The largest file accepted: 5 MiB.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// The media types accepted, as found in the bytes: images and PDF.
const ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
];

/// The accepted media type of `bytes`, judged from their magic numbers (never from the
/// name or the declared type), or `None`.
pub(super) fn accepted_type(bytes: &[u8]) -> Option<&'static str> {
    infer::get(bytes)
        .map(|kind| kind.mime_type())
        .and_then(|mime| ALLOWED.iter().copied().find(|a| *a == mime))
}

/// One attached file's bytes: only to the ticket's tenant and to admins (anyone else gets
/// 404, as if it did not exist).
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/attachments/{attachment_id}",
    operation_id = "download_ticket_attachment",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The ticket"),
        ("attachment_id" = Uuid, Path, description = "The file"),
    ),
    responses(
        (status = 200, description = "The file's bytes, with the type found in them", content_type = "application/octet-stream"),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "downloading a ticket attachment", skip_all, fields(ticket = %id))]
pub(super) async fn download(
    State(state): State<TicketsState>,
    user: AuthUser,
    Path((id, attachment_id)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let scope = if user.role.is_admin() {
        None
    } else if let Some(tenant) = user.tenant_id {
        Some(tenant)
    } else {
        return Err(ApiError::Forbidden {
            code: "forbidden",
            message: "only tenants and admins read ticket files".into(),
        });
    };
    let row: Option<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT content_type, bytes FROM ticket_attachments
          WHERE attachment_id = $1 AND ticket_id = $2 AND ($3::uuid IS NULL OR tenant_id = $3)",
    )
    .bind(attachment_id)
    .bind(id)
    .bind(scope)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let (content_type, bytes) = row.ok_or_else(|| ApiError::NotFound {
        code: "attachment_not_found",
        message: "no such attachment".into(),
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, "attachment".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_pdfs_are_told_by_their_bytes_and_anything_else_is_refused() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
        assert_eq!(accepted_type(&png), Some("image/png"));
        assert_eq!(accepted_type(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(accepted_type(b"MZ\x90\x00 a windows program"), None);
        assert_eq!(accepted_type(b"just text named photo.png"), None);
    }
}
