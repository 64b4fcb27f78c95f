//! `GET /api/v1/conversations`: the tenant's conversations, filtered, most recent first.

use super::cursor::{page_size, ListCursor};
use super::open::open_all;
use super::view::{Contact, ConversationPage, ConversationSummary, LastMessage};
use super::ConversationsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::ApiQuery;
use crate::request::RequireTenantUser;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use schemas::EventType;
use serde::Deserialize;
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

/// Filters and paging of the list; all optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// `ai_active`, `awaiting_human`, `human_replied` or `resolved`.
    pub status: Option<String>,
    /// A tenant user's id, `me` (the caller), or `none` (also `unassigned`) for
    /// unassigned conversations.
    pub agent: Option<String>,
    /// Part of the contact's name (any case) or number (digits).
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (50 by default).
    pub limit: Option<String>,
}

/// The conversation row as the queries select it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct Row {
    pub conversation_id: Uuid,
    pub status: String,
    pub contact_phone: Option<String>,
    pub contact_name: Option<String>,
    pub last_message_preview: Option<Value>,
    pub last_message_direction: Option<String>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub unanswered_count: i32,
    pub assigned_agent: Option<Uuid>,
    pub window_ends_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub handed_off_at: Option<DateTime<Utc>>,
}

/// The columns of [`Row`].
pub(super) const COLUMNS: &str = "conversation_id, status, contact_phone, contact_name,
    last_message_preview, last_message_direction, last_message_at, unanswered_count,
    assigned_agent, window_ends_at, updated_at, handed_off_at";

impl Row {
    pub(super) fn into_summary(self) -> ConversationSummary {
        let last_message = match (self.last_message_direction, self.last_message_at) {
            (Some(direction), Some(at)) => Some(LastMessage {
                preview: self.last_message_preview,
                direction,
                at,
            }),
            _ => None,
        };
        ConversationSummary {
            id: self.conversation_id,
            status: self.status,
            contact: Contact::from_columns(self.contact_phone, self.contact_name),
            last_message,
            unanswered_count: self.unanswered_count,
            assigned_agent: self.assigned_agent,
            window_ends_at: self.window_ends_at,
            updated_at: self.updated_at,
            handed_off_at: self.handed_off_at,
            // Filled by `handoff_reasons` for the conversations handed off.
            handoff_reason: None,
        }
    }
}

const STATUSES: [&str; 4] = ["ai_active", "awaiting_human", "human_replied", "resolved"];

fn unprocessable(code: &'static str, message: &str) -> ApiError {
    ApiError::Unprocessable {
        code,
        message: message.into(),
        details: None,
    }
}

/// Whom the list is filtered to.
enum AgentFilter {
    Unassigned,
    Agent(Uuid),
}

fn agent_filter(agent: Option<&str>, me: Uuid) -> Result<Option<AgentFilter>, ApiError> {
    match agent.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(None),
        Some("none" | "unassigned") => Ok(Some(AgentFilter::Unassigned)),
        Some("me") => Ok(Some(AgentFilter::Agent(me))),
        Some(a) => Uuid::parse_str(a)
            .map(|id| Some(AgentFilter::Agent(id)))
            .map_err(|_| {
                unprocessable(
                    "invalid_agent",
                    "agent must be a user id, `me`, `none` or `unassigned`",
                )
            }),
    }
}

/// Fills `handoff_reason` of the conversations handed off, from the event that began each
/// hand-off: `customer_asked`, or the reason the AI recorded (`low_confidence` for
/// hand-offs recorded before reasons were kept). One statement for the whole page.
pub(super) async fn handoff_reasons(
    state: &ConversationsState,
    items: &mut [ConversationSummary],
) -> Result<(), ApiError> {
    let ids: Vec<String> = items
        .iter()
        .filter(|i| i.handed_off_at.is_some())
        .map(|i| i.id.to_string())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let reasons: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (aggregate_id) aggregate_id,
                CASE event_type WHEN $2 THEN 'customer_asked'
                ELSE COALESCE(payload -> $3 ->> 'reason', 'low_confidence') END
           FROM events
          WHERE aggregate_type = 'conversation' AND aggregate_id = ANY($1)
            AND event_type IN ($3, $2)
          ORDER BY aggregate_id, sequence DESC",
    )
    .bind(&ids)
    .bind(EventType::HumanRequested.as_str())
    .bind(EventType::ConfidenceLow.as_str())
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    for (id, reason) in reasons {
        if let Some(item) = items
            .iter_mut()
            .find(|i| i.handed_off_at.is_some() && i.id.to_string() == id)
        {
            item.handoff_reason = Some(reason);
        }
    }
    Ok(())
}

