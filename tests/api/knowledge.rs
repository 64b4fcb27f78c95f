//! Knowledge (F10, F11): the owner replaces it, tenant users read and search it, and a
//! search only ever sees the caller's tenant.

use crate::helpers::{spawn_app, TestApp, TestUser};
use crate::tenants::{onboard, send};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

const PADARIA: &str = "Horário de funcionamento: abrimos de segunda a sábado das 7h às 20h.\n\
    Entregas: entregamos pães e bolos no bairro por R$ 5,00.\n\
    Pagamento: aceitamos Pix e cartão.";

async fn put_knowledge(app: &TestApp, token: &str, text: &str) -> reqwest::Response {
    send(
        app,
        Method::PUT,
        "/api/v1/knowledge",
        Some(&json!({ "text": text })),
        token,
    )
    .await
}

async fn json_of(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

/// Waits until searches read `version` of the caller's knowledge.
async fn wait_indexed(app: &TestApp, token: &str, version: u64) {
    // The text's read model and the index are kept by different consumers: wait for both.
    app.eventually("the knowledge is projected and indexed", || async {
        let doc = json_of(app.get_as("/api/v1/knowledge", token).await).await;
        doc["version"] == json!(version) && doc["index"]["version"] == json!(version)
    })
    .await;
}

async fn search(app: &TestApp, token: &str, q: &str) -> Value {
    let resp = app
        .client
        .get(format!("{}/api/v1/knowledge/search", app.address))
        .query(&[("q", q), ("k", "3")])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    json_of(resp).await
}

async fn agent_of(app: &TestApp, owner: &str) -> String {
    let email = format!("agent-{}@atende.example", uuid::Uuid::now_v7().simple());
    let created = json_of(
        app.post_json("/api/v1/users", &json!({ "email": email }), Some(owner))
            .await,
    )
    .await;
    let agent = TestUser {
        id: created["id"].as_str().unwrap().parse().unwrap(),
        email,
        password: created["password"].as_str().unwrap().to_owned(),
    };
    app.access_token(&agent).await
}

#[tokio::test]
async fn an_owner_replaces_the_knowledge_and_it_is_read_back_and_searchable() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Padaria").await;
    let empty = json_of(app.get_as("/api/v1/knowledge", &owner).await).await;
    assert_eq!(
        (empty["version"].clone(), empty["text"].clone()),
        (json!(0), json!("")),
        "{empty}"
    );

    let put = put_knowledge(&app, &owner, PADARIA).await;
    assert_eq!(put.status(), 200);
    let saved = json_of(put).await;
    assert_eq!(
        saved,
        json!({ "version": 1, "char_count": PADARIA.chars().count() })
    );
    wait_indexed(&app, &owner, 1).await;
    let doc = json_of(app.get_as("/api/v1/knowledge", &owner).await).await;
    assert_eq!(doc["text"], PADARIA);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["index"]["chunk_count"], 1);
    assert_eq!(
        doc["index"]["indexed_by"],
        "memory+local-hashed-v1/1024+bm25-v1"
    );

    let found = search(&app, &owner, "Vocês aceitam pix?").await;
    let hit = &found["results"][0];
    assert_eq!(hit["knowledge_version"], 1);
    assert_eq!(hit["text"], PADARIA);
    let score = hit["score"].as_f64().unwrap();
    assert!(score > 0.0 && score <= 1.0, "{score}");

    // A second text is version 2; the same text again changes nothing.
    let saved = json_of(put_knowledge(&app, &owner, "Fechamos aos domingos.").await).await;
    assert_eq!(saved["version"], 2);
    let again = json_of(put_knowledge(&app, &owner, "Fechamos aos domingos.").await).await;
    assert_eq!(again["version"], 2);
    wait_indexed(&app, &owner, 2).await;
    let found = search(&app, &owner, "abrem no domingo?").await;
    assert_eq!(found["results"].as_array().unwrap().len(), 1);
    assert_eq!(found["results"][0]["text"], "Fechamos aos domingos.");
}

