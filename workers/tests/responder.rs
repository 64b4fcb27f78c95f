//! The AI responder, given/when/then per rule: real PostgreSQL, wiremock as the model
//! providers (OpenAI chat completions shape), an in-test retriever.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod support;

use aggregates::{Clock, SystemClock, TenantCommand};
use knowledge::{KnowledgeError, RetrievedChunk, Retriever};
use schemas::plans::Pricing;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use stream::Handle;
use support::{env, eventually, md, Env};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workers::responder::{Limits, Provider, Responder, ResponderConfig};

const HOURS: &str = "Abrimos de segunda a sábado, das 8h às 18h.";

/// Knows one passage: questions mentioning "horário" find it (score 0.9), others nothing.
#[derive(Debug)]
struct Bakery;

#[async_trait::async_trait]
impl Retriever for Bakery {
    async fn search(
        &self,
        tenant_id: Uuid,
        query: &str,
        _k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        if !query.to_lowercase().contains("horário") {
            return Ok(Vec::new());
        }
        Ok(vec![
            RetrievedChunk {
                chunk_id: format!("{tenant_id}:1:0"),
                knowledge_version: 1,
                text: HOURS.into(),
                score: 0.9,
            },
            RetrievedChunk {
                chunk_id: format!("{tenant_id}:1:1"),
                knowledge_version: 1,
                text: "Aceitamos pix e cartão.".into(),
                score: 0.3,
            },
        ])
    }
}

fn completion(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 120, "completion_tokens": 8, "total_tokens": 128}
    }))
}

async fn model(answer: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(answer))
        .mount(&server)
        .await;
    server
}

fn provider(name: &str, server: &MockServer) -> Provider {
    Provider {
        name: name.into(),
        base_url: format!("{}/v1", server.uri()),
        model: "gpt-4o-mini".into(),
        api_key: "sk-test".into(),
    }
}

fn config(providers: Vec<Provider>) -> ResponderConfig {
    ResponderConfig {
        burst: Duration::ZERO,
        providers,
        provider_timeout: Duration::from_secs(5),
        poll: Duration::from_millis(50),
        ..ResponderConfig::default()
    }
}

fn start(env: &Env, config: ResponderConfig) -> (stream::Handle, Handle) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Responder::new(
        env.pool.clone(),
        env.bus.clone(),
        env.keys.clone(),
        Arc::new(Bakery),
        clock,
        config,
    )
    .start(&env.tail)
}

async fn setup() -> Env {
    env(Arc::new(SystemClock)).await
}

/// Waits until the responder has dealt with every message of the conversation.
async fn settled(env: &Env, conversation: &str) {
    eventually("the responder to settle the burst", || async {
        let pending: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT pending_through FROM ai_conversations WHERE conversation_id = $1",
        )
        .bind(conversation)
        .fetch_optional(&env.pool)
        .await
        .unwrap();
        matches!(pending, Some(None))
    })
    .await;
}

