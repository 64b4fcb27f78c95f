use crate::helpers::{spawn_app, TestApp};
use read_api::auth::Role;
use serde_json::{json, Value};

async fn append(app: &TestApp, n: i64) {
    for sequence in 1..=n {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('ticket', '0190a3c4-0000-7000-8000-0000000000a1', $1, 'TicketCommented', '1', '{}', '{}')",
        )
        .bind(sequence)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
}

async fn post_as(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    app.post_json(path, &json!({}), token).await
}

/// Parks the newest event for `aggregate_index` by hand, as the runner would have.
async fn park_last(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO parked_events (consumer, position, tx_id, event_type, aggregate_type, aggregate_id, error, attempts)
         SELECT 'aggregate_index', position, tx_id::text::bigint, event_type, aggregate_type, aggregate_id, 'boom', 5
           FROM events ORDER BY position DESC LIMIT 1
         RETURNING position",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_projection_admin_endpoints_require_an_admin() {
    let app = spawn_app().await;
    let (_, owner) = app.signed_in(Role::Owner).await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let gets = [
        "/api/v1/admin/projections",
        "/api/v1/admin/projections/aggregate_index/parked",
    ];
    let posts = [
        "/api/v1/admin/projections/aggregate_index/parked/1/retry",
        "/api/v1/admin/projections/aggregate_index/replay",
    ];
    for path in gets {
        assert_eq!(app.get(path).await.status(), 401, "{path}");
        assert_eq!(app.get_as(path, &owner).await.status(), 403, "{path}");
        assert_eq!(app.get_as(path, &auditor).await.status(), 403, "{path}");
    }
    for path in posts {
        assert_eq!(post_as(&app, path, None).await.status(), 401, "{path}");
        assert_eq!(
            post_as(&app, path, Some(&owner)).await.status(),
            403,
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_admin_sees_each_consumer_retries_a_parked_event_and_replays_a_read_model() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    append(&app, 3).await;
    let position = park_last(&app).await;

    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["status"], "degraded");
    // Consumers are listed by name; find the one that parked the event.
    let index_health = health["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "aggregate_index")
        .unwrap();
    assert_eq!(index_health["parked"], 1);

    let list: Value = app
        .get_as("/api/v1/admin/projections", &admin)
        .await
        .json()
        .await
        .unwrap();
    let index = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "aggregate_index")
        .unwrap();
    assert_eq!(index["parked"], 1);
    assert_eq!(index["replayable"], true);
    assert!(index["checkpoint"]["position"].is_i64());
    assert!(index["lag_events"].is_i64());
    let chain = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "event_chain");
    assert_eq!(chain.unwrap()["replayable"], false);

    let parked: Value = app
        .get_as("/api/v1/admin/projections/aggregate_index/parked", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(parked[0]["position"], position);
    assert_eq!(parked[0]["error"], "boom");

    let retry = format!("/api/v1/admin/projections/aggregate_index/parked/{position}/retry");
    let resp = post_as(&app, &retry, Some(&admin)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(post_as(&app, &retry, Some(&admin)).await.status(), 404);
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["consumers"][0]["parked"], 0);

    let replayed = post_as(
        &app,
        "/api/v1/admin/projections/aggregate_index/replay",
        Some(&admin),
    )
    .await;
    assert_eq!(replayed.status(), 200);
    let report: Value = replayed.json().await.unwrap();
    assert_eq!(report["projection"], "aggregate_index");
    // Other tests' open transactions (the snapshot xmin is cluster-wide) can hold the tail
    // back, so the swap may happen just before the last events are visible; the live runner
    // then applies them from the swapped-in checkpoint.
    app.eventually("the rebuilt read model has every event", || async {
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT last_sequence FROM aggregate_index WHERE aggregate_id = '0190a3c4-0000-7000-8000-0000000000a1'",
        )
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        last == Some(3)
    })
    .await;

    let chain = post_as(
        &app,
        "/api/v1/admin/projections/event_chain/replay",
        Some(&admin),
    )
    .await;
    assert_eq!(chain.status(), 409);
    let unknown = app
        .get_as("/api/v1/admin/projections/nope/parked", &admin)
        .await;
    assert_eq!(unknown.status(), 404);
}
