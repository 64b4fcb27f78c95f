use crate::helpers::{spawn_app, TestApp};
use read_api::auth::{AuthUser, Role};
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD_WRONG: &str = "not the password at all";

async fn body(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

async fn fail_to_sign_in(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        assert_eq!(app.login(email, PASSWORD_WRONG).await.status(), 401);
    }
}

#[tokio::test]
async fn signing_in_returns_a_token_pair_and_me_shows_the_user() {
    let app = spawn_app().await;
    let tenant = Uuid::now_v7();
    let owner = app
        .create_user("Ana@Oficina.Example", Role::Owner, Some(tenant))
        .await;
    let tokens = app.tokens(&owner).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 43);
    let resp = app
        .get_as("/api/v1/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(resp.status(), 200);
    let me = body(resp).await;
    assert_eq!(me["id"], owner.id.to_string());
    assert_eq!(me["email"], "ana@oficina.example");
    assert_eq!(me["role"], "owner");
    assert_eq!(me["tenant_id"], tenant.to_string());
    let (success, ip): (bool, String) =
        sqlx::query_as("SELECT success, host(ip) FROM login_attempts")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!((success, ip.as_str()), (true, "127.0.0.1"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    let (agent, _) = app.signed_in(Role::Agent).await;
    let wrong = app.login(&agent.email, PASSWORD_WRONG).await;
    assert_eq!(wrong.status(), 401);
    let unknown = app.login("nobody@atende.example", &agent.password).await;
    assert_eq!(unknown.status(), 401);
    let (wrong, unknown) = (body(wrong).await, body(unknown).await);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["code"], "unauthorized");
}

#[tokio::test]
async fn five_failures_block_the_ip_and_even_the_right_password_then_gets_429() {
    let app = spawn_app().await;
    let (agent, _) = app.signed_in(Role::Agent).await;
    fail_to_sign_in(&app, &agent.email, 5).await;
    let resp = app.login(&agent.email, &agent.password).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    assert_eq!(body(resp).await["code"], "too_many_requests");
    let recorded: (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE NOT success AND NOT blocked), count(*) FILTER (WHERE blocked)
         FROM login_attempts",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    // Every attempt is on record; the refused one does not count as a failure.
    assert_eq!(recorded, (5, 1));
}

#[tokio::test]
async fn an_admin_sees_the_blocked_ip_and_unblocking_it_lets_the_user_sign_in() {
    let app = spawn_app().await;
    // Signed in before the block: the admin shares the test's IP.
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (agent, _) = app.signed_in(Role::Agent).await;
    assert_eq!(
        body(app.get_as("/api/v1/admin/ip-blocks", &admin).await).await,
        json!([])
    );
    fail_to_sign_in(&app, &agent.email, 5).await;
    assert_eq!(app.login(&agent.email, &agent.password).await.status(), 429);
    let blocks = body(app.get_as("/api/v1/admin/ip-blocks", &admin).await).await;
    assert_eq!(blocks[0]["ip"], "127.0.0.1");
    assert!(blocks[0]["blocked_until"].is_string());
    let resp = app
        .delete_as("/api/v1/admin/ip-blocks/127.0.0.1", &admin)
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        body(app.get_as("/api/v1/admin/ip-blocks", &admin).await).await,
        json!([])
    );
    assert_eq!(app.login(&agent.email, &agent.password).await.status(), 200);
}

