//! Evolution API webhooks in.

use super::*;

fn upsert(jid: &str, id: &str, from_me: bool, message: Value) -> Value {
    json!({"event": "messages.upsert", "instance": "loja", "data": {
        "key": {"remoteJid": jid, "fromMe": from_me, "id": id},
        "pushName": "João", "message": message, "messageType": "conversation",
        "messageTimestamp": chrono::Utc::now().timestamp()}})
}

#[tokio::test]
async fn evolution_texts_are_recorded_groups_ignored_and_from_me_is_human_activity() {
    let app = whatsapp_app(None, None).await;
    let (tenant, owner) = linked_tenant(&app, "pn-1", json!({})).await;
    let settings: Value = app
        .get_as("/api/v1/settings/whatsapp", &owner)
        .await
        .json()
        .await
        .unwrap();
    let path = settings["evolution_webhook_path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        path.starts_with("/webhooks/evolution/") && path.len() > 40,
        "{path}"
    );
    let jid = "5511977776666@s.whatsapp.net";
    for (hook, recorded) in [
        (
            upsert(jid, "3EB0-1", false, json!({"conversation": "Olá"})),
            1,
        ),
        (
            upsert(
                jid,
                "3EB0-2",
                false,
                json!({"extendedTextMessage": {"text": "com link"}}),
            ),
            1,
        ),
        (
            upsert(
                "120363@g.us",
                "3EB0-3",
                false,
                json!({"conversation": "grupo"}),
            ),
            0,
        ),
        (
            upsert(
                jid,
                "3EB0-4",
                true,
                json!({"conversation": "respondi do celular"}),
            ),
            1,
        ),
        (
            upsert(jid, "3EB0-1", false, json!({"conversation": "Olá"})),
            1,
        ),
    ] {
        let resp = app.post_json(&path, &hook, None).await;
        assert_eq!(resp.status(), 200);
        let report: Value = resp.json().await.unwrap();
        assert_eq!(report["recorded"], recorded, "{hook}");
    }
    assert_eq!(count(&app, "MessageReceived").await, 2);
    assert_eq!(count(&app, "HumanRepliedFromPhone").await, 1);
    let id = schemas::conversation_id(tenant, "5511977776666");
    let (conversation, _) = app
        .app
        .bus
        .conversations
        .load(&id.to_string())
        .await
        .unwrap();
    assert_eq!(
        conversation.status(),
        schemas::events::ConversationStatus::HumanReplied
    );
    assert!(conversation.last_human_activity_at().is_some());
    app.eventually("the phone reply is shown", || async {
        let detail: Value = app
            .get_as(&format!("/api/v1/conversations/{id}"), &owner)
            .await
            .json()
            .await
            .unwrap_or(Value::Null);
        detail.to_string().contains("respondi do celular")
            && detail.to_string().contains("com link")
    })
    .await;
}

#[tokio::test]
async fn an_unknown_evolution_secret_is_not_found_and_records_nothing() {
    let app = whatsapp_app(None, None).await;
    linked_tenant(&app, "pn-1", json!({})).await;
    let hook = upsert(
        "5511977776666@s.whatsapp.net",
        "3EB0-1",
        false,
        json!({"conversation": "Olá"}),
    );
    let resp = app
        .post_json("/webhooks/evolution/not-a-secret", &hook, None)
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(count(&app, "MessageReceived").await, 0);
}
