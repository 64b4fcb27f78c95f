//! The `platform_content` projection.

use schemas::events::{Audience, PlatformContentEvent};
use schemas::{AnyEvent, StoredEvent};
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Keeps `tutorials`, `announcements` and `content_history` up to date.
#[derive(Debug, Clone, Copy)]
pub struct PlatformContentModel;

fn audience_columns(audience: &Audience) -> (&'static str, Vec<String>, Vec<Uuid>) {
    match audience {
        Audience::Everyone => ("everyone", vec![], vec![]),
        Audience::Plans { plans } => (
            "plans",
            plans.iter().map(|p| p.as_str().to_owned()).collect(),
            vec![],
        ),
        Audience::Tenants { tenant_ids } => ("tenants", vec![], tenant_ids.clone()),
    }
}

fn json(value: &impl serde::Serialize) -> Result<serde_json::Value, HandlerError> {
    serde_json::to_value(value).map_err(|e| HandlerError::Rejected(e.to_string()))
}

impl PlatformContentModel {
    async fn apply(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        let decoded = match event.decode() {
            Ok(AnyEvent::PlatformContent(e)) => e,
            Ok(other) => {
                return Err(HandlerError::Rejected(format!(
                    "{} is not platform content",
                    other.kind()
                )))
            }
            Err(e) => return Err(HandlerError::Rejected(e.to_string())),
        };
        let id = event.aggregate_uuid()?;
        let seq = event.sequence;
        use PlatformContentEvent as E;
        let admin = match &decoded {
            E::TutorialWritten {
                slug,
                category,
                position,
                title,
                body,
                video_url,
                admin_id,
                at,
                ..
            }
            | E::TutorialRevised {
                slug,
                category,
                position,
                title,
                body,
                video_url,
                admin_id,
                at,
            } => {
                sqlx::query(
                    "INSERT INTO tutorials AS t (tutorial_id, slug, category, position, title, body,
                         video_url, written_by, written_at, changed_by, changed_at, last_sequence)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9, $10)
                     ON CONFLICT (tutorial_id) DO UPDATE
                       SET slug = EXCLUDED.slug, category = EXCLUDED.category,
                           position = EXCLUDED.position, title = EXCLUDED.title,
                           body = EXCLUDED.body, video_url = EXCLUDED.video_url,
                           changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at,
                           last_sequence = EXCLUDED.last_sequence
                     WHERE t.last_sequence < EXCLUDED.last_sequence",
                )
                .bind(id)
                .bind(slug)
                .bind(category)
                .bind(position)
                .bind(json(title)?)
                .bind(json(body)?)
                .bind(video_url)
                .bind(admin_id)
                .bind(at)
                .bind(seq)
                .execute(&mut *db)
                .await?;
                *admin_id
            }
            E::AnnouncementWritten {
                title,
                body,
                severity,
                audience,
                starts_at,
                ends_at,
                email_owners,
                admin_id,
                at,
                ..
            }
            | E::AnnouncementRevised {
                title,
                body,
                severity,
                audience,
                starts_at,
                ends_at,
                email_owners,
                admin_id,
                at,
            } => {
                let (kind, plans, tenants) = audience_columns(audience);
                sqlx::query(
                    "INSERT INTO announcements AS a (announcement_id, title, body, severity,
                         audience_kind, audience_plans, audience_tenants, starts_at, ends_at,
                         email_owners, written_by, written_at, changed_by, changed_at,
                         last_sequence)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11, $12, $13)
                     ON CONFLICT (announcement_id) DO UPDATE
                       SET title = EXCLUDED.title, body = EXCLUDED.body,
                           severity = EXCLUDED.severity, audience_kind = EXCLUDED.audience_kind,
                           audience_plans = EXCLUDED.audience_plans,
                           audience_tenants = EXCLUDED.audience_tenants,
                           starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
                           email_owners = EXCLUDED.email_owners,
                           changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at,
                           last_sequence = EXCLUDED.last_sequence
                     WHERE a.last_sequence < EXCLUDED.last_sequence",
                )
                .bind(id)
                .bind(json(title)?)
                .bind(json(body)?)
                .bind(severity.as_str())
                .bind(kind)
                .bind(plans)
                .bind(tenants)
                .bind(starts_at)
                .bind(ends_at)
                .bind(email_owners)
                .bind(admin_id)
                .bind(at)
                .bind(seq)
                .execute(&mut *db)
                .await?;
                *admin_id
            }
            E::ContentPublished { admin_id, at } | E::ContentUnpublished { admin_id, at } => {
                let published = matches!(decoded, E::ContentPublished { .. });
                for table in ["tutorials", "announcements"] {
                    let key = if table == "tutorials" {
                        "tutorial_id"
                    } else {
                        "announcement_id"
                    };
                    let stamp = if table == "announcements" && published {
                        ", published_at = COALESCE(published_at, $4)"
                    } else {
                        ""
                    };
                    sqlx::query(&format!(
                        "UPDATE {table} SET published = $2, changed_by = $3, changed_at = $4,
                                last_sequence = $5{stamp}
                          WHERE {key} = $1 AND last_sequence < $5"
                    ))
                    .bind(id)
                    .bind(published)
                    .bind(admin_id)
                    .bind(at)
                    .bind(seq)
                    .execute(&mut *db)
                    .await?;
                }
                *admin_id
            }
        };
        sqlx::query(
            "INSERT INTO content_history (content_id, sequence, event_type, admin_id, at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (content_id, sequence) DO NOTHING",
        )
        .bind(id)
        .bind(seq)
        .bind(decoded.type_name())
        .bind(admin)
        .bind(decoded.at())
        .execute(&mut *db)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for PlatformContentModel {
    fn name(&self) -> &'static str {
        "platform_content"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["platform_content"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "platform_content"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["tutorials", "announcements", "content_history"]
    }

    fn rows_per_aggregate(&self) -> bool {
        true
    }

    #[tracing::instrument(name = "projecting a tutorial or announcement event", skip_all,
        fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "platform_content" {
            return Ok(());
        }
        self.apply(db, event).await
    }
}
