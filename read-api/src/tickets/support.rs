//! The support settings and numbers: the category list, the platform knowledge the support
//! AI answers from, and the support metrics.

use super::TicketsState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiJson, AuthUser, RequireAdmin};
use crate::trail::{Action, Trail};
use ::knowledge::PLATFORM_KNOWLEDGE;
use aggregates::tenant::MAX_KNOWLEDGE_CHARS;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A ticket category.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    /// Stable key (`financeiro`), what tickets record.
    pub key: String,
    /// What people read (`Financeiro`).
    pub label: String,
}

/// The categories, in display order.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Categories {
    /// The categories.
    pub items: Vec<Category>,
}

/// The new category list, replacing the old one; tickets keep the key they were opened with.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReplaceCategoriesRequest {
    /// 1 to 50 categories; keys are lowercase letters, digits, `_` or `-`, unique.
    pub items: Vec<Category>,
}

async fn read_categories(state: &TicketsState) -> Result<Categories, ApiError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT key, label FROM ticket_categories ORDER BY position, key")
            .fetch_all(&state.pool)
            .await
            .map_err(ApiError::internal)?;
    Ok(Categories {
        items: rows
            .into_iter()
            .map(|(key, label)| Category { key, label })
            .collect(),
    })
}

/// The categories a ticket may be opened in.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/categories",
    operation_id = "ticket_categories",
    tag = tags::TENANT,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The categories", body = Categories),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing ticket categories", skip_all)]
pub(super) async fn categories(
    State(state): State<TicketsState>,
    _user: AuthUser,
) -> Result<Json<Categories>, ApiError> {
    Ok(Json(read_categories(&state).await?))
}

/// Replaces the category list.
#[utoipa::path(
    put,
    path = "/api/v1/admin/tickets/categories",
    operation_id = "replace_ticket_categories",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = ReplaceCategoriesRequest,
    responses(
        (status = 200, description = "The categories now", body = Categories),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "Empty, too long, a bad or repeated key (`invalid_categories`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "replacing the ticket categories", skip_all)]
pub(super) async fn replace_categories(
    State(state): State<TicketsState>,
    _admin: RequireAdmin,
    trail: Trail,
    ApiJson(body): ApiJson<ReplaceCategoriesRequest>,
) -> Result<Json<Categories>, ApiError> {
    let entry = Action::ReplaceTicketCategories
        .on("ticket_categories", "")
        .note(format!("{} categories", body.items.len()));
    trail
        .record(entry, replace_categories_with(&state, body).await)
        .await
}

async fn replace_categories_with(
    state: &TicketsState,
    body: ReplaceCategoriesRequest,
) -> Result<Json<Categories>, ApiError> {
    let invalid = |message: String| ApiError::Unprocessable {
        code: "invalid_categories",
        message,
        details: None,
    };
    if body.items.is_empty() || body.items.len() > 50 {
        return Err(invalid("give 1 to 50 categories".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for c in &body.items {
        let key_ok = !c.key.is_empty()
            && c.key.len() <= 40
            && c.key
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-');
        if !key_ok {
            return Err(invalid(format!(
                "{:?} is not a key: lowercase letters, digits, `_` or `-`, at most 40",
                c.key
            )));
        }
        if c.label.trim().is_empty() || c.label.chars().count() > 80 {
            return Err(invalid(format!(
                "the label of {:?} must have 1 to 80 characters",
                c.key
            )));
        }
        if !seen.insert(c.key.as_str()) {
            return Err(invalid(format!("{:?} appears twice", c.key)));
        }
    }
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    sqlx::query("DELETE FROM ticket_categories")
        .execute(&mut *tx)
        .await
        .map_err(ApiError::internal)?;
    for (position, c) in (0i32..).zip(&body.items) {
        sqlx::query("INSERT INTO ticket_categories (key, label, position) VALUES ($1, $2, $3)")
            .bind(&c.key)
            .bind(c.label.trim())
            .bind(position)
            .execute(&mut *tx)
            .await
            .map_err(ApiError::internal)?;
    }
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Json(read_categories(state).await?))
}

/// The platform knowledge.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SupportKnowledge {
    /// 1 for the first text, then one more per change; 0 when there is none yet.
    pub version: u32,
    /// The whole text.
    pub text: String,
    /// Its length in characters.
    pub char_count: u32,
    /// When it was last replaced.
    pub replaced_at: Option<DateTime<Utc>>,
    /// How many chunks the index holds for it.
    pub chunk_count: u32,
}

/// The new platform knowledge text, replacing the whole previous one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReplaceSupportKnowledge {
    /// At most 50,000 characters, as a tenant's knowledge.
    pub text: String,
}

async fn read_knowledge(state: &TicketsState) -> Result<SupportKnowledge, ApiError> {
    let row: Option<(i32, String, i32, DateTime<Utc>)> = sqlx::query_as(
        "SELECT version, text, char_count, replaced_at FROM support_knowledge WHERE id",
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let chunk_count = state
        .knowledge
        .status(PLATFORM_KNOWLEDGE)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?
        .map_or(0, |s| s.chunk_count);
    let (version, text, char_count, replaced_at) = match row {
        Some((v, t, c, at)) => (v, t, c, Some(at)),
        None => (0, String::new(), 0, None),
    };
    Ok(SupportKnowledge {
        version: u32::try_from(version).unwrap_or(0),
        text,
        char_count: u32::try_from(char_count).unwrap_or(0),
        replaced_at,
        chunk_count,
    })
}

/// The knowledge the support AI answers tickets from.
#[utoipa::path(
    get,
    path = "/api/v1/admin/support-knowledge",
    operation_id = "show_support_knowledge",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The platform knowledge", body = SupportKnowledge),
        r::Unauthorized,
        r::Forbidden,
        r::Unavailable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing the support knowledge", skip_all)]
pub(super) async fn show_knowledge(
    State(state): State<TicketsState>,
    _admin: RequireAdmin,
) -> Result<Json<SupportKnowledge>, ApiError> {
    Ok(Json(read_knowledge(&state).await?))
}

/// Replaces the platform knowledge and indexes it at once (chunked and embedded as a
/// tenant's knowledge, under a reserved id of its own).
#[utoipa::path(
    put,
    path = "/api/v1/admin/support-knowledge",
    operation_id = "replace_support_knowledge",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = ReplaceSupportKnowledge,
    responses(
        (status = 200, description = "Recorded and indexed", body = SupportKnowledge),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "Over 50,000 characters (`knowledge_too_long`)", body = crate::error::ErrorBody),
        r::Unavailable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "replacing the support knowledge", skip_all)]
