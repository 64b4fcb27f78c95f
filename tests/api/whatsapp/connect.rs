//! Connecting a phone through Evolution's instance API (#15), against a fake Evolution
//! server answering with the shapes its documentation gives.

use super::*;
use crate::tenants::onboard;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PUBLIC: &str = "https://painel.atende.example";
const GLOBAL_KEY: &str = "global-key-B6D711FCDE4D";
const INSTANCE_KEY: &str = "instance-key-8C1F02E7";
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk";

/// `connectionState` answers whatever the test last set.
#[derive(Clone)]
struct PhoneState(Arc<Mutex<&'static str>>);

impl Respond for PhoneState {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let instance = request.url.path().rsplit('/').next().unwrap_or_default();
        let state = *self.0.lock().unwrap();
        ResponseTemplate::new(200)
            .set_body_json(json!({"instance": {"instanceName": instance, "state": state}}))
    }
}

/// A fake Evolution server expecting `name` to be created once; its phone starts `close`.
async fn fake_evolution(name: &str, global_key: &str) -> (MockServer, PhoneState) {
    let server = MockServer::start().await;
    let phone = mount_evolution(&server, name, global_key, 1).await;
    (server, phone)
}

/// Mounts on `server` an Evolution API that creates `name` with `global_key`, expecting
/// `creates` creations.
async fn mount_evolution(
    server: &MockServer,
    name: &str,
    global_key: &str,
    creates: u64,
) -> PhoneState {
    let phone = PhoneState(Arc::new(Mutex::new("close")));
    Mock::given(method("POST"))
        .and(path("/instance/create"))
        .and(header("apikey", global_key))
        .and(body_partial_json(
            json!({"instanceName": name, "qrcode": true, "integration": "WHATSAPP-BAILEYS"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "instance": {"instanceName": name, "instanceId": "af6c5b7c-ee27-4f94-9ea8-192393746ddd",
                         "status": "created"},
            "hash": INSTANCE_KEY,
            "qrcode": {"code": "2@y8eK+bjtEjUWy9/FOM", "base64": format!("data:image/png;base64,{PNG}")},
        })))
        .expect(creates)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/instance/create"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}),
        ))
        .with_priority(10)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/instance/connect/{name}")))
        .and(header("apikey", INSTANCE_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "pairingCode": "WZYEH1YY", "code": "2@y8eK+bjtEjUWy9/FOM",
            "base64": format!("data:image/png;base64,{PNG}"), "count": 1,
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/instance/connectionState/{name}")))
        .and(header("apikey", INSTANCE_KEY))
        .respond_with(phone.clone())
        .mount(server)
        .await;
    phone
}

/// Expects the webhook to be pointed at `url` once, with the instance's own key.
async fn expect_webhook(server: &MockServer, name: &str, url: &str) {
    Mock::given(method("POST"))
        .and(path(format!("/webhook/set/{name}")))
        .and(header("apikey", INSTANCE_KEY))
        .and(body_partial_json(json!({"webhook": {
            "enabled": true, "url": url, "byEvents": false, "base64": false,
            "events": ["MESSAGES_UPSERT", "CONNECTION_UPDATE"]}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"webhook": {
            "instanceName": name, "webhook": {"url": url, "events": ["MESSAGES_UPSERT"], "enabled": true}}})))
        .expect(1)
        .mount(server)
        .await;
}

async fn evolution_app(platform: Option<&str>) -> TestApp {
    let platform = platform.map(str::to_owned);
    spawn_app_with(move |c| {
        whatsapp_config(None, None)(c);
        c.background.mail.public_url = PUBLIC.parse().unwrap();
        if let Some(url) = platform {
            c.background.whatsapp.evolution_api_url = Some(url);
            c.background.whatsapp.evolution_api_key = Some(GLOBAL_KEY.into());
        }
    })
    .await
}

async fn owner_of_new_tenant(app: &TestApp) -> (Uuid, String) {
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, owner) = onboard(app, &admin, "Loja").await;
    (tenant, owner)
}

async fn webhook_url(app: &TestApp, owner: &str) -> String {
    let settings: Value = app
        .get_as("/api/v1/settings/whatsapp", owner)
        .await
        .json()
        .await
        .unwrap();
    format!(
        "{PUBLIC}{}",
        settings["evolution_webhook_path"].as_str().unwrap()
    )
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let resp = app.get_as(path, token).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn an_owner_creates_an_instance_sees_its_qr_code_and_then_the_phone_connected() {
    let app = evolution_app(None).await;
    let (_, owner) = owner_of_new_tenant(&app).await;
    let (evolution, phone) = fake_evolution("loja", GLOBAL_KEY).await;
    let hook = webhook_url(&app, &owner).await;
    expect_webhook(&evolution, "loja", &hook).await;

    let resp = app
        .post_json(
            "/api/v1/settings/whatsapp/evolution/instance",
            &json!({"evolution_url": format!("{}/", evolution.uri()),
                    "global_api_key": GLOBAL_KEY, "instance_name": "loja"}),
            Some(&owner),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains(GLOBAL_KEY) && !text.contains(INSTANCE_KEY),
        "{text}"
    );
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["instance"], "loja");
    assert_eq!(created["webhook_url"], hook);
    assert_eq!(created["qr_png_base64"], PNG);
    assert_eq!(created["pairing_code"], "WZYEH1YY");
    assert_eq!(created["state"], "connecting");
    assert_eq!(created["connected"], false);

    let settings: Value = app
        .get_as("/api/v1/settings/whatsapp", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["provider"], "evolution");
    assert_eq!(settings["evolution_instance"], "loja");
    assert_eq!(settings["evolution_url"], evolution.uri());
    assert_eq!(settings["evolution_api_key_stored"], true);

    let (status, qr) = get_json(&app, "/api/v1/settings/whatsapp/evolution/qr", &owner).await;
    assert_eq!(status, 200);
    assert_eq!(qr["qr_png_base64"], PNG);
    assert_eq!(qr["connected"], false);
    let (_, state) = get_json(&app, "/api/v1/settings/whatsapp/evolution/state", &owner).await;
    assert_eq!(state, json!({"state": "close", "connected": false}));

    *phone.0.lock().unwrap() = "open";
    let (status, state) = get_json(&app, "/api/v1/settings/whatsapp/evolution/state", &owner).await;
    assert_eq!(status, 200);
    assert_eq!(state, json!({"state": "open", "connected": true}));
    let (_, qr) = get_json(&app, "/api/v1/settings/whatsapp/evolution/qr", &owner).await;
    assert_eq!(qr, json!({"state": "open", "connected": true}));

    // The keys are credentials: never in an event, stored only sealed.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%'
            OR payload::text LIKE '%' || $2 || '%' OR metadata::text LIKE '%' || $1 || '%'
            OR metadata::text LIKE '%' || $2 || '%'",
    )
    .bind(GLOBAL_KEY)
    .bind(INSTANCE_KEY)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0);
    let stored: String = sqlx::query_scalar("SELECT evolution_api_key FROM whatsapp_channels")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(!stored.contains(INSTANCE_KEY) && !stored.contains(GLOBAL_KEY));
    evolution.verify().await;
}

