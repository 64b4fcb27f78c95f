//! What a tenant's owner configures: bot settings (F17), the WhatsApp number, agents.

use crate::helpers::{spawn_app, TestApp, TestUser};
use crate::tenants::{onboard, send};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

pub fn bot_settings(greeting: &str, threshold: f64) -> Value {
    json!({
        "greeting": greeting,
        "fallback_message": "Vou chamar alguém.",
        "waiting_message": "Aguarde um instante.",
        "return_message": "Voltei!",
        "tone": "casual",
        "confidence_threshold": threshold,
    })
}

#[tokio::test]
async fn an_owner_reads_the_default_bot_settings_changes_them_and_reads_them_back() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Clínica").await;
    let before: Value = app
        .get_as("/api/v1/settings/bot", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["confidence_threshold"], 0.5);
    assert_eq!(before["tone"], "formal");

    let wanted = bot_settings("Oi! Tudo bem?", 0.8);
    let put = send(
        &app,
        Method::PUT,
        "/api/v1/settings/bot",
        Some(&wanted),
        &owner,
    )
    .await;
    assert_eq!(put.status(), 200);
    let after: Value = app
        .get_as("/api/v1/settings/bot", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, wanted);
}

#[tokio::test]
async fn a_confidence_threshold_outside_zero_to_one_is_unprocessable() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Clínica").await;
    for threshold in [-0.1, 1.5] {
        let body = bot_settings("Oi", threshold);
        let resp = send(
            &app,
            Method::PUT,
            "/api/v1/settings/bot",
            Some(&body),
            &owner,
        )
        .await;
        assert_eq!(resp.status(), 422, "threshold {threshold}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["code"], "invalid_confidence_threshold");
    }
}

#[tokio::test]
async fn a_whatsapp_number_linked_by_another_tenant_is_a_conflict() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, first) = onboard(&app, &admin, "Primeira").await;
    let (_, _, second) = onboard(&app, &admin, "Segunda").await;
    let number = json!({
        "phone_number_id": "1234567890",
        "display_phone_number": "+55 11 99999-0000",
        "access_token": "EAAG-secret",
    });
    let path = "/api/v1/settings/whatsapp";
    let linked = send(&app, Method::PUT, path, Some(&number), &first).await;
    assert_eq!(linked.status(), 200);
    let body: Value = linked.json().await.unwrap();
    assert_eq!(body["access_token_stored"], true);
    assert!(
        !body.to_string().contains("EAAG-secret"),
        "the token is never shown"
    );
    let at_rest: String = sqlx::query_scalar(
        "SELECT row_to_json(c)::text FROM whatsapp_channels c WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(
        !at_rest.contains("EAAG-secret"),
        "the token is stored sealed"
    );
    let taken = send(&app, Method::PUT, path, Some(&number), &second).await;
    assert_eq!(taken.status(), 409);
    let err: Value = taken.json().await.unwrap();
    assert_eq!(err["code"], "phone_number_taken");

    let stored: String = sqlx::query_scalar(
        "SELECT payload::text FROM events WHERE aggregate_id = $1 AND event_type = 'WhatsAppNumberLinked'",
    )
    .bind(tenant.to_string())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(!stored.contains("EAAG-secret") && !stored.contains("99999-0000"));
    app.eventually("the number's id reaches the directory", || async {
        let entry: Value = app
            .get_as(&format!("/api/v1/admin/tenants/{tenant}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        entry["phone_number_id"] == "1234567890"
    })
    .await;
}

#[tokio::test]
async fn an_owner_creates_lists_and_disables_the_agents_of_their_tenant() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, owner, token) = onboard(&app, &admin, "Oficina").await;
    let created = app
        .post_json(
            "/api/v1/users",
            &json!({"email": "agente@oficina.example"}),
            Some(&token),
        )
        .await;
    assert_eq!(created.status(), 201);
    let agent: Value = created.json().await.unwrap();
    assert_eq!(agent["role"], "agent");
    assert_eq!(agent["tenant_id"], tenant.to_string());
    let agent = TestUser {
        id: agent["id"].as_str().unwrap().parse().unwrap(),
        email: "agente@oficina.example".into(),
        password: agent["password"].as_str().unwrap().to_owned(),
    };
    app.access_token(&agent).await;

    let listed: Value = app
        .get_as("/api/v1/users", &token)
        .await
        .json()
        .await
        .unwrap();
    let emails: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emails, [owner.email.clone(), agent.email.clone()]);

    let gone = app
        .delete_as(&format!("/api/v1/users/{}", agent.id), &token)
        .await;
    assert_eq!(gone.status(), 204);
    assert_eq!(app.login(&agent.email, &agent.password).await.status(), 401);
    let owner_itself = app
        .delete_as(&format!("/api/v1/users/{}", owner.id), &token)
        .await;
    assert_eq!(owner_itself.status(), 404);
}

#[tokio::test]
async fn agents_and_admins_may_not_use_the_owner_settings() {
    let app = spawn_app().await;
    for role in [Role::Agent, Role::Admin] {
        let (_, token) = app.signed_in(role).await;
        for (method, path) in read_api::settings::OWNER_ROUTES {
            let method: Method = method.parse().unwrap();
            let path = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
            let resp = send(&app, method.clone(), &path, Some(&json!({})), &token).await;
            assert_eq!(resp.status(), 403, "{role} {method} {path}");
        }
    }
}

async fn locale_of(app: &TestApp, owner: &str) -> Value {
    let resp = app.get_as("/api/v1/settings/locale", owner).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["locale"].clone()
}

#[tokio::test]
async fn an_owner_chooses_the_tenants_language_and_an_unsupported_one_is_unprocessable() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Clínica").await;
    assert_eq!(locale_of(&app, &owner).await, "pt-BR", "the default");

    let put = |tag: &'static str| {
        let (app, owner) = (&app, owner.clone());
        async move {
            send(
                app,
                Method::PUT,
                "/api/v1/settings/locale",
                Some(&json!({ "locale": tag })),
                &owner,
            )
            .await
        }
    };
    let resp = put("en-GB").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["locale"], "en");
    assert_eq!(locale_of(&app, &owner).await, "en");

    let resp = put("fr").await;
    assert_eq!(resp.status(), 422);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["code"], "unsupported_locale");
    assert!(err["message"].as_str().unwrap().contains("fr"), "{err}");
    assert_eq!(locale_of(&app, &owner).await, "en", "unchanged");
}

#[tokio::test]
async fn an_admin_onboards_a_tenant_in_english_and_refuses_an_unsupported_language() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let create = |locale: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let body = json!({
                "name": "Shop",
                "owner_email": format!("owner-{}@atende.example", uuid::Uuid::now_v7().simple()),
                "plan": "pro",
                "locale": locale,
            });
            send(
                app,
                Method::POST,
                "/api/v1/admin/tenants",
                Some(&body),
                &admin,
            )
            .await
        }
    };
    let resp = create("fr").await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "unsupported_locale"
    );
    let resp = create("en").await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["locale"], "en");
    let tenant: uuid::Uuid = created["tenant_id"].as_str().unwrap().parse().unwrap();
    let (state, _) = app.app.bus.tenants.load(&tenant.to_string()).await.unwrap();
    assert_eq!(state.locale(), schemas::Locale::En);
}
