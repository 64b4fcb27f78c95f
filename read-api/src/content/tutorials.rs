//! Tutorials: admins write and publish them; tenants read the published ones.

use super::ContentState;
use super::{markdown, reading_locale, settled, Texts};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::request_metadata;
use crate::request::ApiQuery;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireAdmin, RequireTenantUser};
use aggregates::platform_content::TutorialDraft;
use aggregates::PlatformContentCommand;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use schemas::CommandMetadata;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A tutorial as an admin writes it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TutorialInput {
    /// Stable key for links from the pages it explains (`conectar-whatsapp`): lowercase
    /// letters, digits and hyphens; unique.
    pub slug: String,
    /// Its category key (e.g. `whatsapp`, `conhecimento`).
    pub category: String,
    /// Where it comes in the list: lower first (0 by default).
    #[serde(default)]
    pub position: i32,
    /// Its title in both languages (pt-BR required).
    pub title: Texts,
    /// Its body in Markdown, in both languages.
    #[serde(default)]
    pub body: Texts,
    /// A YouTube or Vimeo `https` address.
    pub video_url: Option<String>,
    /// Whether tenants see it (a draft when false, the default).
    #[serde(default)]
    pub published: bool,
}

/// A tutorial as admins see it: both languages, draft or not, and who wrote and changed it.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AdminTutorial {
    /// Its id.
    pub id: Uuid,
    /// Its stable key.
    pub slug: String,
    /// Its category key.
    pub category: String,
    /// Its place in the list.
    pub position: i32,
    /// `{"pt-BR", "en"}`.
    #[schema(value_type = Texts)]
    pub title: serde_json::Value,
    /// `{"pt-BR", "en"}`, Markdown.
    #[schema(value_type = Texts)]
    pub body: serde_json::Value,
    /// Its video.
    pub video_url: Option<String>,
    /// Whether tenants see it.
    pub published: bool,
    /// The admin who wrote it.
    pub written_by: Uuid,
    /// When.
    pub written_at: DateTime<Utc>,
    /// The admin who changed it last.
    pub changed_by: Uuid,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// Every tutorial, drafts included.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminTutorialList {
    /// In list order.
    pub items: Vec<AdminTutorial>,
}

/// A published tutorial in one language, its body as safe HTML.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TutorialView {
    /// Its id.
    pub id: Uuid,
    /// Its stable key.
    pub slug: String,
    /// Its category key.
    pub category: String,
    /// Its title.
    pub title: String,
    /// Its body rendered to HTML: no raw HTML from the source, links open outside.
    pub body_html: String,
    /// A YouTube or Vimeo address, shown as a link.
    pub video_url: Option<String>,
    /// The language shown.
    pub locale: String,
}

/// The published tutorials matching the search, and every category that has one.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TutorialList {
    /// Every category with a published tutorial, alphabetically.
    pub categories: Vec<String>,
    /// The matches, in list order.
    pub items: Vec<TutorialView>,
}

/// Search and filters of the tenant's list.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TutorialQuery {
    /// Words the title or body contains (any case).
    pub q: Option<String>,
    /// One category.
    pub category: Option<String>,
    /// `pt-BR` or `en`; the tenant's language by default.
    pub locale: Option<String>,
}

/// The language to read one tutorial in.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocaleQuery {
    /// `pt-BR` or `en`; the tenant's language by default.
    pub locale: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    tutorial_id: Uuid,
    slug: String,
    category: String,
    title: serde_json::Value,
    body: serde_json::Value,
    video_url: Option<String>,
}

fn view(row: Row, locale: schemas::Locale) -> TutorialView {
    let title = Texts::from(row.title);
    let body = Texts::from(row.body);
    TutorialView {
        id: row.tutorial_id,
        slug: row.slug,
        category: row.category,
        title: title.get(locale).to_owned(),
        body_html: markdown::to_html(body.get(locale)),
        video_url: row.video_url,
        locale: locale.as_str().to_owned(),
    }
}

/// The published tutorials, in list order, searchable by words and by category.
#[utoipa::path(
    get,
    path = "/api/v1/tutorials",
    operation_id = "list_tutorials",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(TutorialQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "The published tutorials", body = TutorialList),
        r::Unauthorized,
        r::Forbidden,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing the tutorials for a tenant", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn list(
    State(state): State<ContentState>,
    user: RequireTenantUser,
    ApiQuery(q): ApiQuery<TutorialQuery>,
) -> Result<Json<TutorialList>, ApiError> {
    let locale = reading_locale(&state, user.tenant_id, q.locale.as_deref()).await?;
    let words =
        q.q.as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| {
                format!(
                    "%{}%",
                    w.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                )
            });
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT tutorial_id, slug, category, title, body, video_url FROM tutorials
          WHERE published
            AND ($1::text IS NULL OR category = $1)
            AND ($2::text IS NULL OR title->>'pt-BR' ILIKE $2 OR title->>'en' ILIKE $2
                 OR body->>'pt-BR' ILIKE $2 OR body->>'en' ILIKE $2)
          ORDER BY position, written_at",
    )
    .bind(
        q.category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty()),
    )
    .bind(words)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let categories: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT category FROM tutorials WHERE published ORDER BY category",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(TutorialList {
        categories,
        items: rows.into_iter().map(|r| view(r, locale)).collect(),
    }))
}

