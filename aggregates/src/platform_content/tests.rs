use super::*;
use crate::clock::FixedClock;
use crate::error::{DomainError, ErrorKind};
use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use schemas::events::{Audience, LocalizedText, PlatformContentEvent as E, Severity};
use schemas::Plan;
use std::sync::Arc;
use uuid::Uuid;

const ID: Uuid = Uuid::from_u128(5);
const ADMIN: Uuid = Uuid::from_u128(3);
const OTHER_ADMIN: Uuid = Uuid::from_u128(4);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn content() -> TestFramework<PlatformContent> {
    TestFramework::with(PlatformContentServices::new(Arc::new(
        FixedClock::new(t0()),
    )))
}

fn tutorial(video_url: Option<&str>) -> TutorialDraft {
    TutorialDraft {
        slug: "conectar-whatsapp".into(),
        category: "whatsapp".into(),
        position: 1,
        title: LocalizedText::new("Conectar WhatsApp", "Connect WhatsApp"),
        body: LocalizedText::new("Leia o **QR code**.", "Scan the **QR code**."),
        video_url: video_url.map(str::to_owned),
    }
}

fn tutorial_written() -> E {
    let d = tutorial(None);
    E::TutorialWritten {
        tutorial_id: ID,
        slug: d.slug,
        category: d.category,
        position: d.position,
        title: d.title,
        body: d.body,
        video_url: None,
        admin_id: ADMIN,
        at: t0(),
    }
}

fn announcement(audience: Audience, hours: i64) -> AnnouncementDraft {
    AnnouncementDraft {
        title: LocalizedText::new("Manutenção", "Maintenance"),
        body: LocalizedText::new("Sábado à noite.", "Saturday night."),
        severity: Severity::Maintenance,
        audience,
        starts_at: t0(),
        ends_at: t0() + Duration::hours(hours),
        email_owners: true,
    }
}

fn announcement_written() -> E {
    let d = announcement(Audience::Everyone, 2);
    E::AnnouncementWritten {
        announcement_id: ID,
        title: d.title,
        body: d.body,
        severity: d.severity,
        audience: d.audience,
        starts_at: d.starts_at,
        ends_at: d.ends_at,
        email_owners: true,
        admin_id: ADMIN,
        at: t0(),
    }
}

#[test]
fn given_nothing_when_an_admin_writes_a_tutorial_then_it_is_recorded_as_a_draft_by_them() {
    content()
        .given_no_previous_events()
        .when(PlatformContentCommand::WriteTutorial {
            tutorial_id: ID,
            draft: tutorial(None),
            admin_id: ADMIN,
        })
        .then_expect_events(vec![tutorial_written()]);
}

#[test]
fn given_a_tutorial_when_another_admin_revises_it_then_the_revision_names_that_admin() {
    let mut draft = tutorial(Some("https://youtu.be/dQw4w9WgXcQ"));
    draft.position = 7;
    content()
        .given(vec![tutorial_written()])
        .when(PlatformContentCommand::ReviseTutorial {
            draft: draft.clone(),
            admin_id: OTHER_ADMIN,
        })
        .then_expect_events(vec![E::TutorialRevised {
            slug: draft.slug,
            category: draft.category,
            position: 7,
            title: draft.title,
            body: draft.body,
            video_url: draft.video_url,
            admin_id: OTHER_ADMIN,
            at: t0(),
        }]);
}

#[test]
fn given_a_draft_when_published_twice_then_only_one_publication_is_recorded() {
    content()
        .given(vec![tutorial_written()])
        .when(PlatformContentCommand::Publish { admin_id: ADMIN })
        .then_expect_events(vec![E::ContentPublished {
            admin_id: ADMIN,
            at: t0(),
        }]);
    content()
        .given(vec![
            tutorial_written(),
            E::ContentPublished {
                admin_id: ADMIN,
                at: t0(),
            },
        ])
        .when(PlatformContentCommand::Publish { admin_id: ADMIN })
        .then_expect_events(vec![]);
}

#[test]
fn given_a_published_announcement_when_unpublished_then_it_goes_back_to_draft() {
    content()
        .given(vec![
            announcement_written(),
            E::ContentPublished {
                admin_id: ADMIN,
                at: t0(),
            },
        ])
        .when(PlatformContentCommand::Unpublish {
            admin_id: OTHER_ADMIN,
        })
        .then_expect_events(vec![E::ContentUnpublished {
            admin_id: OTHER_ADMIN,
            at: t0(),
        }]);
}

#[test]
fn given_nothing_when_publishing_then_it_is_not_found() {
    content()
        .given_no_previous_events()
        .when(PlatformContentCommand::Publish { admin_id: ADMIN })
        .then_expect_error(PlatformContentError::NotFound);
}

