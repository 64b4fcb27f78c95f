//! Whether the knowledge answers a question, and the extractive answer: the one decision
//! the responder, `POST /api/v1/knowledge/ask` and `atende bench answers` share.

use crate::confidence::{asks_for_a_person, confidence};
use crate::lexical::analysis::query_words;
use crate::lexical::extract::extract;
use crate::{RetrievedChunk, Retriever};
use schemas::events::HandoffReason;
use uuid::Uuid;

/// How far below the best passage's score another may be and still feed the answer.
const NEAR_BEST: f32 = 0.15;
/// The most passages an extractive answer is taken from.
const ANSWER_PASSAGES: usize = 2;

/// How many passages are retrieved for a question unless configured otherwise.
pub const DEFAULT_TOP_K: usize = 4;

/// The words with which a customer asks for a person, unless the tenant set its own:
/// "atendente", "humano", "pessoa", "human".
pub fn default_keywords() -> Vec<String> {
    ["atendente", "humano", "pessoa", "human"]
        .map(String::from)
        .to_vec()
}

/// What the knowledge supports for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The confidence retrieval supports, 0..=1.
    pub confidence: f64,
    /// The passages found, best first.
    pub passages: Vec<RetrievedChunk>,
    /// The extractive answer, when the confidence reaches the threshold.
    pub answer: Option<String>,
    /// Why the AI hands over instead, when it does.
    pub handoff: Option<HandoffReason>,
}

impl Judgement {
    fn handoff(confidence: f64, passages: Vec<RetrievedChunk>, reason: HandoffReason) -> Self {
        Self {
            confidence,
            passages,
            answer: None,
            handoff: Some(reason),
        }
    }
}

/// Before any retrieval: a blank question (media without a caption: a person can read it,
/// the bot cannot) is handed over, and a customer asking for a person gets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// Nothing the AI can read.
    Unreadable,
    /// The customer asks for a person.
    HumanRequested,
    /// The AI may look for an answer.
    Answerable,
}

/// Triages `question` with the tenant's hand-off `keywords`.
pub fn triage(question: &str, keywords: &[String]) -> Triage {
    if question.trim().is_empty() {
        Triage::Unreadable
    } else if asks_for_a_person(question, keywords) {
        Triage::HumanRequested
    } else {
        Triage::Answerable
    }
}

/// Retrieves `tenant`'s passages for `query` and decides: under `threshold` (or when
/// retrieval fails) a hand-off, else the extractive answer from the best passages. With a
/// model configured, the caller gives the passages to the model instead of the answer.
#[tracing::instrument(name = "judging whether the knowledge answers a question", skip_all, fields(%tenant))]
pub async fn judge(
    retriever: &dyn Retriever,
    tenant: Uuid,
    query: &str,
    threshold: f64,
    top_k: usize,
) -> Judgement {
    let passages = match retriever.search(tenant, query, top_k).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "retrieval failed; handing the conversation over");
            return Judgement::handoff(0.0, Vec::new(), HandoffReason::AiUnavailable);
        }
    };
    let scores: Vec<f32> = passages.iter().map(|c| c.score).collect();
    let confidence = confidence(&scores);
    let Some(best) = passages.first() else {
        return Judgement::handoff(confidence, passages, HandoffReason::LowConfidence);
    };
    if confidence < threshold {
        return Judgement::handoff(confidence, passages, HandoffReason::LowConfidence);
    }
    let near: Vec<&str> = passages
        .iter()
        .filter(|p| p.score >= best.score - NEAR_BEST)
        .take(ANSWER_PASSAGES)
        .map(|p| p.text.as_str())
        .collect();
    let answer = extract(query, &near);
    Judgement {
        confidence,
        answer: Some(answer),
        handoff: None,
        passages,
    }
}

/// The text retrieval searches for: the burst, joined after the customer's previous
/// message when the burst is too short to stand alone ("e no sábado?", "quanto custa?":
/// at most one content word, or two that only name an intent of the lexicon).
pub fn retrieval_query(burst: &str, previous: Option<&str>) -> String {
    let words = query_words(burst);
    let short =
        words.len() <= 1 || (words.len() == 2 && words.iter().all(|w| !w.concepts.is_empty()));
    match previous.filter(|p| short && !p.trim().is_empty()) {
        Some(previous) => format!("{previous}\n{burst}"),
        None => burst.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_follow_up_joins_the_previous_message() {
        let previous = Some("Que horas vocês abrem durante a semana?");
        assert_eq!(
            retrieval_query("e no sábado?", previous),
            "Que horas vocês abrem durante a semana?\ne no sábado?"
        );
        assert!(retrieval_query("quanto custa?", Some("tem bolo de cenoura?")).contains("cenoura"));
    }

    #[test]
    fn a_question_that_stands_alone_is_searched_alone() {
        let q = "quanto custa o bolo de cenoura?";
        assert_eq!(retrieval_query(q, Some("oi")), q);
        assert_eq!(retrieval_query("e no sábado?", None), "e no sábado?");
    }

    #[test]
    fn blank_questions_and_requests_for_a_person_are_triaged_before_retrieval() {
        let kw = vec!["atendente".to_owned()];
        assert_eq!(triage("  ", &kw), Triage::Unreadable);
        assert_eq!(triage("quero um atendente", &kw), Triage::HumanRequested);
        assert_eq!(triage("qual o horário?", &kw), Triage::Answerable);
    }
}
