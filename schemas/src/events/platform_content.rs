//! Events of the `platform_content` aggregate: what the operator writes for every tenant —
//! tutorials and announcements — and who wrote, changed, published or withdrew it, when.
//!
//! One aggregate per tutorial or announcement. Written and revised events carry the whole
//! content, so a reader needs only the latest of them. None of it is personal data: it is
//! the platform's own text.

use super::Plan;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A text in the two languages the product speaks. English may be left blank; readers then
/// show the Portuguese one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct LocalizedText {
    /// Brazilian Portuguese.
    #[serde(rename = "pt-BR")]
    pub pt_br: String,
    /// English.
    pub en: String,
}

impl LocalizedText {
    /// Both versions.
    pub fn new(pt_br: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            pt_br: pt_br.into(),
            en: en.into(),
        }
    }

    /// The version for `locale`, the Portuguese one when that is blank.
    pub fn get(&self, locale: crate::Locale) -> &str {
        match locale {
            crate::Locale::En if !self.en.trim().is_empty() => &self.en,
            _ => &self.pt_br,
        }
    }
}

/// How an announcement is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// News.
    Info,
    /// Something tenants should act on.
    Warning,
    /// Scheduled maintenance: its window is the time the service may be unavailable.
    Maintenance,
}

impl Severity {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Maintenance => "maintenance",
        }
    }
}

/// Who an announcement is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// Every tenant.
    Everyone,
    /// Tenants on one of these plans.
    Plans {
        /// The plans' keys.
        plans: Vec<Plan>,
    },
    /// These tenants.
    Tenants {
        /// The tenants.
        tenant_ids: Vec<Uuid>,
    },
}

/// What happened to a tutorial or an announcement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum PlatformContentEvent {
    /// An admin wrote a tutorial; it is a draft until published.
    TutorialWritten {
        /// The tutorial's id (also the aggregate id).
        tutorial_id: Uuid,
        /// Its stable key, for links from the pages it explains (e.g. `conectar-whatsapp`).
        slug: String,
        /// Its category key.
        category: String,
        /// Where it comes in the list: lower first.
        position: i32,
        /// Its title.
        title: LocalizedText,
        /// Its body, Markdown.
        body: LocalizedText,
        /// A YouTube or Vimeo address.
        video_url: Option<String>,
        /// The admin who wrote it.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// An admin changed a tutorial; the fields are its whole new content.
    TutorialRevised {
        /// Its stable key.
        slug: String,
        /// Its category key.
        category: String,
        /// Where it comes in the list: lower first.
        position: i32,
        /// Its title.
        title: LocalizedText,
        /// Its body, Markdown.
        body: LocalizedText,
        /// A YouTube or Vimeo address.
        video_url: Option<String>,
        /// The admin who changed it.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// An admin wrote an announcement; it is a draft until published.
    AnnouncementWritten {
        /// The announcement's id (also the aggregate id).
        announcement_id: Uuid,
        /// Its title.
        title: LocalizedText,
        /// Its body, Markdown.
        body: LocalizedText,
        /// How it is shown.
        severity: Severity,
        /// Who it is for.
        audience: Audience,
        /// Shown from.
        starts_at: DateTime<Utc>,
        /// Shown until (excluded).
        ends_at: DateTime<Utc>,
        /// Whether publishing it e-mails the audience's owners.
        email_owners: bool,
        /// The admin who wrote it.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// An admin changed an announcement; the fields are its whole new content.
    AnnouncementRevised {
        /// Its title.
        title: LocalizedText,
        /// Its body, Markdown.
        body: LocalizedText,
        /// How it is shown.
        severity: Severity,
        /// Who it is for.
        audience: Audience,
        /// Shown from.
        starts_at: DateTime<Utc>,
        /// Shown until (excluded).
        ends_at: DateTime<Utc>,
        /// Whether publishing it e-mails the audience's owners.
        email_owners: bool,
        /// The admin who changed it.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// An admin published the tutorial or announcement: tenants see it.
    ContentPublished {
        /// The admin.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// An admin took it back to draft: tenants no longer see it.
    ContentUnpublished {
        /// The admin.
        admin_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::test_support::{at, tag};
    use serde_json::json;

    /// One of every event, for the decoding tests.
    pub(crate) fn samples() -> Vec<PlatformContentEvent> {
        let text = || LocalizedText::new("Conectar WhatsApp", "Connect WhatsApp");
        vec![
            PlatformContentEvent::TutorialWritten {
                tutorial_id: Uuid::from_u128(5),
                slug: "conectar-whatsapp".into(),
                category: "whatsapp".into(),
                position: 1,
                title: text(),
                body: text(),
                video_url: Some("https://www.youtube.com/watch?v=x".into()),
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
            PlatformContentEvent::TutorialRevised {
                slug: "conectar-whatsapp".into(),
                category: "whatsapp".into(),
                position: 2,
                title: text(),
                body: text(),
                video_url: None,
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
            PlatformContentEvent::AnnouncementWritten {
                announcement_id: Uuid::from_u128(7),
                title: text(),
                body: text(),
                severity: Severity::Info,
                audience: Audience::Everyone,
                starts_at: at(),
                ends_at: at(),
                email_owners: false,
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
            PlatformContentEvent::AnnouncementRevised {
                title: text(),
                body: text(),
                severity: Severity::Warning,
                audience: Audience::Tenants {
                    tenant_ids: vec![Uuid::from_u128(1)],
                },
                starts_at: at(),
                ends_at: at(),
                email_owners: true,
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
            PlatformContentEvent::ContentPublished {
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
            PlatformContentEvent::ContentUnpublished {
                admin_id: Uuid::from_u128(3),
                at: at(),
            },
        ]
    }

    #[test]
    fn an_announcement_for_plans_serializes_its_audience_with_a_kind_tag() {
        let event = PlatformContentEvent::AnnouncementWritten {
            announcement_id: Uuid::from_u128(7),
            title: LocalizedText::new("Manutenção", "Maintenance"),
            body: LocalizedText::new("**Sábado**", ""),
            severity: Severity::Maintenance,
            audience: Audience::Plans {
                plans: vec![Plan::from("pro")],
            },
            starts_at: at(),
            ends_at: at(),
            email_owners: true,
            admin_id: Uuid::from_u128(3),
            at: at(),
        };
        assert_eq!(tag(&event), event.type_name());
        let value = serde_json::to_value(&event).unwrap_or_default();
        let body = &value["AnnouncementWritten"];
        assert_eq!(body["audience"], json!({"kind": "plans", "plans": ["pro"]}));
        assert_eq!(
            body["title"],
            json!({"pt-BR": "Manutenção", "en": "Maintenance"})
        );
        assert_eq!(body["severity"], json!("maintenance"));
        let back: PlatformContentEvent = serde_json::from_value(value).unwrap_or_else(|_| {
            PlatformContentEvent::ContentPublished {
                admin_id: Uuid::nil(),
                at: at(),
            }
        });
        assert_eq!(back, event);
    }

    #[test]
    fn a_blank_english_text_falls_back_to_portuguese() {
        let text = LocalizedText::new("Olá", " ");
        assert_eq!(text.get(crate::Locale::En), "Olá");
        assert_eq!(LocalizedText::new("Olá", "Hi").get(crate::Locale::En), "Hi");
    }
}
