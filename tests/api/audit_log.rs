use crate::helpers::{spawn_app, TestApp};
use aggregates::TenantCommand;
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

async fn register(app: &TestApp, name: &str) -> Uuid {
    let tenant = app.register_tenant(name, "segredo@cliente.example").await;
    app.tenant_command(
        tenant,
        TenantCommand::Suspend {
            reason: "unpaid".into(),
        },
    )
    .await;
    app.tenant_command(tenant, TenantCommand::Reactivate).await;
    tenant
}

#[tokio::test]
async fn an_auditor_pages_through_one_tenants_events_with_personal_data_still_sealed() {
    let app = spawn_app().await;
    let tenant = register(&app, "Loja A").await;
    register(&app, "Loja B").await;
    let (_, token) = app.signed_in(Role::Auditor).await;

    let first: Value = app
        .get_as(
            &format!("/api/v1/audit/events?tenant_id={tenant}&limit=2"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["TenantRegistered", "TenantSuspended"]);
    assert!(!first.to_string().contains("segredo@cliente.example"));
    assert!(first["items"][0]["payload"]["TenantRegistered"]["owner_email"]["$pii"].is_string());
    assert_eq!(first["items"][0]["metadata"]["actor_id"], "admin-1");

    let cursor = first["next_cursor"].as_i64().unwrap();
    let second: Value = app
        .get_as(
            &format!("/api/v1/audit/events?tenant_id={tenant}&limit=2&cursor={cursor}"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["event_type"], "TenantReactivated");
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn the_whole_selection_streams_as_ndjson() {
    let app = spawn_app().await;
    register(&app, "Loja A").await;
    register(&app, "Loja B").await;
    let (_, token) = app.signed_in(Role::Admin).await;
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/audit/events?event_type=TenantSuspended",
            app.address
        ))
        .bearer_auth(&token)
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = resp.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|e| e["event_type"] == "TenantSuspended"));
}

#[tokio::test]
async fn the_event_log_is_for_auditors_and_bad_filters_are_422() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/audit/events").await.status(), 401);
    let (_, agent) = app.signed_in(Role::Agent).await;
    assert_eq!(
        app.get_as("/api/v1/audit/events", &agent).await.status(),
        403
    );
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let resp = app.get_as("/api/v1/audit/events?limit=0", &auditor).await;
    assert_eq!(resp.status(), 422);
    let resp = app
        .get_as("/api/v1/audit/events?aggregate_type=user", &auditor)
        .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "unknown_aggregate_type"
    );
}

#[tokio::test]
async fn the_ndjson_download_is_an_attachment_of_the_filtered_selection_with_personal_fields_sealed(
) {
    let app = spawn_app().await;
    let tenant = register(&app, "Loja A").await;
    register(&app, "Loja B").await;
    let path = format!("/api/v1/audit/events?tenant_id={tenant}");
    let ndjson = |token: String| {
        app.client
            .get(format!("{}{path}", app.address))
            .bearer_auth(token)
            .header("accept", "application/x-ndjson")
            .send()
    };
    let (_, owner) = app.signed_in(Role::Owner).await;
    assert_eq!(ndjson(owner).await.unwrap().status(), 403);

    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let resp = ndjson(auditor).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"events.ndjson\""
    );
    let text = resp.text().await.unwrap();
    assert!(!text.contains("segredo@cliente.example"));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = lines
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    // The download is traced before its first line leaves, so its own trace is in it.
    assert_eq!(
        types,
        [
            "TenantRegistered",
            "TenantSuspended",
            "TenantReactivated",
            "AdminActionRecorded"
        ]
    );
    assert!(lines[..3]
        .iter()
        .all(|e| e["aggregate_id"] == tenant.to_string()));
    assert_eq!(lines[3]["metadata"]["tenant_id"], tenant.to_string());
    assert!(lines[3].to_string().contains("download_audit_events"));
    assert!(lines[0]["payload"]["TenantRegistered"]["owner_email"]["$pii"].is_string());
}

#[tokio::test]
async fn the_event_types_are_listed_by_aggregate_for_auditors_and_admins_only() {
    let app = spawn_app().await;
    let path = "/api/v1/audit/event-types";
    assert_eq!(app.get(path).await.status(), 401);
    for role in [Role::Owner, Role::Agent] {
        let (_, token) = app.signed_in(role).await;
        assert_eq!(app.get_as(path, &token).await.status(), 403, "{role}");
    }
    let (_, admin) = app.signed_in(Role::Admin).await;
    assert_eq!(app.get_as(path, &admin).await.status(), 200);
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let items: Vec<Value> = app.get_as(path, &auditor).await.json().await.unwrap();
    assert_eq!(items.len(), schemas::EventType::ALL.len());
    for item in &items {
        let kind = schemas::EventType::parse(item["event_type"].as_str().unwrap()).unwrap();
        assert_eq!(item["aggregate_type"], kind.aggregate().as_str(), "{item}");
    }
    assert!(items.contains(&json!({"aggregate_type": "tenant", "event_type": "TenantRegistered"})));
    let doc = crate::openapi::document(&app).await;
    assert_eq!(doc["paths"][path]["get"]["tags"][0], "auditor");
    let ndjson = &doc["paths"]["/api/v1/audit/events"]["get"]["responses"]["200"]["content"];
    assert!(ndjson["application/x-ndjson"].is_object(), "{ndjson}");
}

