//! The console's first-run onboarding (#15): progress derived from the tenant's state, and
//! the two steps only the owner can declare.

use crate::helpers::spawn_app;
use crate::tenants::{onboard, send};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn an_owners_onboarding_progresses_as_whatsapp_knowledge_a_try_and_go_live_are_done() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Loja").await;
    let read = || async {
        let resp = app.get_as("/api/v1/onboarding", &owner).await;
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().await.unwrap()
    };
    assert_eq!(
        read().await,
        json!({"whatsapp_connected": false, "knowledge_loaded": false,
               "bot_tried": false, "live": false})
    );

    let linked = send(
        &app,
        Method::PUT,
        "/api/v1/settings/whatsapp",
        Some(&json!({"phone_number_id": "pn-onboarding", "display_phone_number": "+55 11 4000-0001"})),
        &owner,
    )
    .await;
    assert_eq!(linked.status(), 200);
    let knowledge = send(
        &app,
        Method::PUT,
        "/api/v1/knowledge",
        Some(&json!({"text": "Abrimos às 8h."})),
        &owner,
    )
    .await;
    assert_eq!(knowledge.status(), 200);
    assert_eq!(
        read().await,
        json!({"whatsapp_connected": true, "knowledge_loaded": true,
               "bot_tried": false, "live": false})
    );

    let tried = send(
        &app,
        Method::POST,
        "/api/v1/onboarding/bot-tried",
        None,
        &owner,
    )
    .await;
    assert_eq!(tried.status(), 200);
    assert_eq!(tried.json::<Value>().await.unwrap()["bot_tried"], true);
    for _ in 0..2 {
        let live = send(
            &app,
            Method::POST,
            "/api/v1/onboarding/go-live",
            None,
            &owner,
        )
        .await;
        assert_eq!(live.status(), 200);
    }
    assert_eq!(
        read().await,
        json!({"whatsapp_connected": true, "knowledge_loaded": true,
               "bot_tried": true, "live": true})
    );
    // Each step is one event, however often it is pressed.
    let steps: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'OnboardingStepCompleted'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(steps, 2);
}
