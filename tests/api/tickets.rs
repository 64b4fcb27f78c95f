//! Support tickets (F50): tenants open and follow tickets, the support AI answers from the
//! platform knowledge or hands off, admins work the queue, e-mails go out once.

use crate::helpers::{spawn_app, TestApp};
use crate::tenants::{onboard, send};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// The first bytes of a PNG: what the type is judged by.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

/// Platform knowledge with one answer: how to reconnect WhatsApp.
const KNOWLEDGE: &str = "Reconectar o WhatsApp: abra Configurações, escolha WhatsApp e clique \
                         em Reconectar número.";

/// A `multipart/form-data` body of `fields` and `files` (name, bytes); returns its content
/// type and bytes.
pub fn form(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("x{}", Uuid::now_v7().simple());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; \
                 filename=\"{file_name}\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Opens a ticket as `token`; returns the response.
pub async fn open_ticket(
    app: &TestApp,
    token: &str,
    subject: &str,
    message: &str,
    files: &[(&str, &[u8])],
) -> reqwest::Response {
    let (content_type, body) = form(
        &[
            ("subject", subject),
            ("category", "tecnico"),
            ("priority", "high"),
            ("message", message),
        ],
        files,
    );
    app.client
        .post(format!("{}/api/v1/tickets", app.address))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request sent")
}

/// Opens a ticket and returns its id.
pub async fn opened(app: &TestApp, token: &str, subject: &str, message: &str) -> Uuid {
    let resp = open_ticket(app, token, subject, message, &[]).await;
    assert_eq!(resp.status(), 201, "opening a ticket");
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().parse().unwrap()
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap_or(Value::Null)
}

/// The ticket as `token` sees it once the read model has it and `check` holds.
async fn ticket_when(
    app: &TestApp,
    path: &str,
    token: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    app.eventually(what, || async {
        let resp = app.get_as(path, token).await;
        resp.status() == 200 && check(&json_of(resp).await)
    })
    .await;
    json_of(app.get_as(path, token).await).await
}

/// How the support AI judged the ticket's messages, by sequence.
async fn ai_runs(app: &TestApp, ticket: Uuid) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT sequence, outcome FROM support_ai_runs WHERE ticket_id = $1 ORDER BY sequence",
    )
    .bind(ticket)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

async fn wait_for_runs(app: &TestApp, ticket: Uuid, n: usize) -> Vec<(i64, String)> {
    app.eventually("the support AI judged the messages", || async {
        ai_runs(app, ticket).await.len() >= n
    })
    .await;
    ai_runs(app, ticket).await
}

async fn with_knowledge(app: &TestApp, admin: &str) {
    let put = send(
        app,
        Method::PUT,
        "/api/v1/admin/support-knowledge",
        Some(&json!({ "text": KNOWLEDGE })),
        admin,
    )
    .await;
    assert_eq!(put.status(), 200);
    let body = json_of(put).await;
    assert_eq!(
        (body["version"].clone(), body["chunk_count"].clone()),
        (json!(1), json!(1))
    );
}