// --- GET /api/v1/audit/log: actions and rejected attempts (F46) ---

/// The request id the server gave a response.
fn request_id(resp: &reqwest::Response) -> String {
    resp.headers()["x-request-id"].to_str().unwrap().to_owned()
}

/// Every entry of the feed for `query`, following the cursor.
async fn whole_log(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/audit/log?limit=2&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let resp = app.get_as(&path, token).await;
        assert_eq!(resp.status(), 200, "{path}");
        let page: Value = resp.json().await.unwrap();
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn entry_of<'a>(log: &'a [Value], request_id: &str) -> &'a Value {
    log.iter()
        .find(|e| e["request_id"] == request_id)
        .unwrap_or_else(|| panic!("request {request_id} is not in the log: {log:?}"))
}

#[tokio::test]
async fn a_wrong_password_a_forbidden_route_and_a_forged_token_are_logged_with_ip_and_request_id() {
    let app = spawn_app().await;
    let (agent, agent_token) = app.signed_in(Role::Agent).await;

    let wrong = app.login(&agent.email, "not the password at all").await;
    assert_eq!(wrong.status(), 401);
    let forbidden = app.get_as("/api/v1/admin/tenants", &agent_token).await;
    assert_eq!(forbidden.status(), 403);
    let forged = app
        .get_as(
            "/api/v1/admin/ip-blocks",
            "eyJhbGciOiJIUzI1NiJ9.e30.Zm9yZ2Vk",
        )
        .await;
    assert_eq!(forged.status(), 401);

    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let log = whole_log(&app, &auditor, "kind=rejected").await;
    assert!(log.iter().all(|e| e["kind"] == "rejected"));

    let e = entry_of(&log, &request_id(&wrong));
    assert_eq!(e["client_ip"], "127.0.0.1");
    assert_eq!(e["status"], 401);
    assert_eq!(
        (&e["method"], &e["path"]),
        (&json!("POST"), &json!("/api/v1/auth/login"))
    );
    assert!(e["actor_id"].is_null());

    let e = entry_of(&log, &request_id(&forbidden));
    assert_eq!(e["client_ip"], "127.0.0.1");
    assert_eq!(e["status"], 403);
    assert_eq!(e["path"], "/api/v1/admin/tenants");
    assert_eq!(e["actor_id"], agent.id.to_string());
    assert_eq!(e["actor_kind"], "agent");
    assert!(e["tenant_id"].is_string());
    assert_eq!(e["code"], "forbidden");

    let e = entry_of(&log, &request_id(&forged));
    assert_eq!(e["client_ip"], "127.0.0.1");
    assert_eq!(e["status"], 401);
    assert_eq!(e["path"], "/api/v1/admin/ip-blocks");
    assert!(e["actor_id"].is_null());
    assert!(e["reason"].as_str().unwrap().contains("invalid or expired"));
}

#[tokio::test]
async fn an_action_is_logged_with_its_actor_tenant_request_id_and_ip() {
    let app = spawn_app().await;
    let (admin, admin_token) = app.signed_in(Role::Admin).await;
    let created = app
        .post_json(
            "/api/v1/admin/tenants",
            &json!({"name": "Padaria", "owner_email": "dono@padaria.example", "plan": "pro"}),
            Some(&admin_token),
        )
        .await;
    assert_eq!(created.status(), 201);
    let rid = request_id(&created);
    let tenant = created.json::<Value>().await.unwrap()["tenant_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let log = whole_log(&app, &auditor, &format!("kind=action&tenant={tenant}")).await;
    let types: Vec<&str> = log
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"TenantRegistered"), "{types:?}");
    for e in &log {
        assert_eq!(e["kind"], "action");
        assert_eq!(e["request_id"], rid.as_str());
        assert_eq!(e["client_ip"], "127.0.0.1");
        assert_eq!(e["actor_id"], admin.id.to_string());
        assert_eq!(e["actor_kind"], "admin");
        assert_eq!(e["tenant_id"], tenant.as_str());
    }
}

