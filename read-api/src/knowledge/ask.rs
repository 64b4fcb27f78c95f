//! `POST /api/v1/knowledge/ask {question}`: what the AI would answer now ("try the bot").

use super::KnowledgeState;
use crate::error::ApiError;
use crate::openapi::{responses as r, tags};
use crate::request::{ApiJson, RequireTenantUser};
use ::knowledge::decision::{default_keywords, judge, triage, Triage, DEFAULT_TOP_K};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

/// A question to try.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AskRequest {
    /// The question, as a customer would write it.
    pub question: String,
}

/// What the AI would do with the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AskDecision {
    /// It answers.
    Answer,
    /// It hands the conversation to a person.
    Handoff,
}

/// A passage retrieved for the question.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AskPassage {
    /// The passage's text.
    pub text: String,
    /// Its score, 0..=1 (the best one's is the confidence).
    pub score: f32,
}

/// The AI's decision, as the responder would take it now.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AskResult {
    /// Answer or hand-off.
    pub decision: AskDecision,
    /// The answer without a model (extracted from the knowledge); with a model configured
    /// the responder gives the passages to the model instead. Absent on a hand-off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The confidence retrieval supports, 0..=1.
    pub confidence: f64,
    /// The tenant's threshold: under it, the AI hands over.
    pub threshold: f64,
    /// The passages found, best first.
    pub passages: Vec<AskPassage>,
    /// Why it hands over (`low_confidence`, `human_requested`, `ai_unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the AI would answer to `question` now, through the responder's own decision,
/// recording nothing: no event, no cached answer, no usage.
#[utoipa::path(
    post,
    path = "/api/v1/knowledge/ask",
    operation_id = "ask_knowledge",
    tag = tags::TENANT,
    security(("bearer" = [])),
    request_body = AskRequest,
    responses(
        (status = 200, description = "The decision, the confidence and the passages", body = AskResult),
        r::BadRequest,
        r::Unauthorized,
        r::Forbidden,
        (status = 404, description = "The caller's tenant is not registered (`tenant_not_found`)", body = crate::error::ErrorBody),
        (status = 422, description = "A blank question (`question_required`)", body = crate::error::ErrorBody),
        r::Internal,
    )
)]
#[tracing::instrument(name = "trying the bot for a user", skip_all, fields(tenant = %user.tenant_id))]
pub(super) async fn ask(
    State(state): State<KnowledgeState>,
    user: RequireTenantUser,
    ApiJson(body): ApiJson<AskRequest>,
) -> Result<Json<AskResult>, ApiError> {
    if body.question.trim().is_empty() {
        return Err(ApiError::Unprocessable {
            code: "question_required",
            message: "question must not be blank".into(),
            details: None,
        });
    }
    let tenant = crate::tenants::registered_tenant(&state.bus, user.tenant_id).await?;
    let threshold = tenant.settings().confidence_threshold;
    let handoff = |reason: &str| AskResult {
        decision: AskDecision::Handoff,
        answer: None,
        confidence: 0.0,
        threshold,
        passages: Vec::new(),
        reason: Some(reason.to_owned()),
    };
    let own = &tenant.settings().handoff_keywords;
    let keywords = if own.is_empty() {
        default_keywords()
    } else {
        own.clone()
    };
    match triage(&body.question, &keywords) {
        Triage::Unreadable => return Ok(Json(handoff("low_confidence"))),
        Triage::HumanRequested => return Ok(Json(handoff("human_requested"))),
        Triage::Answerable => {}
    }
    let judgement = judge(
        &state.knowledge,
        user.tenant_id,
        &body.question,
        threshold,
        DEFAULT_TOP_K,
    )
    .await;
    Ok(Json(AskResult {
        decision: if judgement.handoff.is_some() {
            AskDecision::Handoff
        } else {
            AskDecision::Answer
        },
        answer: judgement.answer,
        confidence: judgement.confidence,
        threshold,
        passages: judgement
            .passages
            .into_iter()
            .map(|p| AskPassage {
                text: p.text,
                score: p.score,
            })
            .collect(),
        reason: judgement.handoff.map(|r| r.as_str().to_owned()),
    }))
}
