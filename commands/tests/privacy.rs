//! Crypto-shredding end to end against PostgreSQL: nothing personal in clear, erasure,
//! retention on a controllable clock, and the master-key check.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use aggregates::{Clock, ConversationCommand, FixedClock, RandomIds, TenantCommand};
use chrono::{Duration, TimeZone, Utc};
use commands::privacy::{erase_contact, export_contact, KeyError, KeyRing, PrivacyError};
use commands::{CommandBus, CommandBusConfig};
use schemas::events::{MessageContent, Plan};
use schemas::personal::{MasterKey, ERASED};
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use std::sync::Arc;
use uuid::Uuid;

const CONTACT: &str = "5511987654321";
const TEXT: &str = "Meu CPF é 123.456.789-00, podem confirmar o pedido?";
const EMAIL: &str = "maria@padaria.example";

struct World {
    db: testkit::TestDatabase,
    master: MasterKey,
    bus: CommandBus,
    keys: Arc<KeyRing>,
    clock: Arc<FixedClock>,
    tenant: Uuid,
}

async fn world() -> World {
    let db = testkit::test_database().await.unwrap();
    let master = MasterKey::generate();
    let keys = Arc::new(
        KeyRing::open(db.pool.clone(), master.clone())
            .await
            .unwrap(),
    );
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap(),
    ));
    let bus = CommandBus::new(
        db.pool.clone(),
        clock.clone(),
        Arc::new(RandomIds),
        &CommandBusConfig {
            snapshot_every: 2,
            ..Default::default()
        },
        Arc::new(|_, _| {}),
        keys.clone(),
    );
    let tenant = Uuid::now_v7();
    bus.tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::RegisterTenant {
                tenant_id: tenant,
                name: "Padaria".into(),
                owner_email: Personal::from(EMAIL),
                plan: Plan("basic".into()),
            },
            &md(tenant),
        )
        .await
        .unwrap();
    World {
        db,
        master,
        bus,
        keys,
        clock,
        tenant,
    }
}

fn md(tenant: Uuid) -> CommandMetadata {
    CommandMetadata::new(
        Actor {
            kind: ActorKind::Admin,
            id: "dpo".into(),
        },
        Some(tenant),
    )
}

async fn message(w: &World, contact: &str, id: &str, text: &str) {
    w.bus
        .conversations
        .execute(
            &conversation_id(w.tenant, contact).to_string(),
            ConversationCommand::ReceiveMessage {
                tenant_id: w.tenant,
                contact_wa_id: Personal::from(contact),
                contact_name: Some(Personal::from("Maria")),
                provider_message_id: id.into(),
                content: MessageContent::Text(Personal::from(text)),
                sent_at: w.clock.now(),
            },
            &md(w.tenant),
        )
        .await
        .unwrap();
}

async fn stored_text(pool: &sqlx::PgPool) -> String {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT payload::text || metadata::text FROM events
         UNION ALL SELECT payload::text FROM snapshots",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.join("\n")
}

