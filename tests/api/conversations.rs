//! The conversations API: the list with its filters, search and cursor, one conversation
//! with its messages and delivery state, and personal data read through the keys.

use crate::helpers::{spawn_app, TestApp};
use aggregates::ConversationCommand;
use chrono::Utc;
use read_api::auth::Role;
use schemas::events::{DeliveryStatus, MessageContent};
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use serde_json::{json, Value};
use uuid::Uuid;

/// A registered tenant and a signed-in user of it with `role`.
pub async fn tenant_user(app: &TestApp, role: Role) -> (Uuid, Uuid, String) {
    let tenant = app
        .register_tenant(
            "Loja",
            &format!("dono-{}@loja.example", Uuid::now_v7().simple()),
        )
        .await;
    let email = format!("{role}-{}@loja.example", Uuid::now_v7().simple());
    let user = app.create_user(&email, role, Some(tenant)).await;
    let token = app.access_token(&user).await;
    (tenant, user.id, token)
}

fn metadata(tenant: Uuid, kind: ActorKind) -> CommandMetadata {
    CommandMetadata::new(
        Actor {
            kind,
            id: "test".into(),
        },
        Some(tenant),
    )
}

/// Runs `command` on the conversation of `tenant` with `contact`.
pub async fn converse(app: &TestApp, tenant: Uuid, contact: &str, command: ConversationCommand) {
    app.app
        .bus
        .conversations
        .execute(
            &conversation_id(tenant, contact).to_string(),
            command,
            &metadata(tenant, ActorKind::TenantUser),
        )
        .await
        .expect("the conversation command succeeds");
}

/// A customer's text message.
pub fn message(
    tenant: Uuid,
    contact: &str,
    name: &str,
    id: &str,
    text: &str,
) -> ConversationCommand {
    ConversationCommand::ReceiveMessage {
        tenant_id: tenant,
        contact_wa_id: Personal::from(contact),
        contact_name: Some(Personal::from(name)),
        provider_message_id: id.into(),
        content: MessageContent::Text(Personal::from(text)),
        sent_at: Utc::now(),
    }
}

/// `GET path` as `token`, expecting 200.
async fn read(app: &TestApp, path: &str, token: &str) -> Value {
    let resp = app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.json().await.unwrap()
}

/// `GET path` as `token`, whatever the status (while the projection catches up).
async fn peek(app: &TestApp, path: &str, token: &str) -> Value {
    app.get_as(path, token).await.json().await.unwrap()
}

