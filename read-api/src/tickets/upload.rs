//! Reading a ticket form with files, and keeping the files' bytes outside the log.

use super::attachments::{accepted_type, MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES};
use crate::error::ApiError;
use aggregates::ticket::NewAttachment;
use axum::extract::multipart::{Field, Multipart};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// A checked file, not stored yet.
#[derive(Debug)]
pub(super) struct File {
    pub(super) name: String,
    pub(super) content_type: &'static str,
    pub(super) bytes: Vec<u8>,
}

/// A form's text fields and its files, all checked: at most [`MAX_ATTACHMENTS`] files,
/// each at most [`MAX_ATTACHMENT_BYTES`] (413) and an image or a PDF by its bytes (415).
#[derive(Debug, Default)]
pub(super) struct Form {
    pub(super) fields: HashMap<String, String>,
    pub(super) files: Vec<File>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_form",
        message: message.into(),
    }
}

/// Reads one file's bytes, stopping as soon as it passes the limit.
async fn read_file(mut field: Field<'_>) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| too_large_or_bad(e.status(), e.body_text()))?
    {
        if bytes.len() + chunk.len() > MAX_ATTACHMENT_BYTES {
            return Err(ApiError::PayloadTooLarge {
                limit_bytes: MAX_ATTACHMENT_BYTES,
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn too_large_or_bad(status: axum::http::StatusCode, text: String) -> ApiError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge {
            limit_bytes: MAX_ATTACHMENTS * MAX_ATTACHMENT_BYTES,
        }
    } else {
        bad(text)
    }
}

impl Form {
    /// Reads `multipart`: every part with a file name is a file, the others text fields.
    pub(super) async fn read(mut multipart: Multipart) -> Result<Self, ApiError> {
        let mut form = Form::default();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| too_large_or_bad(e.status(), e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(file_name) => {
                    if form.files.len() == MAX_ATTACHMENTS {
                        return Err(ApiError::Unprocessable {
                            code: "too_many_attachments",
                            message: format!("at most {MAX_ATTACHMENTS} files per message"),
                            details: None,
                        });
                    }
                    let bytes = read_file(field).await?;
                    let content_type =
                        accepted_type(&bytes).ok_or_else(|| ApiError::UnsupportedMediaType {
                            code: "unsupported_attachment_type",
                            message: format!(
                                "{file_name:?} is not an image (PNG, JPEG, GIF, WebP) or a PDF"
                            ),
                        })?;
                    let file_name = file_name.trim();
                    form.files.push(File {
                        name: if file_name.is_empty() {
                            "file".into()
                        } else {
                            file_name.chars().take(255).collect()
                        },
                        content_type,
                        bytes,
                    });
                }
                None => {
                    let text = field
                        .text()
                        .await
                        .map_err(|e| too_large_or_bad(e.status(), e.body_text()))?;
                    form.fields.insert(name, text);
                }
            }
        }
        Ok(form)
    }

    /// A required text field.
    pub(super) fn text(&self, name: &str) -> Result<&str, ApiError> {
        self.fields
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| bad(format!("the form has no `{name}` field")))
    }
}

/// Stores `files` of `ticket` (of `tenant`) and describes them for the command. The bytes
/// go in before the event that names them; [`forget`] undoes this when the command fails.
pub(super) async fn store(
    pool: &PgPool,
    tenant: Uuid,
    ticket: Uuid,
    files: Vec<File>,
) -> Result<Vec<NewAttachment>, ApiError> {
    let mut tx = pool.begin().await.map_err(ApiError::internal)?;
    let mut described = Vec::with_capacity(files.len());
    for file in files {
        let id = Uuid::now_v7();
        let sha256 = hex::encode(Sha256::digest(&file.bytes));
        let size = file.bytes.len();
        sqlx::query(
            "INSERT INTO ticket_attachments (attachment_id, tenant_id, ticket_id, content_type,
                 size, sha256, bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(tenant)
        .bind(ticket)
        .bind(file.content_type)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(&sha256)
        .bind(file.bytes)
        .execute(&mut *tx)
        .await
        .map_err(ApiError::internal)?;
        described.push(NewAttachment {
            attachment_id: id,
            name: file.name.into(),
            size: u64::try_from(size).unwrap_or(u64::MAX),
            content_type: file.content_type.to_owned(),
            sha256,
        });
    }
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(described)
}

/// Removes stored bytes no event names (the command that would have was refused).
pub(super) async fn forget(pool: &PgPool, attachments: &[NewAttachment]) {
    let ids: Vec<Uuid> = attachments.iter().map(|a| a.attachment_id).collect();
    if ids.is_empty() {
        return;
    }
    if let Err(e) = sqlx::query("DELETE FROM ticket_attachments WHERE attachment_id = ANY($1)")
        .bind(&ids)
        .execute(pool)
        .await
    {
        tracing::error!(error = %e, "could not remove the files of a refused ticket command");
    }
}