#[test]
fn given_a_tutorial_when_revised_as_an_announcement_then_the_kind_mismatch_is_refused() {
    content()
        .given(vec![tutorial_written()])
        .when(PlatformContentCommand::ReviseAnnouncement {
            draft: announcement(Audience::Everyone, 1),
            admin_id: ADMIN,
        })
        .then_expect_error(PlatformContentError::WrongKind {
            expected: "announcement",
        });
}

#[test]
fn given_an_existing_id_when_written_again_then_it_is_refused() {
    content()
        .given(vec![announcement_written()])
        .when(PlatformContentCommand::WriteTutorial {
            tutorial_id: ID,
            draft: tutorial(None),
            admin_id: ADMIN,
        })
        .then_expect_error(PlatformContentError::AlreadyExists);
}

#[test]
fn when_a_tutorial_has_a_blank_title_a_bad_key_or_no_category_then_it_is_refused() {
    let write = |draft: TutorialDraft| PlatformContentCommand::WriteTutorial {
        tutorial_id: ID,
        draft,
        admin_id: ADMIN,
    };
    let mut blank = tutorial(None);
    blank.title = LocalizedText::new("  ", "Connect");
    content()
        .given_no_previous_events()
        .when(write(blank))
        .then_expect_error(PlatformContentError::TitleRequired);
    for slug in ["", "Conectar", "a--b", "-a", "a b", "ação"] {
        let mut bad = tutorial(None);
        bad.slug = slug.into();
        content()
            .given_no_previous_events()
            .when(write(bad))
            .then_expect_error(PlatformContentError::InvalidSlug);
    }
    let mut uncategorized = tutorial(None);
    uncategorized.category = " ".into();
    content()
        .given_no_previous_events()
        .when(write(uncategorized))
        .then_expect_error(PlatformContentError::CategoryRequired);
}

#[test]
fn only_youtube_and_vimeo_https_addresses_are_tutorial_videos() {
    for good in [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com/watch?t=10&v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.youtube.com/embed/dQw4w9WgXcQ",
        "https://vimeo.com/76979871",
        "https://player.vimeo.com/video/76979871",
    ] {
        assert!(is_video_url(good), "{good} should be accepted");
    }
    for bad in [
        "http://youtu.be/dQw4w9WgXcQ",
        "https://evil.example/watch?v=x",
        "https://youtube.com.evil.example/watch?v=x",
        "https://user@youtu.be/x",
        "https://www.youtube.com/watch",
        "https://vimeo.com/abc",
        "javascript:alert(1)",
        "https://youtu.be/<script>",
    ] {
        assert!(!is_video_url(bad), "{bad} should be refused");
    }
    content()
        .given_no_previous_events()
        .when(PlatformContentCommand::WriteTutorial {
            tutorial_id: ID,
            draft: tutorial(Some("https://evil.example/v")),
            admin_id: ADMIN,
        })
        .then_expect_error(PlatformContentError::InvalidVideoUrl);
}

#[test]
fn when_an_announcement_ends_before_it_starts_or_names_nobody_then_it_is_refused() {
    let write = |draft: AnnouncementDraft| PlatformContentCommand::WriteAnnouncement {
        announcement_id: ID,
        draft,
        admin_id: ADMIN,
    };
    content()
        .given_no_previous_events()
        .when(write(announcement(Audience::Everyone, 0)))
        .then_expect_error(PlatformContentError::InvalidWindow);
    content()
        .given_no_previous_events()
        .when(write(announcement(Audience::Plans { plans: vec![] }, 1)))
        .then_expect_error(PlatformContentError::EmptyAudience);
    content()
        .given_no_previous_events()
        .when(write(announcement(
            Audience::Tenants { tenant_ids: vec![] },
            1,
        )))
        .then_expect_error(PlatformContentError::EmptyAudience);
    let plans = Audience::Plans {
        plans: vec![Plan::from("pro")],
    };
    let d = announcement(plans.clone(), 1);
    content()
        .given_no_previous_events()
        .when(write(d.clone()))
        .then_expect_events(vec![E::AnnouncementWritten {
            announcement_id: ID,
            title: d.title,
            body: d.body,
            severity: d.severity,
            audience: plans,
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            email_owners: true,
            admin_id: ADMIN,
            at: t0(),
        }]);
}

#[test]
fn errors_map_to_stable_codes_and_kinds() {
    assert_eq!(PlatformContentError::NotFound.kind(), ErrorKind::NotFound);
    assert_eq!(
        PlatformContentError::AlreadyExists.kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        PlatformContentError::InvalidVideoUrl.code(),
        "invalid_video_url"
    );
    assert_eq!(
        PlatformContentError::InvalidWindow.kind(),
        ErrorKind::Unprocessable
    );
}