#[tokio::test]
async fn the_log_interleaves_actions_and_rejections_in_time_order_and_filters_by_actor() {
    let app = spawn_app().await;
    let (agent, agent_token) = app.signed_in(Role::Agent).await;
    let tenant = register(&app, "Loja A").await;
    let refused = app.get_as("/api/v1/admin/tenants", &agent_token).await;
    assert_eq!(refused.status(), 403);
    app.tenant_command(
        tenant,
        TenantCommand::Suspend {
            reason: "again".into(),
        },
    )
    .await;

    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let all = whole_log(&app, &auditor, "").await;
    let ats: Vec<&str> = all.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        ats.iter().map(|a| a.parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "not in time order");
    let kinds: Vec<&str> = all.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let refusal = kinds.iter().position(|k| *k == "rejected").unwrap();
    assert!(kinds[..refusal].contains(&"action") && kinds[refusal..].contains(&"action"));

    let by_agent = whole_log(&app, &auditor, &format!("actor={}", agent.id)).await;
    assert_eq!(by_agent.len(), 1);
    assert_eq!(by_agent[0]["request_id"], request_id(&refused).as_str());
    let by_admin = whole_log(&app, &auditor, "actor=admin-1&kind=action").await;
    assert_eq!(
        by_admin.len(),
        4,
        "registered, suspended, reactivated, suspended"
    );

    let later: chrono::DateTime<chrono::Utc> =
        all.last().unwrap()["at"].as_str().unwrap().parse().unwrap();
    let to =
        (later + chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let from = (later + chrono::Duration::microseconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let window = format!("from={}&to={}", urlencode(&from), urlencode(&to));
    assert!(whole_log(&app, &auditor, &window).await.is_empty());
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn the_audit_log_is_for_auditors_and_admins_only() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/audit/log").await.status(), 401);
    for role in [Role::Agent, Role::Owner] {
        let (_, token) = app.signed_in(role).await;
        let resp = app.get_as("/api/v1/audit/log", &token).await;
        assert_eq!(resp.status(), 403, "{role}");
    }
    for role in [Role::Auditor, Role::Admin] {
        let (_, token) = app.signed_in(role).await;
        let resp = app.get_as("/api/v1/audit/log", &token).await;
        assert_eq!(resp.status(), 200, "{role}");
    }
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let bad = app.get_as("/api/v1/audit/log?cursor=nope", &auditor).await;
    assert_eq!(bad.json::<Value>().await.unwrap()["code"], "invalid_cursor");
}

#[tokio::test]
async fn an_auditor_can_change_nothing() {
    let app = spawn_app().await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let doc = crate::openapi::document(&app).await;
    let changing: Vec<_> = crate::openapi::operations(&doc)
        .into_iter()
        .filter(|op| op.method != Method::GET && op.method != Method::HEAD)
        // The auditor's own account (password, sign-out) is theirs to change.
        .filter(|op| !op.tagged("auth"))
        // Provider webhooks take no user token (a signature authenticates them), so a
        // token cannot lend the auditor anything there; their own tests check refusals.
        .filter(|op| {
            op.spec["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
        })
        .collect();
    assert!(changing.len() >= 10, "too few operations to be the API");
    for op in changing {
        let path = op.concrete_path();
        let resp = app
            .client
            .request(op.method.clone(), format!("{}{}", app.address, path))
            .bearer_auth(&auditor)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{} {}", op.method, op.template);
    }
}

#[tokio::test]
async fn a_replay_of_projections_leaves_rejected_attempts_alone() {
    let app = spawn_app().await;
    let (_, agent) = app.signed_in(Role::Agent).await;
    let refused = app.get_as("/api/v1/admin/tenants", &agent).await;
    assert_eq!(refused.status(), 403);
    let (_, admin) = app.signed_in(Role::Admin).await;
    for p in app
        .get_as("/api/v1/admin/projections", &admin)
        .await
        .json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
    {
        if p["replayable"] == true {
            let name = p["name"].as_str().unwrap();
            let resp = app
                .post_json(
                    &format!("/api/v1/admin/projections/{name}/replay"),
                    &json!({}),
                    Some(&admin),
                )
                .await;
            assert_eq!(resp.status(), 200, "replaying {name}");
        }
    }
    let log = whole_log(&app, &admin, "kind=rejected").await;
    entry_of(&log, &request_id(&refused));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_log_keeps_the_address_the_proxy_saw() {
    let app = crate::helpers::spawn_app_with(|c| c.trust_proxy = true).await;
    let forwarded = "198.51.100.1, 203.0.113.9";
    let (_, agent) = app.signed_in(Role::Agent).await;
    let refused = app
        .client
        .get(format!("{}/api/v1/admin/tenants", app.address))
        .bearer_auth(&agent)
        .header("x-forwarded-for", forwarded)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let (_, admin) = app.signed_in(Role::Admin).await;
    let created = app
        .client
        .post(format!("{}/api/v1/admin/tenants", app.address))
        .bearer_auth(&admin)
        .header("x-forwarded-for", forwarded)
        .json(&json!({"name": "Oficina", "owner_email": "dono@oficina.example", "plan": "pro"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let log = whole_log(&app, &admin, "").await;
    for resp in [&refused, &created] {
        let entries: Vec<&Value> = log
            .iter()
            .filter(|e| e["request_id"] == request_id(resp))
            .collect();
        assert!(!entries.is_empty(), "{} is not logged", request_id(resp));
        for e in entries {
            assert_eq!(e["client_ip"], "203.0.113.9", "{e}");
        }
    }
}