fn kinds(thread: &Value) -> Vec<String> {
    thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author_kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_tenant_opens_a_ticket_with_a_file_that_only_it_and_admins_can_read() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (a_id, _, a) = onboard(&app, &admin, "Tenant A").await;
    let (_, _, b) = onboard(&app, &admin, "Tenant B").await;
    let resp = open_ticket(
        &app,
        &a,
        "Bot parado",
        "O bot não responde.",
        &[("print.png", PNG)],
    )
    .await;
    assert_eq!(resp.status(), 201);
    let id = json_of(resp).await["id"].as_str().unwrap().to_owned();

    let path = format!("/api/v1/tickets/{id}");
    let thread = ticket_when(&app, &path, &a, "the ticket is listed", |_| true).await;
    assert_eq!(thread["ticket"]["subject"], "Bot parado");
    assert_eq!(thread["ticket"]["category"], "tecnico");
    assert_eq!(thread["ticket"]["priority"], "high");
    assert_eq!(thread["ticket"]["tenant_id"], json!(a_id));
    let first = &thread["messages"][0];
    assert_eq!(first["text"], "O bot não responde.");
    let file = &first["attachments"][0];
    assert_eq!(
        (
            file["name"].as_str(),
            file["content_type"].as_str(),
            file["size"].as_u64()
        ),
        (Some("print.png"), Some("image/png"), Some(PNG.len() as u64))
    );
    let list = json_of(app.get_as("/api/v1/tickets", &a).await).await;
    assert_eq!(list["items"][0]["id"], json!(id));
    let timeline = json_of(
        app.get_as(
            &format!("/api/v1/admin/tenants/{a_id}/timeline?limit=200"),
            &admin,
        )
        .await,
    )
    .await;
    let types: Vec<_> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["aggregate_id"] == json!(id))
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types[..2],
        ["TicketOpened", "TicketAttachmentAdded"],
        "{timeline}"
    );

    let url = file["url"].as_str().unwrap();
    for token in [&a, &admin] {
        let resp = app.get_as(url, token).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/png");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    }
    // A reply may carry files too, checked the same way.
    let reply_form = |text: &'static str, file: (&'static str, &'static [u8])| {
        let (content_type, body) = form(&[("text", text)], &[file]);
        app.client
            .post(format!("{}{path}/messages", app.address))
            .bearer_auth(&a)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let pdf: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n";
    let resp = reply_form("Segue a fatura.", ("fatura.pdf", pdf))
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = reply_form("Outro.", ("fatura2.pdf", b"<html>not a pdf</html>"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let thread = ticket_when(&app, &path, &a, "the reply and its file are shown", |t| {
        t["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["text"] == "Segue a fatura."))
    })
    .await;
    let reply = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "Segue a fatura.")
        .unwrap();
    assert_eq!(reply["attachments"][0]["content_type"], "application/pdf");
    assert_eq!(reply["attachments"][0]["name"], "fatura.pdf");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM ticket_attachments")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 2, "the disguised file was not kept");

    // Tenant B learns nothing: not the ticket, not the file, not the list entry.
    assert_eq!(app.get_as(url, &b).await.status(), 404);
    assert_eq!(app.get_as(&path, &b).await.status(), 404);
    let b_list = json_of(app.get_as("/api/v1/tickets", &b).await).await;
    assert_eq!(b_list["items"], json!([]));
    for action in ["messages", "close", "human"] {
        let resp = send(
            &app,
            Method::POST,
            &format!("{path}/{action}"),
            Some(&json!({"text": "intruso"})),
            &b,
        )
        .await;
        assert_eq!(resp.status(), 404, "{action}");
    }
}

#[tokio::test]
async fn an_oversized_or_disguised_file_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Tenant A").await;
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let resp = open_ticket(
        &app,
        &a,
        "Grande",
        "arquivo grande",
        &[("ok.png", PNG), ("big.png", &big)],
    )
    .await;
    assert_eq!(resp.status(), 413);
    assert_eq!(json_of(resp).await["code"], "payload_too_large");
    let exe = b"MZ\x90\x00\x03\x00\x00\x00 a program named like a picture";
    let resp = open_ticket(
        &app,
        &a,
        "Disfarce",
        "arquivo disfarçado",
        &[("ok.png", PNG), ("photo.png", exe)],
    )
    .await;
    assert_eq!(resp.status(), 415);
    assert_eq!(json_of(resp).await["code"], "unsupported_attachment_type");
    let six: Vec<(&str, &[u8])> = (0..6).map(|_| ("p.png", PNG)).collect();
    let resp = open_ticket(&app, &a, "Muitos", "muitos arquivos", &six).await;
    assert_eq!(resp.status(), 422);

    let (files, tickets): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM ticket_attachments),
                (SELECT count(*) FROM events WHERE aggregate_type = 'ticket')",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((files, tickets), (0, 0), "nothing is stored");
}

