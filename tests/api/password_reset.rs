//! Password reset by e-mail (F30), with the app's mailer sending to a real SMTP peer.

use crate::helpers::{spawn_app_with, TestApp, TestUser};
use read_api::auth::Role;
use serde_json::{json, Value};
use std::time::Duration;
use testkit::smtp::{ReceivedMail, SmtpSink};
use uuid::Uuid;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn app_with_sink() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await.unwrap();
    let url = sink.url();
    let app = spawn_app_with(|config| {
        config.background.mail.smtp_url = Some(url);
        config.background.mail.public_url = "https://painel.atende.example".parse().unwrap();
    })
    .await;
    (app, sink)
}

async fn owner(app: &TestApp) -> TestUser {
    let email = format!("owner-{}@atende.example", Uuid::now_v7().simple());
    app.create_user(&email, Role::Owner, Some(Uuid::now_v7()))
        .await
}

async fn ask_reset(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/auth/password-reset", &body, None)
        .await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/password-reset/confirm",
        &json!({ "token": token, "password": password }),
        None,
    )
    .await
}

/// The token in the mail's link, as a user clicking it would send it.
fn token_in(mail: &ReceivedMail) -> String {
    let text = mail.body("text/plain").expect("a text body");
    let link = "https://painel.atende.example/reset-password?token=";
    let start = text.find(link).expect("the reset link in the text body") + link.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn one_mail(sink: &SmtpSink) -> ReceivedMail {
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1, "one mail arrived");
    received.into_iter().next().unwrap()
}

async fn error_code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_user_sets_a_new_password_with_the_emailed_link_and_the_link_works_once() {
    let (app, sink) = app_with_sink().await;
    let user = owner(&app).await;
    let session = app.tokens(&user).await;

    let resp = ask_reset(&app, json!({ "email": user.email.to_uppercase() })).await;
    assert_eq!(resp.status(), 202);
    let mail = one_mail(&sink).await;
    assert_eq!(mail.rcpt_to, vec![user.email.clone()]);
    let token = token_in(&mail);
    assert_eq!(token.len(), 43, "32 random bytes, base64url: {token}");

    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);

    assert_eq!(app.login(&user.email, NEW_PASSWORD).await.status(), 200);
    assert_eq!(app.login(&user.email, &user.password).await.status(), 401);
    let refreshed = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": session["refresh_token"] }),
            None,
        )
        .await;
    assert_eq!(refreshed.status(), 401, "earlier sessions end");
    assert_eq!(
        error_code(confirm(&app, &token, "yet another passphrase").await).await,
        (400, "reset_token_used".to_owned())
    );
    assert_eq!(app.login(&user.email, NEW_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn only_the_tokens_hash_is_stored() {
    let (app, sink) = app_with_sink().await;
    let user = owner(&app).await;
    ask_reset(&app, json!({ "email": user.email })).await;
    let token = token_in(&one_mail(&sink).await);

    let (rows, matching): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE token_hash = sha256(convert_to($1, 'UTF8')))
         FROM password_resets",
    )
    .bind(&token)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();

    assert_eq!((rows, matching), (1, 1));
    let in_clear: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM password_resets WHERE position(convert_to($1, 'UTF8') IN token_hash) > 0",
    )
    .bind(&token)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(in_clear, 0);
}

