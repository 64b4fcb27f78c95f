//! Announcements: admins write, publish and (once) e-mail them; tenants see the current
//! ones as a banner they can close, and the past ones in a list.

use super::tutorials::CreatedContent;
use super::ContentState;
use super::{markdown, reading_locale, settled, Texts};
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::request_metadata;
use crate::request::ApiQuery;
use crate::request::RequestMeta;
use crate::request::{ApiJson, RequireAdmin, RequireTenantUser};
use aggregates::platform_content::AnnouncementDraft;
use aggregates::PlatformContentCommand;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use integrations::mailer::{enqueue, NewMail, Template};
use schemas::events::{Audience, LocalizedText, Severity};
use schemas::{CommandMetadata, Locale, Plan};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who an announcement is for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AudienceInput {
    /// `everyone`, `plans` or `tenants`.
    pub kind: String,
    /// The plans' keys, for `plans`.
    #[serde(default)]
    pub plans: Vec<String>,
    /// The tenants, for `tenants`.
    #[serde(default)]
    pub tenant_ids: Vec<Uuid>,
}

impl AudienceInput {
    fn parse(&self) -> Result<Audience, ApiError> {
        Ok(match self.kind.as_str() {
            "everyone" => Audience::Everyone,
            "plans" => Audience::Plans {
                plans: self
                    .plans
                    .iter()
                    .map(|p| p.trim())
                    .filter(|p| !p.is_empty())
                    .map(Plan::from)
                    .collect(),
            },
            "tenants" => Audience::Tenants {
                tenant_ids: self.tenant_ids.clone(),
            },
            other => {
                return Err(ApiError::Unprocessable {
                    code: "invalid_audience",
                    message: format!("{other:?} is not everyone, plans or tenants"),
                    details: None,
                })
            }
        })
    }
}

/// An announcement as an admin writes it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AnnouncementInput {
    /// Its title in both languages (pt-BR required).
    pub title: Texts,
    /// Its body in Markdown, in both languages.
    #[serde(default)]
    pub body: Texts,
    /// `info`, `warning` or `maintenance`.
    #[schema(value_type = String)]
    pub severity: Severity,
    /// Who it is for.
    pub audience: AudienceInput,
    /// Shown from.
    pub starts_at: DateTime<Utc>,
    /// Shown until (excluded).
    pub ends_at: DateTime<Utc>,
    /// E-mail it to the audience's owners when published (each once, in their language).
    #[serde(default)]
    pub email_owners: bool,
    /// Whether tenants see it (a draft when false, the default).
    #[serde(default)]
    pub published: bool,
}

/// An announcement as admins see it.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AdminAnnouncement {
    /// Its id.
    pub id: Uuid,
    /// `{"pt-BR", "en"}`.
    #[schema(value_type = Texts)]
    pub title: serde_json::Value,
    /// `{"pt-BR", "en"}`, Markdown.
    #[schema(value_type = Texts)]
    pub body: serde_json::Value,
    /// `info`, `warning` or `maintenance`.
    pub severity: String,
    /// `everyone`, `plans` or `tenants`.
    pub audience_kind: String,
    /// The plans, for `plans`.
    pub audience_plans: Vec<String>,
    /// The tenants, for `tenants`.
    pub audience_tenants: Vec<Uuid>,
    /// Shown from.
    pub starts_at: DateTime<Utc>,
    /// Shown until (excluded).
    pub ends_at: DateTime<Utc>,
    /// Whether publishing e-mails the owners.
    pub email_owners: bool,
    /// Whether tenants see it.
    pub published: bool,
    /// E-mails queued for it so far.
    pub emails_queued: i64,
    /// The admin who wrote it.
    pub written_by: Uuid,
    /// When.
    pub written_at: DateTime<Utc>,
    /// The admin who changed it last.
    pub changed_by: Uuid,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// Every announcement, drafts included, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdminAnnouncementList {
    /// Newest first.
    pub items: Vec<AdminAnnouncement>,
}

