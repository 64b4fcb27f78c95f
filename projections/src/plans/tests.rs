//! The plan catalogue projection against a real database, and the history laid over the
//! configured catalogue.

use super::{PlanCatalogueModel, PlanHistory};
use crate::metrics::test_log::{apply, dump, store, ts, Log};
use schemas::plans::PlanCatalogue;
use schemas::StoredEvent;
use serde_json::{json, Value};
use std::sync::Arc;
use stream::EventHandler;
use uuid::Uuid;

const ADMIN: Uuid = Uuid::from_u128(3);
const EDITOR: Uuid = Uuid::from_u128(4);

fn gold(cents: i64) -> Value {
    json!({"id": "gold", "name": "Ouro", "monthly_price_cents": cents, "currency": "brl",
           "monthly_ai_message_quota": 10_000, "features": ["ai_answers"],
           "stripe_price_id": "price_gold"})
}

fn pro(cents: i64) -> Value {
    json!({"id": "pro", "name": "Profissional", "monthly_price_cents": cents,
           "currency": "brl", "monthly_ai_message_quota": 5_000, "features": []})
}

/// `gold` published at 10:00, made dearer at 12:00 by another admin and retired at 14:00;
/// the configured `pro` revised at 11:00; the configured `basic` retired at 13:00.
fn history() -> Log {
    let mut log = Log::default();
    log.push(
        "plan",
        "gold",
        json!({"PlanSet": {"spec": gold(59_900), "admin_id": ADMIN, "at": "2026-12-07T10:00:00Z"}}),
    );
    log.push(
        "plan",
        "pro",
        json!({"PlanSet": {"spec": pro(45_000), "admin_id": ADMIN, "at": "2026-12-07T11:00:00Z"}}),
    );
    log.push(
        "plan",
        "gold",
        json!({"PlanSet": {"spec": gold(69_900), "admin_id": EDITOR, "at": "2026-12-07T12:00:00Z"}}),
    );
    log.push(
        "plan",
        "basic",
        json!({"PlanRetired": {"plan_id": "basic", "admin_id": EDITOR, "at": "2026-12-07T13:00:00Z"}}),
    );
    log.push(
        "plan",
        "gold",
        json!({"PlanRetired": {"plan_id": "gold", "admin_id": ADMIN, "at": "2026-12-07T14:00:00Z"}}),
    );
    log
}

fn price(spec: Option<&schemas::plans::PlanSpec>) -> Option<i64> {
    spec.map(|s| s.monthly_price_cents)
}

#[tokio::test]
async fn the_catalogue_in_force_is_the_seed_overlaid_by_admins_minus_retired_plans() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    let log = history();
    apply(&PlanCatalogueModel, &mut conn, &log.events[..3]).await;
    let seed = PlanCatalogue::builtin();
    let before_retirements = PlanHistory::load(&db.pool, &seed)
        .await
        .expect("the history")
        .in_force();
    let keys: Vec<_> = before_retirements.iter().map(|p| p.id.clone()).collect();
    assert_eq!(keys, ["basic", "enterprise", "gold", "pro"]);
    assert_eq!(price(before_retirements.get("gold")), Some(69_900));
    assert_eq!(price(before_retirements.get("pro")), Some(45_000));

    apply(&PlanCatalogueModel, &mut conn, &log.events[3..]).await;
    let now = PlanHistory::load(&db.pool, &seed)
        .await
        .expect("the history")
        .in_force();
    let keys: Vec<_> = now.iter().map(|p| p.id.clone()).collect();
    assert_eq!(keys, ["enterprise", "pro"]);
}

