//! Tenant isolation (F32): a tenant's token never sees nor changes another tenant's data,
//! whatever tenant route it calls.

use crate::conversations::{converse, message};
use crate::helpers::{spawn_app, TestApp};
use crate::settings::bot_settings;
use crate::tenants::{onboard, send};
use crate::tickets::open_ticket;
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// Everything of tenant B that A must neither see nor change.
async fn snapshot_of_b(app: &TestApp, b_token: &str) -> (Value, Value, Value, Value) {
    let locale = app
        .get_as("/api/v1/settings/locale", b_token)
        .await
        .json()
        .await
        .unwrap();
    let settings = app
        .get_as("/api/v1/settings/bot", b_token)
        .await
        .json()
        .await
        .unwrap();
    let users = app
        .get_as("/api/v1/users", b_token)
        .await
        .json()
        .await
        .unwrap();
    let others: Value = {
        let mut others = json!({});
        for path in [
            "/api/v1/tickets",
            "/api/v1/users/invitations",
            "/api/v1/onboarding",
            "/api/v1/announcements",
        ] {
            others[path] = app.get_as(path, b_token).await.json().await.unwrap();
        }
        others
    };
    (settings, users, locale, others)
}

#[tokio::test]
async fn no_tenant_route_lets_one_tenant_see_or_change_another_tenants_data() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Tenant A").await;
    let (b_id, b_owner, b) = onboard(&app, &admin, "Tenant B").await;
    let b_agent: Value = app
        .post_json(
            "/api/v1/users",
            &json!({"email": "agente@b.example"}),
            Some(&b),
        )
        .await
        .json()
        .await
        .unwrap();
    let b_agent_id = b_agent["id"].as_str().unwrap().to_owned();
    let b_invitation: Value = app
        .post_json(
            "/api/v1/users/invitations",
            &json!({"email": "convidado@b.example"}),
            Some(&b),
        )
        .await
        .json()
        .await
        .unwrap();
    let b_invitation_id = b_invitation["id"].as_str().unwrap().to_owned();
    let b_settings = bot_settings("Olá de B", 0.7);
    let put = send(
        &app,
        Method::PUT,
        "/api/v1/settings/bot",
        Some(&b_settings),
        &b,
    )
    .await;
    assert_eq!(put.status(), 200);
    let b_number =
        json!({"phone_number_id": "b-number", "display_phone_number": "+55 21 90000-0000"});
    let linked = send(
        &app,
        Method::PUT,
        "/api/v1/settings/whatsapp",
        Some(&b_number),
        &b,
    )
    .await;
    assert_eq!(linked.status(), 200);
    let b_contact = "5511944443333";
    converse(
        &app,
        b_id,
        b_contact,
        message(b_id, b_contact, "Bia Secreta", "wamid.b", "Segredo de B"),
    )
    .await;
    let b_conversation = schemas::conversation_id(b_id, b_contact);
    app.eventually("B's conversation is listed", || async {
        app.get_as(&format!("/api/v1/conversations/{b_conversation}"), &b)
            .await
            .status()
            == 200
    })
    .await;
    let opened = open_ticket(
        &app,
        &b,
        "Segredo de B",
        "Segredo de B no chamado",
        &[("b.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")],
    )
    .await;
    assert_eq!(opened.status(), 201);
    let opened: Value = opened.json().await.unwrap();
    let b_ticket = opened["id"].as_str().unwrap().to_owned();
    // The support AI hands B's ticket over (no platform knowledge) before the snapshot.
    app.eventually("B's ticket is judged and listed", || async {
        let judged: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM support_ai_runs WHERE ticket_id = $1::uuid)",
        )
        .bind(&b_ticket)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        let thread: Value = app
            .get_as(&format!("/api/v1/tickets/{b_ticket}"), &b)
            .await
            .json()
            .await
            .unwrap_or(Value::Null);
        judged && thread["ticket"]["awaiting_admin"] == true
    })
    .await;
    let b_thread: Value = app
        .get_as(&format!("/api/v1/tickets/{b_ticket}"), &b)
        .await
        .json()
        .await
        .unwrap();
    let b_file = b_thread["messages"][0]["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_notice = crate::content::create(
        &app,
        &admin,
        "/api/v1/admin/announcements",
        &crate::content::announcement(
            "Segredo de B no aviso",
            json!({"kind": "tenants", "tenant_ids": [b_id]}),
            -1,
            1,
            true,
        ),
    )
    .await;
    let before = snapshot_of_b(&app, &b).await;

    // Every tenant route, called by A with B's identifiers wherever a request can carry
    // them. A new route must be added here: the coverage check below fails otherwise.
    let table: Vec<(&str, &str, String, Option<Value>)> = vec![
        (
            "GET",
            "/api/v1/settings/bot",
            "/api/v1/settings/bot".into(),
            None,
        ),
        (
            "PUT",
            "/api/v1/settings/bot",
            "/api/v1/settings/bot".into(),
            Some(naming(b_id, bot_settings("A takes over", 0.1))),
        ),
        (
            "GET",
            "/api/v1/settings/locale",
            "/api/v1/settings/locale".into(),
            None,
        ),
        (
            "PUT",
            "/api/v1/settings/locale",
            "/api/v1/settings/locale".into(),
            Some(naming(b_id, json!({"locale": "en"}))),
        ),
        (
            "PUT",
            "/api/v1/settings/whatsapp",
            "/api/v1/settings/whatsapp".into(),
            Some(
                json!({"tenant_id": b_id, "phone_number_id": "b-number", "display_phone_number": "x"}),
            ),
        ),
        ("GET", "/api/v1/users", "/api/v1/users".into(), None),
        (
            "POST",
            "/api/v1/users",
            "/api/v1/users".into(),
            Some(json!({"tenant_id": b_id, "email": "intruso@a.example"})),
        ),
        (
            "DELETE",
            "/api/v1/users/{id}",
            format!("/api/v1/users/{b_agent_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/metrics",
            format!("/api/v1/metrics?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/usage",
            format!("/api/v1/usage?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/conversations",
            format!("/api/v1/conversations?tenant_id={b_id}&q=bia"),
            None,
        ),
        (
            "GET",
            "/api/v1/conversations/{id}",
            format!("/api/v1/conversations/{b_conversation}"),
            None,
        ),
        (
            "POST",
            "/api/v1/billing/portal",
            "/api/v1/billing/portal".into(),
            Some(json!({"tenant_id": b_id})),
        ),
        (
            "POST",
            "/api/v1/conversations/{id}/reply",
            format!("/api/v1/conversations/{b_conversation}/reply"),
            Some(json!({"text": "intruso"})),
        ),
        (
            "POST",
            "/api/v1/conversations/{id}/assign",
            format!("/api/v1/conversations/{b_conversation}/assign"),
            Some(json!({"agent_id": b_agent_id})),
        ),
        (
            "POST",
            "/api/v1/conversations/{id}/resolve",
            format!("/api/v1/conversations/{b_conversation}/resolve"),
            None,
        ),
        (
            "POST",
            "/api/v1/conversations/{id}/return-to-ai",
            format!("/api/v1/conversations/{b_conversation}/return-to-ai"),
            None,
        ),
        (
            "GET",
            "/api/v1/settings/whatsapp",
            "/api/v1/settings/whatsapp".into(),
            None,
        ),
        (
            "GET",
            "/api/v1/outbox",
            format!("/api/v1/outbox?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/knowledge",
            format!("/api/v1/knowledge?tenant_id={b_id}"),
            None,
        ),
        (
            "PUT",
            "/api/v1/knowledge",
            "/api/v1/knowledge".into(),
            Some(naming(b_id, json!({"text": "A writes its own"}))),
        ),
        (
            "GET",
            "/api/v1/knowledge/search",
            format!("/api/v1/knowledge/search?q=segredo&tenant_id={b_id}"),
            None,
        ),
        (
            "POST",
            "/api/v1/knowledge/ask",
            "/api/v1/knowledge/ask".into(),
            Some(naming(b_id, json!({"question": "qual o segredo?"}))),
        ),
        (
            "POST",
            "/api/v1/tickets",
            "/api/v1/tickets".into(),
            Some(naming(
                b_id,
                json!({"subject": "x", "category": "tecnico", "message": "x"}),
            )),
        ),
        (
            "GET",
            "/api/v1/tickets",
            format!("/api/v1/tickets?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/tickets/categories",
            format!("/api/v1/tickets/categories?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/tickets/{id}",
            format!("/api/v1/tickets/{b_ticket}"),
            None,
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/messages",
            format!("/api/v1/tickets/{b_ticket}/messages"),
            Some(json!({"text": "intruso"})),
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/close",
            format!("/api/v1/tickets/{b_ticket}/close"),
            None,
        ),
        (
            "POST",
            "/api/v1/tickets/{id}/human",
            format!("/api/v1/tickets/{b_ticket}/human"),
            None,
        ),
        (
            "GET",
            "/api/v1/tickets/{id}/attachments/{attachment_id}",
            format!("/api/v1/tickets/{b_ticket}/attachments/{b_file}"),
            None,
        ),
        (
            "GET",
            "/api/v1/conversations/counts",
            format!("/api/v1/conversations/counts?tenant_id={b_id}"),
            None,
        ),
        (
            "POST",
            "/api/v1/settings/whatsapp/evolution/instance",
            "/api/v1/settings/whatsapp/evolution/instance".into(),
            Some(naming(b_id, json!({}))),
        ),
        (
            "GET",
            "/api/v1/settings/whatsapp/evolution/qr",
            format!("/api/v1/settings/whatsapp/evolution/qr?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/settings/whatsapp/evolution/state",
            format!("/api/v1/settings/whatsapp/evolution/state?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/users/invitations",
            format!("/api/v1/users/invitations?tenant_id={b_id}"),
            None,
        ),
        (
            "POST",
            "/api/v1/users/invitations",
            "/api/v1/users/invitations".into(),
            Some(naming(b_id, json!({"email": "convidado@a.example"}))),
        ),
        (
            "DELETE",
            "/api/v1/users/invitations/{id}",
            format!("/api/v1/users/invitations/{b_invitation_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/onboarding",
            format!("/api/v1/onboarding?tenant_id={b_id}"),
            None,
        ),
        (
            "POST",
            "/api/v1/onboarding/bot-tried",
            "/api/v1/onboarding/bot-tried".into(),
            Some(naming(b_id, json!({}))),
        ),
        (
            "POST",
            "/api/v1/onboarding/go-live",
            "/api/v1/onboarding/go-live".into(),
            Some(naming(b_id, json!({}))),
        ),
        (
            "GET",
            "/api/v1/tutorials",
            format!("/api/v1/tutorials?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/tutorials/{slug}",
            format!("/api/v1/tutorials/conectar-whatsapp?tenant_id={b_id}"),
            None,
        ),
        (
            "GET",
            "/api/v1/announcements",
            format!("/api/v1/announcements?tenant_id={b_id}"),
            None,
        ),
        (
            "POST",
            "/api/v1/announcements/{id}/dismiss",
            format!("/api/v1/announcements/{b_notice}/dismiss"),
            None,
        ),
    ];
    // The routes come from the OpenAPI document: a route is only served through the
    // `routes!` call that documents it, so no tenant route can be missing from this check.
    let covered: Vec<_> = table.iter().map(|(m, p, _, _)| (*m, *p)).collect();
    let tenant_routes = read_api::http::tenant_routes();
    assert!(tenant_routes.len() >= TENANT_ROUTES_AT_LEAST);
    for (method, path) in &tenant_routes {
        let route = (method.as_str(), path.as_str());
        if TESTED_ELSEWHERE.contains(&route) {
            continue;
        }
        assert!(
            covered.contains(&route),
            "{route:?} is not in the isolation table"
        );
    }

    for (method, _, path, body) in &table {
        let method: Method = method.parse().unwrap();
        let resp = send(&app, method.clone(), path, body.as_ref(), &a).await;
        let status = resp.status();
        let text = resp.text().await.unwrap();
        for secret in [
            b_id.to_string(),
            b_owner.email.clone(),
            "agente@b.example".into(),
            "Olá de B".into(),
            b_conversation.to_string(),
            b_contact.into(),
            "Bia Secreta".into(),
            "Segredo de B".into(),
            b_ticket.clone(),
            "convidado@b.example".into(),
            b_invitation_id.clone(),
            b_notice.clone(),
        ] {
            assert!(
                !text.contains(&secret),
                "{method} {path} showed B's {secret}: {text}"
            );
        }
        assert!(
            status.is_success() || status.is_client_error(),
            "{method} {path}: {status}"
        );
        assert_eq!(
            snapshot_of_b(&app, &b).await,
            before,
            "{method} {path} changed tenant B"
        );
    }
    let b_agent_login = app
        .login("agente@b.example", b_agent["password"].as_str().unwrap())
        .await;
    assert_eq!(b_agent_login.status(), 200, "B's agent was disabled by A");
}

/// Tenant routes whose isolation has a test of its own: `GET /api/v1/stream` never ends, so
/// it cannot be called like the others (see `tests/api/stream.rs`).
const TESTED_ELSEWHERE: &[(&str, &str)] = &[("GET", "/api/v1/stream")];

/// The document had this many tenant operations when the table was written; fewer means the
/// tags, not the routes, went missing.
const TENANT_ROUTES_AT_LEAST: usize = 6;

/// `body` with a `tenant_id` field naming `tenant`, which the routes must ignore.
fn naming(tenant: Uuid, mut body: Value) -> Value {
    body["tenant_id"] = json!(tenant);
    body
}

#[tokio::test]
async fn tenant_routes_for_admins_are_forbidden_to_everyone_else() {
    let app = spawn_app().await;
    let tenant = Uuid::now_v7();
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for (method, path) in [
            (Method::POST, "/api/v1/admin/tenants".to_owned()),
            (Method::GET, "/api/v1/admin/tenants".to_owned()),
            (Method::GET, format!("/api/v1/admin/tenants/{tenant}")),
            (
                Method::POST,
                format!("/api/v1/admin/tenants/{tenant}/suspend"),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/tenants/{tenant}/reactivate"),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/tenants/{tenant}/reset-password"),
            ),
            (
                Method::GET,
                format!("/api/v1/admin/tenants/{tenant}/timeline"),
            ),
            (
                Method::GET,
                format!("/api/v1/admin/tenants/{tenant}/profile"),
            ),
            (Method::PATCH, format!("/api/v1/admin/tenants/{tenant}")),
            (Method::GET, "/api/v1/admin/reports/overview".to_owned()),
            // Reports export (issue 18, F45).
            (
                Method::GET,
                "/api/v1/admin/reports/export/tenants?format=xlsx".to_owned(),
            ),
        ] {
            let body =
                json!({"name": "x", "owner_email": "a@b.example", "plan": "p", "reason": "r"});
            let resp = send(&app, method.clone(), &path, Some(&body), &token).await;
            assert_eq!(resp.status(), 403, "{role} {method} {path}");
        }
    }
}
