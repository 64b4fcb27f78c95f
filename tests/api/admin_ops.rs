//! The routes under the admins' operations pages (issue 18): sign-in attempts, the list of
//! erasures, and a replay's progress in the projection list.

use crate::helpers::{spawn_app, TestApp};
use crate::openapi::{document, operations};
use aggregates::ConversationCommand;
use chrono::Utc;
use read_api::auth::Role;
use reqwest::Method;
use schemas::events::MessageContent;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use serde_json::{json, Value};
use uuid::Uuid;

async fn body(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn outcomes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_lists_sign_in_attempts_newest_first_by_ip_email_and_outcome() {
    let app = spawn_app().await;
    // Signed in before the block below: the admin shares the test's IP.
    let (_, admin) = app.signed_in(Role::Admin).await;
    let agent = app
        .create_user("agente@loja.example", Role::Agent, Some(Uuid::now_v7()))
        .await;
    assert_eq!(app.login(&agent.email, "wrong-1").await.status(), 401);
    assert_eq!(app.login(&agent.email, "wrong-2").await.status(), 401);
    assert_eq!(app.login(&agent.email, &agent.password).await.status(), 200);

    let mine = body(
        app.get_as("/api/v1/admin/sign-in-attempts?email=AGENTE@loja", &admin)
            .await,
    )
    .await;
    assert_eq!(outcomes(&mine), ["succeeded", "failed", "failed"]);
    let first = &mine["items"][0];
    assert_eq!(first["email"], "agente@loja.example");
    assert_eq!(first["ip"], "127.0.0.1");
    assert_eq!(first["cleared"], false);
    assert!(first["at"].is_string());
    let failed = body(
        app.get_as(
            "/api/v1/admin/sign-in-attempts?email=agente&outcome=failed",
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(outcomes(&failed), ["failed", "failed"]);
    let elsewhere = body(
        app.get_as("/api/v1/admin/sign-in-attempts?ip=10.0.0.9", &admin)
            .await,
    )
    .await;
    assert!(elsewhere["items"].as_array().unwrap().is_empty());
    let here = body(
        app.get_as("/api/v1/admin/sign-in-attempts?ip=127.0.0.1", &admin)
            .await,
    )
    .await;
    assert_eq!(
        here["items"].as_array().unwrap().len(),
        4,
        "with the admin's"
    );

    // One page at a time.
    let page1 = body(
        app.get_as("/api/v1/admin/sign-in-attempts?limit=2", &admin)
            .await,
    )
    .await;
    assert_eq!(outcomes(&page1), ["succeeded", "failed"]);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = body(
        app.get_as(
            &format!("/api/v1/admin/sign-in-attempts?limit=2&cursor={cursor}"),
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(outcomes(&page2), ["failed", "succeeded"]);
    assert!(page2["next_cursor"].is_null());

    // Three more failures block the IP; the next attempt is refused unchecked; lifting the
    // block marks the failures cleared.
    for _ in 0..3 {
        assert_eq!(app.login(&agent.email, "wrong").await.status(), 401);
    }
    assert_eq!(app.login(&agent.email, &agent.password).await.status(), 429);
    let refused = body(
        app.get_as("/api/v1/admin/sign-in-attempts?outcome=refused", &admin)
            .await,
    )
    .await;
    assert_eq!(outcomes(&refused), ["refused"]);
    let resp = app
        .delete_as("/api/v1/admin/ip-blocks/127.0.0.1", &admin)
        .await;
    assert_eq!(resp.status(), 204);
    let failed = body(
        app.get_as("/api/v1/admin/sign-in-attempts?outcome=failed", &admin)
            .await,
    )
    .await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 5);
    assert!(failed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["cleared"] == true));

    for bad in [
        "/api/v1/admin/sign-in-attempts?ip=not-an-ip",
        "/api/v1/admin/sign-in-attempts?outcome=maybe",
        "/api/v1/admin/sign-in-attempts?cursor=x",
    ] {
        assert_eq!(app.get_as(bad, &admin).await.status(), 422, "{bad}");
    }
    // The e-mail filter is a literal part of the address, not a pattern.
    let none = body(
        app.get_as("/api/v1/admin/sign-in-attempts?email=a%25e", &admin)
            .await,
    )
    .await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

/// A tenant with a conversation with `contact`; returns the tenant.
async fn tenant_with_contact(app: &TestApp, name: &str, contact: &str) -> Uuid {
    let tenant = app
        .register_tenant(
            name,
            &format!("dono-{}@loja.example", Uuid::now_v7().simple()),
        )
        .await;
    let md = CommandMetadata::new(
        Actor {
            kind: ActorKind::Customer,
            id: "whatsapp".into(),
        },
        Some(tenant),
    );
    app.app
        .bus
        .conversations
        .execute(
            &conversation_id(tenant, contact).to_string(),
            ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from(contact),
                contact_name: Some(Personal::from("Joana")),
                provider_message_id: format!("wamid.{}", Uuid::now_v7().simple()),
                content: MessageContent::Text(Personal::from("Olá")),
                sent_at: Utc::now(),
            },
            &md,
        )
        .await
        .unwrap();
    tenant
}

#[tokio::test]
async fn every_erasure_is_listed_newest_first_with_its_tenant_reason_and_admin() {
    let app = spawn_app().await;
    let (admin, token) = app.signed_in(Role::Admin).await;
    let empty = body(app.get_as("/api/v1/admin/privacy/erasures", &token).await).await;
    assert!(empty["items"].as_array().unwrap().is_empty());
    let first = tenant_with_contact(&app, "Ótica", "5511900000001").await;
    let second = tenant_with_contact(&app, "Padaria", "5511900000002").await;
    for (tenant, contact, reason) in [
        (first, "5511900000001", "titular pediu"),
        (second, "5511900000002", "ordem judicial"),
    ] {
        let resp = app
            .post_json(
                "/api/v1/admin/privacy/erasures",
                &json!({"tenant_id": tenant, "contact": contact, "reason": reason}),
                Some(&token),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }

    let all = body(app.get_as("/api/v1/admin/privacy/erasures", &token).await).await;
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["reason"], "ordem judicial", "newest first");
    assert_eq!(items[0]["tenant_id"], second.to_string());
    assert_eq!(
        items[0]["conversation_id"],
        conversation_id(second, "5511900000002").to_string()
    );
    assert_eq!(items[0]["actor_id"], admin.id.to_string());
    assert!(items[0]["request_id"].is_string());
    assert!(items[0]["at"].is_string());
    assert_eq!(items[1]["reason"], "titular pediu");
    assert!(
        !all.to_string().contains("5511900000002"),
        "the erased number is not in the list"
    );

    let page1 = body(
        app.get_as("/api/v1/admin/privacy/erasures?limit=1", &token)
            .await,
    )
    .await;
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = body(
        app.get_as(
            &format!("/api/v1/admin/privacy/erasures?limit=1&cursor={cursor}"),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(page2["items"][0]["reason"], "titular pediu");
    assert!(page2["next_cursor"].is_null());
    assert_eq!(
        app.get_as("/api/v1/admin/privacy/erasures?cursor=x", &token)
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn a_replay_leaves_its_progress_in_the_projection_list() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    app.register_tenant("Ótica", "dono@otica.example").await;
    let index = |list: &Value| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "aggregate_index")
            .cloned()
            .unwrap()
    };
    let before = body(app.get_as("/api/v1/admin/projections", &admin).await).await;
    assert!(index(&before)["replay"].is_null(), "never replayed");

    let resp = app
        .post_json(
            "/api/v1/admin/projections/aggregate_index/replay",
            &json!({}),
            Some(&admin),
        )
        .await;
    let report = body(resp).await;
    let after = body(app.get_as("/api/v1/admin/projections", &admin).await).await;
    let replay = &index(&after)["replay"];
    assert_eq!(replay["projection"], "aggregate_index");
    assert!(replay["finished_at"].is_string(), "{replay}");
    assert!(replay["error"].is_null());
    let target = replay["target_position"].as_i64().unwrap();
    assert!(target >= 1, "the head when it started");
    assert!(replay["position"].as_i64().unwrap() >= target, "done");
    assert!(replay["events"].as_i64().unwrap() >= 1);
    assert!(report["events"].as_u64().unwrap() >= replay["events"].as_u64().unwrap());
    // Other consumers were not replayed.
    let chain = after
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "event_chain")
        .unwrap();
    assert!(chain["replay"].is_null());
}

#[tokio::test]
async fn the_new_operations_routes_are_for_admins_only() {
    let app = spawn_app().await;
    let routes = [
        "/api/v1/admin/sign-in-attempts",
        "/api/v1/admin/privacy/erasures",
    ];
    for path in routes {
        assert_eq!(app.get(path).await.status(), 401, "{path}");
    }
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for path in routes {
            assert_eq!(
                app.get_as(path, &token).await.status(),
                403,
                "{role} {path}"
            );
        }
    }
}

#[tokio::test]
async fn the_new_operations_routes_are_documented() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    for (method, template) in [
        (Method::GET, "/api/v1/admin/sign-in-attempts"),
        (Method::GET, "/api/v1/admin/privacy/erasures"),
        (Method::POST, "/api/v1/admin/privacy/erasures"),
    ] {
        let op = ops
            .iter()
            .find(|o| o.method == method && o.template == template)
            .unwrap_or_else(|| panic!("{method} {template} is not documented"));
        assert!(op.tagged("admin"), "{method} {template}");
    }
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["ProjectionInfo"]["properties"]["replay"].is_object());
    assert!(schemas["ReplayProgress"]["properties"]["target_position"].is_object());
    assert!(schemas["AttemptView"]["properties"]["outcome"].is_object());
    assert!(schemas["ErasureView"]["properties"]["reason"].is_object());
    let subscriptions = ops
        .iter()
        .find(|o| o.template == "/api/v1/admin/subscriptions")
        .unwrap();
    assert!(
        subscriptions.spec["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "q"),
        "the tenant-name filter is documented"
    );
}