#[tokio::test]
async fn the_support_ai_answers_what_the_platform_knowledge_answers_and_hands_off_the_rest() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Tenant A").await;
    with_knowledge(&app, &admin).await;

    let answered = opened(
        &app,
        &a,
        "Reconectar WhatsApp",
        "Como reconectar o número do WhatsApp nas configurações?",
    )
    .await;
    assert_eq!(
        wait_for_runs(&app, answered, 1).await,
        [(1, "answered".to_owned())]
    );
    let path = format!("/api/v1/tickets/{answered}");
    let thread = ticket_when(&app, &path, &a, "the AI's answer is shown", |t| {
        t["messages"].as_array().is_some_and(|m| m.len() == 2)
    })
    .await;
    assert_eq!(kinds(&thread), ["tenant", "ai"]);
    assert_eq!(thread["messages"][1]["text"], KNOWLEDGE);
    assert_eq!(
        thread["messages"][1]["sources"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(thread["ticket"]["awaiting_admin"], false);
    assert_eq!(
        thread["ticket"]["unread"], 0,
        "reading it marked the answer read"
    );

    let handed = opened(
        &app,
        &a,
        "Nota fiscal",
        "A nota fiscal de março não chegou.",
    )
    .await;
    assert_eq!(
        wait_for_runs(&app, handed, 1).await,
        [(1, "handed_off".to_owned())]
    );
    let queue = "/api/v1/admin/tickets?awaiting_admin=true&category=tecnico";
    let waiting = ticket_when(&app, queue, &admin, "the ticket waits in the queue", |q| {
        q["items"].as_array().is_some_and(|i| i.len() == 1)
    })
    .await;
    assert_eq!(waiting["items"][0]["id"], json!(handed));
    assert_eq!(waiting["items"][0]["unread"], 1);
    let thread = json_of(app.get_as(&format!("/api/v1/tickets/{handed}"), &a).await).await;
    assert_eq!(kinds(&thread), ["tenant"]);

    // The tenant writes again on the answered ticket: the AI answers again.
    let again = send(
        &app,
        Method::POST,
        &format!("{path}/messages"),
        Some(&json!({"text": "E como reconectar o número do WhatsApp de novo?"})),
        &a,
    )
    .await;
    assert_eq!(again.status(), 204);
    let runs = wait_for_runs(&app, answered, 2).await;
    assert_eq!(runs[1].1, "answered");

    // A tenant may always ask for a person.
    let human = send(&app, Method::POST, &format!("{path}/human"), None, &a).await;
    assert_eq!(human.status(), 204);
    ticket_when(&app, &path, &a, "the ticket waits for an admin", |t| {
        t["ticket"]["awaiting_admin"] == true
    })
    .await;

    let metrics = json_of(app.get_as("/api/v1/admin/tickets/metrics", &admin).await).await;
    assert_eq!(metrics["total"]["tickets"], 2);
    assert!(
        metrics["total"]["ai_first_response_secs"].is_number(),
        "{metrics}"
    );
    assert_eq!(metrics["categories"][0]["category"], "tecnico");
    assert_eq!(metrics["ai_runs"], 3);
    assert_eq!(metrics["ai_tokens"], 0);
}

#[tokio::test]
async fn an_admin_reply_silences_the_ai_and_internal_notes_stay_with_the_admins() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Tenant A").await;
    with_knowledge(&app, &admin).await;
    let id = opened(
        &app,
        &a,
        "Nota fiscal",
        "A nota fiscal de março não chegou.",
    )
    .await;
    wait_for_runs(&app, id, 1).await;
    let admin_path = format!("/api/v1/admin/tickets/{id}");
    for (text, internal) in [
        ("Cliente antigo, prioridade.", true),
        ("Vamos verificar.", false),
    ] {
        let resp = send(
            &app,
            Method::POST,
            &format!("{admin_path}/messages"),
            Some(&json!({"text": text, "internal": internal})),
            &admin,
        )
        .await;
        assert_eq!(resp.status(), 204);
    }
    // Now a question the knowledge answers: the AI stays silent, an admin handles it.
    let resp = send(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{id}/messages"),
        Some(&json!({"text": "Como reconectar o número do WhatsApp nas configurações?"})),
        &a,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let runs = wait_for_runs(&app, id, 2).await;
    assert_eq!(runs[1], (5, "skipped".to_owned()));

    let tenant_view = ticket_when(
        &app,
        &format!("/api/v1/tickets/{id}"),
        &a,
        "the thread",
        |t| t["messages"].as_array().is_some_and(|m| m.len() == 3),
    )
    .await;
    assert_eq!(kinds(&tenant_view), ["tenant", "admin", "tenant"]);
    assert!(!tenant_view.to_string().contains("Cliente antigo"));
    let admin_view = json_of(app.get_as(&admin_path, &admin).await).await;
    assert_eq!(kinds(&admin_view), ["tenant", "admin", "admin", "tenant"]);
    assert_eq!(admin_view["messages"][1]["internal"], true);
    assert_eq!(
        admin_view["messages"][1]["text"],
        "Cliente antigo, prioridade."
    );
}

#[tokio::test]
async fn statuses_move_only_as_allowed_and_a_closed_ticket_refuses_messages() {
    let app = spawn_app().await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Tenant A").await;
    let id = opened(&app, &a, "Bot parado", "Não responde.").await;
    let admin_path = format!("/api/v1/admin/tickets/{id}");
    let status = |to: &'static str| {
        let app = &app;
        let admin = admin.clone();
        let path = format!("{admin_path}/status");
        async move {
            send(
                app,
                Method::POST,
                &path,
                Some(&json!({"status": to})),
                &admin,
            )
            .await
        }
    };
    let skip = status("resolved").await;
    assert_eq!(skip.status(), 409);
    assert_eq!(json_of(skip).await["code"], "invalid_transition");
    let bad = status("sideways").await;
    assert!(
        bad.status() == 400 || bad.status() == 422,
        "{}",
        bad.status()
    );

    let assign = send(
        &app,
        Method::POST,
        &format!("{admin_path}/assign"),
        Some(&json!({})),
        &admin,
    )
    .await;
    assert_eq!(assign.status(), 204);
    let not_admin = send(
        &app,
        Method::POST,
        &format!("{admin_path}/assign"),
        Some(&json!({"admin_id": Uuid::now_v7()})),
        &admin,
    )
    .await;
    assert_eq!(not_admin.status(), 422);
    for to in ["in_progress", "resolved"] {
        assert_eq!(status(to).await.status(), 204, "{to}");
    }
    let mine = format!(
        "/api/v1/admin/tickets?assignee={}&status=resolved",
        admin_user.id
    );
    ticket_when(
        &app,
        &mine,
        &admin,
        "the resolved ticket is the admin's",
        |q| q["items"][0]["id"] == json!(id),
    )
    .await;

    let close = send(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{id}/close"),
        None,
        &a,
    )
    .await;
    assert_eq!(close.status(), 204);
    let tenant_msg = send(
        &app,
        Method::POST,
        &format!("/api/v1/tickets/{id}/messages"),
        Some(&json!({"text": "mais uma coisa"})),
        &a,
    )
    .await;
    assert_eq!(tenant_msg.status(), 409);
    assert_eq!(json_of(tenant_msg).await["code"], "ticket_closed");
    let admin_msg = send(
        &app,
        Method::POST,
        &format!("{admin_path}/messages"),
        Some(&json!({"text": "oi"})),
        &admin,
    )
    .await;
    assert_eq!(admin_msg.status(), 409);
    assert_eq!(status("open").await.status(), 409);
    let unknown = send(
        &app,
        Method::GET,
        &format!("/api/v1/admin/tickets/{}", Uuid::now_v7()),
        None,
        &admin,
    )
    .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn admins_edit_the_categories_tenants_choose_from() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Tenant A").await;
    let list = json_of(app.get_as("/api/v1/tickets/categories", &a).await).await;
    let keys: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].clone())
        .collect();
    assert_eq!(
        keys,
        [json!("financeiro"), json!("tecnico"), json!("duvida")]
    );

    let new = json!({"items": [{"key": "financeiro", "label": "Financeiro"},
                               {"key": "integracoes", "label": "Integrações"}]});
    let by_tenant = send(
        &app,
        Method::PUT,
        "/api/v1/admin/tickets/categories",
        Some(&new),
        &a,
    )
    .await;
    assert_eq!(by_tenant.status(), 403);
    let repeated = json!({"items": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]});
    let resp = send(
        &app,
        Method::PUT,
        "/api/v1/admin/tickets/categories",
        Some(&repeated),
        &admin,
    )
    .await;
    assert_eq!(resp.status(), 422);
    let resp = send(
        &app,
        Method::PUT,
        "/api/v1/admin/tickets/categories",
        Some(&new),
        &admin,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let list = json_of(app.get_as("/api/v1/tickets/categories", &a).await).await;
    assert_eq!(list["items"][1]["label"], "Integrações");
    // `tecnico` is gone: a ticket cannot be opened in it any more.
    let resp = open_ticket(&app, &a, "Bot parado", "Não responde.", &[]).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(json_of(resp).await["code"], "unknown_category");
}