async fn requests(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_confident_question_is_answered_with_the_models_text() {
    let env = setup().await;
    let llm = model("Abrimos às 8h, de segunda a sábado.").await;
    let (runner, scheduler) = start(&env, config(vec![provider("primary", &llm)]));
    let tenant = env.tenant("basic").await;

    let c = env
        .receive(
            tenant,
            "5511900000001",
            "wamid.1",
            "Qual o horário de vocês?",
        )
        .await;

    eventually("an AI reply", || async {
        env.count(&c, "AiReplied").await == 1
    })
    .await;
    let reply = &env.bodies(&c, "AiReplied").await[0];
    assert_eq!(reply["text"], "Abrimos às 8h, de segunda a sábado.");
    assert_eq!(
        (reply["model"].as_str(), reply["tokens_in"].as_u64()),
        (Some("gpt-4o-mini"), Some(120))
    );
    assert_eq!(reply["run"]["provider"], "primary");
    assert_eq!(reply["run"]["cached"], false);
    assert!(reply["run"]["cost_usd"].as_f64().unwrap() > 0.0);
    assert!(reply["confidence"].as_f64().unwrap() >= 0.5);
    assert_eq!(reply["sources"][0], format!("{tenant}:1:0"));
    let sent = requests(&llm).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["model"], "gpt-4o-mini");
    let messages = sent[0]["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().unwrap();
    assert!(
        system.contains(HOURS) && system.contains("ONLY the facts"),
        "{system}"
    );
    assert_eq!(messages.last().unwrap()["role"], "user");
    assert_eq!(
        messages.last().unwrap()["content"],
        "Qual o horário de vocês?"
    );
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn the_model_remembers_the_last_ten_messages() {
    let env = setup().await;
    let llm = model("Das 8h às 18h.").await;
    let (runner, scheduler) = start(&env, config(vec![provider("primary", &llm)]));
    let tenant = env.tenant("basic").await;

    let c = schemas::conversation_id(tenant, "5511900000002").to_string();
    for round in 1..=6 {
        let text = format!("Pergunta {round}: qual o horário?");
        env.receive(tenant, "5511900000002", &format!("wamid.{round}"), &text)
            .await;
        eventually("the answer", || async {
            env.count(&c, "AiReplied").await == round
        })
        .await;
    }

    let sent = requests(&llm).await;
    let last = sent.last().unwrap()["messages"].as_array().unwrap().clone();
    // The system prompt, then the last 10 of 11 messages (6 questions, 5 answers so far):
    // the first question falls out.
    assert_eq!(last.len(), 1 + 10, "{last:?}");
    assert_eq!(last[1]["content"], "Das 8h às 18h.");
    assert_eq!(last[1]["role"], "assistant");
    assert_eq!(last[2]["content"], "Pergunta 2: qual o horário?");
    assert_eq!(last[10]["content"], "Pergunta 6: qual o horário?");
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_question_the_knowledge_does_not_cover_is_handed_to_a_human_and_the_owner_emailed() {
    let env = setup().await;
    let llm = model("não deveria ser chamado").await;
    let (runner, scheduler) = start(&env, config(vec![provider("primary", &llm)]));
    let tenant = env.tenant("basic").await;

    let c = env
        .receive(
            tenant,
            "5511900000003",
            "wamid.1",
            "Vocês vendem bolo de aniversário?",
        )
        .await;

    eventually("a hand-off", || async {
        env.count(&c, "ConfidenceLow").await == 1
    })
    .await;
    let low = &env.bodies(&c, "ConfidenceLow").await[0];
    assert_eq!(low["reason"], "low_confidence");
    assert_eq!(low["confidence"], 0.0);
    assert_eq!(low["question"], "Vocês vendem bolo de aniversário?");
    eventually("the hand-off e-mail", || async {
        env.mails("handed_off").await.len() == 1
    })
    .await;
    let (to, subject) = env.mails("handed_off").await.remove(0);
    assert!(
        to.ends_with("@padaria.example") && to.starts_with("dona+"),
        "{to}"
    );
    assert!(subject.contains("atendente"), "{subject}");
    assert!(requests(&llm).await.is_empty());
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_customer_asking_for_an_attendant_is_handed_to_a_human() {
    let env = setup().await;
    let llm = model("não deveria ser chamado").await;
    let (runner, scheduler) = start(&env, config(vec![provider("primary", &llm)]));
    let tenant = env.tenant("basic").await;

    let c = env
        .receive(
            tenant,
            "5511900000004",
            "wamid.1",
            "quero falar com um atendente",
        )
        .await;

    eventually("a request for a human", || async {
        env.count(&c, "HumanRequested").await == 1
    })
    .await;
    assert_eq!(
        env.bodies(&c, "HumanRequested").await[0]["question"],
        "quero falar com um atendente"
    );
    assert_eq!(env.count(&c, "AiReplied").await, 0);
    assert!(requests(&llm).await.is_empty());
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_burst_of_three_messages_gets_one_answer() {
    let env = setup().await;
    let llm = model("Das 8h às 18h; aceitamos pix.").await;
    let mut cfg = config(vec![provider("primary", &llm)]);
    cfg.burst = Duration::from_millis(1500);
    let (runner, scheduler) = start(&env, cfg);
    let tenant = env.tenant("basic").await;

    let c = env.receive(tenant, "5511900000005", "wamid.1", "Oi").await;
    env.receive(tenant, "5511900000005", "wamid.2", "qual o horário")
        .await;
    env.receive(tenant, "5511900000005", "wamid.3", "e aceitam pix?")
        .await;

    eventually("an AI reply", || async {
        env.count(&c, "AiReplied").await == 1
    })
    .await;
    settled(&env, &c).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(env.count(&c, "AiReplied").await, 1);
    let sent = requests(&llm).await;
    assert_eq!(sent.len(), 1);
    let texts: Vec<&str> = sent[0]["messages"].as_array().unwrap()[1..]
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Oi", "qual o horário", "e aceitam pix?"]);
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn when_the_first_provider_fails_the_second_answers() {
    let env = setup().await;
    let broken = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"message": "overloaded", "type": "server_error", "param": null, "code": null}
        })))
        .mount(&broken)
        .await;
    let backup = model("Abrimos às 8h.").await;
    let (runner, scheduler) = start(
        &env,
        config(vec![
            provider("first", &broken),
            provider("second", &backup),
        ]),
    );
    let tenant = env.tenant("basic").await;

    let c = env
        .receive(tenant, "5511900000006", "wamid.1", "Qual o horário?")
        .await;

    eventually("an AI reply", || async {
        env.count(&c, "AiReplied").await == 1
    })
    .await;
    let reply = &env.bodies(&c, "AiReplied").await[0];
    assert_eq!(
        (reply["text"].as_str(), reply["run"]["provider"].as_str()),
        (Some("Abrimos às 8h."), Some("second"))
    );
    // async-openai retries a 5xx three times (100 ms, doubling) before the next provider.
    assert_eq!(requests(&broken).await.len(), 4);
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn without_a_provider_the_answer_is_the_best_passage_as_it_is() {
    let env = setup().await;
    let (runner, scheduler) = start(&env, config(Vec::new()));
    let tenant = env.tenant("basic").await;

    let c = env
        .receive(tenant, "5511900000007", "wamid.1", "Qual o horário?")
        .await;

    eventually("an AI reply", || async {
        env.count(&c, "AiReplied").await == 1
    })
    .await;
    let reply = &env.bodies(&c, "AiReplied").await[0];
    assert_eq!(reply["text"], HOURS);
    assert_eq!(
        (reply["model"].as_str(), reply["run"]["provider"].as_str()),
        (Some("extractive"), Some("extractive"))
    );
    assert_eq!(
        (
            reply["tokens_in"].as_u64(),
            reply["run"]["cost_usd"].as_f64()
        ),
        (Some(0), Some(0.0))
    );
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn the_same_question_again_is_answered_from_the_cache_without_a_model_call() {
    let env = setup().await;
    let llm = model("Abrimos às 8h.").await;
    let (runner, scheduler) = start(&env, config(vec![provider("primary", &llm)]));
    let tenant = env.tenant("basic").await;
    let first = env
        .receive(tenant, "5511900000008", "wamid.1", "Qual o horário?")
        .await;
    eventually("the first answer", || async {
        env.count(&first, "AiReplied").await == 1
    })
    .await;

    let second = env
        .receive(tenant, "5511900000009", "wamid.1", "qual o HORÁRIO")
        .await;

    eventually("the second answer", || async {
        env.count(&second, "AiReplied").await == 1
    })
    .await;
    let reply = &env.bodies(&second, "AiReplied").await[0];
    assert_eq!(reply["text"], "Abrimos às 8h.");
    assert_eq!(
        (
            reply["run"]["provider"].as_str(),
            reply["run"]["cached"].as_bool()
        ),
        (Some("cache"), Some(true))
    );
    assert_eq!(requests(&llm).await.len(), 1);
    let hits: i64 =
        sqlx::query_scalar("SELECT sum(hits)::bigint FROM ai_response_cache WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(hits, 1);
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_used_up_plan_quota_hands_the_conversation_over_with_its_reason() {
    let env = setup().await;
    let llm = model("Abrimos às 8h.").await;
    let mut cfg = config(vec![provider("primary", &llm)]);
    cfg.pricing = Pricing::from_config(
        Some(r#"[{"id": "tiny", "name": "Tiny", "monthly_price_cents": 100, "currency": "brl", "monthly_ai_message_quota": 1}]"#),
        None,
    )
    .unwrap();
    let (runner, scheduler) = start(&env, cfg);
    let tenant = env.tenant("tiny").await;
    let first = env
        .receive(tenant, "5511900000010", "wamid.1", "Qual o horário?")
        .await;
    eventually("the first answer", || async {
        env.count(&first, "AiReplied").await == 1
    })
    .await;
    settled(&env, &first).await;

    let second = env
        .receive(tenant, "5511900000011", "wamid.1", "Qual o horário amanhã?")
        .await;

    eventually("a hand-off", || async {
        env.count(&second, "ConfidenceLow").await == 1
    })
    .await;
    assert_eq!(
        env.bodies(&second, "ConfidenceLow").await[0]["reason"],
        "plan_quota_reached"
    );
    assert_eq!(env.count(&second, "AiReplied").await, 0);
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_reached_request_limit_hands_over_and_80_percent_alerts_the_owner() {
    let env = setup().await;
    let llm = model("Abrimos às 8h.").await;
    let mut cfg = config(vec![provider("primary", &llm)]);
    cfg.limits = Limits {
        requests_per_hour: Some(1),
        tokens_per_day: None,
        cost_per_month_usd: None,
    };
    let (runner, scheduler) = start(&env, cfg);
    let tenant = env.tenant("basic").await;
    let first = env
        .receive(tenant, "5511900000012", "wamid.1", "Qual o horário?")
        .await;
    eventually("the first answer", || async {
        env.count(&first, "AiReplied").await == 1
    })
    .await;
    settled(&env, &first).await;
    eventually("the 80 % alert", || async {
        env.mails("ai_limit_near").await.len() == 1
    })
    .await;

    let second = env
        .receive(
            tenant,
            "5511900000013",
            "wamid.1",
            "E o horário de domingo?",
        )
        .await;

    eventually("a hand-off", || async {
        env.count(&second, "ConfidenceLow").await == 1
    })
    .await;
    assert_eq!(
        env.bodies(&second, "ConfidenceLow").await[0]["reason"],
        "request_limit_reached"
    );
    assert_eq!(requests(&llm).await.len(), 1);
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_suspended_tenant_or_one_without_a_subscription_gets_no_answer() {
    let env = setup().await;
    let llm = model("Abrimos às 8h.").await;
    let (runner, scheduler) = start(&env, config(vec![provider("primary", &llm)]));
    let suspended = env.tenant("basic").await;
    env.bus
        .tenants
        .execute(
            &suspended.to_string(),
            TenantCommand::Suspend {
                reason: "payment_overdue".into(),
            },
            &md(suspended),
        )
        .await
        .unwrap();
    let unsubscribed = env.unsubscribed_tenant("basic").await;

    let a = env
        .receive(suspended, "5511900000014", "wamid.1", "Qual o horário?")
        .await;
    let b = env
        .receive(unsubscribed, "5511900000015", "wamid.1", "Qual o horário?")
        .await;

    settled(&env, &a).await;
    settled(&env, &b).await;
    assert_eq!(env.event_types(&a).await, ["MessageReceived"]);
    assert_eq!(env.event_types(&b).await, ["MessageReceived"]);
    assert!(requests(&llm).await.is_empty());
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_replayed_or_redelivered_message_gets_no_second_reply() {
    let env = setup().await;
    let llm = model("Abrimos às 8h.").await;
    let (runner, scheduler) = start(&env, config(vec![provider("primary", &llm)]));
    let tenant = env.tenant("basic").await;
    let c = env
        .receive(tenant, "5511900000016", "wamid.1", "Qual o horário?")
        .await;
    eventually("the answer", || async {
        env.count(&c, "AiReplied").await == 1
    })
    .await;
    settled(&env, &c).await;
    scheduler.stop().await;
    runner.stop().await;

    // The provider redelivers the message, and the responder's state is lost and rebuilt
    // from the start of the log.
    env.receive(tenant, "5511900000016", "wamid.1", "Qual o horário?")
        .await;
    sqlx::query("DELETE FROM stream_checkpoints WHERE consumer = 'ai_responder'")
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("TRUNCATE ai_conversations, ai_memory, ai_usage")
        .execute(&env.pool)
        .await
        .unwrap();
    let (runner, scheduler) = start(&env, config(vec![provider("primary", &llm)]));

    eventually("the replay to schedule the burst", || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ai_usage")
            .fetch_one(&env.pool)
            .await
            .unwrap();
        n == 1
    })
    .await;
    settled(&env, &c).await;
    assert_eq!(
        env.event_types(&c).await,
        ["MessageReceived", "GreetingSent", "AiReplied"]
    );

    // A scheduler that crashed after recording the answer, before letting go of the burst:
    // the burst is claimed again, and the recorded answer is found by its key.
    let position: i64 = sqlx::query_scalar(
        "SELECT position FROM events WHERE aggregate_id = $1 AND event_type = 'MessageReceived'",
    )
    .bind(&c)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE ai_conversations SET answered_through = 0, pending_through = $2, due_at = now(),
             leased_until = NULL WHERE conversation_id = $1",
    )
    .bind(&c)
    .bind(position)
    .execute(&env.pool)
    .await
    .unwrap();
    settled(&env, &c).await;
    assert_eq!(
        env.event_types(&c).await,
        ["MessageReceived", "GreetingSent", "AiReplied"]
    );
    assert_eq!(requests(&llm).await.len(), 1);
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_cached_answer_is_served_for_seven_days_and_the_model_is_asked_again_after() {
    let clock = Arc::new(aggregates::FixedClock::new(chrono::Utc::now()));
    let env = env(clock.clone()).await;
    let llm = model("Abrimos às 8h.").await;
    let (runner, scheduler) = Responder::new(
        env.pool.clone(),
        env.bus.clone(),
        env.keys.clone(),
        Arc::new(Bakery),
        clock.clone(),
        config(vec![provider("primary", &llm)]),
    )
    .start(&env.tail);
    let tenant = env.tenant("basic").await;
    let first = env
        .receive(tenant, "5511900000031", "wamid.1", "Qual o horário?")
        .await;
    eventually("the first answer", || async {
        env.count(&first, "AiReplied").await == 1
    })
    .await;
    let ttl: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM ai_response_cache
          WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(ttl, 7.0 * 24.0 * 3600.0);

    // Six days and 23 hours later the cache still answers.
    clock.advance(chrono::Duration::days(7) - chrono::Duration::hours(1));
    let second = env
        .receive(tenant, "5511900000032", "wamid.1", "Qual o horário?")
        .await;
    eventually("the second answer", || async {
        env.count(&second, "AiReplied").await == 1
    })
    .await;
    assert_eq!(
        env.bodies(&second, "AiReplied").await[0]["run"]["cached"],
        true
    );
    assert_eq!(requests(&llm).await.len(), 1);

    // Past seven days the entry has expired: the model is asked again.
    clock.advance(chrono::Duration::hours(2));
    let third = env
        .receive(tenant, "5511900000033", "wamid.1", "Qual o horário?")
        .await;
    eventually("the third answer", || async {
        env.count(&third, "AiReplied").await == 1
    })
    .await;
    assert_eq!(
        env.bodies(&third, "AiReplied").await[0]["run"]["cached"],
        false
    );
    assert_eq!(requests(&llm).await.len(), 2);
    scheduler.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn a_short_follow_up_is_understood_from_the_previous_question() {
    let env = setup().await;
    let (runner, scheduler) = start(&env, config(Vec::new()));
    let tenant = env.tenant("basic").await;
    let c = env
        .receive(tenant, "5511900000041", "wamid.1", "Qual o horário?")
        .await;
    eventually("the first answer", || async {
        env.count(&c, "AiReplied").await == 1
    })
    .await;

    // Alone, "e no sábado?" names nothing the knowledge has; after the question about
    // opening hours it is a question about them.
    env.receive(tenant, "5511900000041", "wamid.2", "e no sábado?")
        .await;
    eventually("the follow-up's answer", || async {
        env.count(&c, "AiReplied").await == 2
    })
    .await;
    assert_eq!(env.bodies(&c, "AiReplied").await[1]["text"], HOURS);

    let alone = env
        .receive(tenant, "5511900000042", "wamid.1", "e no sábado?")
        .await;
    eventually("the hand-off of the same words alone", || async {
        env.count(&alone, "ConfidenceLow").await == 1
    })
    .await;
    assert_eq!(env.count(&c, "ConfidenceLow").await, 0);
    scheduler.stop().await;
    runner.stop().await;
}

// Plans managed by admins (issue 18).

/// Runs a plan command as an admin would, then brings the plan read model up to date.
async fn plan_command(env: &Env, plan: &str, command: aggregates::PlanCommand) {
    let admin = schemas::Actor {
        kind: schemas::ActorKind::Admin,
        id: Uuid::from_u128(3).to_string(),
    };
    env.bus
        .plans
        .execute(plan, command, &schemas::CommandMetadata::new(admin, None))
        .await
        .unwrap();
    stream::replay::replay(
        &stream::Tail::new(env.pool.clone()),
        Arc::new(projections::plans::PlanCatalogueModel),
    )
    .await
    .unwrap();
}

fn spec(id: &str, quota: i64) -> schemas::plans::PlanSpec {
    schemas::plans::PlanSpec {
        id: id.into(),
        name: id.into(),
        monthly_price_cents: 100,
        currency: "brl".into(),
        monthly_ai_message_quota: Some(quota),
        features: vec![],
        stripe_price_id: None,
    }
}

#[tokio::test]
async fn a_plan_an_admin_created_limits_answers_while_a_lowered_quota_spares_earlier_subscribers() {
    let env = setup().await;
    let llm = model("Abrimos às 8h.").await;
    let mut cfg = config(vec![provider("primary", &llm)]);
    cfg.pricing = Pricing::from_config(
        Some(r#"[{"id": "roomy", "name": "Roomy", "monthly_price_cents": 100, "currency": "brl", "monthly_ai_message_quota": 100}]"#),
        None,
    )
    .unwrap();
    let earlier = env.tenant("roomy").await;
    let admin = Uuid::from_u128(3);
    plan_command(
        &env,
        "roomy",
        aggregates::PlanCommand::Edit {
            spec: spec("roomy", 1),
            configured: true,
            admin_id: admin,
        },
    )
    .await;
    plan_command(
        &env,
        "gold",
        aggregates::PlanCommand::Create {
            spec: spec("gold", 1),
            configured: false,
            admin_id: admin,
        },
    )
    .await;
    let on_gold = env.tenant("gold").await;
    let (runner, scheduler) = start(&env, cfg);

    for (tenant, contact) in [(earlier, "5511900000020"), (on_gold, "5511900000030")] {
        let first = env
            .receive(tenant, contact, "wamid.1", "Qual o horário?")
            .await;
        eventually("the first answer", || async {
            env.count(&first, "AiReplied").await == 1
        })
        .await;
        settled(&env, &first).await;
    }
    let second = env
        .receive(
            earlier,
            "5511900000021",
            "wamid.1",
            "Qual o horário amanhã?",
        )
        .await;
    eventually("the earlier subscriber's second answer", || async {
        env.count(&second, "AiReplied").await == 1
    })
    .await;
    let refused = env
        .receive(
            on_gold,
            "5511900000031",
            "wamid.1",
            "Qual o horário amanhã?",
        )
        .await;
    eventually("a hand-off", || async {
        env.count(&refused, "ConfidenceLow").await == 1
    })
    .await;
    assert_eq!(
        env.bodies(&refused, "ConfidenceLow").await[0]["reason"],
        "plan_quota_reached"
    );
    assert_eq!(env.count(&refused, "AiReplied").await, 0);
    scheduler.stop().await;
    runner.stop().await;
}

// Per-tenant AI limits (issue 18).

/// Sets `tenant`'s own AI limits as an admin would, then brings the tenant directory (which
/// the 80 % alert reads) up to date.
async fn set_limits(env: &Env, tenant: Uuid, requests_per_hour: Option<i64>) {
    let admin = schemas::Actor {
        kind: schemas::ActorKind::Admin,
        id: Uuid::from_u128(3).to_string(),
    };
    env.bus
        .tenants
        .execute(
            &tenant.to_string(),
            TenantCommand::SetAiLimits {
                requests_per_hour,
                tokens_per_day: None,
                cost_per_month_usd: None,
            },
            &schemas::CommandMetadata::new(admin, Some(tenant)),
        )
        .await
        .unwrap();
    stream::replay::replay(
        &stream::Tail::new(env.pool.clone()),
        Arc::new(projections::tenants::TenantDirectory),
    )
    .await
    .unwrap();
}

/// Asks a new question in a conversation of its own and waits until the responder settled
/// it; the hand-off reason, or `None` when the AI answered.
async fn ask(env: &Env, tenant: Uuid, contact: &str, question: &str) -> Option<String> {
    let conversation = env.receive(tenant, contact, "wamid.1", question).await;
    eventually("an answer or a hand-off", || async {
        env.count(&conversation, "AiReplied").await
            + env.count(&conversation, "ConfidenceLow").await
            == 1
    })
    .await;
    settled(env, &conversation).await;
    // The answer counts once the consumer recorded it for the limits.
    eventually("the answer counted", || async {
        let counted: bool = sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM events e WHERE e.aggregate_id = $1
                 AND e.event_type = 'AiReplied'
                 AND NOT EXISTS (SELECT 1 FROM ai_usage u WHERE u.position = e.position))",
        )
        .bind(&conversation)
        .fetch_one(&env.pool)
        .await
        .unwrap();
        counted
    })
    .await;
    env.bodies(&conversation, "ConfidenceLow")
        .await
        .first()
        .map(|b| b["reason"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_tenants_own_lower_request_limit_refuses_it_alone_and_clearing_it_restores_the_default() {
    let env = setup().await;
    let llm = model("Abrimos às 8h.").await;
    let mut cfg = config(vec![provider("primary", &llm)]);
    cfg.limits = Limits {
        requests_per_hour: Some(3),
        tokens_per_day: None,
        cost_per_month_usd: None,
    };
    let own = env.tenant("basic").await;
    let other = env.tenant("basic").await;
    set_limits(&env, own, Some(2)).await;
    let (runner, scheduler) = start(&env, cfg);
    // Distinct questions: a cached answer is no model request.
    let days = ["segunda", "terça", "quarta", "quinta", "sexta"];
    let question = |i: usize| format!("Qual o horário de {}?", days[i]);
    let reached = Some("request_limit_reached".to_owned());

    // Its own limit of 2: the second request is at the limit, the third refused.
    for i in 0..2 {
        let contact = format!("55119000001{i}0");
        assert_eq!(
            ask(&env, own, &contact, &question(i)).await,
            None,
            "own #{i}"
        );
    }
    assert_eq!(ask(&env, own, "5511900000120", &question(2)).await, reached);
    // At 100 % of its own limit the owner was alerted; the other tenant is not near yet.
    let near = env.mails("ai_limit_near").await;
    assert!(
        near.iter().any(|(to, _)| to.contains(&own.to_string())),
        "{near:?}"
    );
    assert!(
        !near.iter().any(|(to, _)| to.contains(&other.to_string())),
        "{near:?}"
    );
    // The other tenant, on the default of 3, is answered a third time, then refused.
    for i in 0..3 {
        let contact = format!("55119000002{i}0");
        assert_eq!(
            ask(&env, other, &contact, &question(i)).await,
            None,
            "other #{i}"
        );
    }
    assert_eq!(
        ask(&env, other, "5511900000230", &question(3)).await,
        reached
    );

    // Cleared, the tenant is back on the default: its third request is answered, at the
    // default's limit, and a fourth refused.
    set_limits(&env, own, None).await;
    assert_eq!(ask(&env, own, "5511900000130", &question(3)).await, None);
    assert_eq!(ask(&env, own, "5511900000140", &question(4)).await, reached);
    assert_eq!(requests(&llm).await.len(), 2 + 3 + 1);
    scheduler.stop().await;
    runner.stop().await;
}

/// What the responder keeps of each conversation, in a comparable form.
async fn bookkeeping(env: &Env) -> Vec<(String, String, i64, Option<i64>, i64)> {
    sqlx::query_as(
        "SELECT conversation_id, status, answered_through, pending_through, last_sequence
           FROM ai_conversations ORDER BY conversation_id",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap()
}

async fn usage_rows(env: &Env) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ai_usage")
        .fetch_one(&env.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn many_conversations_at_once_are_each_answered_once_handed_off_and_rebuilt_alike() {
    let env = setup().await;
    // Extractive answers: no model, so the batches are the stream's alone.
    let (runner, scheduler) = start(&env, config(Vec::new()));
    let tenant = env.tenant("basic").await;
    let contacts: Vec<String> = (0..20).map(|i| format!("55119010000{i:02}")).collect();
    // The first 15 ask what the knowledge covers; the last 5 what it does not.
    let question = |i: usize, n: usize| match (i < 15, n) {
        (true, 1) => "Qual o horário de vocês?",
        (true, _) => "E no sábado, qual o horário?",
        (false, 1) => "Vocês vendem bolo de aniversário?",
        (false, _) => "E torta, vocês vendem?",
    };

    // Arriving together, the messages reach the consumer in shared batches.
    let first = futures::future::join_all(contacts.iter().enumerate().map(|(i, c)| {
        let env = &env;
        async move { env.receive(tenant, c, "wamid.1", question(i, 1)).await }
    }))
    .await;
    eventually("an answer or a hand-off in every conversation", || async {
        let mut all = true;
        for c in &first {
            all &= env.count(c, "AiReplied").await + env.count(c, "ConfidenceLow").await == 1;
        }
        all
    })
    .await;
    for c in &first {
        settled(&env, c).await;
    }
    eventually("the five hand-off e-mails", || async {
        env.mails("handed_off").await.len() == 5
    })
    .await;

    // A second message each: the AI answers its conversations again, not the humans'.
    futures::future::join_all(contacts.iter().enumerate().map(|(i, c)| {
        let env = &env;
        async move { env.receive(tenant, c, "wamid.2", question(i, 2)).await }
    }))
    .await;
    eventually(
        "a second answer in each of the AI's conversations",
        || async {
            let mut all = true;
            for c in &first[..15] {
                all &= env.count(c, "AiReplied").await == 2;
            }
            all
        },
    )
    .await;
    for c in &first[..15] {
        settled(&env, c).await;
    }
    eventually("every answer counted", || async {
        usage_rows(&env).await == 30
    })
    .await;
    // The consumer has seen the human's conversations' second messages too.
    eventually("the second messages applied", || async {
        bookkeeping(&env)
            .await
            .iter()
            .all(|(_, _, _, _, seq)| *seq >= 4)
    })
    .await;
    for c in &first[15..] {
        assert_eq!(
            env.event_types(c).await,
            [
                "MessageReceived",
                "GreetingSent",
                "ConfidenceLow",
                "MessageReceived"
            ],
        );
    }
    for c in &first[..15] {
        assert_eq!(
            env.event_types(c).await,
            [
                "MessageReceived",
                "GreetingSent",
                "AiReplied",
                "MessageReceived",
                "AiReplied"
            ],
        );
    }
    let kept = bookkeeping(&env).await;
    let statuses: Vec<&str> = kept.iter().map(|(_, s, ..)| s.as_str()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "ai_active").count(), 15);
    assert_eq!(
        statuses.iter().filter(|s| **s == "awaiting_human").count(),
        5
    );
    let leased: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ai_conversations WHERE leased_until IS NOT NULL")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(leased, 0, "every answered burst is let go");
    scheduler.stop().await;
    runner.stop().await;

    // Rebuilt from the start of the log, every conversation's events land in one batch, in
    // rounds: the same bookkeeping, and nothing answered again.
    sqlx::query("DELETE FROM stream_checkpoints WHERE consumer = 'ai_responder'")
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("TRUNCATE ai_conversations, ai_memory, ai_usage")
        .execute(&env.pool)
        .await
        .unwrap();
    let (runner, scheduler) = start(&env, config(Vec::new()));
    eventually("the rebuild", || async {
        bookkeeping(&env).await.len() == 20 && usage_rows(&env).await == 30
    })
    .await;
    eventually("the same bookkeeping as before", || async {
        bookkeeping(&env).await == kept
    })
    .await;
    let memory: i64 = sqlx::query_scalar("SELECT count(*) FROM ai_memory")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    // Each answered conversation remembers two questions and two answers, each handed-off
    // one its two questions.
    assert_eq!(memory, 15 * 4 + 5 * 2);
    for c in &first[..15] {
        assert_eq!(env.count(c, "AiReplied").await, 2);
    }
    scheduler.stop().await;
    runner.stop().await;
}
