//! Projection administration (F48): each consumer's progress, its parked events, retrying
//! one, and rebuilding a read model from the log. Admins only.

use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::RequireAdmin;
use crate::trail::{Action, Trail};
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use stream::parked;
use stream::replay::{self, ReplayError, ReplayReport};
use stream::{Checkpoint, CheckpointStore, EventHandler, ParkedEvent, RetryError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the projection admin routes use.
#[derive(Debug, Clone)]
pub struct ProjectionsState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The event-store tail: the head position and consumers' lag.
    pub tail: stream::Tail,
    /// The stream handlers this process runs.
    pub projections: stream::Registry,
}

/// Lag is counted exactly up to this many events.
const LAG_CAP: i64 = 100_000;

/// The projection admin routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    ProjectionsState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(list_parked))
        .routes(routes!(retry))
        .routes(routes!(replay))
}

/// One stream consumer, as the admin list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectionInfo {
    /// The consumer's name.
    pub name: String,
    /// Its stored checkpoint.
    #[schema(value_type = crate::openapi::foreign::CheckpointDoc)]
    pub checkpoint: Checkpoint,
    /// Committed events it has not consumed yet (capped).
    pub lag_events: i64,
    /// Events it parked.
    pub parked: i64,
    /// Whether it is a read model that `replay` can rebuild.
    pub replayable: bool,
    /// Its latest replay (running when `finished_at` is absent), if it was ever replayed.
    #[schema(value_type = Option<crate::openapi::foreign::ReplayProgressDoc>)]
    pub replay: Option<replay::progress::ReplayProgress>,
}

/// The outcome of a successful retry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Retried {
    /// The event's position; it is no longer parked.
    pub position: i64,
}

fn handler(state: &ProjectionsState, name: &str) -> Result<Arc<dyn EventHandler>, ApiError> {
    state
        .projections
        .get(name)
        .ok_or_else(|| ApiError::NotFound {
            code: "unknown_projection",
            message: format!("no stream consumer named {name:?} runs here"),
        })
}

/// Each stream consumer: checkpoint, lag, parked count, whether it can be replayed, and
/// its latest replay's progress (poll this while `replay` runs).
#[utoipa::path(
    get,
    path = "/api/v1/admin/projections",
    operation_id = "list_projections",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every consumer this process runs", body = Vec<ProjectionInfo>),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
async fn list(
    State(state): State<ProjectionsState>,
    _: RequireAdmin,
) -> Result<Json<Vec<ProjectionInfo>>, ApiError> {
    let stored: HashMap<String, Checkpoint> = CheckpointStore::new(state.pool.clone())
        .all()
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .collect();
    let parked: HashMap<String, i64> = parked::counts(&state.pool)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .collect();
    let mut replays: HashMap<String, replay::progress::ReplayProgress> =
        replay::progress::all(&state.pool)
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|p| (p.projection.clone(), p))
            .collect();
    let mut out = Vec::new();
    for h in state.projections.iter() {
        let checkpoint = stored.get(h.name()).copied().unwrap_or_default();
        let lag_events = state
            .tail
            .lag(checkpoint, LAG_CAP)
            .await
            .map_err(ApiError::internal)?;
        out.push(ProjectionInfo {
            name: h.name().to_owned(),
            checkpoint,
            lag_events,
            parked: parked.get(h.name()).copied().unwrap_or(0),
            replayable: !h.tables().is_empty(),
            replay: replays.remove(h.name()),
        });
    }
    Ok(Json(out))
}

/// A consumer's parked events, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/projections/{name}/parked",
    operation_id = "list_parked_events",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The consumer")),
    responses(
        (status = 200, description = "Its parked events", body = Vec<crate::openapi::foreign::ParkedEventDoc>),
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such consumer (`unknown_projection`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
async fn list_parked(
    State(state): State<ProjectionsState>,
    _: RequireAdmin,
    Path(name): Path<String>,
) -> Result<Json<Vec<ParkedEvent>>, ApiError> {
    let h = handler(&state, &name)?;
    parked::list(&state.pool, h.name())
        .await
        .map(Json)
        .map_err(ApiError::internal)
}

/// Applies a parked event with the handler now.
#[utoipa::path(
    post,
    path = "/api/v1/admin/projections/{name}/parked/{position}/retry",
    operation_id = "retry_parked_event",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(
        ("name" = String, Path, description = "The consumer"),
        ("position" = i64, Path, description = "The parked event's position"),
    ),
    responses(
        (status = 200, description = "Applied and unparked", body = Retried),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such consumer, or that event is not parked", body = crate::error::ErrorBody),
        (status = 409, description = "It still fails (`still_failing`), with the error", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "retrying a parked event for an admin", skip_all, fields(by = %admin.id, %name, position))]
async fn retry(
    State(state): State<ProjectionsState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    Path((name, position)): Path<(String, i64)>,
) -> Result<Json<Retried>, ApiError> {
    let entry = Action::RetryParkedEvent.on("parked_event", format!("{name}/{position}"));
    trail
        .record(entry, retry_parked(&state, &name, position).await)
        .await
}

async fn retry_parked(
    state: &ProjectionsState,
    name: &str,
    position: i64,
) -> Result<Json<Retried>, ApiError> {
    let h = handler(state, name)?;
    match parked::retry(&state.tail, h.as_ref(), position).await {
        Ok(()) => Ok(Json(Retried { position })),
        Err(e @ RetryError::NotParked { .. }) => Err(ApiError::NotFound {
            code: "not_parked",
            message: e.to_string(),
        }),
        Err(e @ RetryError::StillFailing(_)) => Err(ApiError::Conflict {
            code: "still_failing",
            message: e.to_string(),
        }),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// Rebuilds the read model from the log and swaps it in.
#[utoipa::path(
    post,
    path = "/api/v1/admin/projections/{name}/replay",
    operation_id = "replay_projection",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The consumer")),
    responses(
        (status = 200, description = "The replay report: events applied, new checkpoint, time", body = crate::openapi::foreign::ReplayReportDoc),
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "No such consumer (`unknown_projection`)", body = crate::error::ErrorBody),
        (status = 409, description = "Not replayable, already running, or the handler failed", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "replaying a projection for an admin", skip_all, fields(by = %admin.id, %name))]
async fn replay(
    State(state): State<ProjectionsState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    Path(name): Path<String>,
) -> Result<Json<ReplayReport>, ApiError> {
    let result = replay_model(&state, &name).await;
    let entry = Action::ReplayProjection.on("projection", &name);
    let entry = match &result {
        Ok(Json(report)) => entry.note(format!("{} events applied", report.events)),
        Err(_) => entry,
    };
    trail.record(entry, result).await
}

async fn replay_model(
    state: &ProjectionsState,
    name: &str,
) -> Result<Json<ReplayReport>, ApiError> {
    let h = handler(state, name)?;
    match replay::replay(&state.tail, h).await {
        Ok(report) => Ok(Json(report)),
        Err(e @ ReplayError::NotReplayable(_)) => Err(ApiError::Conflict {
            code: "not_replayable",
            message: e.to_string(),
        }),
        Err(e @ ReplayError::AlreadyRunning(_)) => Err(ApiError::Conflict {
            code: "replay_running",
            message: e.to_string(),
        }),
        Err(e @ ReplayError::Handler { .. }) => Err(ApiError::Conflict {
            code: "handler_failed",
            message: e.to_string(),
        }),
        Err(e) => Err(ApiError::internal(e)),
    }
}