/// Waits until the list shows `n` conversations.
async fn wait_for(app: &TestApp, token: &str, n: usize) {
    app.eventually(&format!("{n} conversations listed"), || async {
        read(app, "/api/v1/conversations", token).await["items"]
            .as_array()
            .is_some_and(|items| items.len() == n)
    })
    .await;
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn owners_and_agents_see_their_conversations_with_contact_and_last_message_opened() {
    let app = spawn_app().await;
    let (tenant, _, owner) = tenant_user(&app, Role::Owner).await;
    let agent_user = app
        .create_user("agente@loja.example", Role::Agent, Some(tenant))
        .await;
    let agent = app.access_token(&agent_user).await;
    converse(
        &app,
        tenant,
        "5511988887777",
        message(tenant, "5511988887777", "Ana", "w1", "Oi, tem horário?"),
    )
    .await;
    wait_for(&app, &owner, 1).await;

    for token in [&owner, &agent] {
        let page = read(&app, "/api/v1/conversations", token).await;
        let item = &page["items"][0];
        assert_eq!(item["id"], json!(conversation_id(tenant, "5511988887777")));
        assert_eq!(item["status"], "ai_active");
        assert_eq!(
            item["contact"],
            json!({"phone": "5511988887777", "name": "Ana"})
        );
        assert_eq!(item["last_message"]["preview"], "Oi, tem horário?");
        assert_eq!(item["last_message"]["direction"], "inbound");
        assert_eq!(item["unanswered_count"], 1);
        assert!(item["window_ends_at"].is_string());
        assert!(page["next_cursor"].is_null());
    }
}

#[tokio::test]
async fn the_list_filters_by_status_and_agent_and_searches_by_name_or_number() {
    let app = spawn_app().await;
    let (tenant, owner_id, token) = tenant_user(&app, Role::Owner).await;
    for (contact, name) in [
        ("5511900000001", "Ana Souza"),
        ("5521900000002", "Bruno"),
        ("5531900000003", "Carla"),
    ] {
        converse(
            &app,
            tenant,
            contact,
            message(tenant, contact, name, &format!("w-{contact}"), "Oi"),
        )
        .await;
    }
    converse(
        &app,
        tenant,
        "5521900000002",
        ConversationCommand::RequestHuman {
            question: Personal::from("humano"),
        },
    )
    .await;
    converse(
        &app,
        tenant,
        "5531900000003",
        ConversationCommand::AssignAgent { agent_id: owner_id },
    )
    .await;
    let bruno = conversation_id(tenant, "5521900000002").to_string();
    let carla = conversation_id(tenant, "5531900000003").to_string();
    let ana = conversation_id(tenant, "5511900000001").to_string();
    app.eventually("the hand-off and the assignment are listed", || async {
        let page = read(&app, "/api/v1/conversations?status=awaiting_human", &token).await;
        let assigned = read(
            &app,
            &format!("/api/v1/conversations?agent={owner_id}"),
            &token,
        )
        .await;
        ids(&page) == [bruno.clone()] && ids(&assigned) == [carla.clone()]
    })
    .await;

    let unassigned = read(&app, "/api/v1/conversations?agent=none", &token).await;
    let mut unassigned = ids(&unassigned);
    unassigned.sort();
    let mut expected = vec![ana.clone(), bruno.clone()];
    expected.sort();
    assert_eq!(unassigned, expected);
    assert_eq!(
        ids(&read(&app, "/api/v1/conversations?q=SOUZA", &token).await),
        [ana]
    );
    assert_eq!(
        ids(&read(&app, "/api/v1/conversations?q=%2B55%2021%209", &token).await),
        [bruno]
    );
    assert!(ids(&read(&app, "/api/v1/conversations?q=zzz", &token).await).is_empty());
}

#[tokio::test]
async fn the_list_pages_by_cursor_newest_first_without_overlap() {
    let app = spawn_app().await;
    let (tenant, _, token) = tenant_user(&app, Role::Owner).await;
    let contacts = ["5511900000011", "5511900000012", "5511900000013"];
    for c in contacts {
        converse(
            &app,
            tenant,
            c,
            message(tenant, c, "X", &format!("w-{c}"), "Oi"),
        )
        .await;
    }
    wait_for(&app, &token, 3).await;

    let first = read(&app, "/api/v1/conversations?limit=2", &token).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = read(
        &app,
        &format!("/api/v1/conversations?limit=2&cursor={cursor}"),
        &token,
    )
    .await;
    assert!(second["next_cursor"].is_null());
    let mut seen = ids(&first);
    seen.extend(ids(&second));
    let newest_first: Vec<String> = contacts
        .iter()
        .rev()
        .map(|c| conversation_id(tenant, c).to_string())
        .collect();
    assert_eq!(seen, newest_first);
}

#[tokio::test]
async fn bad_filters_and_cursors_are_refused_with_a_code() {
    let app = spawn_app().await;
    let (_, _, token) = tenant_user(&app, Role::Owner).await;
    for (query, status, code) in [
        ("status=open", 422, "invalid_status"),
        ("agent=bob", 422, "invalid_agent"),
        ("limit=0", 422, "invalid_limit"),
        ("limit=many", 422, "invalid_limit"),
        ("cursor=not-a-cursor", 400, "invalid_cursor"),
    ] {
        let resp = app
            .get_as(&format!("/api/v1/conversations?{query}"), &token)
            .await;
        assert_eq!(resp.status(), status, "{query}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], code, "{query}");
    }
}

#[tokio::test]
async fn a_conversation_shows_its_messages_in_order_with_their_delivery_state() {
    let app = spawn_app().await;
    let (tenant, agent_id, token) = tenant_user(&app, Role::Owner).await;
    let contact = "5511977776666";
    converse(
        &app,
        tenant,
        contact,
        message(tenant, contact, "Ana", "w1", "Oi"),
    )
    .await;
    converse(
        &app,
        tenant,
        contact,
        ConversationCommand::RequestHuman {
            question: Personal::from("humano"),
        },
    )
    .await;
    converse(
        &app,
        tenant,
        contact,
        ConversationCommand::ReplyAsHuman {
            agent_id,
            text: Personal::from("Olá, Ana!"),
        },
    )
    .await;
    let id = conversation_id(tenant, contact);
    let path = format!("/api/v1/conversations/{id}");
    app.eventually("the reply is shown", || async {
        peek(&app, &path, &token).await["messages"]
            .as_array()
            .is_some_and(|m| m.len() == 3)
    })
    .await;
    // The sender (the local outbox here: no WhatsApp token) records the provider's id of
    // the reply; statuses then refer to that id.
    app.eventually("the reply is sent", || async {
        peek(&app, &path, &token).await["messages"][2]["provider_message_id"].is_string()
    })
    .await;
    let provider_id = read(&app, &path, &token).await["messages"][2]["provider_message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    converse(
        &app,
        tenant,
        contact,
        ConversationCommand::RecordDelivery {
            provider_message_id: provider_id.clone(),
            status: DeliveryStatus::Read,
            error: None,
        },
    )
    .await;
    app.eventually("the reply is read", || async {
        read(&app, &path, &token).await["messages"][2]["delivery"]["status"] == "read"
    })
    .await;

    let detail = read(&app, &path, &token).await;
    assert_eq!(detail["status"], "human_replied");
    assert!(detail["handed_off_at"].is_string());
    let shape: Vec<(Value, Value, Value)> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["direction"].clone(),
                m["author"].clone(),
                m["body"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (json!("inbound"), json!("customer"), json!("Oi")),
            (json!("outbound"), json!("system"), Value::Null),
            (json!("outbound"), json!("agent"), json!("Olá, Ana!")),
        ]
    );
    assert_eq!(detail["messages"][2]["agent_id"], json!(agent_id));
    assert_eq!(
        detail["messages"][2]["provider_message_id"],
        json!(provider_id)
    );

    let first = read(&app, &format!("{path}?limit=2"), &token).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more messages")
        .to_owned();
    let rest = read(&app, &format!("{path}?limit=2&cursor={cursor}"), &token).await;
    assert_eq!(first["messages"].as_array().unwrap().len(), 2);
    assert_eq!(rest["messages"].as_array().unwrap().len(), 1);
    assert_eq!(rest["messages"][0]["body"], "Olá, Ana!");
    assert!(rest["next_cursor"].is_null());
}

#[tokio::test]
async fn another_tenants_conversation_is_not_found() {
    let app = spawn_app().await;
    let (a, _, a_token) = tenant_user(&app, Role::Owner).await;
    let (b, _, b_token) = tenant_user(&app, Role::Owner).await;
    converse(
        &app,
        b,
        "5511955554444",
        message(b, "5511955554444", "Bia", "w1", "Segredo de B"),
    )
    .await;
    wait_for(&app, &b_token, 1).await;
    let b_conversation = conversation_id(b, "5511955554444");

    let resp = app
        .get_as(&format!("/api/v1/conversations/{b_conversation}"), &a_token)
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "conversation_not_found"
    );
    assert!(ids(&read(&app, "/api/v1/conversations", &a_token).await).is_empty());
    let _ = a;
}