async fn texts(w: &World, contact: &str) -> Vec<String> {
    let export = export_contact(&w.db.pool, &w.keys, w.tenant, contact)
        .await
        .unwrap();
    export
        .events
        .iter()
        .filter_map(|e| {
            e.payload["MessageReceived"]["content"]["text"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn personal_data_is_never_stored_in_clear_yet_exports_in_clear() {
    let w = world().await;
    message(&w, CONTACT, "wamid.1", TEXT).await;
    message(&w, CONTACT, "wamid.2", TEXT).await;
    let stored = stored_text(&w.db.pool).await;
    for secret in [CONTACT, TEXT, EMAIL, "Maria"] {
        assert!(!stored.contains(secret), "{secret} is stored in clear");
    }
    assert_eq!(texts(&w, CONTACT).await, vec![TEXT, TEXT]);
    let export = export_contact(&w.db.pool, &w.keys, w.tenant, CONTACT)
        .await
        .unwrap();
    assert_eq!(
        export.events[0].payload["MessageReceived"]["contact_wa_id"],
        CONTACT
    );
}

#[tokio::test]
async fn an_erased_contact_reads_as_erased_and_the_erasure_is_recorded() {
    let w = world().await;
    message(&w, CONTACT, "wamid.1", TEXT).await;
    message(&w, "5511900000000", "wamid.9", "outro cliente").await;

    let erasure = erase_contact(
        &w.bus,
        &w.keys,
        w.tenant,
        CONTACT,
        "titular pediu",
        &md(w.tenant),
    )
    .await
    .unwrap();
    assert!(erasure.keys_destroyed >= 1);

    let export = export_contact(&w.db.pool, &w.keys, w.tenant, CONTACT)
        .await
        .unwrap();
    let types: Vec<&str> = export
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        vec!["MessageReceived", "SubjectErased"],
        "counts stay right"
    );
    let received = &export.events[0].payload["MessageReceived"];
    assert_eq!(received["content"]["text"], ERASED);
    assert_eq!(received["contact_wa_id"], ERASED);
    assert_eq!(received["contact_name"], ERASED);
    assert_eq!(
        export.events[1].payload["SubjectErased"]["reason"],
        "titular pediu"
    );
    // Another contact of the same tenant is untouched.
    assert_eq!(texts(&w, "5511900000000").await, vec!["outro cliente"]);
    // The aggregate still loads, from scratch too.
    sqlx::query("DELETE FROM snapshots")
        .execute(&w.db.pool)
        .await
        .unwrap();
    let (state, seq) = w
        .bus
        .conversations
        .load(&conversation_id(w.tenant, CONTACT).to_string())
        .await
        .unwrap();
    assert_eq!((seq, state.message_count()), (2, 1));
}

#[tokio::test]
async fn erasing_an_unknown_contact_is_not_found_and_records_nothing() {
    let w = world().await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&w.db.pool)
        .await
        .unwrap();
    let err = erase_contact(
        &w.bus,
        &w.keys,
        w.tenant,
        "5500000000000",
        "x",
        &md(w.tenant),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, PrivacyError::UnknownSubject), "{err:?}");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_message_is_readable_on_day_29_and_erased_on_day_31() {
    let w = world().await;
    let day0 = w.clock.now();
    message(&w, CONTACT, "wamid.1", TEXT).await;

    w.clock.set(day0 + Duration::days(29));
    w.keys
        .destroy_expired(w.clock.now().date_naive(), 30)
        .await
        .unwrap();
    assert_eq!(texts(&w, CONTACT).await, vec![TEXT]);

    // A message on day 29 is sealed under that day's key and outlives day 0's.
    message(&w, CONTACT, "wamid.2", "ainda aqui").await;
    w.clock.set(day0 + Duration::days(31));
    let destroyed = w
        .keys
        .destroy_expired(w.clock.now().date_naive(), 30)
        .await
        .unwrap();
    assert_eq!(destroyed, 1);
    assert_eq!(texts(&w, CONTACT).await, vec![ERASED, "ainda aqui"]);
    // The tenant's own data does not expire with message content.
    let tenant_keys = w
        .keys
        .key_count(&format!("tenant:{}", w.tenant))
        .await
        .unwrap();
    assert_eq!(tenant_keys, 1);
}

#[tokio::test]
async fn a_process_with_another_master_key_is_refused() {
    let db = testkit::test_database().await.unwrap();
    KeyRing::open(db.pool.clone(), MasterKey::generate())
        .await
        .unwrap();
    let err = KeyRing::open(db.pool.clone(), MasterKey::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, KeyError::WrongMasterKey), "{err:?}");
}

#[tokio::test]
async fn processes_racing_to_create_a_contacts_first_key_all_get_the_winners_key() {
    let db = testkit::test_database().await.unwrap();
    let master = MasterKey::generate();
    // One ring per racer: each is a process with its own cache, so every call reaches the
    // database.
    let mut rings = Vec::new();
    for _ in 0..8 {
        rings.push(
            KeyRing::open(db.pool.clone(), master.clone())
                .await
                .unwrap(),
        );
    }
    let period = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for round in 0..40 {
        let subject = commands::privacy::Subject::contact(&format!("conversation-{round}"), None);
        let keys = futures::future::join_all(
            rings
                .iter()
                .map(|ring| ring.key_for(&subject, subject.period(period))),
        )
        .await;
        let ids: std::collections::HashSet<String> = keys
            .into_iter()
            .map(|k| format!("{:?}", k.expect("every racer gets a key")))
            .collect();
        assert_eq!(ids.len(), 1, "round {round}: {ids:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_first_keys_asked_at_once_in_one_process_are_one_per_subject() {
    let db = testkit::test_database().await.unwrap();
    let ring = std::sync::Arc::new(
        KeyRing::open(db.pool.clone(), MasterKey::generate())
            .await
            .unwrap(),
    );
    let period = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    // Each subject asked for three times at once: the asks share groups and race within them.
    let asks: Vec<_> = (0..3)
        .flat_map(|_| 0..30)
        .map(|n| {
            let ring = ring.clone();
            tokio::spawn(async move {
                let subject =
                    commands::privacy::Subject::contact(&format!("conversation-{n}"), None);
                let key = ring
                    .key_for(&subject, subject.period(period))
                    .await
                    .unwrap();
                (n, format!("{key:?}"))
            })
        })
        .collect();
    let mut by_subject: std::collections::HashMap<i32, std::collections::HashSet<String>> =
        Default::default();
    for ask in asks {
        let (n, key) = ask.await.unwrap();
        by_subject.entry(n).or_default().insert(key);
    }
    assert_eq!(by_subject.len(), 30);
    assert!(
        by_subject.values().all(|keys| keys.len() == 1),
        "{by_subject:?}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM subject_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 30);
}

/// Whether the contact's one key was written by the transaction of its first event.
async fn key_written_with_first_event(w: &World, contact: &str) -> bool {
    let conversation = conversation_id(w.tenant, contact).to_string();
    sqlx::query_scalar(
        "SELECT (SELECT xmin::text FROM subject_keys WHERE subject = 'contact:' || $1)
              = (SELECT (tx_id::text::bigint % 4294967296)::text FROM events
                  WHERE aggregate_id = $1 AND sequence = 1)",
    )
    .bind(conversation)
    .fetch_one(&w.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_new_contacts_key_is_stored_by_the_statement_of_its_first_message() {
    let w = world().await;

    message(&w, CONTACT, "wamid.1", TEXT).await;

    assert!(key_written_with_first_event(&w, CONTACT).await);
    assert_eq!(texts(&w, CONTACT).await, vec![TEXT.to_owned()]);
}

#[tokio::test]
async fn a_first_message_uses_the_key_another_process_stored_first() {
    let w = world().await;
    let other_process = KeyRing::open(w.db.pool.clone(), w.master.clone())
        .await
        .unwrap();
    let subject = commands::privacy::Subject::contact(
        &conversation_id(w.tenant, CONTACT).to_string(),
        Some(w.tenant),
    );
    let theirs = other_process
        .key_for(&subject, subject.period(w.clock.now()))
        .await
        .unwrap();

    message(&w, CONTACT, "wamid.1", TEXT).await;

    let keys: Vec<Uuid> = sqlx::query_scalar("SELECT key_id FROM subject_keys WHERE subject = $1")
        .bind(&subject.id)
        .fetch_all(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![theirs.id()]);
    assert!(!key_written_with_first_event(&w, CONTACT).await);
    assert_eq!(texts(&w, CONTACT).await, vec![TEXT.to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_new_contacts_writing_at_once_each_get_one_key_stored_with_their_first_message() {
    let w = world().await;
    let contacts: Vec<String> = (0..30).map(|n| format!("55119{n:07}")).collect();

    // Two messages from each new contact at once: first appends share groups and race
    // within them for one contact's key and first place.
    futures::future::join_all(contacts.iter().flat_map(|c| {
        ["a", "b"].map(|m| {
            let w = &w;
            async move { message(w, c, &format!("wamid.{c}.{m}"), &format!("{c} {m}")).await }
        })
    }))
    .await;

    for c in &contacts {
        assert!(key_written_with_first_event(&w, c).await, "{c}");
        let mut got = texts(&w, c).await;
        got.sort();
        assert_eq!(got, vec![format!("{c} a"), format!("{c} b")]);
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM subject_keys WHERE subject LIKE 'contact:%'")
            .fetch_one(&w.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, 30);
}
