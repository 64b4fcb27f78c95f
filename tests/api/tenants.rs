//! Admin tenant management (F43): onboarding, the directory, suspension, password reset
//! and the timeline.

use crate::helpers::{spawn_app, TestApp, TestUser};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// Sends `method path` with an optional JSON body as `token`.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: &str,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, format!("{}{}", app.address, path))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    req.send().await.expect("request sent")
}

/// Onboards a tenant through the admin API; returns its id and its signed-in owner.
pub async fn onboard(app: &TestApp, admin_token: &str, name: &str) -> (Uuid, TestUser, String) {
    let email = format!("owner-{}@atende.example", Uuid::now_v7().simple());
    let resp = app
        .post_json(
            "/api/v1/admin/tenants",
            &json!({"name": name, "owner_email": email, "plan": "pro"}),
            Some(admin_token),
        )
        .await;
    assert_eq!(resp.status(), 201, "onboarding {name}");
    let body: Value = resp.json().await.unwrap();
    let owner = TestUser {
        id: body["owner"]["id"].as_str().unwrap().parse().unwrap(),
        email,
        password: body["password"].as_str().unwrap().to_owned(),
    };
    let token = app.access_token(&owner).await;
    (
        body["tenant_id"].as_str().unwrap().parse().unwrap(),
        owner,
        token,
    )
}

async fn directory_entry(app: &TestApp, token: &str, tenant: Uuid) -> Option<Value> {
    let resp = app
        .get_as(&format!("/api/v1/admin/tenants/{tenant}"), token)
        .await;
    (resp.status() == 200).then_some(resp.json().await.unwrap())
}

async fn count_tenants(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'TenantRegistered'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_creates_a_tenant_and_its_owner_signs_in_with_the_returned_password() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let resp = app
        .post_json(
            "/api/v1/admin/tenants",
            &json!({"name": "Ótica Boa Vista", "owner_email": "Dono@Otica.example", "plan": "pro"}),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    let password = body["password"].as_str().unwrap();
    assert!(password.chars().count() >= 16);
    assert_eq!(body["owner"]["role"], "owner");
    assert_eq!(body["owner"]["tenant_id"], body["tenant_id"]);

    let login = app.login("dono@otica.example", password).await;
    assert_eq!(login.status(), 200);

    let tenant: Uuid = body["tenant_id"].as_str().unwrap().parse().unwrap();
    let (subscription, _) = app
        .app
        .bus
        .subscriptions
        .load(&tenant.to_string())
        .await
        .unwrap();
    assert_eq!(
        subscription.status(),
        Some(schemas::events::SubscriptionStatus::Active)
    );
    app.eventually("the tenant is in the directory", || async {
        directory_entry(&app, &admin, tenant)
            .await
            .is_some_and(|t| t["status"] == "active" && t["plan"] == "pro")
    })
    .await;
}

#[tokio::test]
async fn a_duplicate_owner_email_is_a_conflict_and_leaves_no_second_tenant() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let body = json!({"name": "Loja", "owner_email": "dono@loja.example", "plan": "pro"});
    let first = app
        .post_json("/api/v1/admin/tenants", &body, Some(&admin))
        .await;
    assert_eq!(first.status(), 201);
    let again = app
        .post_json("/api/v1/admin/tenants", &body, Some(&admin))
        .await;
    assert_eq!(again.status(), 409);
    let err: Value = again.json().await.unwrap();
    assert_eq!(err["code"], "email_taken");
    assert_eq!(count_tenants(&app).await, 1);
}

#[tokio::test]
async fn the_directory_filters_by_status_and_name_and_pages_with_a_cursor() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let mut ids = Vec::new();
    for name in ["Padaria Sol", "Padaria Lua", "Farmácia Central"] {
        ids.push(onboard(&app, &admin, name).await.0);
    }
    let resp = send(
        &app,
        Method::POST,
        &format!("/api/v1/admin/tenants/{}/suspend", ids[2]),
        Some(&json!({"reason": "unpaid"})),
        &admin,
    )
    .await;
    assert_eq!(resp.status(), 204);
    app.eventually("the suspension reaches the directory", || async {
        let page: Value = app
            .get_as("/api/v1/admin/tenants?status=suspended", &admin)
            .await
            .json()
            .await
            .unwrap();
        page["items"].as_array().unwrap().len() == 1
    })
    .await;

    let page: Value = app
        .get_as("/api/v1/admin/tenants?q=padaria&limit=1", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["name"], "Padaria Sol");
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = app
        .get_as(
            &format!("/api/v1/admin/tenants?q=padaria&limit=1&cursor={cursor}"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"][0]["name"], "Padaria Lua");
    assert!(next["next_cursor"].is_null());
}

#[tokio::test]
async fn suspending_then_reactivating_a_tenant_changes_its_status_in_the_directory() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Pet Shop").await;
    for (action, body, status) in [
        ("suspend", Some(json!({"reason": "abuse"})), "suspended"),
        ("reactivate", None, "active"),
    ] {
        let path = format!("/api/v1/admin/tenants/{tenant}/{action}");
        let resp = send(&app, Method::POST, &path, body.as_ref(), &admin).await;
        assert_eq!(resp.status(), 204, "{action}");
        app.eventually(&format!("the tenant is {status}"), || async {
            directory_entry(&app, &admin, tenant)
                .await
                .is_some_and(|t| t["status"] == status)
        })
        .await;
    }
}

