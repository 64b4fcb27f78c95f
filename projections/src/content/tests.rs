//! The platform-content projection against a real database.

use super::PlatformContentModel;
use crate::metrics::test_log::{apply, dump, store, Log};
use schemas::StoredEvent;
use serde_json::json;
use std::sync::Arc;
use stream::EventHandler;
use uuid::Uuid;

const TUTORIAL: Uuid = Uuid::from_u128(10);
const ANNOUNCEMENT: Uuid = Uuid::from_u128(11);
const ADMIN: Uuid = Uuid::from_u128(3);
const EDITOR: Uuid = Uuid::from_u128(4);

/// A tutorial written, revised by another admin and published; an announcement for two
/// plans written, published and taken back.
fn history() -> Log {
    let mut log = Log::default();
    let tutorial = |log: &mut Log, body| log.push("platform_content", &TUTORIAL.to_string(), body);
    tutorial(
        &mut log,
        json!({"TutorialWritten": {"tutorial_id": TUTORIAL, "slug": "conectar-whatsapp",
            "category": "whatsapp", "position": 2,
            "title": {"pt-BR": "Conectar", "en": "Connect"},
            "body": {"pt-BR": "Leia o QR", "en": ""}, "video_url": null,
            "admin_id": ADMIN, "at": "2026-12-01T10:00:00Z"}}),
    );
    tutorial(
        &mut log,
        json!({"TutorialRevised": {"slug": "conectar-whatsapp", "category": "whatsapp",
            "position": 1, "title": {"pt-BR": "Conectar WhatsApp", "en": "Connect WhatsApp"},
            "body": {"pt-BR": "Leia o **QR**", "en": "Scan the **QR**"},
            "video_url": "https://youtu.be/abc", "admin_id": EDITOR,
            "at": "2026-12-01T11:00:00Z"}}),
    );
    tutorial(
        &mut log,
        json!({"ContentPublished": {"admin_id": ADMIN, "at": "2026-12-01T12:00:00Z"}}),
    );
    let announcement =
        |log: &mut Log, body| log.push("platform_content", &ANNOUNCEMENT.to_string(), body);
    announcement(
        &mut log,
        json!({"AnnouncementWritten": {"announcement_id": ANNOUNCEMENT,
            "title": {"pt-BR": "Manutenção", "en": "Maintenance"},
            "body": {"pt-BR": "Sábado", "en": "Saturday"}, "severity": "maintenance",
            "audience": {"kind": "plans", "plans": ["pro", "enterprise"]},
            "starts_at": "2026-12-05T00:00:00Z", "ends_at": "2026-12-06T00:00:00Z",
            "email_owners": true, "admin_id": ADMIN, "at": "2026-12-01T10:00:00Z"}}),
    );
    announcement(
        &mut log,
        json!({"ContentPublished": {"admin_id": ADMIN, "at": "2026-12-01T10:05:00Z"}}),
    );
    announcement(
        &mut log,
        json!({"ContentUnpublished": {"admin_id": EDITOR, "at": "2026-12-01T10:10:00Z"}}),
    );
    log
}

#[tokio::test]
async fn the_latest_content_and_who_changed_it_are_kept() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    apply(&PlatformContentModel, &mut conn, &history().events).await;
    let tutorial: (String, i32, String, Option<String>, bool, Uuid, Uuid) = sqlx::query_as(
        "SELECT slug, position, title->>'en', video_url, published, written_by, changed_by
           FROM tutorials WHERE tutorial_id = $1",
    )
    .bind(TUTORIAL)
    .fetch_one(&mut *conn)
    .await
    .expect("the tutorial");
    assert_eq!(
        tutorial,
        (
            "conectar-whatsapp".into(),
            1,
            "Connect WhatsApp".into(),
            Some("https://youtu.be/abc".into()),
            true,
            ADMIN,
            ADMIN
        )
    );
    let announcement: (String, Vec<String>, bool, bool, Uuid) = sqlx::query_as(
        "SELECT audience_kind, audience_plans, published, published_at IS NOT NULL, changed_by
           FROM announcements WHERE announcement_id = $1",
    )
    .bind(ANNOUNCEMENT)
    .fetch_one(&mut *conn)
    .await
    .expect("the announcement");
    assert_eq!(
        announcement,
        (
            "plans".into(),
            vec!["pro".into(), "enterprise".into()],
            false,
            true,
            EDITOR
        )
    );
    let steps: Vec<(String, Uuid)> = sqlx::query_as(
        "SELECT event_type, admin_id FROM content_history WHERE content_id = $1 ORDER BY sequence",
    )
    .bind(TUTORIAL)
    .fetch_all(&mut *conn)
    .await
    .expect("the history");
    assert_eq!(
        steps,
        [
            ("TutorialWritten".into(), ADMIN),
            ("TutorialRevised".into(), EDITOR),
            ("ContentPublished".into(), ADMIN)
        ]
    );
}

#[tokio::test]
async fn applying_the_log_twice_or_replaying_it_leaves_the_same_tables() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let log = history();
    store(&db.pool, &log.events).await;
    let stored: Vec<StoredEvent> = stream::Tail::new(db.pool.clone())
        .read_after(stream::Checkpoint::START)
        .await
        .expect("a read");
    apply(&PlatformContentModel, &mut conn, &stored).await;
    let once = dump(&mut conn, PlatformContentModel.tables()).await;
    apply(&PlatformContentModel, &mut conn, &stored).await;
    assert_eq!(dump(&mut conn, PlatformContentModel.tables()).await, once);
    let projection: Arc<dyn EventHandler> = Arc::new(PlatformContentModel);
    stream::replay::replay(&stream::Tail::new(db.pool.clone()), projection)
        .await
        .expect("the replay succeeds");
    assert_eq!(dump(&mut conn, PlatformContentModel.tables()).await, once);
}
