use crate::helpers::spawn_app;
use serde_json::Value;
use uuid::Uuid;

#[tokio::test]
async fn health_reports_every_dependency_and_is_200_when_all_are_up() {
    let app = spawn_app().await;
    let resp = app.get("/health").await;
    assert_eq!(resp.status(), 200);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(
        Uuid::parse_str(&request_id).is_ok(),
        "request id {request_id}"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["ok"], true);
    assert!(body["database"]["round_trip_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(body["event_store"]["head_position"], 0);
    let consumers = body["consumers"].as_array().expect("consumers are listed");
    assert!(
        consumers.iter().any(|c| c["name"] == "aggregate_index"),
        "{consumers:?}"
    );
}

#[tokio::test]
async fn a_client_supplied_request_id_is_echoed_back() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(format!("{}/health", app.address))
        .header("x-request-id", "0193a1b2-0000-7000-8000-000000000001")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["x-request-id"],
        "0193a1b2-0000-7000-8000-000000000001"
    );
}

#[tokio::test]
async fn a_committed_command_reaches_the_read_model_and_health_shows_no_lag() {
    let app = spawn_app().await;
    let tenant = app
        .register_tenant("Oficina Zé", "ze@oficina.example")
        .await;

    app.eventually("the aggregate index shows the tenant", || async {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT last_event_type, last_sequence FROM aggregate_index WHERE aggregate_id = $1",
        )
        .bind(tenant.to_string())
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        row == Some(("TenantRegistered".into(), 1))
    })
    .await;
    // The index's row commits a moment before the runner's status is updated: wait for that.
    app.eventually("/health shows the aggregate index caught up", || async {
        let body: Value = app.get("/health").await.json().await.unwrap();
        let index = body["consumers"]
            .as_array()
            .expect("consumers are listed")
            .iter()
            .find(|c| c["name"] == "aggregate_index")
            .cloned()
            .expect("the aggregate index is listed");
        body["event_store"]["head_position"] == 1
            && index["lag_events"] == 0
            && index["position"] == 1
    })
    .await;
}

#[tokio::test]
async fn health_is_503_when_the_database_is_unreachable() {
    let app = spawn_app().await;
    app.db.pool.close().await;
    let resp = app.get("/health").await;
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"]["ok"], false);
    assert!(body["database"]["error"].is_string());
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let resp = app.get("/health").await;
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413_with_a_json_error() {
    let app = spawn_app().await;
    let big = serde_json::json!({"email": "x".repeat(1024 * 1024 + 1), "password": "y"});
    let resp = app.post_json("/api/v1/auth/login", &big, None).await;
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
}
