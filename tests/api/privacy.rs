use crate::helpers::{spawn_app, TestApp};
use aggregates::ConversationCommand;
use chrono::Utc;
use read_api::auth::Role;
use schemas::events::MessageContent;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use serde_json::{json, Value};
use uuid::Uuid;

const CONTACT: &str = "5511912345678";

async fn tenant_with_a_message(app: &TestApp) -> Uuid {
    let tenant = app.register_tenant("Ótica", "dono@otica.example").await;
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
            &conversation_id(tenant, CONTACT).to_string(),
            ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from(CONTACT),
                contact_name: Some(Personal::from("Joana")),
                provider_message_id: "wamid.1".into(),
                content: MessageContent::Text(Personal::from("Meu óculos ficou pronto?")),
                sent_at: Utc::now(),
            },
            &md,
        )
        .await
        .unwrap();
    tenant
}

fn export_path(tenant: Uuid, contact: &str) -> String {
    format!("/api/v1/admin/privacy/export?tenant_id={tenant}&contact={contact}")
}

#[tokio::test]
async fn an_admin_exports_a_contact_then_erases_it_and_the_erasure_is_recorded_with_its_actor() {
    let app = spawn_app().await;
    let tenant = tenant_with_a_message(&app).await;
    let (admin, token) = app.signed_in(Role::Admin).await;

    let before: Value = app
        .get_as(&export_path(tenant, CONTACT), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        before["events"][0]["payload"]["MessageReceived"]["content"]["text"],
        "Meu óculos ficou pronto?"
    );

    let resp = app
        .post_json(
            "/api/v1/admin/privacy/erasures",
            &json!({"tenant_id": tenant, "contact": CONTACT, "reason": "titular pediu"}),
            Some(&token),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let erasure: Value = resp.json().await.unwrap();
    assert!(erasure["keys_destroyed"].as_u64().unwrap() >= 1);

    let after: Value = app
        .get_as(&export_path(tenant, CONTACT), &token)
        .await
        .json()
        .await
        .unwrap();
    let received = &after["events"][0]["payload"]["MessageReceived"];
    assert_eq!(received["content"]["text"], "[erased]");
    assert_eq!(received["contact_name"], "[erased]");
    let (actor_kind, actor_id): (String, String) = sqlx::query_as(
        "SELECT metadata->>'actor_kind', metadata->>'actor_id' FROM events WHERE event_type = 'SubjectErased'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        (actor_kind.as_str(), actor_id),
        ("admin", admin.id.to_string())
    );
}

#[tokio::test]
async fn erasing_an_unknown_contact_is_404_and_records_nothing() {
    let app = spawn_app().await;
    let tenant = tenant_with_a_message(&app).await;
    let (_, token) = app.signed_in(Role::Admin).await;
    let resp = app
        .post_json(
            "/api/v1/admin/privacy/erasures",
            &json!({"tenant_id": tenant, "contact": "5500000000000", "reason": "x"}),
            Some(&token),
        )
        .await;
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "unknown_subject");
    let erased: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'SubjectErased'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(erased, 0);
}

#[tokio::test]
async fn only_admins_may_export_or_erase() {
    let app = spawn_app().await;
    let tenant = tenant_with_a_message(&app).await;
    assert_eq!(app.get(&export_path(tenant, CONTACT)).await.status(), 401);
    let (_, owner) = app.signed_in(Role::Owner).await;
    assert_eq!(
        app.get_as(&export_path(tenant, CONTACT), &owner)
            .await
            .status(),
        403
    );
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let resp = app
        .post_json(
            "/api/v1/admin/privacy/erasures",
            &json!({"tenant_id": tenant, "contact": CONTACT, "reason": "x"}),
            Some(&auditor),
        )
        .await;
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn an_erasure_without_a_reason_is_422() {
    let app = spawn_app().await;
    let tenant = tenant_with_a_message(&app).await;
    let (_, token) = app.signed_in(Role::Admin).await;
    let resp = app
        .post_json(
            "/api/v1/admin/privacy/erasures",
            &json!({"tenant_id": tenant, "contact": CONTACT, "reason": "  "}),
            Some(&token),
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "reason_required"
    );
}
