//! Tutorials, announcements and the admin's own workspace (issue 20).

use crate::conversations::{converse, message};
use crate::helpers::{spawn_app, TestApp, TestUser};
use crate::tenants::send;
use aggregates::ConversationCommand;
use chrono::{Duration, Utc};
use read_api::auth::Role;
use reqwest::Method;
use schemas::{conversation_id, Personal};
use serde_json::{json, Value};
use uuid::Uuid;

/// Onboards a tenant on `plan` speaking `locale`; returns its id, owner and owner's token,
/// once the tenant directory (where audiences are matched) lists it.
pub async fn onboard_on(
    app: &TestApp,
    admin: &str,
    name: &str,
    plan: &str,
    locale: &str,
) -> (Uuid, TestUser, String) {
    let email = format!("owner-{}@atende.example", Uuid::now_v7().simple());
    let resp = app
        .post_json(
            "/api/v1/admin/tenants",
            &json!({"name": name, "owner_email": email, "plan": plan, "locale": locale}),
            Some(admin),
        )
        .await;
    assert_eq!(resp.status(), 201, "onboarding {name}");
    let body: Value = resp.json().await.unwrap();
    let owner = TestUser {
        id: body["owner"]["id"].as_str().unwrap().parse().unwrap(),
        email,
        password: body["password"].as_str().unwrap().to_owned(),
    };
    let tenant: Uuid = body["tenant_id"].as_str().unwrap().parse().unwrap();
    app.eventually("the directory lists the tenant in its language", || async {
        sqlx::query_scalar::<_, String>("SELECT locale FROM tenant_directory WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&app.db.pool)
            .await
            .unwrap()
            .as_deref()
            == Some(locale)
    })
    .await;
    let token = app.access_token(&owner).await;
    (tenant, owner, token)
}

/// An announcement's request body.
pub fn announcement(
    title: &str,
    audience: Value,
    from_hours: i64,
    until_hours: i64,
    published: bool,
) -> Value {
    json!({
        "title": {"pt-BR": title, "en": format!("{title} (en)")},
        "body": {"pt-BR": format!("Corpo de **{title}**"), "en": format!("Body of **{title}**")},
        "severity": "maintenance",
        "audience": audience,
        "starts_at": Utc::now() + Duration::hours(from_hours),
        "ends_at": Utc::now() + Duration::hours(until_hours),
        "email_owners": false,
        "published": published,
    })
}

/// Creates content through an admin route; returns its id.
pub async fn create(app: &TestApp, admin: &str, path: &str, body: &Value) -> String {
    let resp = app.post_json(path, body, Some(admin)).await;
    assert_eq!(resp.status(), 201, "POST {path}");
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn titles(app: &TestApp, token: &str, list: &str) -> Vec<String> {
    let resp = app
        .get_as("/api/v1/announcements?locale=pt-BR", token)
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let mut out: Vec<String> = body[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_tenant_sees_only_published_announcements_for_its_audience_inside_their_window() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, pro) = onboard_on(&app, &admin, "Loja Pro", "pro", "pt-BR").await;
    let (basic_id, _, basic) = onboard_on(&app, &admin, "Loja Basic", "basic", "pt-BR").await;
    let path = "/api/v1/admin/announcements";
    for body in [
        announcement(
            "Para o pro",
            json!({"kind": "plans", "plans": ["pro"]}),
            -1,
            1,
            true,
        ),
        announcement("Rascunho", json!({"kind": "everyone"}), -1, 1, false),
        announcement(
            "Só para a Basic",
            json!({"kind": "tenants", "tenant_ids": [basic_id]}),
            -1,
            1,
            true,
        ),
        announcement("Já passou", json!({"kind": "everyone"}), -3, -1, true),
        announcement("Ainda não", json!({"kind": "everyone"}), 1, 2, true),
    ] {
        create(&app, &admin, path, &body).await;
    }
    assert_eq!(titles(&app, &pro, "current").await, ["Para o pro"]);
    assert_eq!(titles(&app, &pro, "all").await, ["Já passou", "Para o pro"]);
    assert_eq!(titles(&app, &basic, "current").await, ["Só para a Basic"]);
    assert_eq!(
        titles(&app, &basic, "all").await,
        ["Já passou", "Só para a Basic"]
    );
    let body: Value = app
        .get_as("/api/v1/announcements?locale=en", &pro)
        .await
        .json()
        .await
        .unwrap();
    let current = &body["current"][0];
    assert_eq!(current["title"], "Para o pro (en)");
    assert_eq!(current["severity"], "maintenance");
    assert_eq!(
        current["body_html"],
        "<p>Body of <strong>Para o pro</strong></p>\n"
    );
    // Nobody but admins sees the admins' list.
    assert_eq!(app.get_as(path, &pro).await.status(), 403);
}

#[tokio::test]
async fn a_dismissed_announcement_stays_dismissed_for_that_user_only() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, owner) = onboard_on(&app, &admin, "Loja", "pro", "pt-BR").await;
    let (other, _, _) = onboard_on(&app, &admin, "Outra", "pro", "pt-BR").await;
    let agent = app
        .create_user("agente@loja.example", Role::Agent, Some(tenant))
        .await;
    let agent = app.access_token(&agent).await;
    let path = "/api/v1/admin/announcements";
    let id = create(
        &app,
        &admin,
        path,
        &announcement("Aviso", json!({"kind": "everyone"}), -1, 1, true),
    )
    .await;
    let elsewhere = create(
        &app,
        &admin,
        path,
        &announcement(
            "De outra",
            json!({"kind": "tenants", "tenant_ids": [other]}),
            -1,
            1,
            true,
        ),
    )
    .await;
    let dismiss = |id: String, token: String| {
        let app = &app;
        async move {
            send(
                app,
                Method::POST,
                &format!("/api/v1/announcements/{id}/dismiss"),
                None,
                &token,
            )
            .await
            .status()
        }
    };
    assert_eq!(dismiss(id.clone(), owner.clone()).await, 204);
    assert_eq!(dismiss(id.clone(), owner.clone()).await, 204, "idempotent");
    assert!(titles(&app, &owner, "current").await.is_empty());
    let all: Value = app
        .get_as("/api/v1/announcements", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["all"][0]["dismissed"], true);
    assert_eq!(titles(&app, &agent, "current").await, ["Aviso"]);
    assert_eq!(
        dismiss(elsewhere, owner.clone()).await,
        404,
        "another audience's announcement is not the tenant's to see"
    );
    assert_eq!(dismiss(Uuid::now_v7().to_string(), owner).await, 404);
}