#[tokio::test]
async fn creating_again_reuses_the_instance_and_points_the_webhook_anew() {
    let app = evolution_app(None).await;
    let (_, owner) = owner_of_new_tenant(&app).await;
    let (evolution, _) = fake_evolution("loja", GLOBAL_KEY).await;
    let hook = webhook_url(&app, &owner).await;
    Mock::given(method("POST"))
        .and(path("/webhook/set/loja"))
        .and(header("apikey", INSTANCE_KEY))
        .and(body_partial_json(json!({"webhook": {"url": hook}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({})))
        .expect(2)
        .mount(&evolution)
        .await;
    let body = json!({"evolution_url": evolution.uri(), "global_api_key": GLOBAL_KEY,
                      "instance_name": "loja"});
    for _ in 0..2 {
        let resp = app
            .post_json(
                "/api/v1/settings/whatsapp/evolution/instance",
                &body,
                Some(&owner),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    // `/instance/create` expects exactly one call.
    evolution.verify().await;
}

#[tokio::test]
async fn the_platforms_evolution_server_is_used_when_the_owner_names_none() {
    let evolution = MockServer::start().await;
    let app = evolution_app(Some(&evolution.uri())).await;
    let (tenant, owner) = owner_of_new_tenant(&app).await;
    let name = format!("atende-{}", tenant.simple());
    mount_evolution(&evolution, &name, GLOBAL_KEY, 1).await;
    expect_webhook(&evolution, &name, &webhook_url(&app, &owner).await).await;
    let resp = app
        .post_json(
            "/api/v1/settings/whatsapp/evolution/instance",
            &json!({}),
            Some(&owner),
        )
        .await;
    let status = resp.status();
    let created: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["instance"], name);
    assert_eq!(created["evolution_url"], evolution.uri());
    evolution.verify().await;
}

#[tokio::test]
async fn without_a_server_or_with_a_wrong_key_the_owner_is_told_why() {
    let app = evolution_app(None).await;
    let (_, owner) = owner_of_new_tenant(&app).await;
    let create = |body: Value| {
        let app = &app;
        let owner = &owner;
        async move {
            let resp = app
                .post_json(
                    "/api/v1/settings/whatsapp/evolution/instance",
                    &body,
                    Some(owner),
                )
                .await;
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let (status, error) = create(json!({})).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("evolution_not_configured"))
    );
    for path in [
        "/api/v1/settings/whatsapp/evolution/qr",
        "/api/v1/settings/whatsapp/evolution/state",
    ] {
        let (status, error) = get_json(&app, path, &owner).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (404, Some("no_evolution_instance"))
        );
    }
    let evolution = MockServer::start().await;
    mount_evolution(&evolution, "loja", GLOBAL_KEY, 0).await;
    let (status, error) = create(json!({"evolution_url": evolution.uri(),
                                        "global_api_key": "wrong", "instance_name": "loja"}))
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("evolution_refused")),
        "{error}"
    );
    let (status, error) = create(json!({"evolution_url": evolution.uri(),
                                        "global_api_key": GLOBAL_KEY, "instance_name": "a b"}))
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("invalid_instance_name"))
    );
    let (status, error) = create(json!({"evolution_url": "http://127.0.0.1:9",
                                        "global_api_key": GLOBAL_KEY, "instance_name": "loja"}))
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (503, Some("evolution_unreachable"))
    );
}

#[tokio::test]
async fn a_connection_update_webhook_is_accepted_and_remembered() {
    let app = evolution_app(None).await;
    let (tenant, owner) = owner_of_new_tenant(&app).await;
    let hook = webhook_url(&app, &owner).await;
    let path = hook.strip_prefix(PUBLIC).unwrap();
    let resp = app
        .post_json(
            path,
            &json!({"event": "connection.update", "instance": "loja",
                    "data": {"instance": "loja", "state": "open", "statusReason": 200}}),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let state: Option<String> =
        sqlx::query_scalar("SELECT evolution_state FROM whatsapp_channels WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(state.as_deref(), Some("open"));
}
