//! Team invitations (#15): an owner invites an agent by e-mail; the invitee chooses their
//! password with the e-mailed link (48 h, once); the owner never sees a password.

use crate::helpers::{spawn_app_with, TestApp};
use crate::tenants::{onboard, send};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use testkit::smtp::{ReceivedMail, SmtpSink};
use uuid::Uuid;

const PUBLIC: &str = "https://painel.atende.example";
const PASSWORD: &str = "my own passphrase 42";

async fn app_with_sink() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await.unwrap();
    let url = sink.url();
    let app = spawn_app_with(|config| {
        config.background.mail.smtp_url = Some(url);
        config.background.mail.public_url = PUBLIC.parse().unwrap();
    })
    .await;
    (app, sink)
}

/// A tenant named "Padaria Central" and its owner's token.
async fn owner(app: &TestApp) -> (Uuid, String) {
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, token) = onboard(app, &admin, "Padaria Central").await;
    (tenant, token)
}

async fn invite(app: &TestApp, owner: &str, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/users/invitations", &body, Some(owner))
        .await
}

async fn accept(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/invitation/accept",
        &json!({"token": token, "password": password}),
        None,
    )
    .await
}

/// The token in the mail's link, as a person clicking it would send it.
fn token_in(mail: &ReceivedMail) -> String {
    let text = mail.body("text/plain").expect("a text body");
    let link = format!("{PUBLIC}/set-password?token=");
    let start = text.find(&link).expect("the link in the text body") + link.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The invitation mails to `to` received so far (the onboarding welcome mail is another).
async fn invitations_to(sink: &SmtpSink, to: &str, n: usize) -> Vec<ReceivedMail> {
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = sink
            .received()
            .into_iter()
            .filter(|m| m.rcpt_to == [to.to_owned()])
            .collect();
        if mails.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mails.len(), n, "invitation mails to {to}");
    mails
}