#[tokio::test]
async fn knowledge_over_50000_characters_is_unprocessable_with_its_count() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, _, owner) = onboard(&app, &admin, "Padaria").await;
    // Multibyte characters: 50,001 characters are 100,002 bytes.
    let resp = put_knowledge(&app, &owner, &"ç".repeat(50_001)).await;
    assert_eq!(resp.status(), 422);
    let body = json_of(resp).await;
    assert_eq!(body["code"], "knowledge_too_long");
    assert_eq!(
        body["details"],
        json!({ "char_count": 50_001, "max_chars": 50_000 })
    );
    let (state, _) = app.app.bus.tenants.load(&tenant.to_string()).await.unwrap();
    assert_eq!(state.knowledge_version(), 0);

    let resp = put_knowledge(&app, &owner, &"ç".repeat(50_000)).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn only_the_owner_replaces_the_knowledge_and_agents_read_and_search_it() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Padaria").await;
    let agent = agent_of(&app, &owner).await;
    assert_eq!(put_knowledge(&app, &agent, "Roubado.").await.status(), 403);
    assert_eq!(put_knowledge(&app, &admin, "Roubado.").await.status(), 403);
    assert_eq!(put_knowledge(&app, &owner, PADARIA).await.status(), 200);
    wait_indexed(&app, &agent, 1).await;
    let found = search(&app, &agent, "entregas no bairro").await;
    assert!(found["results"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Entregas"));
    let no_token = app.get("/api/v1/knowledge/search?q=oi").await;
    assert_eq!(no_token.status(), 401);
}

#[tokio::test]
async fn a_search_only_returns_the_callers_tenants_chunks() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (padaria, _, padaria_owner) = onboard(&app, &admin, "Padaria").await;
    let (oficina, _, oficina_owner) = onboard(&app, &admin, "Oficina").await;
    put_knowledge(&app, &padaria_owner, PADARIA).await;
    let oficina_text = "Horário de funcionamento: a oficina abre das 8h às 18h. Aceitamos Pix.";
    put_knowledge(&app, &oficina_owner, oficina_text).await;
    wait_indexed(&app, &padaria_owner, 1).await;
    wait_indexed(&app, &oficina_owner, 1).await;
    for (tenant, token, text) in [
        (padaria, &padaria_owner, PADARIA),
        (oficina, &oficina_owner, oficina_text),
    ] {
        let found = search(&app, token, "horário de funcionamento e pix").await;
        let results = found["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "{found}");
        assert_eq!(results[0]["text"], text);
        let id = results[0]["chunk_id"].as_str().unwrap();
        assert!(id.starts_with(&tenant.to_string()), "{id}");
    }
}

#[tokio::test]
async fn a_search_needs_a_question_and_a_sensible_k() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Padaria").await;
    for (query, status, code) in [
        ("q=%20", 422, "query_required"),
        ("q=oi&k=0", 422, "invalid_k"),
        ("q=oi&k=51", 422, "invalid_k"),
        ("q=oi&k=muitos", 400, "invalid_query"),
        ("k=3", 400, "invalid_query"),
    ] {
        let resp = app
            .get_as(&format!("/api/v1/knowledge/search?{query}"), &owner)
            .await;
        assert_eq!(resp.status(), status, "{query}");
        assert_eq!(json_of(resp).await["code"], code, "{query}");
    }
    // No knowledge yet: an empty answer, not an error.
    assert_eq!(search(&app, &owner, "oi").await["results"], json!([]));
}

async fn ask(app: &TestApp, token: &str, question: &str) -> (reqwest::StatusCode, Value) {
    let resp = app
        .post_json(
            "/api/v1/knowledge/ask",
            &json!({ "question": question }),
            Some(token),
        )
        .await;
    let status = resp.status();
    (status, json_of(resp).await)
}

