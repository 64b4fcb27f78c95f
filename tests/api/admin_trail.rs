//! Every operator action leaves a trace (F46): the actions that write no event of their own
//! record an `AdminActionRecorded` event, shown in the auditors' log with the actor, the
//! client's address, the request, the target and how it ended, and sealed into the chain.

use crate::billing::fake::{app_with_stripe, stripe_tenant};
use crate::helpers::TestApp;
use crate::tenants::{onboard, send};
use aggregates::ConversationCommand;
use chrono::Utc;
use projections::audit::{BreakReason, VerifyReport};
use read_api::auth::Role;
use reqwest::Method;
use schemas::events::MessageContent;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const CONTACT: &str = "5511912345678";

/// One request and the trace it must leave.
struct Case {
    /// The action the log must show.
    action: &'static str,
    /// The caller's token.
    token: String,
    method: Method,
    path: String,
    body: Option<Value>,
    /// Asks for the NDJSON download.
    ndjson: bool,
    status: u16,
    target_kind: &'static str,
    /// The target's id: given, or read from the answer at this JSON pointer.
    target_id: Target,
    outcome: &'static str,
}

enum Target {
    Is(String),
    InAnswer(&'static str),
}

impl Case {
    fn new(action: &'static str, token: &str, method: Method, path: impl Into<String>) -> Self {
        Self {
            action,
            token: token.to_owned(),
            method,
            path: path.into(),
            body: None,
            ndjson: false,
            status: 200,
            target_kind: "",
            target_id: Target::Is(String::new()),
            outcome: "done",
        }
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn ndjson(mut self) -> Self {
        self.ndjson = true;
        self
    }

    fn answers(mut self, status: u16, outcome: &'static str) -> Self {
        self.status = status;
        self.outcome = outcome;
        self
    }

    fn on(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target_kind = kind;
        self.target_id = Target::Is(id.to_string());
        self
    }

    fn on_answered(mut self, kind: &'static str, pointer: &'static str) -> Self {
        self.target_kind = kind;
        self.target_id = Target::InAnswer(pointer);
        self
    }
}

/// What running a case left: its request id and answer.
struct Ran {
    request_id: String,
    answer: Value,
}

async fn run(app: &TestApp, case: &Case) -> Ran {
    let mut req = app
        .client
        .request(case.method.clone(), format!("{}{}", app.address, case.path))
        .bearer_auth(&case.token);
    if let Some(body) = &case.body {
        req = req.json(body);
    }
    if case.ndjson {
        req = req.header("accept", "application/x-ndjson");
    }
    let resp = req.send().await.expect("request sent");
    assert_eq!(
        resp.status().as_u16(),
        case.status,
        "{} {} ({})",
        case.method,
        case.path,
        case.action
    );
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let text = resp.text().await.unwrap();
    let answer = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ran { request_id, answer }
}

/// Every traced action of the log, as an auditor reads it.
async fn traced_actions(app: &TestApp, auditor: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let resp = app
            .get_as(
                &format!("/api/v1/audit/log?kind=action&limit=1000{cursor}"),
                auditor,
            )
            .await;
        assert_eq!(resp.status(), 200);
        let page: Value = resp.json().await.unwrap();
        out.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["event_type"] == "AdminActionRecorded")
                .cloned(),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

fn assert_traced(log: &[Value], case: &Case, ran: &Ran, actor: Uuid) {
    let what = format!("{} {} ({})", case.method, case.path, case.action);
    let entries: Vec<&Value> = log
        .iter()
        .filter(|e| e["request_id"] == ran.request_id.as_str())
        .collect();
    assert_eq!(entries.len(), 1, "one trace for {what}: {log:#?}");
    let e = entries[0];
    let target_id = match &case.target_id {
        Target::Is(id) => id.clone(),
        Target::InAnswer(pointer) => ran
            .answer
            .pointer(pointer)
            .unwrap()
            .as_str()
            .unwrap_or_else(|| panic!("{pointer} in the answer to {what}"))
            .to_owned(),
    };
    assert_eq!(e["action"], case.action, "{what}");
    assert_eq!(e["outcome"], case.outcome, "{what}");
    assert_eq!(e["target_kind"], case.target_kind, "{what}");
    assert_eq!(e["target_id"], target_id.as_str(), "{what}");
    assert_eq!(e["actor_id"], actor.to_string(), "{what}");
    assert_eq!(e["client_ip"], "127.0.0.1", "{what}");
    assert_eq!(e["aggregate_type"], "admin_action", "{what}");
    if case.outcome != "done" {
        assert!(e["detail"].is_string(), "a refusal says why: {what}");
    }
}

async fn tenant_with_a_contact(app: &TestApp) -> Uuid {
    let tenant = app.register_tenant("Ótica", "dono@otica.example").await;
    let md = CommandMetadata::new(
        Actor {
            kind: ActorKind::Customer,
            id: "whatsapp".into(),
        },
        Some(tenant),
    );
    app.app
        .bus
        .conversations
        .execute(
            &conversation_id(tenant, CONTACT).to_string(),
            ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from(CONTACT),
                contact_name: None,
                provider_message_id: "wamid.1".into(),
                content: MessageContent::Text(Personal::from("Olá")),
                sent_at: Utc::now(),
            },
            &md,
        )
        .await
        .unwrap();
    tenant
}

/// Parks the newest event for `aggregate_index`, as its runner would have.
async fn park_last(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO parked_events (consumer, position, tx_id, event_type, aggregate_type, aggregate_id, error, attempts)
         SELECT 'aggregate_index', position, tx_id::text::bigint, event_type, aggregate_type, aggregate_id, 'boom', 5
           FROM events ORDER BY position DESC LIMIT 1
         RETURNING position",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

/// The fake Stripe accepts changes to `sub_ok` and fails those to `sub_down`.
async fn stripe_answers(stripe: &wiremock::MockServer) {
    for (verb, status) in [("POST", 200), ("DELETE", 200)] {
        Mock::given(method(verb))
            .and(path("/v1/subscriptions/sub_ok"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({"id": "sub_ok", "object": "subscription"})),
            )
            .mount(stripe)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_down"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {}})))
        .mount(stripe)
        .await;
}

async fn projected_subscription(app: &TestApp, admin: &str, tenant: Uuid) {
    app.eventually("the subscription is projected", || async {
        app.get_as(
            &format!("/api/v1/admin/subscriptions?tenant={tenant}"),
            admin,
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
            .as_array()
            .is_some_and(|i| i.len() == 1)
    })
    .await;
}

#[tokio::test]
async fn given_each_traced_action_when_an_auditor_reads_the_log_then_it_shows_who_from_where_on_what_and_how_it_ended(
) {
    let (app, stripe) = app_with_stripe(|_| {}).await;
    stripe_answers(&stripe).await;
    let (admin, admin_token) = app.signed_in(Role::Admin).await;
    let (auditor, auditor_token) = app.signed_in(Role::Auditor).await;
    let (tenant, owner, owner_token) = onboard(&app, &admin_token, "Academia").await;
    let (free, _, _) = onboard(&app, &admin_token, "Cortesia").await;
    let paying = stripe_tenant(&app, "Loja", "pro", "cus_ok", "sub_ok").await;
    let down = stripe_tenant(&app, "Loja 2", "pro", "cus_down", "sub_down").await;
    let shop = tenant_with_a_contact(&app).await;
    for t in [paying, down, free] {
        projected_subscription(&app, &admin_token, t).await;
    }
    let parked = park_last(&app).await;
    let (a, o, au) = (&admin_token, &owner_token, &auditor_token);
    use Method as M;

    let first = vec![
        Case::new("create_platform_user", a, M::POST, "/api/v1/admin/users")
            .body(json!({"email": "auditora@atende.example", "role": "auditor"}))
            .answers(201, "done")
            .on_answered("user", "/id"),
        Case::new("create_platform_user", a, M::POST, "/api/v1/admin/users")
            .body(json!({"email": "chefe@atende.example", "role": "super_admin"}))
            .answers(403, "refused")
            .on("user", ""),
        Case::new("create_agent", o, M::POST, "/api/v1/users")
            .body(json!({"email": "agente@academia.example"}))
            .answers(201, "done")
            .on_answered("user", "/id"),
        Case::new("invite_user", o, M::POST, "/api/v1/users/invitations")
            .body(json!({"email": "convidada@academia.example"}))
            .answers(201, "done")
            .on_answered("invitation", "/id"),
        Case::new(
            "unblock_ip",
            a,
            M::DELETE,
            "/api/v1/admin/ip-blocks/192.0.2.7",
        )
        .answers(204, "done")
        .on("ip", "192.0.2.7"),
        Case::new(
            "unblock_ip",
            a,
            M::DELETE,
            "/api/v1/admin/ip-blocks/not-an-ip",
        )
        .answers(400, "refused")
        .on("ip", "not-an-ip"),
        Case::new(
            "reset_owner_password",
            a,
            M::POST,
            format!("/api/v1/admin/tenants/{tenant}/reset-password"),
        )
        .answers(202, "done")
        .on("user", owner.id),
        Case::new(
            "reset_owner_password",
            a,
            M::POST,
            format!("/api/v1/admin/tenants/{}/reset-password", Uuid::now_v7()),
        )
        .answers(404, "refused")
        .on("user", ""),
        Case::new(
            "export_contact_data",
            a,
            M::GET,
            format!("/api/v1/admin/privacy/export?tenant_id={shop}&contact={CONTACT}"),
        )
        .on("conversation", conversation_id(shop, CONTACT)),
        Case::new(
            "download_audit_events",
            au,
            M::GET,
            format!("/api/v1/audit/events?tenant_id={shop}"),
        )
        .ndjson()
        .on("event_log", format!("tenant_id={shop}")),
        Case::new(
            "erase_contact_data",
            a,
            M::POST,
            "/api/v1/admin/privacy/erasures",
        )
        .body(json!({"tenant_id": shop, "contact": "5500000000000", "reason": "pedido"}))
        .answers(404, "refused")
        .on("conversation", conversation_id(shop, "5500000000000")),
        Case::new(
            "erase_contact_data",
            a,
            M::POST,
            "/api/v1/admin/privacy/erasures",
        )
        .body(json!({"tenant_id": shop, "contact": CONTACT, "reason": "pedido"}))
        .on("conversation", conversation_id(shop, CONTACT)),
        Case::new(
            "retry_parked_event",
            a,
            M::POST,
            format!("/api/v1/admin/projections/aggregate_index/parked/{parked}/retry"),
        )
        .on("parked_event", format!("aggregate_index/{parked}")),
        Case::new(
            "retry_parked_event",
            a,
            M::POST,
            format!("/api/v1/admin/projections/aggregate_index/parked/{parked}/retry"),
        )
        .answers(404, "refused")
        .on("parked_event", format!("aggregate_index/{parked}")),
        Case::new(
            "replay_projection",
            a,
            M::POST,
            "/api/v1/admin/projections/aggregate_index/replay",
        )
        .on("projection", "aggregate_index"),
        Case::new(
            "replay_projection",
            a,
            M::POST,
            "/api/v1/admin/projections/event_chain/replay",
        )
        .answers(409, "refused")
        .on("projection", "event_chain"),
        Case::new(
            "cancel_subscription",
            a,
            M::POST,
            format!("/api/v1/admin/subscriptions/{paying}/cancel"),
        )
        .answers(202, "done")
        .on("subscription", paying),
        Case::new(
            "reactivate_subscription",
            a,
            M::POST,
            format!("/api/v1/admin/subscriptions/{paying}/reactivate"),
        )
        .answers(202, "done")
        .on("subscription", paying),
        Case::new(
            "cancel_subscription",
            a,
            M::POST,
            format!("/api/v1/admin/subscriptions/{free}/cancel"),
        )
        .answers(409, "refused")
        .on("subscription", free),
        Case::new(
            "cancel_subscription",
            a,
            M::POST,
            format!("/api/v1/admin/subscriptions/{down}/cancel"),
        )
        .answers(503, "failed")
        .on("subscription", down),
        Case::new(
            "replace_ticket_categories",
            a,
            M::PUT,
            "/api/v1/admin/tickets/categories",
        )
        .body(json!({"items": [{"key": "financeiro", "label": "Financeiro"}]}))
        .on("ticket_categories", ""),
        Case::new(
            "replace_ticket_categories",
            a,
            M::PUT,
            "/api/v1/admin/tickets/categories",
        )
        .body(json!({"items": []}))
        .answers(422, "refused")
        .on("ticket_categories", ""),
        Case::new(
            "replace_support_knowledge",
            a,
            M::PUT,
            "/api/v1/admin/support-knowledge",
        )
        .body(json!({"text": "Para conectar o WhatsApp, leia o QR code."}))
        .on("support_knowledge", ""),
        Case::new("open_my_workspace", a, M::POST, "/api/v1/admin/workspace")
            .on_answered("workspace", "/tenant_id"),
        // Reports export (issue 18, F45).
        Case::new(
            "export_report",
            a,
            M::GET,
            "/api/v1/admin/reports/export/tenants?format=csv&status=active",
        )
        .on("report", "tenants?status=active"),
        Case::new(
            "export_report",
            a,
            M::GET,
            "/api/v1/admin/reports/export/tenants?format=pdf",
        )
        .answers(422, "refused")
        .on("report", "tenants"),
    ];
    let mut ran = Vec::new();
    for case in &first {
        ran.push(run(&app, case).await);
    }
    let agent = ran[2].answer["id"].as_str().unwrap().to_owned();
    let invitation = ran[3].answer["id"].as_str().unwrap().to_owned();
    let then = vec![
        Case::new(
            "disable_agent",
            o,
            M::DELETE,
            format!("/api/v1/users/{agent}"),
        )
        .answers(204, "done")
        .on("user", &agent),
        Case::new(
            "revoke_invitation",
            o,
            M::DELETE,
            format!("/api/v1/users/invitations/{invitation}"),
        )
        .answers(204, "done")
        .on("invitation", &invitation),
        Case::new(
            "revoke_invitation",
            o,
            M::DELETE,
            format!("/api/v1/users/invitations/{invitation}"),
        )
        .answers(404, "refused")
        .on("invitation", &invitation),
    ];
    for case in &then {
        ran.push(run(&app, case).await);
    }

    let log = traced_actions(&app, au).await;
    for (case, ran) in first.iter().chain(&then).zip(&ran) {
        let actor = match case.token.as_str() {
            t if t == a => admin.id,
            t if t == o => owner.id,
            _ => auditor.id,
        };
        assert_traced(&log, case, ran, actor);
    }
    assert_eq!(log.len(), ran.len(), "nothing traced twice or unasked");
    let by_tenant = app
        .get_as(
            &format!("/api/v1/audit/log?kind=action&tenant={paying}"),
            au,
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let actions: Vec<&str> = by_tenant["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["cancel_subscription", "reactivate_subscription"],
        "a tenant's traces show under it"
    );
}

#[tokio::test]
async fn given_a_traced_action_when_its_event_is_edited_in_sql_then_verify_reports_the_break_there()
{
    let (app, _stripe) = app_with_stripe(|_| {}).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    onboard(&app, &admin, "Padaria").await;
    let resp = send(
        &app,
        Method::DELETE,
        "/api/v1/admin/ip-blocks/192.0.2.9",
        None,
        &admin,
    )
    .await;
    assert_eq!(resp.status(), 204);
    let position: i64 =
        sqlx::query_scalar("SELECT position FROM events WHERE aggregate_type = 'admin_action'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    app.eventually("the trace is sealed into the chain", || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM event_chain WHERE position = $1)",
        )
        .bind(position)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
    })
    .await;
    let verify = || async {
        let resp = app.get_as("/api/v1/audit/verify", &auditor).await;
        assert_eq!(resp.status(), 200);
        resp.json::<VerifyReport>().await.unwrap()
    };
    assert!(verify().await.intact);

    // Someone with database access turns the lifted block into a refusal.
    sqlx::query(
        "UPDATE events SET payload = jsonb_set(payload, '{AdminActionRecorded,outcome}', '\"refused\"')
          WHERE position = $1",
    )
    .bind(position)
    .execute(&app.db.pool)
    .await
    .unwrap();

    let report = verify().await;
    assert!(!report.intact);
    let link: i64 = sqlx::query_scalar("SELECT link_no FROM event_chain WHERE position = $1")
        .bind(position)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let b = report.first_break.expect("a break");
    assert_eq!((b.link_no, b.reason), (link, BreakReason::PayloadMismatch));
}