#[tokio::test]
async fn an_unknown_email_gets_the_same_answer_and_no_mail() {
    let (app, sink) = app_with_sink().await;
    let user = owner(&app).await;

    let unknown = ask_reset(&app, json!({ "email": "nobody@atende.example" })).await;
    let known = ask_reset(&app, json!({ "email": user.email })).await;

    assert_eq!(unknown.status(), 202);
    assert_eq!(known.status(), 202);
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        known.json::<Value>().await.unwrap()
    );
    // The known e-mail's mail proves the mailer ran; the unknown one got nothing.
    let mail = one_mail(&sink).await;
    assert_eq!(mail.rcpt_to, vec![user.email.clone()]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn an_expired_token_is_refused_and_the_password_stays() {
    let (app, sink) = app_with_sink().await;
    let user = owner(&app).await;
    ask_reset(&app, json!({ "email": user.email })).await;
    let token = token_in(&one_mail(&sink).await);
    sqlx::query("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();

    assert_eq!(
        error_code(confirm(&app, &token, NEW_PASSWORD).await).await,
        (400, "reset_token_expired".to_owned())
    );
    assert_eq!(app.login(&user.email, &user.password).await.status(), 200);
}

#[tokio::test]
async fn an_unknown_token_is_refused() {
    let (app, _sink) = app_with_sink().await;

    assert_eq!(
        error_code(confirm(&app, "bm90LWEtcmVhbC10b2tlbg", NEW_PASSWORD).await).await,
        (400, "invalid_reset_token".to_owned())
    );
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_the_link_keeps_working() {
    let (app, sink) = app_with_sink().await;
    let user = owner(&app).await;
    ask_reset(&app, json!({ "email": user.email })).await;
    let token = token_in(&one_mail(&sink).await);

    assert_eq!(
        error_code(confirm(&app, &token, "short").await).await,
        (422, "weak_password".to_owned())
    );
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);
}

#[tokio::test]
async fn the_mail_is_in_the_asked_language_and_portuguese_by_default() {
    let (app, sink) = app_with_sink().await;
    let user = owner(&app).await;

    ask_reset(&app, json!({ "email": user.email })).await;
    let portuguese = one_mail(&sink).await;
    ask_reset(&app, json!({ "email": user.email, "locale": "en" })).await;
    let received = sink.wait_for(2, Duration::from_secs(10)).await;

    assert_eq!(
        portuguese.header("Subject").as_deref(),
        Some("Redefinição de senha do atende")
    );
    assert_eq!(
        received[1].header("Subject").as_deref(),
        Some("Reset your atende password")
    );
}

#[tokio::test]
async fn repeated_requests_for_one_email_get_429_whether_or_not_it_has_an_account() {
    let (app, _sink) = app_with_sink().await;
    let user = owner(&app).await;

    for email in [user.email.as_str(), "nobody@atende.example"] {
        for _ in 0..3 {
            assert_eq!(
                ask_reset(&app, json!({ "email": email })).await.status(),
                202
            );
        }
        let refused = ask_reset(&app, json!({ "email": email })).await;
        assert_eq!(refused.status(), 429, "{email}");
        let retry_after: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (3000..=3600).contains(&retry_after),
            "about an hour: {retry_after}"
        );
    }
}

#[tokio::test]
async fn health_reports_the_mail_outbox() {
    let (app, sink) = app_with_sink().await;
    sink.refuse_data(u32::MAX);
    let user = owner(&app).await;
    ask_reset(&app, json!({ "email": user.email })).await;

    app.eventually("the refused mail waits for a retry", || async {
        sink.refused() >= 1
    })
    .await;
    let health: Value = app.get("/health").await.json().await.unwrap();

    assert_eq!(health["mail"]["queued"], 1);
    assert_eq!(health["mail"]["failed"], 0);
}

#[tokio::test]
async fn an_admin_resetting_an_owners_password_emails_them_a_link_and_answers_no_secret() {
    let (app, sink) = app_with_sink().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, owner, _) = crate::tenants::onboard(&app, &admin, "Academia").await;
    let session = app.tokens(&owner).await;

    let resp = app
        .post_json(
            &format!("/api/v1/admin/tenants/{tenant}/reset-password"),
            &json!({}),
            Some(&admin),
        )
        .await;

    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"user_id": owner.id, "email": owner.email, "valid_minutes": 60}),
        "where the link went, and nothing secret"
    );
    assert_eq!(
        app.login(&owner.email, &owner.password).await.status(),
        200,
        "the password is the owner's until they choose another"
    );
    let mail = one_mail(&sink).await;
    assert_eq!(mail.rcpt_to, vec![owner.email.clone()]);
    let token = token_in(&mail);
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);
    assert_eq!(app.login(&owner.email, NEW_PASSWORD).await.status(), 200);
    assert_eq!(app.login(&owner.email, &owner.password).await.status(), 401);
    let refreshed = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": session["refresh_token"] }),
            None,
        )
        .await;
    assert_eq!(refreshed.status(), 401, "the owner's earlier sessions end");
}

#[tokio::test]
async fn an_admin_reset_for_a_tenant_without_an_enabled_owner_is_404_and_sends_nothing() {
    let (app, sink) = app_with_sink().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, owner, _) = crate::tenants::onboard(&app, &admin, "Academia").await;
    sqlx::query("UPDATE users SET disabled_at = now() WHERE id = $1")
        .bind(owner.id)
        .execute(&app.db.pool)
        .await
        .unwrap();

    for t in [tenant, Uuid::now_v7()] {
        let resp = app
            .post_json(
                &format!("/api/v1/admin/tenants/{t}/reset-password"),
                &json!({}),
                Some(&admin),
            )
            .await;
        assert_eq!(error_code(resp).await, (404, "owner_not_found".to_owned()));
    }
    assert!(sink
        .wait_for(1, Duration::from_millis(500))
        .await
        .is_empty());
}
