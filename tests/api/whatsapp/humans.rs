//! The humans' routes on a conversation.

use super::*;

#[tokio::test]
async fn humans_assign_resolve_and_hand_conversations_back_to_the_ai() {
    let app = whatsapp_app(None, None).await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", json!({})).await;
    let hook = messages_webhook(
        "pn-1",
        vec![cloud_message("5511900000001", "wamid.1", "oi", 5)],
    );
    assert_eq!(post_signed(&app, &hook).await.status(), 200);
    let id = schemas::conversation_id(tenant, "5511900000001");
    let at = |action: &str| format!("/api/v1/conversations/{id}/{action}");

    let not_with_human = app
        .post_json(&at("return-to-ai"), &json!({}), Some(&owner))
        .await;
    assert_eq!(not_with_human.status(), 409);
    let err: Value = not_with_human.json().await.unwrap();
    assert_eq!(err["code"], "not_with_a_human");

    let stranger = app
        .post_json(
            &at("assign"),
            &json!({"agent_id": Uuid::now_v7()}),
            Some(&owner),
        )
        .await;
    assert_eq!(stranger.status(), 422);
    let me: Value = app.get_as("/api/v1/me", &owner).await.json().await.unwrap();
    let assigned = app
        .post_json(&at("assign"), &json!({"agent_id": me["id"]}), Some(&owner))
        .await;
    assert_eq!(assigned.status(), 200);
    let state: Value = assigned.json().await.unwrap();
    assert_eq!(state["assigned_agent"], me["id"]);

    let replied = app
        .post_json(
            &at("reply"),
            &json!({"text": "Olá, aqui é a Ana"}),
            Some(&owner),
        )
        .await;
    assert_eq!(replied.status(), 200);
    assert_eq!(
        replied.json::<Value>().await.unwrap()["status"],
        "human_replied"
    );
    let blank = app
        .post_json(&at("reply"), &json!({"text": "  "}), Some(&owner))
        .await;
    assert_eq!(blank.status(), 422);

    let back = app
        .post_json(&at("return-to-ai"), &json!({}), Some(&owner))
        .await;
    assert_eq!(back.status(), 200);
    assert_eq!(back.json::<Value>().await.unwrap()["status"], "ai_active");

    let resolved = app
        .post_json(&at("resolve"), &json!({}), Some(&owner))
        .await;
    assert_eq!(resolved.status(), 200);
    assert_eq!(
        resolved.json::<Value>().await.unwrap()["status"],
        "resolved"
    );
    let after = app
        .post_json(&at("reply"), &json!({"text": "mais uma"}), Some(&owner))
        .await;
    assert_eq!(after.status(), 409);
    assert_eq!(
        after.json::<Value>().await.unwrap()["code"],
        "conversation_resolved"
    );

    let unknown = app
        .post_json(
            &format!("/api/v1/conversations/{}/resolve", Uuid::now_v7()),
            &json!({}),
            Some(&owner),
        )
        .await;
    assert_eq!(unknown.status(), 404);
}