#[tokio::test]
async fn admins_hear_of_new_and_handed_off_tickets_and_the_owner_of_answers_each_once() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, a) = onboard(&app, &admin, "Tenant A").await;
    let locale = send(
        &app,
        Method::PUT,
        "/api/v1/settings/locale",
        Some(&json!({"locale": "en"})),
        &a,
    )
    .await;
    assert_eq!(locale.status(), 200);
    app.eventually("the directory knows the tenant's language", || async {
        sqlx::query_scalar::<_, String>("SELECT locale FROM tenant_directory WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&app.db.pool)
            .await
            .unwrap()
            .as_deref()
            == Some("en")
    })
    .await;
    with_knowledge(&app, &admin).await;
    let answered = opened(
        &app,
        &a,
        "Reconectar WhatsApp",
        "Como reconectar o número do WhatsApp nas configurações?",
    )
    .await;
    let handed = opened(
        &app,
        &a,
        "Nota fiscal",
        "A nota fiscal de março não chegou.",
    )
    .await;
    wait_for_runs(&app, answered, 1).await;
    wait_for_runs(&app, handed, 1).await;
    let reply = send(
        &app,
        Method::POST,
        &format!("/api/v1/admin/tickets/{handed}/messages"),
        Some(&json!({"text": "Reenviamos a nota."})),
        &admin,
    )
    .await;
    assert_eq!(reply.status(), 204);

    let mails = || async {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT template, recipient, locale, idempotency_key FROM mail_outbox
              WHERE template LIKE 'ticket%' ORDER BY template, idempotency_key",
        )
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        rows
    };
    app.eventually("every ticket mail is queued", || async {
        mails().await.len() == 5
    })
    .await;
    // Nothing more comes, however long the consumers run.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let rows = mails().await;
    let admins: Vec<_> = rows.iter().filter(|r| r.0 == "ticket_for_admins").collect();
    let owners: Vec<_> = rows.iter().filter(|r| r.0 == "ticket_answered").collect();
    assert_eq!((admins.len(), owners.len()), (3, 2), "{rows:?}");
    assert!(
        owners.iter().all(|r| r.2 == "en"),
        "the tenant's language: {rows:?}"
    );
    let owner_email: String =
        sqlx::query_scalar("SELECT email FROM users WHERE tenant_id = $1 AND role = 'owner'")
            .bind(tenant)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(owners.iter().all(|r| r.1 == owner_email));

    // A redelivered event queues nothing new.
    let event: (i64, String, i64, Value) = sqlx::query_as(
        "SELECT position, aggregate_id, sequence, payload FROM events
          WHERE aggregate_type = 'ticket' AND event_type = 'TicketOpened' ORDER BY position LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let stored = schemas::StoredEvent {
        position: event.0,
        tx_id: 0,
        recorded_at: chrono::Utc::now(),
        aggregate_type: "ticket".into(),
        aggregate_id: event.1,
        sequence: event.2,
        event_type: "TicketOpened".into(),
        event_version: "1".into(),
        payload: event.3,
        metadata: Default::default(),
    };
    let notifier = workers::support::TicketNotifier::new(Default::default());
    let mut conn = app.db.pool.acquire().await.unwrap();
    use stream::EventHandler;
    notifier.handle(&mut conn, &stored).await.unwrap();
    assert_eq!(mails().await, rows);
}

