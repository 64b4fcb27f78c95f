//! What can be asked of a tutorial or an announcement.

use chrono::{DateTime, Utc};
use schemas::events::{Audience, LocalizedText, Severity};
use uuid::Uuid;

/// A tutorial's whole content, as an admin writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TutorialDraft {
    /// Stable key for links from the pages it explains: lowercase letters, digits and
    /// hyphens.
    pub slug: String,
    /// Its category key; not blank.
    pub category: String,
    /// Where it comes in the list: lower first.
    pub position: i32,
    /// Its title; the Portuguese one not blank.
    pub title: LocalizedText,
    /// Its body, Markdown.
    pub body: LocalizedText,
    /// A YouTube or Vimeo address (`https://`).
    pub video_url: Option<String>,
}

/// An announcement's whole content, as an admin writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementDraft {
    /// Its title; the Portuguese one not blank.
    pub title: LocalizedText,
    /// Its body, Markdown.
    pub body: LocalizedText,
    /// How it is shown.
    pub severity: Severity,
    /// Who it is for; a list of plans or tenants is not empty.
    pub audience: Audience,
    /// Shown from.
    pub starts_at: DateTime<Utc>,
    /// Shown until (excluded); after `starts_at`.
    pub ends_at: DateTime<Utc>,
    /// Whether publishing it e-mails the audience's owners.
    pub email_owners: bool,
}

/// A request to change a tutorial or an announcement. Every command names the admin who
/// asks, so the log says who did what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformContentCommand {
    /// Write a new tutorial, as a draft.
    WriteTutorial {
        /// The new tutorial's id; the caller uses it as the aggregate id too.
        tutorial_id: Uuid,
        /// Its content.
        draft: TutorialDraft,
        /// The admin.
        admin_id: Uuid,
    },
    /// Replace a tutorial's content.
    ReviseTutorial {
        /// Its new content.
        draft: TutorialDraft,
        /// The admin.
        admin_id: Uuid,
    },
    /// Write a new announcement, as a draft.
    WriteAnnouncement {
        /// The new announcement's id; the caller uses it as the aggregate id too.
        announcement_id: Uuid,
        /// Its content.
        draft: AnnouncementDraft,
        /// The admin.
        admin_id: Uuid,
    },
    /// Replace an announcement's content.
    ReviseAnnouncement {
        /// Its new content.
        draft: AnnouncementDraft,
        /// The admin.
        admin_id: Uuid,
    },
    /// Show it to tenants.
    Publish {
        /// The admin.
        admin_id: Uuid,
    },
    /// Take it back to draft.
    Unpublish {
        /// The admin.
        admin_id: Uuid,
    },
}
