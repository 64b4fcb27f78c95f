//! The conversations read model against a real database: what each event does, that an
//! event delivered again changes nothing, and that no clear personal data outlives its key.

use super::{forget_expired, ConversationChange, Conversations, KeysUnavailable, SubjectKeys};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use schemas::events::{ConversationEvent as E, DeliveryStatus, MessageContent, ResumeReason};
use schemas::personal::{with_sealer, KeySet, MasterKey, SubjectKey};
use schemas::StoredEvent;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use std::sync::{Arc, Mutex};
use stream::EventHandler;
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(1);
const CONVERSATION: Uuid = Uuid::from_u128(2);
const AGENT: Uuid = Uuid::from_u128(3);
const PHONE: &str = "+55 11 98888-7777";
const NAME: &str = "Ana Souza";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

/// Keys that tests can destroy, as retention and erasure do.
#[derive(Default)]
struct TestKeys(Mutex<Vec<SubjectKey>>);

impl TestKeys {
    fn add(&self, key: SubjectKey) {
        self.0.lock().unwrap().push(key);
    }

    fn destroy(&self, id: Uuid) {
        self.0.lock().unwrap().retain(|k| k.id() != id);
    }
}

#[async_trait::async_trait]
impl SubjectKeys for TestKeys {
    async fn keys(&self, ids: &[Uuid]) -> Result<KeySet, KeysUnavailable> {
        let mut set = KeySet::default();
        for key in self.0.lock().unwrap().iter() {
            if ids.contains(&key.id()) {
                set.insert(key.clone());
            }
        }
        Ok(set)
    }
}

/// A conversation's events, sealed under a day's key, as the write side stores them.
struct Log {
    keys: Arc<TestKeys>,
    master: MasterKey,
    events: Vec<StoredEvent>,
}

impl Log {
    fn new() -> Self {
        Self {
            keys: Arc::default(),
            master: MasterKey::generate(),
            events: Vec::new(),
        }
    }

    fn new_key(&self) -> SubjectKey {
        let (key, _) = self.master.new_subject_key(Uuid::now_v7());
        self.keys.add(key.clone());
        key
    }

    fn record(&mut self, key: &SubjectKey, event: E) -> StoredEvent {
        let payload = with_sealer(Arc::new(key.clone()), || serde_json::to_value(&event))
            .expect("serializes");
        let n = self.events.len() as i64 + 1;
        let stored = StoredEvent {
            position: n,
            tx_id: n,
            recorded_at: t0() + TimeDelta::seconds(n),
            aggregate_type: "conversation".into(),
            aggregate_id: CONVERSATION.to_string(),
            sequence: n,
            event_type: event.type_name().into(),
            event_version: "1".into(),
            payload,
            metadata: Default::default(),
        };
        self.events.push(stored.clone());
        stored
    }

    fn projection(&self) -> Conversations {
        Conversations::new(self.keys.clone())
    }
}

fn received(id: &str, text: &str, at: DateTime<Utc>) -> E {
    E::MessageReceived {
        tenant_id: TENANT,
        contact_wa_id: PHONE.into(),
        contact_name: Some(NAME.into()),
        provider_message_id: id.into(),
        content: MessageContent::Text(text.into()),
        sent_at: at,
        at,
    }
}

fn ai_replied(outbound: u128, text: &str) -> E {
    E::AiReplied {
        outbound_id: Uuid::from_u128(outbound),
        text: text.into(),
        confidence: 0.9,
        sources: vec![],
        model: "m".into(),
        tokens_in: 1,
        tokens_out: 1,
        run: None,
        at: t0(),
    }
}

async fn apply(db: &mut PgConnection, projection: &Conversations, events: &[StoredEvent]) {
    projection
        .handle_batch(db, events)
        .await
        .expect("the events apply");
}

