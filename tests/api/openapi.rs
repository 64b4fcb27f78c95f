//! The OpenAPI document: generated from the code, it must describe every route that is
//! served, with its errors, and be what the table-driven tests walk.

use crate::helpers::{spawn_app, TestApp};
use read_api::request::Role;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

/// One documented operation.
pub struct Operation {
    pub method: Method,
    /// The path template, e.g. `/api/v1/users/{id}`.
    pub template: String,
    pub tags: Vec<String>,
    pub spec: Value,
}

impl Operation {
    /// The template with every `{param}` filled with a value of a plausible type.
    pub fn concrete_path(&self) -> String {
        let mut out = String::new();
        let mut rest = self.template.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').unwrap();
            out.push_str(&match &rest[open + 1..close] {
                "position" => "1".to_owned(),
                "ip" => "192.0.2.1".to_owned(),
                _ => Uuid::now_v7().to_string(),
            });
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }

    pub fn tagged(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

/// The document the server serves.
pub async fn document(app: &TestApp) -> Value {
    let resp = app.get("/api/openapi.json").await;
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("the document is JSON")
}

/// Every operation of the document.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let tags = spec["tags"]
                .as_array()
                .map(|t| t.iter().map(|t| t.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            out.push(Operation {
                method,
                template: template.clone(),
                tags,
                spec: spec.clone(),
            });
        }
    }
    out
}

#[tokio::test]
async fn the_api_serves_an_openapi_3_1_document_with_a_bearer_scheme() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "openapi {version}");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let error = &doc["components"]["schemas"]["ErrorBody"];
    let required: Vec<&str> = error["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, vec!["code", "message"]);
    assert!(error["properties"]["details"].is_object());
    assert!(operations(&doc).len() >= 30, "too few operations");
}

#[tokio::test]
async fn every_operation_has_its_own_operation_id() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut seen = std::collections::HashMap::new();
    for op in operations(&doc) {
        let id = op.spec["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{} {} has no operationId", op.method, op.template))
            .to_owned();
        let name = format!("{} {}", op.method, op.template);
        if let Some(other) = seen.insert(id.clone(), name.clone()) {
            panic!("{name} and {other} share the operationId {id}");
        }
    }
}

#[tokio::test]
async fn every_schema_the_document_refers_to_is_in_it() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let text = doc.to_string();
    let prefix = "\"#/components/schemas/";
    let mut rest = text.as_str();
    let mut checked = 0;
    while let Some(at) = rest.find(prefix) {
        rest = &rest[at + prefix.len()..];
        let name = &rest[..rest.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{name} is referred to but not defined"
        );
        checked += 1;
    }
    assert!(checked > 0, "no reference was checked");
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for op in operations(&doc) {
        let path = op.concrete_path();
        let resp = app
            .client
            .request(op.method.clone(), format!("{}{}", app.address, path))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        let status = resp.status();
        assert_ne!(status, 405, "{} {} is not routed", op.method, op.template);
        if status == 404 {
            // A handler's 404 says why in an error body; the router's own 404 is empty.
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(
                body["code"].is_string(),
                "{} {} is not routed",
                op.method,
                op.template
            );
        }
    }
}

#[tokio::test]
async fn every_operation_has_one_known_tag_and_documents_its_errors_with_the_error_schema() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let known = ["tenant", "admin", "auditor", "auth", "system", "webhooks"];
    for op in operations(&doc) {
        let name = format!("{} {}", op.method, op.template);
        assert_eq!(op.tags.len(), 1, "{name} has tags {:?}", op.tags);
        assert!(
            known.contains(&op.tags[0].as_str()),
            "{name}: {:?}",
            op.tags
        );
        // Health and the document never fail with an error body: health's 503 is its
        // report.
        if op.tagged("system") {
            continue;
        }
        let responses = op.spec["responses"].as_object().unwrap();
        let errors: Vec<&String> = responses
            .iter()
            .filter(|(status, _)| status.as_str() >= "400")
            .filter(|(_, r)| {
                r["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/ErrorBody"
            })
            .map(|(status, _)| status)
            .collect();
        assert!(!errors.is_empty(), "{name} documents no error response");
        let secured = op.spec["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        if secured {
            assert!(errors.iter().any(|s| *s == "401"), "{name} lacks its 401");
        }
        if op.tagged("tenant") || op.tagged("admin") || op.tagged("auditor") {
            assert!(secured, "{name} needs a token but declares no security");
            assert!(errors.iter().any(|s| *s == "403"), "{name} lacks its 403");
        }
    }
}

#[tokio::test]
async fn the_library_builds_the_same_document_the_server_serves() {
    let app = spawn_app().await;
    let served = document(&app).await;
    let built = serde_json::to_value(read_api::http::openapi_document()).unwrap();
    assert_eq!(served, built);
    let tenant = read_api::http::tenant_routes();
    assert!(tenant.contains(&("GET".to_owned(), "/api/v1/settings/bot".to_owned())));
}

#[tokio::test]
async fn every_operation_that_reads_a_query_string_documents_the_400_a_malformed_one_gets() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut undocumented = Vec::new();
    for op in operations(&doc) {
        // The stream's only query parameter is its token: a bad one is its 401.
        let takes_query = op.spec["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["in"] == "query" && p["name"] != "access_token")
        });
        // Meta's verification handshake answers Meta, not an API client.
        if !takes_query || op.tagged("webhooks") {
            continue;
        }
        let bad_request = &op.spec["responses"]["400"]["content"]["application/json"]["schema"];
        if bad_request["$ref"] != "#/components/schemas/ErrorBody" {
            undocumented.push(format!("{} {}", op.method, op.template));
        }
    }
    assert!(
        undocumented.is_empty(),
        "no JSON 400 documented: {undocumented:?}"
    );
}

