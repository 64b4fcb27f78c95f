//! The state of a tutorial or an announcement and its rules.

use super::{
    AnnouncementDraft, PlatformContentCommand, PlatformContentError, PlatformContentServices,
    TutorialDraft,
};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::{Audience, PlatformContentEvent};
use schemas::AggregateKind;
use serde::{Deserialize, Serialize};

/// What a platform-content aggregate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    /// A tutorial.
    Tutorial,
    /// An announcement.
    Announcement,
}

impl ContentKind {
    fn name(self) -> &'static str {
        match self {
            Self::Tutorial => "tutorial",
            Self::Announcement => "announcement",
        }
    }
}

/// A tutorial or an announcement. The state keeps only what the rules need.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlatformContent {
    kind: Option<ContentKind>,
    published: bool,
    last_changed_at: Option<DateTime<Utc>>,
}

/// Whether `slug` is a tutorial key: 1 to 80 lowercase ASCII letters, digits and hyphens,
/// not starting or ending with a hyphen nor doubling one.
pub fn is_slug(slug: &str) -> bool {
    (1..=80).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
}

/// Whether `url` is an `https` address of a YouTube or Vimeo video: `youtube.com/watch?v=…`,
/// `youtu.be/…`, `youtube.com/embed/…`, `vimeo.com/<number>` or
/// `player.vimeo.com/video/<number>`. Anything else (other hosts, user info, other schemes)
/// is refused, so the console never links to an arbitrary site from a tutorial's video.
pub fn is_video_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    if url.len() > 300 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(end);
    let host = host.to_ascii_lowercase();
    let path = tail.split(['?', '#']).next().unwrap_or("");
    let query = tail.split_once('?').map(|(_, q)| q).unwrap_or("");
    let id_like = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    match host.as_str() {
        "youtube.com" | "www.youtube.com" | "m.youtube.com" => {
            if path == "/watch" {
                query
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .any(|(k, v)| k == "v" && id_like(v))
            } else {
                path.strip_prefix("/embed/").is_some_and(id_like)
            }
        }
        "youtu.be" => path.strip_prefix('/').is_some_and(id_like),
        "vimeo.com" | "www.vimeo.com" => path.strip_prefix('/').is_some_and(digits),
        "player.vimeo.com" => path.strip_prefix("/video/").is_some_and(digits),
        _ => false,
    }
}

fn check_tutorial(draft: &TutorialDraft) -> Result<(), PlatformContentError> {
    if draft.title.pt_br.trim().is_empty() {
        return Err(PlatformContentError::TitleRequired);
    }
    if draft.category.trim().is_empty() {
        return Err(PlatformContentError::CategoryRequired);
    }
    if !is_slug(&draft.slug) {
        return Err(PlatformContentError::InvalidSlug);
    }
    if draft.video_url.as_deref().is_some_and(|u| !is_video_url(u)) {
        return Err(PlatformContentError::InvalidVideoUrl);
    }
    Ok(())
}

fn check_announcement(draft: &AnnouncementDraft) -> Result<(), PlatformContentError> {
    if draft.title.pt_br.trim().is_empty() {
        return Err(PlatformContentError::TitleRequired);
    }
    if draft.ends_at <= draft.starts_at {
        return Err(PlatformContentError::InvalidWindow);
    }
    let empty = match &draft.audience {
        Audience::Everyone => false,
        Audience::Plans { plans } => plans.is_empty(),
        Audience::Tenants { tenant_ids } => tenant_ids.is_empty(),
    };
    if empty {
        return Err(PlatformContentError::EmptyAudience);
    }
    Ok(())
}

impl PlatformContent {
    /// What it is, once written.
    pub fn kind(&self) -> Option<ContentKind> {
        self.kind
    }

    /// Whether tenants see it.
    pub fn is_published(&self) -> bool {
        self.published
    }

    /// When it was last written, revised, published or unpublished.
    pub fn last_changed_at(&self) -> Option<DateTime<Utc>> {
        self.last_changed_at
    }

