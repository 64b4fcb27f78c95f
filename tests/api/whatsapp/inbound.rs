//! Cloud API webhooks in.

use super::*;
use crate::helpers::spawn_app;
use read_api::auth::Role;

#[tokio::test]
async fn a_signed_webhook_message_is_recorded_and_listed_in_the_conversations() {
    let app = whatsapp_app(None, None).await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", json!({})).await;
    let hook = messages_webhook(
        "pn-1",
        vec![cloud_message(
            "5511988887777",
            "wamid.A",
            "Oi, tem horário?",
            5,
        )],
    );
    let resp = post_signed(&app, &hook).await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["recorded"], 1);
    assert_eq!(count(&app, "MessageReceived").await, 1);
    let conversation = schemas::conversation_id(tenant, "5511988887777");
    app.eventually("the conversation is listed", || async {
        let list: Value = app
            .get_as("/api/v1/conversations", &owner)
            .await
            .json()
            .await
            .unwrap();
        list.to_string().contains(&conversation.to_string())
    })
    .await;
    let detail: Value = app
        .get_as(&format!("/api/v1/conversations/{conversation}"), &owner)
        .await
        .json()
        .await
        .unwrap();
    assert!(detail.to_string().contains("Oi, tem horário?"), "{detail}");
}

#[tokio::test]
async fn every_message_of_a_batched_webhook_is_recorded() {
    let app = whatsapp_app(None, None).await;
    let (_, _) = linked_tenant(&app, "pn-1", json!({})).await;
    let mut hook = messages_webhook(
        "pn-1",
        vec![
            cloud_message("5511900000001", "wamid.1", "um", 5),
            cloud_message("5511900000002", "wamid.2", "dois", 5),
        ],
    );
    let second = messages_webhook(
        "pn-1",
        vec![cloud_message("5511900000001", "wamid.3", "três", 4)],
    );
    let extra = second["entry"][0].clone();
    hook["entry"].as_array_mut().unwrap().push(extra);
    let resp = post_signed(&app, &hook).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(count(&app, "MessageReceived").await, 3);
}

#[tokio::test]
async fn a_replayed_webhook_is_recorded_once_even_when_replays_race() {
    let app = whatsapp_app(None, None).await;
    linked_tenant(&app, "pn-1", json!({})).await;
    let hook = messages_webhook(
        "pn-1",
        vec![cloud_message("5511900000001", "wamid.same", "oi", 5)],
    );
    let replays = (0..6).map(|_| post_signed(&app, &hook));
    for resp in futures::future::join_all(replays).await {
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    assert_eq!(count(&app, "MessageReceived").await, 1);
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_refused_and_nothing_is_recorded() {
    let app = whatsapp_app(None, None).await;
    linked_tenant(&app, "pn-1", json!({})).await;
    let body = serde_json::to_vec(&messages_webhook(
        "pn-1",
        vec![cloud_message("5511900000001", "wamid.x", "oi", 5)],
    ))
    .unwrap();
    let forged = integrations::whatsapp::sign(b"another-secret", &body);
    for signature in [None, Some(forged.as_str()), Some("sha256=00")] {
        let resp = post_webhook(&app, &body, signature).await;
        assert_eq!(resp.status(), 401, "{signature:?}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["code"], "unauthorized");
    }
    assert_eq!(count(&app, "MessageReceived").await, 0);
}

#[tokio::test]
async fn a_webhook_for_an_unknown_number_is_accepted_and_nothing_is_recorded() {
    let app = whatsapp_app(None, None).await;
    linked_tenant(&app, "pn-1", json!({})).await;
    let hook = messages_webhook(
        "pn-nobody",
        vec![cloud_message("5511900000001", "wamid.x", "oi", 5)],
    );
    let resp = post_signed(&app, &hook).await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(
        (report["recorded"].as_i64(), report["ignored"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(count(&app, "MessageReceived").await, 0);
}

#[tokio::test]
async fn malformed_and_oversized_webhooks_are_refused_with_a_reason() {
    let app = whatsapp_app(None, None).await;
    let body = b"{\"entry\": [".to_vec();
    let signature = integrations::whatsapp::sign(APP_SECRET.as_bytes(), &body);
    let resp = post_webhook(&app, &body, Some(&signature)).await;
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["code"], "malformed_webhook");
    assert!(err["message"].as_str().unwrap().contains("EOF"), "{err}");
    let big = vec![b' '; 2 * 1024 * 1024];
    let resp = post_webhook(&app, &big, Some("sha256=00")).await;
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn group_and_media_messages_are_told_apart() {
    let app = whatsapp_app(None, None).await;
    let (tenant, _) = linked_tenant(&app, "pn-1", json!({})).await;
    let mut group = cloud_message("5511900000001", "wamid.g", "no grupo", 5);
    group["group_id"] = json!("G-1");
    let image = json!({"from": "5511900000001", "id": "wamid.img", "timestamp": "1749416383",
                       "type": "image", "image": {"id": "m-1", "caption": "meu pedido"}});
    let resp = post_signed(&app, &messages_webhook("pn-1", vec![group, image])).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(count(&app, "MessageReceived").await, 1);
    let (conversation, _) = app
        .app
        .bus
        .conversations
        .load(&schemas::conversation_id(tenant, "5511900000001").to_string())
        .await
        .unwrap();
    assert!(conversation.has_received("wamid.img") && !conversation.has_received("wamid.g"));
    let payload: Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'MessageReceived'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        payload["MessageReceived"]["content"]["media"]["kind"], "image",
        "{payload}"
    );
}

#[tokio::test]
async fn the_webhook_verification_echoes_the_challenge_only_for_the_verify_token() {
    let app = whatsapp_app(None, None).await;
    let ok = app
        .get(&format!("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"))
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = app
        .get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        .await;
    assert_eq!(wrong.status(), 403);
}

#[tokio::test]
async fn without_an_app_secret_webhooks_are_refused_and_nothing_is_recorded() {
    let app = spawn_app().await;
    let body = b"{}".to_vec();
    let signature = integrations::whatsapp::sign(b"", &body);
    let resp = post_webhook(&app, &body, Some(&signature)).await;
    assert_eq!(resp.status(), 503);
}

#[tokio::test]
async fn a_suspended_tenants_customers_still_have_their_messages_recorded() {
    let app = whatsapp_app(None, None).await;
    let (tenant, _) = linked_tenant(&app, "pn-1", json!({})).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let suspended = app
        .post_json(
            &format!("/api/v1/admin/tenants/{tenant}/suspend"),
            &json!({"reason": "pagamento atrasado"}),
            Some(&admin),
        )
        .await;
    assert_eq!(suspended.status(), 204);
    let hook = messages_webhook(
        "pn-1",
        vec![cloud_message("5511900000001", "wamid.s", "oi", 5)],
    );
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    assert_eq!(count(&app, "MessageReceived").await, 1);
}