/// An announcement as a tenant's user sees it, in one language.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnnouncementView {
    /// Its id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its body as safe HTML.
    pub body_html: String,
    /// `info`, `warning` or `maintenance`.
    pub severity: String,
    /// Shown from (for maintenance: when it starts).
    pub starts_at: DateTime<Utc>,
    /// Shown until.
    pub ends_at: DateTime<Utc>,
    /// Inside its window now.
    pub active: bool,
    /// The caller closed its banner.
    pub dismissed: bool,
}

/// The caller's announcements.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnnouncementList {
    /// For the banner: inside their window and not closed by the caller.
    pub current: Vec<AnnouncementView>,
    /// Every one meant for the tenant that has started, newest first (at most 50).
    pub all: Vec<AnnouncementView>,
}

/// The language to read announcements in.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnouncementQuery {
    /// `pt-BR` or `en`; the tenant's language by default.
    pub locale: Option<String>,
}

/// The announcements tenant `$1` may see: published and meant for everyone, its plan or
/// itself.
const VISIBLE: &str = "a.published
    AND (a.audience_kind = 'everyone'
         OR (a.audience_kind = 'plans'
             AND (SELECT plan FROM tenant_directory WHERE tenant_id = $1) = ANY (a.audience_plans))
         OR (a.audience_kind = 'tenants' AND $1 = ANY (a.audience_tenants)))";

#[derive(sqlx::FromRow)]
struct Row {
    announcement_id: Uuid,
    title: serde_json::Value,
    body: serde_json::Value,
    severity: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    active: bool,
    dismissed: bool,
}

/// The announcements meant for the caller's tenant: the current ones not closed by the
/// caller (the banner) and all that have started (the list). Drafts, other audiences and
/// ones not started yet are never shown; one past its window leaves the banner by itself.
#[utoipa::path(
    get,
    path = "/api/v1/announcements",
    operation_id = "list_announcements",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(AnnouncementQuery),
    responses(
        r::BadRequest,
        (status = 200, description = "The tenant's announcements", body = AnnouncementList),
        r::Unauthorized,
        r::Forbidden,
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing a tenant's announcements", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn list(
    State(state): State<ContentState>,
    user: RequireTenantUser,
    ApiQuery(q): ApiQuery<AnnouncementQuery>,
) -> Result<Json<AnnouncementList>, ApiError> {
    let locale = reading_locale(&state, user.tenant_id, q.locale.as_deref()).await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT a.announcement_id, a.title, a.body, a.severity, a.starts_at, a.ends_at,
                now() < a.ends_at AS active,
                EXISTS (SELECT 1 FROM announcement_dismissals d
                         WHERE d.announcement_id = a.announcement_id AND d.user_id = $2)
                  AS dismissed
           FROM announcements a
          WHERE {VISIBLE} AND a.starts_at <= now()
          ORDER BY a.starts_at DESC
          LIMIT 50"
    ))
    .bind(user.tenant_id)
    .bind(user.user.id)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let all: Vec<AnnouncementView> = rows
        .into_iter()
        .map(|row| {
            let title = Texts::from(row.title);
            let body = Texts::from(row.body);
            AnnouncementView {
                id: row.announcement_id,
                title: title.get(locale).to_owned(),
                body_html: markdown::to_html(body.get(locale)),
                severity: row.severity,
                starts_at: row.starts_at,
                ends_at: row.ends_at,
                active: row.active,
                dismissed: row.dismissed,
            }
        })
        .collect();
    let current = all
        .iter()
        .filter(|a| a.active && !a.dismissed)
        .cloned()
        .collect();
    Ok(Json(AnnouncementList { current, all }))
}