/// One published tutorial by its stable key (pages link to theirs, e.g.
/// `conectar-whatsapp`); a draft or an unknown key is 404.
#[utoipa::path(
    get,
    path = "/api/v1/tutorials/{slug}",
    operation_id = "show_tutorial",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "The tutorial's key"), LocaleQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "The tutorial", body = TutorialView),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "showing a tutorial to a tenant", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn show(
    State(state): State<ContentState>,
    user: RequireTenantUser,
    Path(slug): Path<String>,
    ApiQuery(q): ApiQuery<LocaleQuery>,
) -> Result<Json<TutorialView>, ApiError> {
    let locale = reading_locale(&state, user.tenant_id, q.locale.as_deref()).await?;
    let row: Option<Row> = sqlx::query_as(
        "SELECT tutorial_id, slug, category, title, body, video_url FROM tutorials
          WHERE published AND slug = $1 ORDER BY changed_at DESC LIMIT 1",
    )
    .bind(slug.trim())
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    row.map(|r| Json(view(r, locale)))
        .ok_or_else(|| ApiError::NotFound {
            code: "tutorial_not_found",
            message: "no published tutorial has this key".into(),
        })
}

/// Every tutorial, drafts included, with who wrote and changed it.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tutorials",
    operation_id = "admin_list_tutorials",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every tutorial", body = AdminTutorialList),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing the tutorials for an admin", skip_all)]
pub(super) async fn admin_list(
    State(state): State<ContentState>,
    _admin: RequireAdmin,
) -> Result<Json<AdminTutorialList>, ApiError> {
    let items: Vec<AdminTutorial> = sqlx::query_as(
        "SELECT tutorial_id AS id, slug, category, position, title, body, video_url, published,
                written_by, written_at, changed_by, changed_at
           FROM tutorials ORDER BY position, written_at",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(AdminTutorialList { items }))
}

/// The created tutorial.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedContent {
    /// Its id.
    pub id: Uuid,
}

fn draft(body: &TutorialInput) -> TutorialDraft {
    TutorialDraft {
        slug: body.slug.trim().to_owned(),
        category: body.category.trim().to_owned(),
        position: body.position,
        title: body.title.clone().into(),
        body: body.body.clone().into(),
        video_url: body
            .video_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned),
    }
}

/// 409 when another tutorial has the key.
async fn slug_free(state: &ContentState, slug: &str, except: Option<Uuid>) -> Result<(), ApiError> {
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tutorials WHERE slug = $1
                         AND ($2::uuid IS NULL OR tutorial_id <> $2))",
    )
    .bind(slug.trim())
    .bind(except)
    .fetch_one(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    if taken {
        return Err(ApiError::Conflict {
            code: "slug_taken",
            message: format!("another tutorial has the key {:?}", slug.trim()),
        });
    }
    Ok(())
}

/// Publishes or takes back to draft as asked.
async fn set_published(
    state: &ContentState,
    id: Uuid,
    published: bool,
    admin_id: Uuid,
    md: &CommandMetadata,
) -> Result<(), ApiError> {
    let command = if published {
        PlatformContentCommand::Publish { admin_id }
    } else {
        PlatformContentCommand::Unpublish { admin_id }
    };
    state
        .bus
        .content
        .execute(&id.to_string(), command, md)
        .await?;
    Ok(())
}

/// Writes a tutorial, as a draft unless `published`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tutorials",
    operation_id = "create_tutorial",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = TutorialInput,
    responses(
        (status = 201, description = "Written", body = CreatedContent),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 409, description = "Another tutorial has the key (`slug_taken`)", body = crate::error::ErrorBody),
        (status = 422, description = "Blank title or category, bad key (`invalid_slug`), not a YouTube or Vimeo address (`invalid_video_url`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin writes a tutorial", skip_all, fields(by = %admin.id))]
pub(super) async fn create(
    State(state): State<ContentState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    ApiJson(body): ApiJson<TutorialInput>,
) -> Result<(StatusCode, Json<CreatedContent>), ApiError> {
    slug_free(&state, &body.slug, None).await?;
    let id = Uuid::now_v7();
    let md = request_metadata(CommandMetadata::new(admin.actor(), None), request);
    let command = PlatformContentCommand::WriteTutorial {
        tutorial_id: id,
        draft: draft(&body),
        admin_id: admin.id,
    };
    state
        .bus
        .content
        .execute(&id.to_string(), command, &md)
        .await?;
    if body.published {
        set_published(&state, id, true, admin.id, &md).await?;
    }
    settled(&state, id, "tutorials", "tutorial_id").await?;
    Ok((StatusCode::CREATED, Json(CreatedContent { id })))
}

/// Replaces a tutorial's content and publishes it or takes it back to draft.
#[utoipa::path(
    put,
    path = "/api/v1/admin/tutorials/{id}",
    operation_id = "update_tutorial",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tutorial")),
    request_body = TutorialInput,
    responses(
        (status = 204, description = "Saved"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "Another tutorial has the key (`slug_taken`), or this is an announcement", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin changes a tutorial", skip_all, fields(by = %admin.id, tutorial = %id))]
pub(super) async fn update(
    State(state): State<ContentState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<TutorialInput>,
) -> Result<StatusCode, ApiError> {
    slug_free(&state, &body.slug, Some(id)).await?;
    let md = request_metadata(CommandMetadata::new(admin.actor(), None), request);
    let command = PlatformContentCommand::ReviseTutorial {
        draft: draft(&body),
        admin_id: admin.id,
    };
    state
        .bus
        .content
        .execute(&id.to_string(), command, &md)
        .await?;
    set_published(&state, id, body.published, admin.id, &md).await?;
    settled(&state, id, "tutorials", "tutorial_id").await?;
    Ok(StatusCode::NO_CONTENT)
}
