//! `GET /api/v1/audit/checkpoints`: the chain's recorded checkpoints, newest first (F47).
//! Copies kept outside the database are what catch a rewrite of the chain and its
//! checkpoints together; this is where an auditor reads them to make those copies.

use super::AuditState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiQuery, RequireAuditor};
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use projections::audit::{self, ChainCheckpoint};
use serde::{Deserialize, Serialize};

const MAX_PAGE: i64 = 1000;

/// Paging; all optional.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckpointQuery {
    /// Checkpoints below this link (the previous page's `next_cursor`).
    pub before: Option<i64>,
    /// Page size, 1–1000 (default 50).
    pub limit: Option<i64>,
}

/// One recorded checkpoint: the chain's head at the time.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    /// The link the head was at.
    pub link_no: i64,
    /// The event position that link seals.
    pub position: i64,
    /// That link's hash, hex.
    pub hash: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl From<ChainCheckpoint> for Checkpoint {
    fn from(c: ChainCheckpoint) -> Self {
        Self {
            link_no: c.link_no,
            position: c.position,
            hash: c.hash,
            recorded_at: c.recorded_at,
        }
    }
}

/// A page of checkpoints.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointPage {
    /// Newest first.
    pub items: Vec<Checkpoint>,
    /// Pass as `before` for the next (older) page; absent on the last one.
    pub next_cursor: Option<i64>,
}

/// The recorded checkpoints, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit/checkpoints",
    operation_id = "list_chain_checkpoints",
    tag = tags::AUDITOR,
    security(("bearer" = [])),
    params(CheckpointQuery),
    responses(
        (status = 200, description = "A page of checkpoints, newest first", body = CheckpointPage),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A bad `limit` (`invalid_limit`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing the chain's checkpoints for an auditor", skip_all)]
pub async fn checkpoints(
    State(state): State<AuditState>,
    _auditor: RequireAuditor,
    ApiQuery(q): ApiQuery<CheckpointQuery>,
) -> Result<Json<CheckpointPage>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Unprocessable {
            code: "invalid_limit",
            message: format!("limit must be between 1 and {MAX_PAGE}"),
            details: None,
        });
    }
    // One more than asked tells whether an older page follows.
    let mut items = audit::checkpoints(&state.pool, q.before, limit + 1)
        .await
        .map_err(ApiError::internal)?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more.then(|| items.last().map(|c| c.link_no)).flatten();
    Ok(Json(CheckpointPage {
        items: items.into_iter().map(Checkpoint::from).collect(),
        next_cursor,
    }))
}