/// The `LIKE` pattern of a contact search, in the projection's normalized form: the digits
/// of something that looks like a phone number, otherwise the lower-case text.
fn search_pattern(q: &str) -> Option<String> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let phone_like = q.chars().any(|c| c.is_ascii_digit())
        && q.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let text = if phone_like {
        q.chars().filter(char::is_ascii_digit).collect()
    } else {
        q.to_lowercase()
    };
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

/// The tenant's conversations, most recently changed first, with their last message opened.
#[utoipa::path(
    get,
    path = "/api/v1/conversations",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(ConversationQuery),
    responses(
        (status = 200, description = "A page of the tenant's conversations", body = ConversationPage),
        (status = 400, description = "The cursor is not one this API gave out (`invalid_cursor`)", body = crate::error::ErrorBody),
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "A filter is invalid (`invalid_status`, `invalid_agent`, `invalid_limit`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing a tenant's conversations", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn list(
    State(state): State<ConversationsState>,
    user: RequireTenantUser,
    ApiQuery(query): ApiQuery<ConversationQuery>,
) -> Result<Json<ConversationPage>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(status) = status {
        if !STATUSES.contains(&status) {
            return Err(unprocessable(
                "invalid_status",
                "status must be ai_active, awaiting_human, human_replied or resolved",
            ));
        }
    }
    let agent = agent_filter(query.agent.as_deref(), user.user.id)?;
    let cursor = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(ListCursor::decode)
        .transpose()?;
    let limit = page_size(query.limit.as_deref())?;

    // Only the filters asked for are in the statement, so each shape gets a plan that uses
    // its index.
    let mut b: QueryBuilder<'_, Postgres> = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM conversations WHERE tenant_id = "
    ));
    b.push_bind(user.tenant_id);
    if let Some(status) = status {
        b.push(" AND status = ").push_bind(status.to_owned());
    }
    match agent {
        Some(AgentFilter::Unassigned) => {
            b.push(" AND assigned_agent IS NULL");
        }
        Some(AgentFilter::Agent(id)) => {
            b.push(" AND assigned_agent = ").push_bind(id);
        }
        None => {}
    }
    if let Some(pattern) = query.q.as_deref().and_then(search_pattern) {
        b.push(" AND contact_search LIKE ").push_bind(pattern);
    }
    if let Some(c) = cursor {
        b.push(" AND (updated_at, conversation_id) < (")
            .push_bind(c.updated_at)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    // One more than asked tells whether another page follows.
    b.push(" ORDER BY updated_at DESC, conversation_id DESC LIMIT ")
        .push_bind(limit + 1);
    let mut rows: Vec<Row> = b
        .build_query_as()
        .fetch_all(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more.then(|| rows.last()).flatten().map(|r| {
        ListCursor {
            updated_at: r.updated_at,
            id: r.conversation_id,
        }
        .encode()
    });
    let mut items: Vec<ConversationSummary> = rows.into_iter().map(Row::into_summary).collect();
    let mut previews: Vec<&mut Value> = items
        .iter_mut()
        .filter_map(|i| i.last_message.as_mut()?.preview.as_mut())
        .collect();
    open_all(&state.keys, &mut previews).await?;
    handoff_reasons(&state, &mut items).await?;
    Ok(Json(ConversationPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::search_pattern;

    #[test]
    fn a_number_is_searched_by_its_digits_and_a_name_in_lower_case() {
        assert_eq!(
            search_pattern("+55 (11) 9888").as_deref(),
            Some("%55119888%")
        );
        assert_eq!(search_pattern(" Ana ").as_deref(), Some("%ana%"));
        assert_eq!(search_pattern("50%_off").as_deref(), Some("%50\\%\\_off%"));
        assert_eq!(search_pattern("  "), None);
    }
}