/// The announcement mails queued so far: (recipient, subject), sorted.
async fn mails(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT recipient, subject FROM mail_outbox WHERE template = 'announcement'
          ORDER BY recipient",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_published_announcement_is_emailed_once_to_each_owner_of_its_audience_in_their_language()
{
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, pt, _) = onboard_on(&app, &admin, "Loja PT", "pro", "pt-BR").await;
    let (_, en, _) = onboard_on(&app, &admin, "Shop EN", "pro", "en").await;
    let (_, _, _) = onboard_on(&app, &admin, "Loja Basic", "basic", "pt-BR").await;
    let mut body = announcement(
        "Manutenção",
        json!({"kind": "plans", "plans": ["pro"]}),
        1,
        3,
        false,
    );
    body["email_owners"] = json!(true);
    let id = create(&app, &admin, "/api/v1/admin/announcements", &body).await;
    assert!(mails(&app).await.is_empty(), "a draft mails nobody");
    body["published"] = json!(true);
    let path = format!("/api/v1/admin/announcements/{id}");
    let put = send(&app, Method::PUT, &path, Some(&body), &admin).await;
    assert_eq!(put.status(), 204);
    let mut expected = vec![
        (pt.email.clone(), "Manutenção — atende".to_owned()),
        (en.email.clone(), "Manutenção (en) — atende".to_owned()),
    ];
    expected.sort();
    assert_eq!(mails(&app).await, expected);
    // Unpublished, revised and published again: still one mail each.
    body["published"] = json!(false);
    assert_eq!(
        send(&app, Method::PUT, &path, Some(&body), &admin)
            .await
            .status(),
        204
    );
    body["published"] = json!(true);
    assert_eq!(
        send(&app, Method::PUT, &path, Some(&body), &admin)
            .await
            .status(),
        204
    );
    assert_eq!(mails(&app).await, expected);
    let list: Value = app
        .get_as("/api/v1/admin/announcements", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["emails_queued"], 2);
}