    fn expect(&self, kind: ContentKind) -> Result<(), PlatformContentError> {
        match self.kind {
            None => Err(PlatformContentError::NotFound),
            Some(k) if k == kind => Ok(()),
            Some(_) => Err(PlatformContentError::WrongKind {
                expected: kind.name(),
            }),
        }
    }

    fn decide(
        &self,
        command: PlatformContentCommand,
        at: DateTime<Utc>,
    ) -> Result<Vec<PlatformContentEvent>, PlatformContentError> {
        use PlatformContentCommand as C;
        use PlatformContentEvent as E;
        Ok(match command {
            C::WriteTutorial {
                tutorial_id,
                draft,
                admin_id,
            } => {
                if self.kind.is_some() {
                    return Err(PlatformContentError::AlreadyExists);
                }
                check_tutorial(&draft)?;
                vec![E::TutorialWritten {
                    tutorial_id,
                    slug: draft.slug,
                    category: draft.category.trim().to_owned(),
                    position: draft.position,
                    title: draft.title,
                    body: draft.body,
                    video_url: draft.video_url,
                    admin_id,
                    at,
                }]
            }
            C::ReviseTutorial { draft, admin_id } => {
                self.expect(ContentKind::Tutorial)?;
                check_tutorial(&draft)?;
                vec![E::TutorialRevised {
                    slug: draft.slug,
                    category: draft.category.trim().to_owned(),
                    position: draft.position,
                    title: draft.title,
                    body: draft.body,
                    video_url: draft.video_url,
                    admin_id,
                    at,
                }]
            }
            C::WriteAnnouncement {
                announcement_id,
                draft,
                admin_id,
            } => {
                if self.kind.is_some() {
                    return Err(PlatformContentError::AlreadyExists);
                }
                check_announcement(&draft)?;
                vec![E::AnnouncementWritten {
                    announcement_id,
                    title: draft.title,
                    body: draft.body,
                    severity: draft.severity,
                    audience: draft.audience,
                    starts_at: draft.starts_at,
                    ends_at: draft.ends_at,
                    email_owners: draft.email_owners,
                    admin_id,
                    at,
                }]
            }
            C::ReviseAnnouncement { draft, admin_id } => {
                self.expect(ContentKind::Announcement)?;
                check_announcement(&draft)?;
                vec![E::AnnouncementRevised {
                    title: draft.title,
                    body: draft.body,
                    severity: draft.severity,
                    audience: draft.audience,
                    starts_at: draft.starts_at,
                    ends_at: draft.ends_at,
                    email_owners: draft.email_owners,
                    admin_id,
                    at,
                }]
            }
            C::Publish { admin_id } => {
                if self.kind.is_none() {
                    return Err(PlatformContentError::NotFound);
                }
                if self.published {
                    vec![]
                } else {
                    vec![E::ContentPublished { admin_id, at }]
                }
            }
            C::Unpublish { admin_id } => {
                if self.kind.is_none() {
                    return Err(PlatformContentError::NotFound);
                }
                if self.published {
                    vec![E::ContentUnpublished { admin_id, at }]
                } else {
                    vec![]
                }
            }
        })
    }
}

impl Aggregate for PlatformContent {
    const TYPE: &'static str = AggregateKind::PlatformContent.as_str();
    type Command = PlatformContentCommand;
    type Event = PlatformContentEvent;
    type Error = PlatformContentError;
    type Services = PlatformContentServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services.clock.now())? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use PlatformContentEvent as E;
        self.last_changed_at = Some(event.at());
        match event {
            E::TutorialWritten { .. } => self.kind = Some(ContentKind::Tutorial),
            E::AnnouncementWritten { .. } => self.kind = Some(ContentKind::Announcement),
            E::TutorialRevised { .. } | E::AnnouncementRevised { .. } => {}
            E::ContentPublished { .. } => self.published = true,
            E::ContentUnpublished { .. } => self.published = false,
        }
    }
}