#[tokio::test]
async fn refreshing_rotates_the_token_and_replaying_the_old_one_revokes_its_family() {
    let app = spawn_app().await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let first = app.tokens(&owner).await;
    let refresh = |token: &Value| {
        let token = token.clone();
        let app = &app;
        async move {
            app.post_json(
                "/api/v1/auth/refresh",
                &json!({ "refresh_token": token }),
                None,
            )
            .await
        }
    };
    let resp = refresh(&first["refresh_token"]).await;
    assert_eq!(resp.status(), 200);
    let second = body(resp).await;
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let me = app
        .get_as("/api/v1/me", second["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status(), 200);

    let replay = refresh(&first["refresh_token"]).await;
    assert_eq!(replay.status(), 401);
    // The replay revoked the family: the legitimate successor no longer works either.
    assert_eq!(refresh(&second["refresh_token"]).await.status(), 401);
}

#[tokio::test]
async fn logging_out_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let (agent, _) = app.signed_in(Role::Agent).await;
    let tokens = app.tokens(&agent).await;
    let token = json!({ "refresh_token": tokens["refresh_token"] });
    let resp = app.post_json("/api/v1/auth/logout", &token, None).await;
    assert_eq!(resp.status(), 204);
    let resp = app.post_json("/api/v1/auth/refresh", &token, None).await;
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn a_missing_expired_or_forged_access_token_is_a_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let (agent, token) = app.signed_in(Role::Agent).await;
    let expired = app
        .auth
        .issue_access_token_at(
            &AuthUser {
                id: agent.id,
                role: Role::Agent,
                tenant_id: Some(Uuid::now_v7()),
            },
            chrono::Utc::now() - chrono::Duration::minutes(16),
        )
        .unwrap()
        .token;
    let forged = format!("{}x", &token[..token.len() - 1]);
    for resp in [
        app.get("/api/v1/me").await,
        app.get_as("/api/v1/me", &expired).await,
        app.get_as("/api/v1/me", &forged).await,
        app.get_as("/api/v1/me", "not-a-jwt").await,
    ] {
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        assert_eq!(body(resp).await["code"], "unauthorized");
    }
}

#[tokio::test]
async fn an_agent_cannot_reach_an_admin_route() {
    let app = spawn_app().await;
    let (_, agent) = app.signed_in(Role::Agent).await;
    let resp = app.get_as("/api/v1/admin/ip-blocks", &agent).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(body(resp).await["code"], "forbidden");
}

#[tokio::test]
async fn an_auditor_cannot_create_users() {
    let app = spawn_app().await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let new = json!({ "email": "eve@atende.example", "role": "auditor" });
    let resp = app
        .post_json("/api/v1/admin/users", &new, Some(&auditor))
        .await;
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn an_admin_creates_auditors_but_only_a_super_admin_creates_super_admins() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let new = json!({ "email": "Rita@Atende.Example", "role": "auditor" });
    let resp = app
        .post_json("/api/v1/admin/users", &new, Some(&admin))
        .await;
    assert_eq!(resp.status(), 201);
    let created = body(resp).await;
    assert_eq!(
        (created["email"].as_str(), created["role"].as_str()),
        (Some("rita@atende.example"), Some("auditor"))
    );
    let password = created["password"].as_str().unwrap();
    assert!(password.len() >= 16);
    assert_eq!(
        app.login("rita@atende.example", password).await.status(),
        200
    );

    let again = app
        .post_json("/api/v1/admin/users", &new, Some(&admin))
        .await;
    assert_eq!(again.status(), 409);
    let bad_email = json!({ "email": "rita", "role": "admin" });
    let resp = app
        .post_json("/api/v1/admin/users", &bad_email, Some(&admin))
        .await;
    assert_eq!(resp.status(), 422);
    let boss = json!({ "email": "boss@atende.example", "role": "super_admin" });
    let resp = app
        .post_json("/api/v1/admin/users", &boss, Some(&admin))
        .await;
    assert_eq!(resp.status(), 403);
    let (_, root) = app.signed_in(Role::SuperAdmin).await;
    let resp = app
        .post_json("/api/v1/admin/users", &boss, Some(&root))
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn changing_the_password_retires_the_old_one_and_every_refresh_token() {
    let app = spawn_app().await;
    let (owner, token) = app.signed_in(Role::Owner).await;
    let tokens = app.tokens(&owner).await;
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    let path = "/api/v1/me/password";
    let short = app
        .post_json(path, &change(&owner.password, "short"), Some(&token))
        .await;
    assert_eq!(short.status(), 422);
    assert_eq!(body(short).await["code"], "weak_password");
    let wrong = change(PASSWORD_WRONG, "a brand new passphrase");
    assert_eq!(
        app.post_json(path, &wrong, Some(&token)).await.status(),
        403
    );

    let right = change(&owner.password, "a brand new passphrase");
    assert_eq!(
        app.post_json(path, &right, Some(&token)).await.status(),
        204
    );
    assert_eq!(app.login(&owner.email, &owner.password).await.status(), 401);
    assert_eq!(
        app.login(&owner.email, "a brand new passphrase")
            .await
            .status(),
        200
    );
    let refresh = json!({ "refresh_token": tokens["refresh_token"] });
    let resp = app.post_json("/api/v1/auth/refresh", &refresh, None).await;
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn a_malformed_json_body_is_a_400_saying_why() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let error = body(resp).await;
    assert_eq!(error["code"], "malformed_json");
    assert!(!error["message"].as_str().unwrap().is_empty());
    let missing = app
        .post_json("/api/v1/auth/login", &json!({ "email": "a@b.io" }), None)
        .await;
    assert_eq!(missing.status(), 400);
    assert_eq!(body(missing).await["code"], "invalid_body");
}

#[tokio::test]
async fn atende_admin_create_prints_a_password_that_signs_in() {
    let app = spawn_app().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_atende"))
        .args(["admin", "create", "--email", "root@atende.example"])
        .args(["--role", "super_admin"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["role"], "super_admin");
    let password = created["password"].as_str().unwrap();
    assert_eq!(
        app.login("root@atende.example", password).await.status(),
        200
    );
    let (action, target, outcome, actor): (String, String, String, String) = sqlx::query_as(
        "SELECT payload->'AdminActionRecorded'->>'action',
                payload->'AdminActionRecorded'->'target'->>'id',
                payload->'AdminActionRecorded'->>'outcome', metadata->>'actor_id'
           FROM events WHERE aggregate_type = 'admin_action'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        (
            action.as_str(),
            target.as_str(),
            outcome.as_str(),
            actor.as_str()
        ),
        (
            "create_platform_user",
            created["id"].as_str().unwrap(),
            "done",
            "atende-cli"
        ),
        "the creation is in the audit trail"
    );
}

/// The `Set-Cookie` header of `resp` for the session cookie.
fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("atende_refresh="))
        .map(str::to_owned)
}

/// The cookie's value, as a browser would send it back.
fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn post_with_cookie(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.client
        .post(format!("{}{}", app.address, path))
        .header("cookie", cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_cookie_session_keeps_the_refresh_token_out_of_the_body_in_an_http_only_cookie() {
    let app = spawn_app().await;
    let (agent, _) = app.signed_in(Role::Agent).await;
    let resp = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": agent.email, "password": agent.password, "session": "cookie"}),
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let cookie = session_cookie(&resp).expect("the session cookie is set");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/v1/auth",
        "Max-Age=2592000",
    ] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    // ATENDE_PUBLIC_URL is http here: a Secure cookie would never come back.
    assert!(!cookie.contains("Secure"), "{cookie}");
    let tokens = body(resp).await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    let me = app
        .get_as("/api/v1/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn refresh_by_cookie_rotates_it_and_logout_by_cookie_revokes_and_clears_it() {
    let app = spawn_app().await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": owner.email, "password": owner.password, "session": "cookie"}),
            None,
        )
        .await;
    let first = cookie_value(&session_cookie(&login).unwrap());

    let refreshed = post_with_cookie(&app, "/api/v1/auth/refresh", &first).await;
    assert_eq!(refreshed.status(), 200);
    let second = cookie_value(&session_cookie(&refreshed).expect("a rotated cookie"));
    assert_ne!(first, second);
    let tokens = body(refreshed).await;
    assert!(tokens["access_token"].as_str().is_some());
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");

    let out = post_with_cookie(&app, "/api/v1/auth/logout", &second).await;
    assert_eq!(out.status(), 204);
    let cleared = session_cookie(&out).expect("the cookie is cleared");
    assert!(cleared.starts_with("atende_refresh=;") && cleared.contains("Max-Age=0"));
    let again = post_with_cookie(&app, "/api/v1/auth/refresh", &second).await;
    assert_eq!(again.status(), 401, "the session ended with the logout");
}

#[tokio::test]
async fn refresh_without_a_token_or_a_cookie_is_401_and_body_tokens_still_work_as_before() {
    let app = spawn_app().await;
    let (agent, _) = app.signed_in(Role::Agent).await;
    let none = app
        .post_json("/api/v1/auth/refresh", &json!({}), None)
        .await;
    assert_eq!(none.status(), 401);
    assert_eq!(body(none).await["code"], "unauthorized");

    // An API client that never asked for a cookie gets none and keeps the body contract.
    let login = app.login(&agent.email, &agent.password).await;
    assert!(session_cookie(&login).is_none());
    let refresh = body(login).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh}),
            None,
        )
        .await;
    assert!(session_cookie(&resp).is_none());
    assert!(body(resp).await["refresh_token"].as_str().is_some());
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_console_is_served_over_https() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.background.mail.public_url = "https://painel.atende.example".parse().unwrap();
    })
    .await;
    let (agent, _) = app.signed_in(Role::Agent).await;
    let resp = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": agent.email, "password": agent.password, "session": "cookie"}),
            None,
        )
        .await;
    let cookie = session_cookie(&resp).unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}