async fn error_code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_invited_agent_chooses_a_password_with_the_emailed_link_once_and_signs_in() {
    let (app, sink) = app_with_sink().await;
    let (tenant, owner) = owner(&app).await;

    let resp = invite(
        &app,
        &owner,
        json!({"email": "Ana@Padaria.example", "role": "agent"}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let text = resp.text().await.unwrap();
    assert!(
        !text.contains("password") && !text.contains("token"),
        "{text}"
    );
    let invitation: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(invitation["email"], "ana@padaria.example");
    assert_eq!(invitation["role"], "agent");
    assert_eq!(invitation["status"], "pending");
    let sent =
        chrono::DateTime::parse_from_rfc3339(invitation["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(invitation["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - sent).num_hours(), 48);

    let listed: Value = app
        .get_as("/api/v1/users/invitations", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], invitation["id"]);

    // The e-mail speaks the tenant's language (Portuguese by default) and names the tenant.
    let mail = invitations_to(&sink, "ana@padaria.example", 1)
        .await
        .remove(0);
    let subject = mail.header("Subject").unwrap();
    assert!(subject.contains("Padaria Central"), "{subject}");
    assert!(subject.starts_with("Convite"), "{subject}");
    let token = token_in(&mail);
    assert_eq!(token.len(), 43, "32 random bytes, base64url: {token}");
    // Only the token's hash is kept.
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_invitations WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'",
    )
    .bind(&token)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);

    let (status, code) = error_code(accept(&app, &token, "short").await).await;
    assert_eq!((status, code.as_str()), (422, "weak_password"));
    let resp = accept(&app, &token, PASSWORD).await;
    assert_eq!(resp.status(), 201);
    let user: Value = resp.json().await.unwrap();
    assert_eq!(user["email"], "ana@padaria.example");
    assert_eq!(user["role"], "agent");
    assert_eq!(user["tenant_id"], json!(tenant));

    let (status, code) = error_code(accept(&app, &token, PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (400, "invitation_used"));
    let login = app.login("ana@padaria.example", PASSWORD).await;
    assert_eq!(login.status(), 200);
    let team: Value = app
        .get_as("/api/v1/users", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert!(team.to_string().contains("ana@padaria.example"), "{team}");
    let pending: Value = app
        .get_as("/api/v1/users/invitations", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        pending,
        json!([]),
        "an accepted invitation is no longer pending"
    );
}

#[tokio::test]
async fn unknown_expired_and_revoked_invitations_are_refused_with_their_own_codes() {
    let (app, sink) = app_with_sink().await;
    let (_, owner) = owner(&app).await;
    let (status, code) = error_code(accept(&app, "not-a-token", PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (400, "invalid_invitation_token"));

    // Expired: its 48 hours passed.
    assert_eq!(
        invite(&app, &owner, json!({"email": "bia@padaria.example"}))
            .await
            .status(),
        201
    );
    let token = token_in(&invitations_to(&sink, "bia@padaria.example", 1).await[0]);
    sqlx::query(
        "UPDATE user_invitations SET expires_at = now() - interval '1 second' WHERE email = $1",
    )
    .bind("bia@padaria.example")
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (status, code) = error_code(accept(&app, &token, PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (400, "invitation_expired"));
    let listed: Value = app
        .get_as("/api/v1/users/invitations", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["status"], "expired");

    // Revoked by the owner; inviting again sends a new link and the old one stops working.
    let invitation: Value = invite(&app, &owner, json!({"email": "caio@padaria.example"}))
        .await
        .json()
        .await
        .unwrap();
    let first = token_in(&invitations_to(&sink, "caio@padaria.example", 1).await[0]);
    let again: Value = invite(&app, &owner, json!({"email": "caio@padaria.example"}))
        .await
        .json()
        .await
        .unwrap();
    let second = token_in(&invitations_to(&sink, "caio@padaria.example", 2).await[1]);
    assert_ne!(first, second);
    let (status, code) = error_code(accept(&app, &first, PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (400, "invitation_revoked"));
    let id = again["id"].as_str().unwrap();
    assert_ne!(invitation["id"], again["id"]);
    let revoked = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/invitations/{id}"),
        None,
        &owner,
    )
    .await;
    assert_eq!(revoked.status(), 204);
    let (status, code) = error_code(accept(&app, &second, PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (400, "invitation_revoked"));
    let again = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/invitations/{id}"),
        None,
        &owner,
    )
    .await;
    assert_eq!(
        error_code(again).await,
        (404, "invitation_not_found".into())
    );
    assert_eq!(
        app.login("caio@padaria.example", PASSWORD).await.status(),
        401
    );
}

#[tokio::test]
async fn an_owner_cannot_invite_a_taken_email_an_invalid_one_or_another_owner() {
    let (app, _sink) = app_with_sink().await;
    let (tenant, owner) = owner(&app).await;
    app.create_user("ja@padaria.example", Role::Agent, Some(tenant))
        .await;
    for (body, expected) in [
        (json!({"email": "ja@padaria.example"}), (409, "email_taken")),
        (json!({"email": "not-an-email"}), (422, "invalid_email")),
        (
            json!({"email": "socio@padaria.example", "role": "owner"}),
            (422, "invalid_role"),
        ),
    ] {
        let got = error_code(invite(&app, &owner, body.clone()).await).await;
        assert_eq!((got.0, got.1.as_str()), expected, "{body}");
    }
}

#[tokio::test]
async fn an_owner_disables_an_agent_but_not_themself() {
    let (app, _sink) = app_with_sink().await;
    let (tenant, owner) = owner(&app).await;
    let agent = app
        .create_user("dani@padaria.example", Role::Agent, Some(tenant))
        .await;
    let me: Value = app.get_as("/api/v1/me", &owner).await.json().await.unwrap();
    let my_id = me["id"].as_str().unwrap().to_owned();
    let resp = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{my_id}"),
        None,
        &owner,
    )
    .await;
    assert_eq!(resp.status(), 404, "an owner is not an agent to disable");
    let resp = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{}", agent.id),
        None,
        &owner,
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(app.login(&agent.email, &agent.password).await.status(), 401);
    assert_eq!(app.get_as("/api/v1/me", &owner).await.status(), 200);
}
