//! What the operator writes for every tenant (issue 20): tutorials (Markdown, an optional
//! YouTube or Vimeo video, categories, order, pt-BR and English) and announcements
//! (severity, audience, a window, an optional e-mail to the audience's owners), and the
//! admin's own workspace.
//!
//! Writing goes through the `PlatformContent` aggregate, which records who wrote and
//! changed what; reads come from the `platform_content` read model. Tenants see only what
//! is published, meant for them and, for announcements, inside its window: that is decided
//! when read, so an expired announcement disappears with nobody acting. Markdown is turned
//! into safe HTML here ([`markdown`]).

mod announcements;
pub mod markdown;
mod tutorials;
mod workspace;

pub use announcements::{
    AdminAnnouncement, AnnouncementInput, AnnouncementList, AnnouncementView, AudienceInput,
};
pub use tutorials::{AdminTutorial, TutorialInput, TutorialList, TutorialView};
pub use workspace::Workspace;

use crate::error::ApiError;

use schemas::events::LocalizedText;
use schemas::Locale;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The part of the application state the content routes use.
#[derive(Debug, Clone)]
pub struct ContentState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// The plans on sale: an admin's workspace gets the fullest.
    pub pricing: std::sync::Arc<schemas::plans::Pricing>,
    /// The console's address, for links in announcement e-mails.
    pub public_url: integrations::mailer::PublicUrl,
    /// Issues the workspace's access token.
    pub auth: crate::request::AuthConfig,
}

/// The tutorial, announcement and workspace routes, tenant and admin.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    ContentState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(tutorials::list))
        .routes(routes!(tutorials::show))
        .routes(routes!(tutorials::admin_list, tutorials::create))
        .routes(routes!(tutorials::update))
        .routes(routes!(announcements::list))
        .routes(routes!(announcements::dismiss))
        .routes(routes!(announcements::admin_list, announcements::create))
        .routes(routes!(announcements::update))
        .routes(routes!(workspace::open))
}

/// A text in both languages, as admins write it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Texts {
    /// Brazilian Portuguese (required for titles).
    #[serde(rename = "pt-BR", default)]
    pub pt_br: String,
    /// English; the Portuguese text is shown when blank.
    #[serde(default)]
    pub en: String,
}

impl From<Texts> for LocalizedText {
    fn from(t: Texts) -> Self {
        LocalizedText::new(t.pt_br.trim(), t.en.trim())
    }
}

impl From<serde_json::Value> for Texts {
    fn from(v: serde_json::Value) -> Self {
        serde_json::from_value(v).unwrap_or_default()
    }
}

impl Texts {
    fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::En if !self.en.trim().is_empty() => &self.en,
            _ => &self.pt_br,
        }
    }
}

/// The language to show content in: the one asked for, else the tenant's.
async fn reading_locale(
    state: &ContentState,
    tenant: Uuid,
    asked: Option<&str>,
) -> Result<Locale, ApiError> {
    if let Some(tag) = asked.filter(|t| !t.trim().is_empty()) {
        return tag
            .parse()
            .map_err(
                |e: schemas::locale::UnsupportedLocale| ApiError::Unprocessable {
                    code: "unsupported_locale",
                    message: e.to_string(),
                    details: None,
                },
            );
    }
    let tag: Option<String> =
        sqlx::query_scalar("SELECT locale FROM tenant_directory WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&state.pool)
            .await
            .map_err(ApiError::internal)?;
    Ok(Locale::from_tag(tag.as_deref()))
}

/// Waits until the read model has applied the caller's own write, so a page that saves
/// and lists again sees its change.
async fn settled(state: &ContentState, id: Uuid, table: &str, key: &str) -> Result<(), ApiError> {
    let (_, version) = state.bus.content.load(&id.to_string()).await?;
    for _ in 0..100 {
        let seen: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT last_sequence FROM {table} WHERE {key} = $1"
        ))
        .bind(id)
        .fetch_optional(&state.pool)
        .await
        .map_err(ApiError::internal)?;
        if seen.is_some_and(|s| s >= version as i64) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}
