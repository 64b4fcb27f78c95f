use crate::helpers::{spawn_app, TestApp};
use aggregates::TenantCommand;
use read_api::auth::Role;
use serde_json::Value;
use uuid::Uuid;

async fn register(app: &TestApp, name: &str) -> Uuid {
    let tenant = app.register_tenant(name, "segredo@cliente.example").await;
    app.tenant_command(
        tenant,
        TenantCommand::Suspend {
            reason: "unpaid".into(),
        },
    )
    .await;
    app.tenant_command(tenant, TenantCommand::Reactivate).await;
    tenant
}

#[tokio::test]
async fn an_auditor_pages_through_one_tenants_events_with_personal_data_still_sealed() {
    let app = spawn_app().await;
    let tenant = register(&app, "Loja A").await;
    register(&app, "Loja B").await;
    let (_, token) = app.signed_in(Role::Auditor).await;

    let first: Value = app
        .get_as(
            &format!("/api/v1/audit/events?tenant_id={tenant}&limit=2"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["TenantRegistered", "TenantSuspended"]);
    assert!(!first.to_string().contains("segredo@cliente.example"));
    assert!(first["items"][0]["payload"]["TenantRegistered"]["owner_email"]["$pii"].is_string());
    assert_eq!(first["items"][0]["metadata"]["actor_id"], "admin-1");

    let cursor = first["next_cursor"].as_i64().unwrap();
    let second: Value = app
        .get_as(
            &format!("/api/v1/audit/events?tenant_id={tenant}&limit=2&cursor={cursor}"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["event_type"], "TenantReactivated");
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn the_whole_selection_streams_as_ndjson() {
    let app = spawn_app().await;
    register(&app, "Loja A").await;
    register(&app, "Loja B").await;
    let (_, token) = app.signed_in(Role::Admin).await;
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/audit/events?event_type=TenantSuspended",
            app.address
        ))
        .bearer_auth(&token)
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = resp.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|e| e["event_type"] == "TenantSuspended"));
}

#[tokio::test]
async fn the_event_log_is_for_auditors_and_bad_filters_are_422() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/audit/events").await.status(), 401);
    let (_, agent) = app.signed_in(Role::Agent).await;
    assert_eq!(
        app.get_as("/api/v1/audit/events", &agent).await.status(),
        403
    );
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let resp = app.get_as("/api/v1/audit/events?limit=0", &auditor).await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .get_as("/api/v1/audit/events?aggregate_type=user", &auditor)
        .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "unknown_aggregate_type"
    );
}
