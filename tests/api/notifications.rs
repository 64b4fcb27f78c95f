//! The admins' notifications (issue 18): what raises one, once; read state per admin; the
//! live `notification` event; admins only.

use crate::helpers::{spawn_app, TestApp};
use crate::stream::Events;
use read_api::auth::Role;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use uuid::Uuid;

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    let resp = app
        .get_as(&format!("/api/v1/admin/notifications{query}"), token)
        .await;
    assert_eq!(resp.status(), 200, "{query}");
    resp.json().await.unwrap()
}

async fn post(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .post(format!("{}{}", app.address, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The notifications of `kind` an admin sees, waiting up to `wait` for at least `n`.
async fn of_kind(app: &TestApp, token: &str, kind: &str, n: usize, wait: Duration) -> Vec<Value> {
    let deadline = Instant::now() + wait;
    loop {
        let items: Vec<Value> = page(app, token, "?limit=200").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == kind)
            .cloned()
            .collect();
        if items.len() >= n || Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_new_tenant_raises_one_notification_that_each_admin_reads_for_themselves() {
    let app = spawn_app().await;
    let (_, ana) = app.signed_in(Role::Admin).await;
    let (_, bruno) = app.signed_in(Role::SuperAdmin).await;
    let tenant = app.register_tenant("Padaria Sol", "dono@sol.example").await;

    let found = of_kind(&app, &ana, "tenant_registered", 1, Duration::from_secs(10)).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let n = &found[0];
    assert_eq!(n["tenant_id"], json!(tenant));
    assert_eq!(n["subject"], "Padaria Sol");
    assert_eq!(n["detail"]["plan"], "basic");
    assert_eq!(n["read"], false);
    let id = n["id"].as_i64().unwrap();

    let read = post(
        &app,
        &format!("/api/v1/admin/notifications/{id}/read"),
        &ana,
    )
    .await;
    assert_eq!(read.status(), 200);
    assert_eq!(
        read.json::<Value>().await.unwrap(),
        json!({"marked": 1, "unread": 0})
    );
    // Again: nothing left to mark.
    let again = post(
        &app,
        &format!("/api/v1/admin/notifications/{id}/read"),
        &ana,
    )
    .await;
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"marked": 0, "unread": 0})
    );

    let for_ana = page(&app, &ana, "").await;
    assert_eq!(
        (for_ana["unread"].as_i64(), &for_ana["items"][0]["read"]),
        (Some(0), &json!(true))
    );
    assert_eq!(page(&app, &ana, "?unread=true").await["items"], json!([]));
    let for_bruno = page(&app, &bruno, "?unread=true").await;
    assert_eq!(for_bruno["unread"], 1);
    assert_eq!(for_bruno["items"][0]["id"], id);
    assert_eq!(for_bruno["items"][0]["read"], false);

    let missing = post(&app, "/api/v1/admin/notifications/999999/read", &bruno).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["code"],
        "notification_not_found"
    );
}

#[tokio::test]
async fn read_all_stops_at_the_newest_the_admin_saw_and_pages_run_newest_first() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    for name in ["Um", "Dois", "Três"] {
        app.register_tenant(name, &format!("{}@x.example", Uuid::now_v7().simple()))
            .await;
    }
    let all = of_kind(
        &app,
        &admin,
        "tenant_registered",
        3,
        Duration::from_secs(10),
    )
    .await;
    let subjects: Vec<&str> = all.iter().map(|n| n["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["Três", "Dois", "Um"]);

    let first = page(&app, &admin, "?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(&app, &admin, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["subject"], "Um");
    assert_eq!(second["next_cursor"], Value::Null);
    let bad = app
        .get_as("/api/v1/admin/notifications?cursor=nope", &admin)
        .await;
    assert_eq!(bad.status(), 422);

    // The admin saw up to "Dois"; "Três" stays unread.
    let up_to = all[1]["id"].as_i64().unwrap();
    let resp = post(
        &app,
        &format!("/api/v1/admin/notifications/read-all?up_to={up_to}"),
        &admin,
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"marked": 2, "unread": 1})
    );
    let resp = post(&app, "/api/v1/admin/notifications/read-all", &admin).await;
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"marked": 1, "unread": 0})
    );
}