#[tokio::test]
async fn the_timeline_lists_the_tenants_events_in_order_with_personal_fields_sealed() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Mercado").await;
    let (other, _, _) = onboard(&app, &admin, "Outro").await;
    let path = format!("/api/v1/admin/tenants/{tenant}/suspend");
    let suspended = send(
        &app,
        Method::POST,
        &path,
        Some(&json!({"reason": "x"})),
        &admin,
    )
    .await;
    assert_eq!(suspended.status(), 204);

    let page: Value = app
        .get_as(&format!("/api/v1/admin/tenants/{tenant}/timeline"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    let types: Vec<_> = items.iter().map(|e| e["event_type"].clone()).collect();
    assert_eq!(
        types,
        [
            "TenantRegistered",
            "ComplimentarySubscriptionStarted",
            "TenantSuspended"
        ]
    );
    let positions: Vec<_> = items.iter().map(|e| e["position"].as_i64()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert!(items
        .iter()
        .all(|e| e["aggregate_id"] != other.to_string().as_str()));
    let email = &items[0]["payload"]["TenantRegistered"]["owner_email"];
    assert!(email.get("$pii").is_some(), "sealed, got {email}");

    let first: Value = app
        .get_as(
            &format!("/api/v1/admin/tenants/{tenant}/timeline?limit=1"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"].as_i64().unwrap();
    let rest: Value = app
        .get_as(
            &format!("/api/v1/admin/tenants/{tenant}/timeline?cursor={cursor}"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
}

async fn profile(app: &TestApp, admin: &str, tenant: Uuid) -> Value {
    let resp = app
        .get_as(&format!("/api/v1/admin/tenants/{tenant}/profile"), admin)
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_tenants_profile_shows_its_knowledge_whatsapp_team_with_last_sign_in_and_usage() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, owner, owner_token) = onboard(&app, &admin, "Livraria").await;
    let knowledge = send(
        &app,
        Method::PUT,
        "/api/v1/knowledge",
        Some(&json!({"text": "Abrimos às 9h."})),
        &owner_token,
    )
    .await;
    assert!(knowledge.status().is_success(), "{}", knowledge.status());
    let agent = app
        .create_user("agente@livraria.example", Role::Agent, Some(tenant))
        .await;

    let body = profile(&app, &admin, tenant).await;
    assert_eq!(body["name"], "Livraria");
    assert_eq!(body["plan"], "pro");
    assert_eq!(body["status"], "active");
    assert_eq!(body["locale"], "pt-BR");
    assert_eq!(body["subscription_status"], "active");
    assert_eq!(body["complimentary"], true);
    assert_eq!(body["knowledge"], json!({"chars": 14, "version": 1}));
    assert_eq!(body["whatsapp"]["connected"], false);
    assert_eq!(body["whatsapp"]["provider"], Value::Null);
    let team = body["team"].as_array().unwrap();
    assert_eq!(team.len(), 2);
    // The owner first; `onboard` signed them in from this machine, the agent never did.
    assert_eq!(team[0]["email"], owner.email.as_str());
    assert_eq!(team[0]["role"], "owner");
    assert_eq!(team[0]["last_sign_in_ip"], "127.0.0.1");
    assert!(team[0]["last_sign_in_at"].is_string());
    assert_eq!(team[1]["id"], agent.id.to_string().as_str());
    assert_eq!(team[1]["last_sign_in_at"], Value::Null);
    let usage = body["usage"].as_array().unwrap();
    assert!(!usage.is_empty());
    assert_eq!(usage[0]["tenant_id"], tenant.to_string().as_str());
    // Periods go back in time without overlapping.
    for pair in usage.windows(2) {
        assert_eq!(pair[1]["period"]["end"], pair[0]["period"]["start"]);
    }

    let missing = app
        .get_as(
            &format!("/api/v1/admin/tenants/{}/profile", Uuid::now_v7()),
            &admin,
        )
        .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn an_admin_renames_a_tenant_moves_its_complimentary_plan_and_changes_its_language() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Doceria").await;
    let resp = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/tenants/{tenant}"),
        Some(&json!({"name": "  Doceria Nova ", "plan": "enterprise", "locale": "en"})),
        &admin,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["name"], "Doceria Nova");
    assert_eq!(body["plan"], "enterprise");
    assert_eq!(body["locale"], "en");
    app.eventually("the directory and the reports follow", || async {
        let entry = directory_entry(&app, &admin, tenant).await;
        let reported: Option<String> =
            sqlx::query_scalar("SELECT name FROM report_tenants WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(&app.db.pool)
                .await
                .unwrap();
        entry.is_some_and(|t| t["name"] == "Doceria Nova" && t["plan"] == "enterprise")
            && reported.as_deref() == Some("Doceria Nova")
    })
    .await;
    let found: Value = app
        .get_as("/api/v1/admin/tenants?plan=enterprise", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let none: Value = app
        .get_as("/api/v1/admin/tenants?plan=pro", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]));

    // The same values again record nothing.
    let events = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    let before = events().await;
    let again = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/tenants/{tenant}"),
        Some(&json!({"name": "Doceria Nova", "plan": "enterprise", "locale": "en"})),
        &admin,
    )
    .await;
    assert_eq!(again.status(), 200);
    assert_eq!(events().await, before);
}

#[tokio::test]
async fn a_tenant_edit_is_refused_whole_for_a_blank_field_and_stripe_keeps_a_paid_plan() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, _) = onboard(&app, &admin, "Floricultura").await;
    let path = format!("/api/v1/admin/tenants/{tenant}");
    for (body, status, code) in [
        (json!({"name": " ", "locale": "en"}), 422, "name_required"),
        (json!({"plan": "", "name": "X"}), 422, "plan_required"),
        (
            json!({"locale": "fr", "name": "X"}),
            422,
            "unsupported_locale",
        ),
    ] {
        let resp = send(&app, Method::PATCH, &path, Some(&body), &admin).await;
        assert_eq!(resp.status(), status, "{body}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["code"], code, "{body}");
    }
    assert_eq!(profile(&app, &admin, tenant).await["name"], "Floricultura");

    let paying = app
        .register_tenant("Paga", "dona@paga-stripe.example")
        .await;
    app.app
        .bus
        .subscriptions
        .execute(
            &paying.to_string(),
            aggregates::SubscriptionCommand::StartFromCheckout {
                tenant_id: paying,
                stripe_customer_id: "cus_9".into(),
                stripe_subscription_id: "sub_9".into(),
                plan: schemas::Plan::from("pro"),
                trial_end: None,
            },
            &TestApp::admin_metadata(paying),
        )
        .await
        .unwrap();
    let refused = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/tenants/{paying}"),
        Some(&json!({"plan": "enterprise", "name": "Paga Muito"})),
        &admin,
    )
    .await;
    assert_eq!(refused.status(), 409);
    let err: Value = refused.json().await.unwrap();
    assert_eq!(err["code"], "plan_billed_by_stripe");
    let after = profile(&app, &admin, paying).await;
    assert_eq!(after["plan"], "pro");
    assert_eq!(
        after["name"], "Paga",
        "nothing of a refused edit is recorded"
    );

    let unknown = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/admin/tenants/{}", Uuid::now_v7()),
        Some(&json!({"name": "X"})),
        &admin,
    )
    .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_suspended_tenants_owner_is_refused_a_session_until_it_is_reactivated() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, owner, _) = onboard(&app, &admin, "Barbearia").await;
    let refresh = app.tokens(&owner).await["refresh_token"].clone();
    let suspend = send(
        &app,
        Method::POST,
        &format!("/api/v1/admin/tenants/{tenant}/suspend"),
        Some(&json!({"reason": "unpaid"})),
        &admin,
    )
    .await;
    assert_eq!(suspend.status(), 204);

    let refused = app.login(&owner.email, &owner.password).await;
    assert_eq!(refused.status(), 403);
    let err: Value = refused.json().await.unwrap();
    assert_eq!(err["code"], "tenant_suspended");
    // A wrong password still gets the answer that reveals nothing.
    assert_eq!(
        app.login(&owner.email, "wrong-password-1").await.status(),
        401
    );
    let renewed = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh}),
            None,
        )
        .await;
    assert_eq!(renewed.status(), 403);

    let reactivate = send(
        &app,
        Method::POST,
        &format!("/api/v1/admin/tenants/{tenant}/reactivate"),
        None,
        &admin,
    )
    .await;
    assert_eq!(reactivate.status(), 204);
    assert_eq!(app.login(&owner.email, &owner.password).await.status(), 200);
}