/// Closes an announcement's banner for the caller, on every device. 404 for one not meant
/// for the caller's tenant.
#[utoipa::path(
    post,
    path = "/api/v1/announcements/{id}/dismiss",
    operation_id = "dismiss_announcement",
    tag = tags::TENANT,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The announcement")),
    responses(
        (status = 204, description = "Closed for the caller"),
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        r::Internal,
    )
)]
#[tracing::instrument(name = "a user closes an announcement", skip_all, fields(tenant = %user.tenant_id, announcement = %id))]
pub(super) async fn dismiss(
    State(state): State<ContentState>,
    user: RequireTenantUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let done = sqlx::query(&format!(
        "INSERT INTO announcement_dismissals (announcement_id, user_id)
         SELECT a.announcement_id, $2 FROM announcements a
          WHERE a.announcement_id = $3 AND {VISIBLE}
         ON CONFLICT DO NOTHING"
    ))
    .bind(user.tenant_id)
    .bind(user.user.id)
    .bind(id)
    .execute(&state.pool)
    .await
    .map_err(ApiError::internal)?
    .rows_affected();
    if done == 0 {
        let seen: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM announcement_dismissals
                             WHERE announcement_id = $1 AND user_id = $2)",
        )
        .bind(id)
        .bind(user.user.id)
        .fetch_one(&state.pool)
        .await
        .map_err(ApiError::internal)?;
        if !seen {
            return Err(ApiError::NotFound {
                code: "announcement_not_found",
                message: "no such announcement for your tenant".into(),
            });
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Every announcement, drafts included, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/announcements",
    operation_id = "admin_list_announcements",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every announcement", body = AdminAnnouncementList),
        r::Unauthorized,
        r::Forbidden,
        r::Internal,
    )
)]
#[tracing::instrument(name = "listing the announcements for an admin", skip_all)]
pub(super) async fn admin_list(
    State(state): State<ContentState>,
    _admin: RequireAdmin,
) -> Result<Json<AdminAnnouncementList>, ApiError> {
    let items: Vec<AdminAnnouncement> = sqlx::query_as(
        "SELECT announcement_id AS id, title, body, severity, audience_kind, audience_plans,
                audience_tenants, starts_at, ends_at, email_owners, published,
                (SELECT count(*) FROM mail_outbox
                  WHERE idempotency_key LIKE 'announcement:' || announcement_id || ':%')
                  AS emails_queued,
                written_by, written_at, changed_by, changed_at
           FROM announcements ORDER BY written_at DESC LIMIT 200",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(AdminAnnouncementList { items }))
}

fn draft(body: &AnnouncementInput) -> Result<AnnouncementDraft, ApiError> {
    Ok(AnnouncementDraft {
        title: body.title.clone().into(),
        body: body.body.clone().into(),
        severity: body.severity,
        audience: body.audience.parse()?,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        email_owners: body.email_owners,
    })
}

/// Publishes or takes back to draft as asked; a published announcement that e-mails its
/// audience queues the mails (each owner once: a second publication queues nothing new).
async fn set_published(
    state: &ContentState,
    id: Uuid,
    input: &AnnouncementInput,
    admin_id: Uuid,
    md: &CommandMetadata,
) -> Result<(), ApiError> {
    let command = if input.published {
        PlatformContentCommand::Publish { admin_id }
    } else {
        PlatformContentCommand::Unpublish { admin_id }
    };
    state
        .bus
        .content
        .execute(&id.to_string(), command, md)
        .await?;
    if input.published && input.email_owners {
        let title: LocalizedText = input.title.clone().into();
        let body: LocalizedText = input.body.clone().into();
        let audience = input.audience.parse()?;
        mail_owners(state, id, &title, &body, &audience).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Owner {
    id: Uuid,
    email: String,
    locale: String,
    name: String,
}

/// Queues the announcement for every active owner of its audience, in their tenant's
/// language; the mail's key names the announcement and the owner, so each gets it once.
#[tracing::instrument(name = "e-mailing an announcement to its audience's owners", skip_all, fields(announcement = %id))]
async fn mail_owners(
    state: &ContentState,
    id: Uuid,
    title: &LocalizedText,
    body: &LocalizedText,
    audience: &Audience,
) -> Result<u64, ApiError> {
    let (kind, plans, tenants) = match audience {
        Audience::Everyone => ("everyone", vec![], vec![]),
        Audience::Plans { plans } => (
            "plans",
            plans.iter().map(|p| p.as_str().to_owned()).collect(),
            vec![],
        ),
        Audience::Tenants { tenant_ids } => ("tenants", vec![], tenant_ids.clone()),
    };
    let owners: Vec<Owner> = sqlx::query_as(
        "SELECT u.id, u.email, d.locale, d.name
           FROM users u JOIN tenant_directory d ON d.tenant_id = u.tenant_id
          WHERE u.role = 'owner' AND u.disabled_at IS NULL
            AND ($1 = 'everyone'
                 OR ($1 = 'plans' AND d.plan = ANY ($2::text[]))
                 OR ($1 = 'tenants' AND d.tenant_id = ANY ($3::uuid[])))",
    )
    .bind(kind)
    .bind(plans)
    .bind(tenants)
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    let mut tx = state.pool.begin().await.map_err(ApiError::internal)?;
    let mut queued = 0;
    for owner in owners {
        let locale = Locale::from_tag(Some(&owner.locale));
        let mail = NewMail {
            idempotency_key: format!("announcement:{id}:{}", owner.id),
            to: owner.email,
            locale,
            template: Template::Announcement {
                tenant_name: owner.name,
                title: title.get(locale).to_owned(),
                body: body.get(locale).to_owned(),
                dashboard_url: state.public_url.link("/announcements"),
            },
        };
        match enqueue(&mut tx, &mail).await {
            Ok(true) => queued += 1,
            Ok(false) => {}
            // One bad address must not keep the others from hearing.
            Err(e) => {
                tracing::warn!(error = %e, owner = %owner.id, "an owner's announcement e-mail was not queued")
            }
        }
    }
    tx.commit().await.map_err(ApiError::internal)?;
    tracing::info!(queued, "announcement e-mails queued");
    Ok(queued)
}

/// Writes an announcement, as a draft unless `published`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/announcements",
    operation_id = "create_announcement",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    request_body = AnnouncementInput,
    responses(
        (status = 201, description = "Written (and e-mailed, when published with `email_owners`)", body = CreatedContent),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 422, description = "Blank title, window ending before it starts (`invalid_window`), empty audience (`empty_audience`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin writes an announcement", skip_all, fields(by = %admin.id))]
pub(super) async fn create(
    State(state): State<ContentState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    ApiJson(body): ApiJson<AnnouncementInput>,
) -> Result<(StatusCode, Json<CreatedContent>), ApiError> {
    let id = Uuid::now_v7();
    let md = request_metadata(CommandMetadata::new(admin.actor(), None), request);
    let command = PlatformContentCommand::WriteAnnouncement {
        announcement_id: id,
        draft: draft(&body)?,
        admin_id: admin.id,
    };
    state
        .bus
        .content
        .execute(&id.to_string(), command, &md)
        .await?;
    if body.published {
        set_published(&state, id, &body, admin.id, &md).await?;
    }
    settled(&state, id, "announcements", "announcement_id").await?;
    Ok((StatusCode::CREATED, Json(CreatedContent { id })))
}

/// Replaces an announcement's content and publishes it or takes it back to draft.
#[utoipa::path(
    put,
    path = "/api/v1/admin/announcements/{id}",
    operation_id = "update_announcement",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The announcement")),
    request_body = AnnouncementInput,
    responses(
        (status = 204, description = "Saved"),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        r::NotFound,
        (status = 409, description = "This is a tutorial (`content_kind_mismatch`)", body = crate::error::ErrorBody),
        r::Unprocessable,
        r::Internal,
    )
)]
#[tracing::instrument(name = "an admin changes an announcement", skip_all, fields(by = %admin.id, announcement = %id))]
pub(super) async fn update(
    State(state): State<ContentState>,
    RequireAdmin(admin): RequireAdmin,
    request: RequestMeta,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<AnnouncementInput>,
) -> Result<StatusCode, ApiError> {
    let md = request_metadata(CommandMetadata::new(admin.actor(), None), request);
    let command = PlatformContentCommand::ReviseAnnouncement {
        draft: draft(&body)?,
        admin_id: admin.id,
    };
    state
        .bus
        .content
        .execute(&id.to_string(), command, &md)
        .await?;
    set_published(&state, id, &body, admin.id, &md).await?;
    settled(&state, id, "announcements", "announcement_id").await?;
    Ok(StatusCode::NO_CONTENT)
}