#[tokio::test]
async fn an_admins_stream_hears_of_a_new_notification_and_a_tenants_does_not() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, owner) = app.signed_in(Role::Owner).await;
    let mut admins = Events::connect(&app, "/api/v1/stream", Some(&admin)).await;
    let mut tenants = Events::connect(&app, "/api/v1/stream", Some(&owner)).await;

    app.register_tenant("Ao Vivo", "dono@vivo.example").await;

    let (event, data) = admins
        .next(Duration::from_secs(10))
        .await
        .expect("a notification within 10 s");
    assert_eq!(event, "notification");
    assert_eq!(data["kind"], "tenant_registered");
    let listed = page(&app, &admin, "").await;
    assert_eq!(listed["items"][0]["id"], data["id"]);
    assert!(
        tenants.next(Duration::from_millis(500)).await.is_none(),
        "a tenant heard of an admin notification"
    );
}

#[tokio::test]
async fn an_event_a_consumer_parks_raises_one_notification_however_often_its_retry_fails() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    // A registration without its fields: the tenant directory cannot apply it, retries,
    // and parks it.
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('tenant', $1, 1, 'TenantRegistered', '1', '{\"TenantRegistered\": {}}', '{}')
         RETURNING position",
    )
    .bind(Uuid::now_v7().to_string())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let parked_by_directory = |items: &[Value]| {
        items
            .iter()
            .filter(|n| n["subject"] == "tenant_directory" && n["detail"]["position"] == position)
            .count()
    };
    // Other consumers park the same event, each in its own time: wait for the directory's.
    let deadline = Instant::now() + Duration::from_secs(60);
    let found = loop {
        let found = of_kind(&app, &admin, "event_parked", 1, Duration::ZERO).await;
        if parked_by_directory(&found) > 0 || Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(parked_by_directory(&found), 1, "{found:?}");
    let n = found
        .iter()
        .find(|n| n["subject"] == "tenant_directory")
        .unwrap();
    assert_eq!(n["detail"]["event_type"], "TenantRegistered");
    assert!(
        n["detail"]["error"].as_str().unwrap().contains("name"),
        "{n}"
    );

    let retry = post(
        &app,
        &format!("/api/v1/admin/projections/tenant_directory/parked/{position}/retry"),
        &admin,
    )
    .await;
    assert!(retry.status().is_client_error(), "{}", retry.status());
    let after = of_kind(&app, &admin, "event_parked", 99, Duration::ZERO).await;
    assert_eq!(parked_by_directory(&after), 1, "{after:?}");
}

#[tokio::test]
async fn five_failed_sign_ins_from_one_ip_raise_one_ip_blocked_notification() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    for _ in 0..5 {
        assert_eq!(app.login("ninguem@x.example", "errada").await.status(), 401);
    }
    // Refused while blocked: the same block, no second notification.
    assert_eq!(app.login("ninguem@x.example", "errada").await.status(), 429);
    let found = of_kind(&app, &admin, "ip_blocked", 1, Duration::ZERO).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["subject"], "127.0.0.1");
    assert!(found[0]["detail"]["until"].is_string());
    assert_eq!(found[0]["tenant_id"], Value::Null);
}

#[tokio::test]
async fn the_notification_routes_are_for_admins_only() {
    let app = spawn_app().await;
    let paths = [
        ("GET", "/api/v1/admin/notifications"),
        ("POST", "/api/v1/admin/notifications/1/read"),
        ("POST", "/api/v1/admin/notifications/read-all"),
    ];
    for (method, path) in paths {
        let url = format!("{}{}", app.address, path);
        let anonymous = match method {
            "GET" => app.client.get(&url),
            _ => app.client.post(&url),
        };
        assert_eq!(anonymous.send().await.unwrap().status(), 401, "{path}");
    }
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for (method, path) in paths {
            let resp = match method {
                "GET" => app.get_as(path, &token).await,
                _ => post(&app, path, &token).await,
            };
            assert_eq!(resp.status(), 403, "{role} {method} {path}");
        }
    }
}