#[tokio::test]
async fn the_spec_in_force_at_a_time_is_the_latest_revision_before_it_else_the_seed() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    apply(&PlanCatalogueModel, &mut conn, &history().events).await;
    let history = PlanHistory::load(&db.pool, &PlanCatalogue::builtin())
        .await
        .expect("the history");
    assert_eq!(
        price(history.spec_at("gold", ts("2026-12-07T09:59:59Z"))),
        None
    );
    assert_eq!(
        price(history.spec_at("gold", ts("2026-12-07T10:00:00Z"))),
        Some(59_900)
    );
    assert_eq!(
        price(history.spec_at("gold", ts("2026-12-07T11:59:59Z"))),
        Some(59_900)
    );
    assert_eq!(
        price(history.spec_at("gold", ts("2026-12-07T12:00:00Z"))),
        Some(69_900)
    );
    // Retired, yet subscriptions on it keep their terms.
    assert_eq!(
        price(history.spec_at("gold", ts("2026-12-08T00:00:00Z"))),
        Some(69_900)
    );
    assert_eq!(
        price(history.spec_at("pro", ts("2026-12-07T10:59:59Z"))),
        Some(39_900)
    );
    assert_eq!(
        price(history.spec_at("pro", ts("2026-12-07T11:00:00Z"))),
        Some(45_000)
    );
    assert_eq!(
        price(history.spec_at("basic", ts("2026-12-09T00:00:00Z"))),
        Some(14_900)
    );
    assert!(history.is_known("gold") && history.is_known("basic"));
    assert!(!history.is_known("silver"));
}

#[tokio::test]
async fn one_plans_history_answers_as_the_whole_for_that_plan() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    apply(&PlanCatalogueModel, &mut conn, &history().events).await;
    let seed = PlanCatalogue::builtin();
    let whole = PlanHistory::load(&db.pool, &seed)
        .await
        .expect("the history");
    for plan in ["gold", "pro", "basic", "silver"] {
        let one = PlanHistory::load_plan(&mut conn, &seed, plan)
            .await
            .expect("one plan");
        assert_eq!(
            one.in_force().get(plan),
            whole.in_force().get(plan),
            "{plan}"
        );
        for at in [
            "2026-12-07T09:00:00Z",
            "2026-12-07T11:30:00Z",
            "2026-12-08T00:00:00Z",
        ] {
            assert_eq!(
                one.spec_at(plan, ts(at)),
                whole.spec_at(plan, ts(at)),
                "{plan} {at}"
            );
        }
    }
    // The quota bought at the revision's time, else the catalogue in force (none for a
    // retired plan, as before).
    let gold = PlanHistory::load_plan(&mut conn, &seed, "gold")
        .await
        .expect("gold");
    assert_eq!(
        gold.quota_bought("gold", Some(ts("2026-12-07T10:30:00Z"))),
        Some(10_000)
    );
    assert_eq!(gold.quota_bought("gold", None), None);
    let pro = PlanHistory::load_plan(&mut conn, &seed, "pro")
        .await
        .expect("pro");
    assert_eq!(
        pro.quota_bought("pro", None),
        pro.in_force()
            .get("pro")
            .and_then(|p| p.monthly_ai_message_quota)
    );
}

#[tokio::test]
async fn admins_see_every_plan_with_its_origin_retirement_and_revisions() {
    let db = testkit::test_database().await.expect("a database");
    let mut conn = db.pool.acquire().await.expect("a connection");
    apply(&PlanCatalogueModel, &mut conn, &history().events).await;
    let history = PlanHistory::load(&db.pool, &PlanCatalogue::builtin())
        .await
        .expect("the history");
    let plans = history.plans();
    let summary: Vec<(String, bool, bool, usize)> = plans
        .iter()
        .map(|p| {
            (
                p.spec.id.clone(),
                p.configured,
                p.retired.is_some(),
                p.revisions.len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("basic".into(), true, true, 0),
            ("enterprise".into(), true, false, 0),
            ("gold".into(), false, true, 2),
            ("pro".into(), true, false, 1),
        ]
    );
    let gold = history.plan("gold").expect("gold");
    assert_eq!(gold.spec.monthly_price_cents, 69_900);
    assert_eq!(
        gold.revisions
            .iter()
            .map(|r| r.admin_id)
            .collect::<Vec<_>>(),
        [ADMIN, EDITOR]
    );
    assert_eq!(gold.retired.map(|r| r.admin_id), Some(ADMIN));
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
    apply(&PlanCatalogueModel, &mut conn, &stored).await;
    let once = dump(&mut conn, PlanCatalogueModel.tables()).await;
    apply(&PlanCatalogueModel, &mut conn, &stored).await;
    assert_eq!(dump(&mut conn, PlanCatalogueModel.tables()).await, once);
    let projection: Arc<dyn EventHandler> = Arc::new(PlanCatalogueModel);
    stream::replay::replay(&stream::Tail::new(db.pool.clone()), projection)
        .await
        .expect("the replay succeeds");
    assert_eq!(dump(&mut conn, PlanCatalogueModel.tables()).await, once);
}