#[tokio::test]
async fn the_admin_ticket_routes_are_forbidden_to_tenants_and_auditors() {
    let app = spawn_app().await;
    let ticket = Uuid::now_v7();
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for (method, path) in [
            (Method::GET, "/api/v1/admin/tickets".to_owned()),
            (Method::GET, format!("/api/v1/admin/tickets/{ticket}")),
            (
                Method::POST,
                format!("/api/v1/admin/tickets/{ticket}/messages"),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/tickets/{ticket}/assign"),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/tickets/{ticket}/status"),
            ),
            (Method::GET, "/api/v1/admin/tickets/metrics".to_owned()),
            (Method::PUT, "/api/v1/admin/tickets/categories".to_owned()),
            (Method::GET, "/api/v1/admin/support-knowledge".to_owned()),
            (Method::PUT, "/api/v1/admin/support-knowledge".to_owned()),
        ] {
            let body = json!({"text": "x", "status": "open", "items": [], "internal": false});
            let resp = send(&app, method.clone(), &path, Some(&body), &token).await;
            assert_eq!(resp.status(), 403, "{role} {method} {path}");
        }
    }
}

/// The app with an OpenAI-compatible model at `llm` (a fake at the HTTP boundary).
async fn with_a_model(llm: &wiremock::MockServer) -> TestApp {
    let base = format!("{}/v1", llm.uri());
    crate::helpers::spawn_app_with(move |c| {
        c.background.ai.openai_api_key = Some("sk-support".into());
        c.background.ai.openai_base_url = base;
        c.background.ai.openai_model = "gpt-4o-mini".into();
    })
    .await
}