#[tokio::test]
async fn platform_users_may_not_read_conversations() {
    let app = spawn_app().await;
    for role in [Role::Admin, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        let resp = app.get_as("/api/v1/conversations", &token).await;
        assert_eq!(resp.status(), 403, "{role}");
    }
    assert_eq!(app.get("/api/v1/conversations").await.status(), 401);
}

#[tokio::test]
async fn an_erased_contact_reads_as_erased_in_the_list_and_the_conversation() {
    let app = spawn_app().await;
    let (tenant, _, token) = tenant_user(&app, Role::Owner).await;
    let contact = "5511933332222";
    converse(
        &app,
        tenant,
        contact,
        message(tenant, contact, "Joana", "w1", "Meu pedido chegou?"),
    )
    .await;
    wait_for(&app, &token, 1).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let erased = app
        .post_json(
            "/api/v1/admin/privacy/erasures",
            &json!({"tenant_id": tenant, "contact": contact, "reason": "titular pediu"}),
            Some(&admin),
        )
        .await;
    assert_eq!(erased.status(), 200);
    app.eventually("the contact is erased", || async {
        read(&app, "/api/v1/conversations", &token).await["items"][0]["contact"]["phone"]
            == "[erased]"
    })
    .await;

    let page = read(&app, "/api/v1/conversations", &token).await;
    assert_eq!(
        page["items"][0]["contact"],
        json!({"phone": "[erased]", "name": "[erased]"})
    );
    assert_eq!(page["items"][0]["last_message"]["preview"], "[erased]");
    assert!(ids(&read(&app, "/api/v1/conversations?q=joana", &token).await).is_empty());
    let id = conversation_id(tenant, contact);
    let detail = read(&app, &format!("/api/v1/conversations/{id}"), &token).await;
    assert_eq!(detail["messages"][0]["body"], "[erased]");
    let clear: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM conversations c WHERE to_jsonb(c)::text LIKE '%Joana%'
            OR to_jsonb(c)::text LIKE '%5511933332222%'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(clear, 0, "the read model kept the contact in clear");
}