#[tokio::test]
async fn announcements_with_a_bad_window_or_an_empty_audience_are_refused() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let path = "/api/v1/admin/announcements";
    for (body, code) in [
        (
            announcement("x", json!({"kind": "everyone"}), 2, 1, true),
            "invalid_window",
        ),
        (
            announcement("x", json!({"kind": "plans", "plans": []}), 0, 1, true),
            "empty_audience",
        ),
        (
            announcement("x", json!({"kind": "nobody"}), 0, 1, true),
            "invalid_audience",
        ),
        (
            announcement(" ", json!({"kind": "everyone"}), 0, 1, true),
            "title_required",
        ),
    ] {
        let resp = app.post_json(path, &body, Some(&admin)).await;
        assert_eq!(resp.status(), 422, "{code}");
        let error: Value = resp.json().await.unwrap();
        assert_eq!(error["code"], code);
    }
}

/// A tutorial's request body.
pub fn tutorial(slug: &str, category: &str, title: &str, body: &str, published: bool) -> Value {
    json!({
        "slug": slug,
        "category": category,
        "position": 1,
        "title": {"pt-BR": title, "en": format!("{title} (en)")},
        "body": {"pt-BR": body, "en": ""},
        "video_url": null,
        "published": published,
    })
}

#[tokio::test]
async fn tenants_see_only_published_tutorials_with_their_markdown_rendered_safely() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard_on(&app, &admin, "Loja", "basic", "pt-BR").await;
    let path = "/api/v1/admin/tutorials";
    let mut connect = tutorial(
        "conectar-whatsapp",
        "whatsapp",
        "Conectar WhatsApp",
        "Leia o **QR code**.\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n[Ajuda](https://ajuda.example)",
        true,
    );
    connect["video_url"] = json!("https://youtu.be/dQw4w9WgXcQ");
    create(&app, &admin, path, &connect).await;
    create(
        &app,
        &admin,
        path,
        &tutorial(
            "base",
            "conhecimento",
            "Base de conhecimento",
            "Escreva *perguntas*.",
            true,
        ),
    )
    .await;
    let draft = create(
        &app,
        &admin,
        path,
        &tutorial("segredo", "whatsapp", "Rascunho", "ainda não", false),
    )
    .await;

    let list: Value = app
        .get_as("/api/v1/tutorials", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["categories"], json!(["conhecimento", "whatsapp"]));
    let slugs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 2);
    assert!(!slugs.contains(&"segredo"), "drafts are hidden");
    let one: Value = app
        .get_as("/api/v1/tutorials/conectar-whatsapp", &owner)
        .await
        .json()
        .await
        .unwrap();
    let html = one["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>QR code</strong>"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(
        html.contains("target=\"_blank\" rel=\"noopener noreferrer nofollow\""),
        "{html}"
    );
    assert_eq!(one["video_url"], "https://youtu.be/dQw4w9WgXcQ");
    assert_eq!(
        app.get_as("/api/v1/tutorials/segredo", &owner)
            .await
            .status(),
        404
    );
    let searched: Value = app
        .get_as("/api/v1/tutorials?q=perguntas", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(searched["items"].as_array().unwrap().len(), 1);
    assert_eq!(searched["items"][0]["slug"], "base");
    let category: Value = app
        .get_as("/api/v1/tutorials?category=whatsapp&locale=en", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(category["items"].as_array().unwrap().len(), 1);
    assert_eq!(category["items"][0]["title"], "Conectar WhatsApp (en)");
    assert!(
        category["items"][0]["body_html"]
            .as_str()
            .unwrap()
            .contains("QR code"),
        "a blank English body shows the Portuguese one"
    );

    // Published later, the draft shows; the admin list names who changed it.
    let mut published = tutorial("segredo", "whatsapp", "Agora sim", "pronto", true);
    published["position"] = json!(0);
    let put = send(
        &app,
        Method::PUT,
        &format!("{path}/{draft}"),
        Some(&published),
        &admin,
    )
    .await;
    assert_eq!(put.status(), 204);
    let list: Value = app
        .get_as("/api/v1/tutorials", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"][0]["slug"], "segredo",
        "position 0 comes first"
    );
    let admin_list: Value = app.get_as(path, &admin).await.json().await.unwrap();
    assert_eq!(admin_list["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn tutorial_videos_must_be_youtube_or_vimeo_and_keys_unique() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let path = "/api/v1/admin/tutorials";
    let mut bad = tutorial("video", "geral", "Vídeo", "", true);
    bad["video_url"] = json!("https://evil.example/watch?v=1");
    let resp = app.post_json(path, &bad, Some(&admin)).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "invalid_video_url"
    );
    bad["video_url"] = json!("https://vimeo.com/76979871");
    create(&app, &admin, path, &bad).await;
    let again = app.post_json(path, &bad, Some(&admin)).await;
    assert_eq!(again.status(), 409);
    assert_eq!(again.json::<Value>().await.unwrap()["code"], "slug_taken");
}

async fn open_workspace(app: &TestApp, admin: &str) -> Value {
    let resp = send(app, Method::POST, "/api/v1/admin/workspace", None, admin).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn an_admin_answers_in_their_own_workspace_as_themselves_and_reaches_no_other_tenant() {
    let app = spawn_app().await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (_, other_admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, owner) = onboard_on(&app, &admin, "Cliente", "pro", "pt-BR").await;

    let first = open_workspace(&app, &admin).await;
    assert_eq!(first["created"], true);
    let workspace: Uuid = first["tenant_id"].as_str().unwrap().parse().unwrap();
    let again = open_workspace(&app, &admin).await;
    assert_eq!(again["created"], false);
    assert_eq!(
        again["tenant_id"], first["tenant_id"],
        "one workspace per admin"
    );
    let theirs = open_workspace(&app, &other_admin).await;
    assert_ne!(theirs["tenant_id"], first["tenant_id"]);
    let token = again["access_token"].as_str().unwrap().to_owned();

    // Owner rights in the workspace: it answers a waiting customer there.
    let contact = "5511988887777";
    converse(
        &app,
        workspace,
        contact,
        message(workspace, contact, "Cris", "w-ws-1", "Oi, quero ajuda"),
    )
    .await;
    converse(
        &app,
        workspace,
        contact,
        ConversationCommand::RequestHuman {
            question: Personal::from("pessoa"),
        },
    )
    .await;
    let conversation = conversation_id(workspace, contact);
    app.eventually("the workspace lists the conversation", || async {
        app.get_as(&format!("/api/v1/conversations/{conversation}"), &token)
            .await
            .status()
            == 200
    })
    .await;
    let reply = app
        .post_json(
            &format!("/api/v1/conversations/{conversation}/reply"),
            &json!({"text": "Olá, Cris!"}),
            Some(&token),
        )
        .await;
    assert!(reply.status().is_success(), "{}", reply.status());
    let actor: Option<String> = sqlx::query_scalar(
        "SELECT metadata->>'actor_id' FROM events
          WHERE aggregate_id = $1 AND event_type = 'HumanReplied'",
    )
    .bind(conversation.to_string())
    .fetch_optional(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        actor,
        Some(admin_user.id.to_string()),
        "recorded as the admin"
    );

    // Nothing of another tenant, and no admin route, is reachable with it.
    let customer = "5511911112222";
    converse(
        &app,
        tenant,
        customer,
        message(tenant, customer, "Duda", "w-t-1", "Segredo"),
    )
    .await;
    let foreign = conversation_id(tenant, customer);
    app.eventually("the tenant's own conversation is listed", || async {
        app.get_as(&format!("/api/v1/conversations/{foreign}"), &owner)
            .await
            .status()
            == 200
    })
    .await;
    assert_eq!(
        app.get_as(&format!("/api/v1/conversations/{foreign}"), &token)
            .await
            .status(),
        404
    );
    let listed: Value = app
        .get_as("/api/v1/conversations", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(!listed.to_string().contains("Duda"), "{listed}");
    assert_eq!(
        app.get_as("/api/v1/admin/tenants", &token).await.status(),
        403
    );
    assert_eq!(
        send(&app, Method::POST, "/api/v1/admin/workspace", None, &token)
            .await
            .status(),
        403,
        "a workspace token does not open workspaces"
    );
    assert_eq!(
        send(&app, Method::POST, "/api/v1/admin/workspace", None, &owner)
            .await
            .status(),
        403,
        "owners have no workspace to open"
    );
}