/// Every row of the three tables, as text, in key order.
async fn dump(db: &mut PgConnection) -> Vec<String> {
    let mut rows = Vec::new();
    for (table, order) in [
        ("conversations", "conversation_id"),
        ("conversation_messages", "conversation_id, sequence"),
        (
            "conversation_deliveries",
            "conversation_id, provider_message_id",
        ),
    ] {
        let sql = format!("SELECT to_jsonb(t)::text FROM {table} t ORDER BY {order}");
        let part: Vec<String> = sqlx::query_scalar(&sql)
            .fetch_all(&mut *db)
            .await
            .expect("a dump");
        rows.extend(part);
    }
    rows
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Row {
    status: String,
    contact_phone: Option<String>,
    contact_name: Option<String>,
    contact_search: Option<String>,
    last_message_direction: Option<String>,
    unanswered_count: i32,
    assigned_agent: Option<Uuid>,
    window_ends_at: Option<DateTime<Utc>>,
    handed_off_at: Option<DateTime<Utc>>,
}

async fn row(db: &mut PgConnection) -> Row {
    sqlx::query_as(
        "SELECT status, contact_phone, contact_name, contact_search, last_message_direction,
                unanswered_count, assigned_agent, window_ends_at, handed_off_at
           FROM conversations WHERE conversation_id = $1",
    )
    .bind(CONVERSATION)
    .fetch_one(db)
    .await
    .expect("the conversation's row")
}

async fn database() -> (
    testkit::TestDatabase,
    sqlx::pool::PoolConnection<sqlx::Postgres>,
) {
    let db = testkit::test_database().await.expect("a database");
    let conn = db.pool.acquire().await.expect("a connection");
    (db, conn)
}

#[tokio::test]
async fn a_first_message_opens_a_conversation_with_its_contact_searchable_and_its_text_sealed() {
    let (_db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    let e = log.record(&key, received("wamid.1", "Oi, qual o horário?", t0()));
    apply(&mut conn, &log.projection(), &[e]).await;

    let r = row(&mut conn).await;
    assert_eq!(
        (
            r.status.as_str(),
            r.contact_phone.as_deref(),
            r.contact_name.as_deref()
        ),
        ("ai_active", Some(PHONE), Some(NAME))
    );
    assert_eq!(r.contact_search.as_deref(), Some("ana souza 5511988887777"));
    assert_eq!(
        (r.unanswered_count, r.last_message_direction.as_deref()),
        (1, Some("inbound"))
    );
    let (body, preview): (Value, Value) = sqlx::query_as(
        "SELECT m.body, c.last_message_preview FROM conversation_messages m
           JOIN conversations c USING (conversation_id)",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(
        body.get("$pii").is_some(),
        "the text is stored in clear: {body}"
    );
    assert_eq!(body, preview);
}

#[tokio::test]
async fn the_status_follows_hand_off_human_reply_resumption_and_resolution() {
    let (_db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    let projection = log.projection();
    let steps: Vec<(E, &str, bool)> = vec![
        (received("wamid.1", "Oi", t0()), "ai_active", false),
        (
            E::HumanRequested {
                outbound_id: Uuid::from_u128(10),
                question: "humano".into(),
                at: t0(),
            },
            "awaiting_human",
            true,
        ),
        (
            E::HumanReplied {
                outbound_id: Uuid::from_u128(11),
                agent_id: AGENT,
                text: "Olá".into(),
                at: t0(),
            },
            "human_replied",
            true,
        ),
        (
            E::AiResumed {
                outbound_id: Uuid::from_u128(12),
                reason: ResumeReason::Timeout,
                at: t0(),
            },
            "ai_active",
            false,
        ),
        (
            E::ConfidenceLow {
                outbound_id: Uuid::from_u128(13),
                confidence: 0.1,
                question: "?".into(),
                reason: None,
                at: t0(),
            },
            "awaiting_human",
            true,
        ),
        (E::ConversationResolved { at: t0() }, "resolved", false),
        (received("wamid.2", "De novo", t0()), "ai_active", false),
    ];
    for (event, status, handed_off) in steps {
        let e = log.record(&key, event);
        apply(&mut conn, &projection, &[e]).await;
        let r = row(&mut conn).await;
        assert_eq!(
            (r.status.as_str(), r.handed_off_at.is_some()),
            (status, handed_off),
            "after event {}",
            log.events.len()
        );
    }
}

#[tokio::test]
async fn customer_messages_count_as_unanswered_until_an_answer() {
    let (_db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    let projection = log.projection();
    let mut counts = Vec::new();
    for event in [
        received("wamid.1", "Oi", t0()),
        received("wamid.2", "Alô?", t0()),
        ai_replied(20, "Olá!"),
        received("wamid.3", "Obrigada", t0()),
        E::HumanRequested {
            outbound_id: Uuid::from_u128(21),
            question: "humano".into(),
            at: t0(),
        },
        E::HumanReplied {
            outbound_id: Uuid::from_u128(22),
            agent_id: AGENT,
            text: "Oi".into(),
            at: t0(),
        },
    ] {
        let e = log.record(&key, event);
        apply(&mut conn, &projection, &[e]).await;
        counts.push(row(&mut conn).await.unanswered_count);
    }
    assert_eq!(counts, vec![1, 2, 0, 1, 1, 0]);
}

#[tokio::test]
async fn the_window_ends_a_day_after_the_latest_customer_message_by_our_clock_at_most() {
    let (_db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    let projection = log.projection();
    let later = t0() + TimeDelta::hours(3);
    let ahead = E::MessageReceived {
        tenant_id: TENANT,
        contact_wa_id: PHONE.into(),
        contact_name: None,
        provider_message_id: "wamid.1".into(),
        content: MessageContent::Text("Oi".into()),
        // The provider's clock is an hour ahead of ours.
        sent_at: later + TimeDelta::hours(1),
        at: later,
    };
    let late = received("wamid.0", "Mensagem atrasada", t0());
    for event in [ahead, late] {
        let e = log.record(&key, event);
        apply(&mut conn, &projection, &[e]).await;
    }
    assert_eq!(
        row(&mut conn).await.window_ends_at,
        Some(later + TimeDelta::hours(24))
    );
}

#[tokio::test]
async fn an_assignment_names_the_agent() {
    let (_db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    let events = vec![
        log.record(&key, received("wamid.1", "Oi", t0())),
        log.record(
            &key,
            E::AgentAssigned {
                agent_id: AGENT,
                at: t0(),
            },
        ),
    ];
    apply(&mut conn, &log.projection(), &events).await;
    assert_eq!(row(&mut conn).await.assigned_agent, Some(AGENT));
}

type Delivery = (Option<String>, Option<String>, Option<String>);

/// The provider id and delivery status of the message of sequence `sequence`.
async fn delivery_of(db: &mut PgConnection, sequence: i64) -> Delivery {
    sqlx::query_as(
        "SELECT m.provider_message_id, d.status, d.error FROM conversation_messages m
           LEFT JOIN conversation_deliveries d
             ON d.conversation_id = m.conversation_id
            AND d.provider_message_id = m.provider_message_id
          WHERE m.conversation_id = $1 AND m.sequence = $2",
    )
    .bind(CONVERSATION)
    .bind(sequence)
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn delivery_statuses_reach_the_outbound_message_and_only_move_forward() {
    let (_db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    let projection = log.projection();
    let status = |s| E::OutboundDelivered {
        provider_message_id: "wamid.out".into(),
        status: s,
        at: t0(),
    };
    let events = vec![
        log.record(&key, received("wamid.1", "Oi", t0())),
        log.record(&key, ai_replied(30, "Olá!")),
        // The provider's status arrives before the sender recorded the id it got.
        log.record(&key, status(DeliveryStatus::Delivered)),
        log.record(
            &key,
            E::OutboundSent {
                outbound_id: Uuid::from_u128(30),
                provider_message_id: "wamid.out".into(),
                at: t0(),
            },
        ),
    ];
    apply(&mut conn, &projection, &events).await;
    let delivered = (Some("wamid.out".into()), Some("delivered".into()), None);
    assert_eq!(delivery_of(&mut conn, 2).await, delivered);

    let read = log.record(&key, status(DeliveryStatus::Read));
    let stale = log.record(&key, status(DeliveryStatus::Sent));
    apply(&mut conn, &projection, &[read, stale]).await;
    assert_eq!(delivery_of(&mut conn, 2).await.1.as_deref(), Some("read"));

    let failed = log.record(
        &key,
        E::OutboundFailed {
            provider_message_id: "wamid.out".into(),
            error: Some("131047".into()),
            at: t0(),
        },
    );
    apply(&mut conn, &projection, &[failed]).await;
    let failed = (
        Some("wamid.out".into()),
        Some("failed".into()),
        Some("131047".into()),
    );
    assert_eq!(delivery_of(&mut conn, 2).await, failed);
}

/// A conversation exercising every event type.
fn full_history(log: &mut Log, key: &SubjectKey) {
    for event in [
        received("wamid.1", "Oi", t0()),
        ai_replied(40, "Olá!"),
        E::OutboundSent {
            outbound_id: Uuid::from_u128(40),
            provider_message_id: "wamid.out".into(),
            at: t0(),
        },
        E::OutboundDelivered {
            provider_message_id: "wamid.out".into(),
            status: DeliveryStatus::Read,
            at: t0(),
        },
        E::HumanRequested {
            outbound_id: Uuid::from_u128(41),
            question: "humano".into(),
            at: t0(),
        },
        E::AgentAssigned {
            agent_id: AGENT,
            at: t0(),
        },
        E::HumanReplied {
            outbound_id: Uuid::from_u128(42),
            agent_id: AGENT,
            text: "Oi".into(),
            at: t0(),
        },
        E::ConversationResolved { at: t0() },
        received("wamid.2", "Mais uma", t0()),
    ] {
        log.record(key, event);
    }
}

#[tokio::test]
async fn events_delivered_again_change_nothing() {
    let (_db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    full_history(&mut log, &key);
    let projection = log.projection();
    apply(&mut conn, &projection, &log.events).await;
    let once = dump(&mut conn).await;
    apply(&mut conn, &projection, &log.events).await;
    for e in &log.events {
        apply(&mut conn, &projection, std::slice::from_ref(e)).await;
    }
    assert_eq!(dump(&mut conn).await, once);
}

/// Whether any row of the three tables contains `text` in clear.
async fn shows(db: &mut PgConnection, text: &str) -> bool {
    dump(db).await.iter().any(|row| row.contains(text))
}

#[tokio::test]
async fn an_erased_contact_leaves_no_clear_personal_data_in_the_read_model() {
    let (_db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    full_history(&mut log, &key);
    log.keys.destroy(key.id());
    log.record(
        &key,
        E::SubjectErased {
            reason: "data subject request".into(),
            at: t0(),
        },
    );
    let projection = log.projection();
    // Applied live before the erasure: the contact was readable then.
    let (before, erasure) = log.events.split_at(log.events.len() - 1);
    let alive = Log::new();
    alive.keys.add(key.clone());
    apply(&mut conn, &Conversations::new(alive.keys.clone()), before).await;
    assert!(
        shows(&mut conn, NAME).await,
        "the contact was never readable"
    );
    apply(&mut conn, &projection, erasure).await;

    for personal in [
        PHONE,
        NAME,
        "5511988887777",
        "ana souza",
        "Olá!",
        "Mais uma",
    ] {
        assert!(
            !shows(&mut conn, personal).await,
            "{personal} is still there"
        );
    }
    let r = row(&mut conn).await;
    assert_eq!((r.contact_phone, r.contact_search), (None, None));
}

#[tokio::test]
async fn a_replay_after_keys_expired_builds_what_the_retention_sweep_leaves() {
    let (live_db, mut live) = database().await;
    let (_replay_db, mut replayed) = database().await;
    let mut log = Log::new();
    let old_key = log.new_key();
    full_history(&mut log, &old_key);
    apply(&mut live, &log.projection(), &log.events).await;
    assert!(shows(&mut live, NAME).await);

    // Retention destroyed the day's key (no row of it is left in subject_keys) …
    log.keys.destroy(old_key.id());
    let cleared = forget_expired(&live_db.pool, t0() + TimeDelta::days(31))
        .await
        .unwrap();
    assert_eq!(cleared, 1);
    assert!(!shows(&mut live, NAME).await, "the sweep left the contact");
    // … so a replay of the same log opens nothing either.
    apply(&mut replayed, &log.projection(), &log.events).await;
    assert_eq!(dump(&mut replayed).await, dump(&mut live).await);
}

#[tokio::test]
async fn the_retention_sweep_keeps_contacts_whose_key_still_exists() {
    let (db, mut conn) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    let e = log.record(&key, received("wamid.1", "Oi", t0()));
    apply(&mut conn, &log.projection(), &[e]).await;
    insert_key_row(&db.pool, key.id()).await;
    let cleared = forget_expired(&db.pool, t0() + TimeDelta::days(31))
        .await
        .unwrap();
    assert_eq!(cleared, 0);
    assert_eq!(row(&mut conn).await.contact_phone.as_deref(), Some(PHONE));
}

async fn insert_key_row(pool: &PgPool, id: Uuid) {
    sqlx::query(
        "INSERT INTO subject_keys (key_id, subject, period, rotates, wrapped)
         VALUES ($1, 'contact:x', '2026-03-01', true, '\\x00')",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn every_change_is_announced_at_commit_and_a_redelivery_announces_nothing() {
    let (db, _conn) = database().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&db.pool)
        .await
        .unwrap();
    listener.listen(super::CHANNEL).await.unwrap();
    let mut log = Log::new();
    let key = log.new_key();
    let e = log.record(&key, received("wamid.1", "Oi", t0()));
    let projection = log.projection();
    for _ in 0..2 {
        let mut tx = db.pool.begin().await.unwrap();
        apply(&mut tx, &projection, std::slice::from_ref(&e)).await;
        tx.commit().await.unwrap();
    }
    let first = listener.recv().await.unwrap();
    let change: ConversationChange = serde_json::from_str(first.payload()).unwrap();
    assert_eq!(
        change,
        ConversationChange {
            tenant_id: TENANT,
            conversation_id: CONVERSATION,
            status: "ai_active".into(),
            updated_at: e.recorded_at,
            position: e.position,
        }
    );
    let second = tokio::time::timeout(std::time::Duration::from_millis(300), listener.recv()).await;
    assert!(second.is_err(), "a redelivery was announced");
}

#[tokio::test]
async fn a_batch_builds_what_its_events_build_one_by_one() {
    let (_one_db, mut one) = database().await;
    let (_batch_db, mut batch) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    full_history(&mut log, &key);
    for event in [
        E::OutboundDelivered {
            provider_message_id: "wamid.out".into(),
            status: DeliveryStatus::Sent,
            at: t0(),
        },
        E::OutboundFailed {
            provider_message_id: "wamid.late".into(),
            error: None,
            at: t0(),
        },
        E::SubjectErased {
            reason: "pedido".into(),
            at: t0(),
        },
        received("wamid.3", "Voltei", t0()),
    ] {
        log.record(&key, event);
    }
    let projection = log.projection();
    for e in &log.events {
        apply(&mut one, &projection, std::slice::from_ref(e)).await;
    }
    apply(&mut batch, &projection, &log.events).await;
    assert_eq!(dump(&mut batch).await, dump(&mut one).await);
}

#[tokio::test]
async fn replaying_many_conversations_in_lanes_rebuilds_the_live_tables_byte_for_byte() {
    let (db, mut live) = database().await;
    let mut log = Log::new();
    let key = log.new_key();
    full_history(&mut log, &key);
    // The same history in twelve conversations, interleaved as customers write at once:
    // the replay's lanes each take some of them.
    let history = std::mem::take(&mut log.events);
    for event in &history {
        for c in 0..12u128 {
            let mut e = event.clone();
            e.aggregate_id = Uuid::from_u128(100 + c).to_string();
            log.events.push(e);
        }
    }
    crate::metrics::test_log::store(&db.pool, &log.events).await;
    let stored: Vec<StoredEvent> = stream::Tail::new(db.pool.clone())
        .read_after(stream::Checkpoint::START)
        .await
        .expect("a read");
    assert_eq!(stored.len(), log.events.len());
    apply(&mut live, &log.projection(), &stored).await;
    let before = dump(&mut live).await;

    let projection: Arc<dyn EventHandler> = Arc::new(log.projection());
    assert!(
        projection.rows_per_aggregate(),
        "the replay applies it in lanes"
    );
    stream::replay::replay(&stream::Tail::new(db.pool.clone()), projection)
        .await
        .expect("the replay succeeds");

    assert_eq!(dump(&mut live).await, before);
}