pub(super) async fn replace_knowledge(
    State(state): State<TicketsState>,
    RequireAdmin(admin): RequireAdmin,
    trail: Trail,
    ApiJson(body): ApiJson<ReplaceSupportKnowledge>,
) -> Result<Json<SupportKnowledge>, ApiError> {
    let result = replace_knowledge_with(&state, admin, body).await;
    let entry = Action::ReplaceSupportKnowledge.on("support_knowledge", "");
    let entry = match &result {
        Ok(Json(k)) => entry.note(format!("version {}", k.version)),
        Err(_) => entry,
    };
    trail.record(entry, result).await
}

async fn replace_knowledge_with(
    state: &TicketsState,
    admin: AuthUser,
    body: ReplaceSupportKnowledge,
) -> Result<Json<SupportKnowledge>, ApiError> {
    let chars = body.text.chars().count();
    if chars > MAX_KNOWLEDGE_CHARS {
        return Err(ApiError::Unprocessable {
            code: "knowledge_too_long",
            message: format!(
                "the knowledge has {chars} characters; at most {MAX_KNOWLEDGE_CHARS} are allowed"
            ),
            details: Some(
                serde_json::json!({"char_count": chars, "max_chars": MAX_KNOWLEDGE_CHARS}),
            ),
        });
    }
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    // Locked, so two admins saving at once get consecutive versions.
    let current: Option<(i32, String)> =
        sqlx::query_as("SELECT version, text FROM support_knowledge WHERE id FOR UPDATE")
            .fetch_optional(&mut *tx)
            .await
            .map_err(ApiError::internal)?;
    if current.as_ref().is_some_and(|(_, text)| *text == body.text) {
        drop(tx);
        return Ok(Json(read_knowledge(state).await?));
    }
    let version = current.map_or(1, |(v, _)| v + 1);
    sqlx::query(
        "INSERT INTO support_knowledge (id, version, text, char_count, replaced_at, replaced_by)
         VALUES (true, $1, $2, $3, now(), $4)
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, text = EXCLUDED.text,
             char_count = EXCLUDED.char_count, replaced_at = EXCLUDED.replaced_at,
             replaced_by = EXCLUDED.replaced_by",
    )
    .bind(version)
    .bind(&body.text)
    .bind(i32::try_from(chars).unwrap_or(i32::MAX))
    .bind(admin.id)
    .execute(&mut *tx)
    .await
    .map_err(ApiError::internal)?;
    state
        .knowledge
        .index_version(
            &mut tx,
            PLATFORM_KNOWLEDGE,
            u32::try_from(version).unwrap_or(0),
            &body.text,
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "indexing the support knowledge failed");
            ApiError::Unavailable(e.to_string())
        })?;
    tx.commit().await.map_err(ApiError::internal)?;
    Ok(Json(read_knowledge(state).await?))
}

