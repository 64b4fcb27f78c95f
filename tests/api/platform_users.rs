//! Platform users (issue 18): admins list, create, disable and enable admins and auditors;
//! a disabled user, or a suspended tenant's, is refused at once, with the very token they
//! already hold, not when it expires.

use crate::helpers::TestApp;
use crate::tenants::{onboard, send};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

async fn post(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    send(app, Method::POST, path, None, token).await
}

async fn listed(app: &TestApp, token: &str, email: &str) -> Value {
    let resp = app.get_as("/api/v1/admin/users", token).await;
    assert_eq!(resp.status(), 200);
    let users: Vec<Value> = resp.json().await.unwrap();
    assert!(
        users
            .iter()
            .all(|u| u["role"] != "owner" && u["role"] != "agent"),
        "tenant users are not platform users: {users:#?}"
    );
    users
        .into_iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} is listed"))
}

#[tokio::test]
async fn given_an_auditor_when_an_admin_disables_them_then_their_token_sign_in_and_refresh_are_refused_until_enabled(
) {
    let app = crate::helpers::spawn_app().await;
    let (admin, admin_token) = app.signed_in(Role::Admin).await;
    let created = app
        .post_json(
            "/api/v1/admin/users",
            &json!({"email": "Auditora@Atende.example", "role": "auditor"}),
            Some(&admin_token),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let password = created["password"].as_str().unwrap().to_owned();
    let email = "auditora@atende.example";

    let before = listed(&app, &admin_token, email).await;
    assert_eq!(before["role"], "auditor");
    assert!(before["last_sign_in_at"].is_null() && before["disabled_at"].is_null());
    assert!(before["created_at"].is_string());
    assert!(before.get("password").is_none() && before.get("password_hash").is_none());

    let tokens: Value = app.login(email, &password).await.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(listed(&app, &admin_token, email).await["last_sign_in_at"].is_string());
    assert_eq!(app.get_as("/api/v1/audit/log", &token).await.status(), 200);

    let disabled = post(
        &app,
        &format!("/api/v1/admin/users/{id}/disable"),
        &admin_token,
    )
    .await;
    assert_eq!(disabled.status(), 204);
    assert!(listed(&app, &admin_token, email).await["disabled_at"].is_string());
    let refused = app.get_as("/api/v1/audit/log", &token).await;
    assert_eq!(
        refused.status(),
        401,
        "the token they hold is refused at once"
    );
    assert_eq!(app.login(email, &password).await.status(), 401);
    let renewed = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh}),
            None,
        )
        .await;
    assert_eq!(renewed.status(), 401);

    let enabled = post(
        &app,
        &format!("/api/v1/admin/users/{id}/enable"),
        &admin_token,
    )
    .await;
    assert_eq!(enabled.status(), 204);
    assert!(listed(&app, &admin_token, email).await["disabled_at"].is_null());
    let again = app.login(email, &password).await;
    assert_eq!(
        again.status(),
        200,
        "they sign in with the password they had"
    );

    let own = post(
        &app,
        &format!("/api/v1/admin/users/{}/disable", admin.id),
        &admin_token,
    )
    .await;
    assert_eq!(own.status(), 422);
    assert_eq!(
        own.json::<Value>().await.unwrap()["code"],
        "cannot_disable_yourself"
    );
}

#[tokio::test]
async fn only_a_super_admin_disables_a_super_admin_and_tenant_users_are_not_reachable_here() {
    let app = crate::helpers::spawn_app().await;
    let (_, admin_token) = app.signed_in(Role::Admin).await;
    let (_, super_token) = app.signed_in(Role::SuperAdmin).await;
    let (chief, chief_token) = app.signed_in(Role::SuperAdmin).await;
    let path = format!("/api/v1/admin/users/{}/disable", chief.id);
    assert_eq!(post(&app, &path, &admin_token).await.status(), 403);
    assert_eq!(
        app.get_as("/api/v1/me", &chief_token).await.status(),
        200,
        "a refused disable changes nothing"
    );
    assert_eq!(post(&app, &path, &super_token).await.status(), 204);
    assert_eq!(app.get_as("/api/v1/me", &chief_token).await.status(), 401);

    let (_, owner, _) = onboard(&app, &admin_token, "Academia").await;
    for (what, id) in [("an owner", owner.id), ("nobody", Uuid::now_v7())] {
        let resp = post(
            &app,
            &format!("/api/v1/admin/users/{id}/disable"),
            &admin_token,
        )
        .await;
        assert_eq!(resp.status(), 404, "{what}");
        assert_eq!(
            resp.json::<Value>().await.unwrap()["code"],
            "user_not_found"
        );
    }
}

#[tokio::test]
async fn given_a_suspended_tenant_when_its_owner_sends_the_token_they_hold_then_it_is_refused_at_once(
) {
    let app = crate::helpers::spawn_app().await;
    let (_, admin_token) = app.signed_in(Role::Admin).await;
    let (tenant, _, owner_token) = onboard(&app, &admin_token, "Academia").await;
    assert_eq!(
        app.get_as("/api/v1/users", &owner_token).await.status(),
        200
    );

    let suspended = app
        .post_json(
            &format!("/api/v1/admin/tenants/{tenant}/suspend"),
            &json!({"reason": "fraude"}),
            Some(&admin_token),
        )
        .await;
    assert_eq!(suspended.status(), 204);
    let refused = app.get_as("/api/v1/users", &owner_token).await;
    assert_eq!(refused.status(), 403, "refused at the next request");
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "tenant_suspended"
    );
    // Still refused once the poll has read the directory (it agrees with the mark).
    app.eventually("the directory shows the suspension", || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM tenant_directory WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&app.db.pool)
            .await
            .unwrap()
            .as_deref()
            == Some("suspended")
    })
    .await;
    tokio::time::sleep(read_api::request::revocations::REFRESH_EVERY * 2).await;
    assert_eq!(
        app.get_as("/api/v1/users", &owner_token).await.status(),
        403
    );

    let reactivated = post(
        &app,
        &format!("/api/v1/admin/tenants/{tenant}/reactivate"),
        &admin_token,
    )
    .await;
    assert_eq!(reactivated.status(), 204);
    assert_eq!(
        app.get_as("/api/v1/users", &owner_token).await.status(),
        200,
        "accepted again at once"
    );
}

#[tokio::test]
async fn given_a_disabled_agent_when_they_send_the_token_they_hold_then_it_is_refused_at_once() {
    let app = crate::helpers::spawn_app().await;
    let (_, admin_token) = app.signed_in(Role::Admin).await;
    let (tenant, _, owner_token) = onboard(&app, &admin_token, "Academia").await;
    let agent = app
        .create_user("agente@academia.example", Role::Agent, Some(tenant))
        .await;
    let agent_token = app.access_token(&agent).await;
    assert_eq!(
        app.get_as("/api/v1/conversations", &agent_token)
            .await
            .status(),
        200
    );
    let disabled = app
        .delete_as(&format!("/api/v1/users/{}", agent.id), &owner_token)
        .await;
    assert_eq!(disabled.status(), 204);
    assert_eq!(
        app.get_as("/api/v1/conversations", &agent_token)
            .await
            .status(),
        401
    );
}