async fn event_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn asking_the_bot_shows_its_answer_or_hand_off_and_records_nothing() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Padaria").await;
    put_knowledge(&app, &owner, PADARIA).await;
    wait_indexed(&app, &owner, 1).await;
    let agent = agent_of(&app, &owner).await;
    let events = event_count(&app).await;

    let (status, answer) = ask(&app, &agent, "vcs aceitam pix?").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["decision"], "answer", "{answer}");
    assert_eq!(answer["threshold"], 0.5);
    assert!(answer["confidence"].as_f64().unwrap() >= 0.5, "{answer}");
    assert_eq!(
        answer["answer"], "Pagamento: aceitamos Pix e cartão.",
        "one sentence, not the whole passage"
    );
    assert_eq!(answer["passages"][0]["text"], PADARIA);

    let (status, handoff) = ask(&app, &owner, "vcs consertam bicicletas?").await;
    assert_eq!(status, 200);
    assert_eq!(handoff["decision"], "handoff", "{handoff}");
    assert_eq!(handoff["reason"], "low_confidence");
    assert!(handoff.get("answer").is_none(), "{handoff}");
    assert!(handoff["confidence"].as_f64().unwrap() < 0.5);

    let (_, person) = ask(&app, &owner, "quero falar com um atendente").await;
    assert_eq!(person["reason"], "human_requested");

    let (status, blank) = ask(&app, &owner, "  ").await;
    assert_eq!(status, 422);
    assert_eq!(blank["code"], "question_required");

    assert_eq!(event_count(&app).await, events, "asking records no event");
    let cached: i64 = sqlx::query_scalar("SELECT count(*) FROM ai_response_cache")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(cached, 0, "nor a cached answer");
}

#[tokio::test]
async fn asking_the_bot_only_ever_reads_the_callers_knowledge() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, a) = onboard(&app, &admin, "Padaria A").await;
    let (_, _, b) = onboard(&app, &admin, "Oficina B").await;
    put_knowledge(
        &app,
        &b,
        "Trocamos o óleo do carro por R$ 120,00 em 30 minutos.",
    )
    .await;
    wait_indexed(&app, &b, 1).await;
    let (_, of_b) = ask(&app, &b, "quanto custa a troca de óleo?").await;
    assert_eq!(of_b["decision"], "answer", "{of_b}");

    let (status, of_a) = ask(&app, &a, "quanto custa a troca de óleo?").await;
    assert_eq!(status, 200);
    assert_eq!(of_a["decision"], "handoff", "{of_a}");
    assert_eq!(of_a["passages"], json!([]));
    assert!(!of_a.to_string().contains("R$ 120"), "{of_a}");
}

#[tokio::test]
async fn a_tenants_own_hand_off_keywords_replace_the_platforms_in_the_bots_decision() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, owner) = onboard(&app, &admin, "Padaria").await;
    let (_, by_default) = ask(&app, &owner, "quero um atendente").await;
    assert_eq!(by_default["reason"], "human_requested", "{by_default}");

    let mut settings = crate::settings::bot_settings("Oi!", 0.5);
    settings["handoff_keywords"] = json!([" gerente ", "Gerente", "", "falar com o dono"]);
    let put = send(
        &app,
        Method::PUT,
        "/api/v1/settings/bot",
        Some(&settings),
        &owner,
    )
    .await;
    assert_eq!(put.status(), 200);
    let kept = json!(["gerente", "falar com o dono"]);
    assert_eq!(json_of(put).await["handoff_keywords"], kept);
    let shown = json_of(app.get_as("/api/v1/settings/bot", &owner).await).await;
    assert_eq!(shown["handoff_keywords"], kept);

    let (_, own) = ask(&app, &owner, "posso falar com o gerente?").await;
    assert_eq!(own["reason"], "human_requested", "{own}");
    let (_, replaced) = ask(&app, &owner, "quero um atendente").await;
    assert_eq!(replaced["decision"], "handoff", "{replaced}");
    assert_eq!(replaced["reason"], "low_confidence", "{replaced}");

    settings["handoff_keywords"] = json!((0..31).map(|i| format!("k{i}")).collect::<Vec<_>>());
    let refused = send(
        &app,
        Method::PUT,
        "/api/v1/settings/bot",
        Some(&settings),
        &owner,
    )
    .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(json_of(refused).await["code"], "invalid_handoff_keywords");
}