#[tokio::test]
async fn a_malformed_query_string_gets_the_json_error_body_on_admin_and_auditor_lists() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let cases = [
        ("/api/v1/admin/usage?limit=many", &admin),
        ("/api/v1/admin/payments?tenant=not-a-uuid", &admin),
        (
            "/api/v1/admin/subscriptions?cancel_at_period_end=maybe",
            &admin,
        ),
        ("/api/v1/admin/quota-alerts?limit=-1", &admin),
        ("/api/v1/admin/reports/recent-tenants?limit=ten", &admin),
        (
            "/api/v1/admin/tickets?priority=1&awaiting_admin=perhaps",
            &admin,
        ),
        ("/api/v1/audit/events?from=yesterday", &auditor),
    ];
    for (path, token) in cases {
        let resp = app.get_as(path, token).await;
        assert_eq!(resp.status(), 400, "{path}");
        let body: Value = resp.json().await.expect("a JSON error body");
        assert_eq!(body["code"], "invalid_query", "{path}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}"
        );
    }
    // A well-formed query on the same route is answered.
    let resp = app.get_as("/api/v1/admin/usage?limit=5", &admin).await;
    assert_eq!(resp.status(), 200);
}

/// Rate limits (issue 19): every limited operation says so, and the lists of the others
/// name real operations.
#[tokio::test]
async fn every_rate_limited_operation_documents_its_429_with_retry_after() {
    use read_api::rate_limit::{PROVIDER_NUMBER_OPERATIONS, UNLIMITED_OPERATIONS};
    let app = spawn_app().await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    let ids: Vec<&str> = ops
        .iter()
        .map(|op| op.spec["operationId"].as_str().unwrap())
        .collect();
    for id in UNLIMITED_OPERATIONS
        .iter()
        .chain(&PROVIDER_NUMBER_OPERATIONS)
    {
        assert!(ids.contains(id), "{id} is listed but is no operation");
    }
    let mut undocumented = Vec::new();
    for (op, id) in ops.iter().zip(&ids) {
        if UNLIMITED_OPERATIONS.contains(id) {
            continue;
        }
        let limited = &op.spec["responses"]["429"];
        if limited["content"]["application/json"]["schema"]["$ref"]
            != "#/components/schemas/ErrorBody"
            || !limited["headers"]["Retry-After"].is_object()
        {
            undocumented.push(format!("{} {}", op.method, op.template));
        }
    }
    assert!(
        undocumented.is_empty(),
        "no 429 with Retry-After documented: {undocumented:?}"
    );
}

/// F46: an admin operation that changes something is either traced by its handler
/// (`read_api::trail::Action`) or records domain events that say who did it; a new admin
/// route must take a side here before it can ship. (The table-driven test in
/// `admin_trail.rs` proves each traced one really leaves its trace.)
#[test]
fn every_admin_operation_that_changes_something_is_traced_or_records_its_own_events() {
    use read_api::trail::{Action, DOMAIN_EVENT_OPERATIONS, OWN_VIEW_OPERATIONS};
    let doc = serde_json::to_value(read_api::http::openapi_document()).unwrap();
    let ops = operations(&doc);
    let id = |op: &Operation| op.spec["operationId"].as_str().unwrap().to_owned();
    let traced: Vec<&str> = Action::ALL.iter().map(|a| a.operation_id()).collect();
    let mut unaccounted = Vec::new();
    for op in ops
        .iter()
        .filter(|op| op.tagged("admin") && op.method != Method::GET)
    {
        let id = id(op);
        let own_view = OWN_VIEW_OPERATIONS.iter().any(|(op, _)| *op == id);
        if !traced.contains(&id.as_str())
            && !DOMAIN_EVENT_OPERATIONS.contains(&id.as_str())
            && !own_view
        {
            unaccounted.push(format!("{} {} ({id})", op.method, op.template));
        }
    }
    assert!(
        unaccounted.is_empty(),
        "admin operations that leave no trace: {unaccounted:?}; record them with \
         read_api::trail::Trail or list them in DOMAIN_EVENT_OPERATIONS (or, if they change \
         only the caller's own view, in OWN_VIEW_OPERATIONS)"
    );
    let documented: Vec<String> = ops.iter().map(id).collect();
    for op in &traced {
        assert!(
            documented.iter().any(|d| d == op),
            "{op} is traced but is no documented operation"
        );
    }
    let admin_writes: Vec<String> = ops
        .iter()
        .filter(|op| op.tagged("admin") && op.method != Method::GET)
        .map(id)
        .collect();
    for op in DOMAIN_EVENT_OPERATIONS {
        assert!(
            admin_writes.iter().any(|d| d == op),
            "{op} is listed but is no admin operation that changes something"
        );
    }
    for (op, why) in OWN_VIEW_OPERATIONS {
        assert!(
            admin_writes.iter().any(|d| d == op) && !why.is_empty(),
            "{op} is listed as changing only the caller's view but is no admin operation that \
             changes something, or says not why"
        );
    }
}
