//! The SSE route itself.

use super::auth::{Audience, StreamUser};
use super::changes::Signal;
use super::StreamState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ACCESS_TOKEN_TTL;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Serialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

/// How often an idle stream sends a comment, so proxies keep it open and clients notice a
/// dead connection.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The data of a `conversation` event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeEvent {
    /// The conversation that changed.
    pub conversation_id: Uuid,
    /// Its status now.
    pub status: String,
    /// Its `updated_at` now.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The position of the event that changed it (also the SSE event id).
    pub position: i64,
}

/// The data of a `ticket` event: one of the tenant's support tickets changed (a message,
/// a status, an assignment).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketChangeEvent {
    /// The ticket that changed.
    pub ticket_id: Uuid,
    /// Its status now.
    pub status: String,
    /// Its `updated_at` now.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The position of the event that changed it (also the SSE event id).
    pub position: i64,
}

/// The data of a `notification` event (admins only): an admin notification was raised;
/// `GET /api/v1/admin/notifications` has it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationEvent {
    /// The notification's id (also the SSE event id).
    pub id: i64,
    /// Its kind.
    pub kind: String,
}

fn event_of(signal: Signal) -> Event {
    match signal {
        Signal::Change(c) => {
            let data = ChangeEvent {
                conversation_id: c.conversation_id,
                status: c.status,
                updated_at: c.updated_at,
                position: c.position,
            };
            Event::default()
                .event("conversation")
                .id(c.position.to_string())
                .json_data(data)
                .unwrap_or_else(|_| resync())
        }
        Signal::Ticket(c) => {
            let data = TicketChangeEvent {
                ticket_id: c.ticket_id,
                status: c.status,
                updated_at: c.updated_at,
                position: c.position,
            };
            Event::default()
                .event("ticket")
                .id(c.position.to_string())
                .json_data(data)
                .unwrap_or_else(|_| resync())
        }
        Signal::Notification(n) => Event::default()
            .event("notification")
            .id(n.id.to_string())
            .json_data(NotificationEvent {
                id: n.id,
                kind: n.kind.as_str().to_owned(),
            })
            .unwrap_or_else(|_| resync()),
        Signal::Resync => resync(),
    }
}

fn resync() -> Event {
    Event::default().event("resync").data("{}")
}

/// Live changes of the caller's tenant's conversations and support tickets, as server-sent
/// events: `conversation` (data: id, status, updated_at, position), `ticket` (data:
/// ticket_id, status, updated_at, position; the tenant's own tickets only) and `resync`
/// (changes may have been missed: reload). An admin gets `notification` events instead
/// (data: id, kind: a new admin notification) and `resync`. The token may be sent as `?access_token=` for `EventSource`. The
/// stream ends an access token's lifetime (15 minutes) after it opened: reconnect with a
/// current token. It also ends when the server shuts down: reconnect (to another instance).
#[utoipa::path(
    get,
    path = "/api/v1/stream",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("access_token" = Option<String>, Query, description = "The access token, for clients that cannot send headers")),
    responses(
        (status = 200, description = "`text/event-stream` of `conversation` (data: `ChangeEvent`), `ticket` (data: `TicketChangeEvent`) and `resync` events; for admins, `notification` (data: `NotificationEvent`) and `resync`", content_type = "text/event-stream", body = ChangeEvent),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "streaming live changes to a console", skip_all, fields(user = %caller.user.id))]
pub(super) async fn stream(
    State(state): State<StreamState>,
    caller: StreamUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let audience = caller.audience;
    let receiver = state
        .changes
        .subscribe()
        .await
        .map_err(ApiError::internal)?;
    let events = futures::stream::unfold(receiver, move |mut receiver| async move {
        loop {
            let signal = match receiver.recv().await {
                Ok(Signal::Change(c)) if audience != Audience::Tenant(c.tenant_id) => continue,
                Ok(Signal::Ticket(c)) if audience != Audience::Tenant(c.tenant_id) => continue,
                Ok(Signal::Notification(_)) if audience != Audience::Admins => continue,
                Ok(signal) => signal,
                Err(RecvError::Lagged(_)) => Signal::Resync,
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok(event_of(signal)), receiver));
        }
    });
    // The token is checked once, at connection; ending the stream a token's lifetime later
    // makes the client reconnect with a current one, so a signed-out user stops listening.
    let events = events
        .take_until(tokio::time::sleep(ACCESS_TOKEN_TTL))
        .take_until(state.changes.closed());
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
