//! `atende serve` runs the AI responder: a customer message the (empty) knowledge cannot
//! answer is handed to a human, and the conversation shows why.

use crate::conversations::{converse, message, tenant_user};
use crate::helpers::spawn_app_with;
use aggregates::{ConversationCommand, SubscriptionCommand};
use read_api::auth::Role;
use schemas::events::{HandoffReason, Plan};
use schemas::{conversation_id, Actor, CommandMetadata, Personal};
use serde_json::Value;

#[tokio::test]
async fn serve_hands_an_unanswerable_question_to_a_human_and_the_conversation_says_why() {
    let app = spawn_app_with(|c| {
        c.background.ai.ai_enabled = true;
        c.background.ai.ai_burst_ms = 0;
    })
    .await;
    let (tenant, _, token) = tenant_user(&app, Role::Owner).await;
    app.app
        .bus
        .subscriptions
        .execute(
            &tenant.to_string(),
            SubscriptionCommand::StartComplimentary {
                tenant_id: tenant,
                plan: Plan("basic".into()),
            },
            &CommandMetadata::new(Actor::system("test"), Some(tenant)),
        )
        .await
        .unwrap();
    let contact = "5511966665555";

    converse(
        &app,
        tenant,
        contact,
        message(tenant, contact, "Ana", "w1", "Tem bolo?"),
    )
    .await;

    let path = format!("/api/v1/conversations/{}", conversation_id(tenant, contact));
    app.eventually("the hand-off is shown", || async {
        let detail: Value = app.get_as(&path, &token).await.json().await.unwrap();
        detail["status"] == "awaiting_human"
    })
    .await;
    let detail: Value = app.get_as(&path, &token).await.json().await.unwrap();
    assert_eq!(detail["handoff_reason"], "low_confidence");
    // The tenant's greeting opens the conversation, then the fallback hands it over.
    assert_eq!(detail["messages"][1]["purpose"], "greeting");
    assert_eq!(detail["messages"][2]["purpose"], "fallback");
    app.eventually("the owner is e-mailed", || async {
        let mails: i64 =
            sqlx::query_scalar("SELECT count(*) FROM mail_outbox WHERE template = 'handed_off'")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        mails == 1
    })
    .await;
}

#[tokio::test]
async fn a_hand_off_for_a_used_up_quota_reads_as_quota_reached() {
    let app = spawn_app_with(|_| {}).await;
    let (tenant, _, token) = tenant_user(&app, Role::Agent).await;
    let (quota, asked) = ("5511955554444", "5511955553333");
    converse(
        &app,
        tenant,
        quota,
        message(tenant, quota, "Ana", "w1", "Oi"),
    )
    .await;
    converse(
        &app,
        tenant,
        quota,
        ConversationCommand::RecordLowConfidence {
            confidence: 0.0,
            question: Personal::from("Oi"),
            reason: Some(HandoffReason::PlanQuotaReached),
        },
    )
    .await;
    converse(
        &app,
        tenant,
        asked,
        message(tenant, asked, "Bia", "w1", "humano"),
    )
    .await;
    converse(
        &app,
        tenant,
        asked,
        ConversationCommand::RequestHuman {
            question: Personal::from("humano"),
        },
    )
    .await;

    for (contact, reason) in [(quota, "plan_quota_reached"), (asked, "customer_asked")] {
        let path = format!("/api/v1/conversations/{}", conversation_id(tenant, contact));
        app.eventually("the hand-off is shown", || async {
            let detail: Value = app.get_as(&path, &token).await.json().await.unwrap();
            detail["status"] == "awaiting_human"
        })
        .await;
        let detail: Value = app.get_as(&path, &token).await.json().await.unwrap();
        assert_eq!(detail["handoff_reason"], reason, "{contact}");
    }
}