/// Support numbers for one category, or all of them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryMetrics {
    /// The category key; `null` for the totals.
    pub category: Option<String>,
    /// Tickets opened.
    pub tickets: i64,
    /// Mean seconds from opening to the AI's first answer (tickets it answered).
    pub ai_first_response_secs: Option<f64>,
    /// Mean seconds from opening to an admin's first answer (tickets one answered).
    pub human_first_response_secs: Option<f64>,
    /// Mean seconds from opening to first resolution (resolved tickets).
    pub resolution_secs: Option<f64>,
    /// Tickets resolved or closed.
    pub resolved: i64,
    /// Of those, answered by the AI with no admin ever answering.
    pub ai_resolved: i64,
    /// `ai_resolved / resolved`; `null` when nothing is resolved.
    pub ai_resolved_share: Option<f64>,
}

/// The support metrics, and the support AI's own use (the platform's cost, apart from any
/// tenant's).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SupportMetrics {
    /// All tickets.
    pub total: CategoryMetrics,
    /// Per category.
    pub categories: Vec<CategoryMetrics>,
    /// Questions the support AI judged.
    pub ai_runs: i64,
    /// Model tokens it spent (0 in the extractive, no-model mode).
    pub ai_tokens: i64,
}

type MetricsRow = (
    Option<String>,
    i64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    i64,
    i64,
);

/// First response times (AI and human), resolution time and the AI-resolved share, in
/// total and per category.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tickets/metrics",
    operation_id = "ticket_metrics",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The support metrics", body = SupportMetrics),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "reading the support metrics", skip_all)]
pub(super) async fn metrics(
    State(state): State<TicketsState>,
    _admin: RequireAdmin,
) -> Result<Json<SupportMetrics>, ApiError> {
    let rows: Vec<MetricsRow> = sqlx::query_as(
        "SELECT category, count(*),
                avg(extract(epoch FROM first_ai_response_at - opened_at))::float8,
                avg(extract(epoch FROM first_human_response_at - opened_at))::float8,
                avg(extract(epoch FROM resolved_at - opened_at))::float8,
                count(*) FILTER (WHERE status IN ('resolved', 'closed')),
                count(*) FILTER (WHERE status IN ('resolved', 'closed')
                                   AND first_ai_response_at IS NOT NULL
                                   AND first_human_response_at IS NULL)
           FROM tickets
          GROUP BY GROUPING SETS ((category), ())
          ORDER BY category NULLS FIRST",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let shape = |r: MetricsRow| CategoryMetrics {
        category: r.0,
        tickets: r.1,
        ai_first_response_secs: r.2,
        human_first_response_secs: r.3,
        resolution_secs: r.4,
        resolved: r.5,
        ai_resolved: r.6,
        ai_resolved_share: (r.5 > 0).then(|| r.6 as f64 / r.5 as f64),
    };
    let mut all: Vec<CategoryMetrics> = rows.into_iter().map(shape).collect();
    let total = match all.first() {
        Some(first) if first.category.is_none() => all.remove(0),
        _ => shape((None, 0, None, None, None, 0, 0)),
    };
    let (ai_runs, ai_tokens): (i64, i64) =
        sqlx::query_as("SELECT count(*), COALESCE(sum(tokens), 0)::bigint FROM support_ai_runs")
            .fetch_one(&state.pool)
            .await
            .map_err(ApiError::internal)?;
    Ok(Json(SupportMetrics {
        total,
        categories: all,
        ai_runs,
        ai_tokens,
    }))
}