#[tokio::test]
async fn with_a_model_configured_the_support_ai_answers_in_its_words_once_then_from_the_cache() {
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let llm = MockServer::start().await;
    let words = "Para reconectar, vá em Configurações → WhatsApp → Reconectar número.";
    // The model is asked with the platform knowledge's passage, once for both tickets.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("Reconectar número"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-support",
            "object": "chat.completion",
            "created": 1_733_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": words, "refusal": null},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140}
        })))
        .expect(1)
        .mount(&llm)
        .await;
    let app = with_a_model(&llm).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Tenant A").await;
    with_knowledge(&app, &admin).await;
    let question = "Como reconectar o número do WhatsApp nas configurações?";

    let first = opened(&app, &a, "Reconectar WhatsApp", question).await;
    assert_eq!(
        wait_for_runs(&app, first, 1).await,
        [(1, "answered".to_owned())]
    );
    let thread = ticket_when(
        &app,
        &format!("/api/v1/tickets/{first}"),
        &a,
        "the model's answer is shown",
        |t| t["messages"].as_array().is_some_and(|m| m.len() == 2),
    )
    .await;
    assert_eq!(thread["messages"][1]["text"], words);

    let second = opened(&app, &a, "Reconectar WhatsApp", question).await;
    wait_for_runs(&app, second, 1).await;
    let modes: Vec<(String, i32)> = sqlx::query_as(
        "SELECT mode, tokens FROM support_ai_runs WHERE ticket_id = ANY($1) ORDER BY at",
    )
    .bind(vec![first, second])
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        modes,
        [
            ("gpt-4o-mini-2024-07-18".to_owned(), 140),
            ("cache".to_owned(), 0)
        ]
    );
}

#[tokio::test]
async fn when_no_model_answers_the_support_ai_hands_the_ticket_to_the_admins() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let llm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"message": "overloaded", "type": "server_error", "param": null, "code": null}
        })))
        .mount(&llm)
        .await;
    let app = with_a_model(&llm).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Tenant A").await;
    with_knowledge(&app, &admin).await;

    let ticket = opened(
        &app,
        &a,
        "Reconectar WhatsApp",
        "Como reconectar o número do WhatsApp nas configurações?",
    )
    .await;
    assert_eq!(
        wait_for_runs(&app, ticket, 1).await,
        [(1, "handed_off".to_owned())]
    );
}