#[tokio::test]
async fn a_replay_of_the_conversations_rebuilds_the_same_tables() {
    let app = spawn_app().await;
    let (tenant, agent_id, token) = tenant_user(&app, Role::Owner).await;
    let contact = "5511922221111";
    converse(
        &app,
        tenant,
        contact,
        message(tenant, contact, "Rita", "w1", "Oi"),
    )
    .await;
    converse(
        &app,
        tenant,
        contact,
        ConversationCommand::ReplyAsHuman {
            agent_id,
            text: Personal::from("Olá, Rita"),
        },
    )
    .await;
    let id = conversation_id(tenant, contact);
    let path = format!("/api/v1/conversations/{id}");
    // The sender (local outbox here) records the reply as sent: wait for that too, so
    // nothing changes the tables between the dump and the replay.
    app.eventually("the reply is shown, sent", || async {
        peek(&app, &path, &token).await["messages"]
            .as_array()
            .is_some_and(|m| m.len() == 2 && m[1]["provider_message_id"].is_string())
    })
    .await;
    let dump = || async {
        let mut rows = Vec::new();
        for table in [
            "conversations",
            "conversation_messages",
            "conversation_deliveries",
        ] {
            let sql = format!("SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1");
            let part: Vec<String> = sqlx::query_scalar(&sql)
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
            rows.extend(part);
        }
        rows
    };
    let before = dump().await;

    let (_, admin) = app.signed_in(Role::Admin).await;
    let replayed = app
        .post_json(
            "/api/v1/admin/projections/conversations/replay",
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(replayed.status(), 200);
    assert_eq!(dump().await, before);
    assert_eq!(
        read(&app, &path, &token).await["messages"][1]["body"],
        "Olá, Rita"
    );
}

#[tokio::test]
async fn the_inbox_filters_by_me_and_unassigned_and_list_rows_say_why_and_when_a_hand_off_began() {
    let app = spawn_app().await;
    let (tenant, agent_id, agent) = tenant_user(&app, Role::Agent).await;
    for (contact, name) in [
        ("5511900000021", "Dora"),
        ("5511900000022", "Edu"),
        ("5511900000023", "Fabi"),
    ] {
        converse(
            &app,
            tenant,
            contact,
            message(tenant, contact, name, &format!("w-{contact}"), "Oi"),
        )
        .await;
    }
    converse(
        &app,
        tenant,
        "5511900000021",
        ConversationCommand::RequestHuman {
            question: Personal::from("quero um humano"),
        },
    )
    .await;
    converse(
        &app,
        tenant,
        "5511900000022",
        ConversationCommand::RecordLowConfidence {
            confidence: 0.1,
            question: Personal::from("?"),
            reason: Some(schemas::events::HandoffReason::PlanQuotaReached),
        },
    )
    .await;
    converse(
        &app,
        tenant,
        "5511900000023",
        ConversationCommand::AssignAgent { agent_id },
    )
    .await;
    let dora = conversation_id(tenant, "5511900000021").to_string();
    let edu = conversation_id(tenant, "5511900000022").to_string();
    let fabi = conversation_id(tenant, "5511900000023").to_string();
    app.eventually("the assignment is listed", || async {
        ids(&read(&app, "/api/v1/conversations?agent=me", &agent).await) == [fabi.clone()]
    })
    .await;
    let page = read(&app, "/api/v1/conversations?agent=unassigned", &agent).await;
    let mut unassigned = ids(&page);
    unassigned.sort();
    let mut expected = vec![dora.clone(), edu.clone()];
    expected.sort();
    assert_eq!(unassigned, expected);

    let page = read(&app, "/api/v1/conversations", &agent).await;
    let row = |id: &str| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(row(&dora)["handoff_reason"], "customer_asked");
    assert!(row(&dora)["handed_off_at"].is_string());
    assert_eq!(row(&edu)["handoff_reason"], "plan_quota_reached");
    assert!(row(&fabi)["handoff_reason"].is_null());
    assert!(row(&fabi)["handed_off_at"].is_null());
    assert_eq!(row(&fabi)["unanswered_count"], 1);
    let detail = read(&app, &format!("/api/v1/conversations/{edu}"), &agent).await;
    assert_eq!(detail["handoff_reason"], "plan_quota_reached");
}
