//! What the responder decided, for `/metrics`: answers by how they were written, hand-offs
//! by reason, and the model's tokens and cost. Labels name models and reasons, never
//! tenants, so the series stay few.

use super::answer::Outcome;

/// Counts one recorded decision.
pub(super) fn record(outcome: &Outcome) {
    match outcome {
        Outcome::Reply {
            model,
            tokens_in,
            tokens_out,
            run,
            ..
        } => {
            let source = if run.cached {
                "cache"
            } else if run.provider == integrations::llm::EXTRACTIVE {
                "extractive"
            } else {
                "model"
            };
            ::metrics::counter!("atende_ai_answers_total", "source" => source).increment(1);
            if source == "model" {
                let model = model.clone();
                ::metrics::counter!("atende_llm_tokens_total", "model" => model.clone(), "direction" => "in")
                    .increment(u64::from(*tokens_in));
                ::metrics::counter!("atende_llm_tokens_total", "model" => model.clone(), "direction" => "out")
                    .increment(u64::from(*tokens_out));
                ::metrics::counter!("atende_llm_cost_microdollars_total", "model" => model)
                    .increment((run.cost_usd * 1e6).round().max(0.0) as u64);
            }
        }
        Outcome::Handoff { reason, .. } => {
            ::metrics::counter!("atende_ai_handoffs_total", "reason" => reason.as_str())
                .increment(1);
        }
        Outcome::HumanRequested { .. } => {
            ::metrics::counter!("atende_ai_handoffs_total", "reason" => "human_requested")
                .increment(1);
        }
    }
}

/// The AI's queue of bursts waiting for an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstQueue {
    /// Bursts waiting (their window not yet over, or due).
    pub waiting: i64,
    /// Seconds the most overdue burst has been due; none when nothing is due.
    pub oldest_due_age_secs: Option<f64>,
}

/// Counts the bursts waiting for an answer, in every process.
pub async fn burst_queue(pool: &sqlx::PgPool) -> Result<BurstQueue, sqlx::Error> {
    let (waiting, oldest_due_age_secs): (i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*),
                extract(epoch FROM now() - min(due_at) FILTER (WHERE due_at <= now()))::float8
         FROM ai_conversations WHERE pending_through IS NOT NULL",
    )
    .fetch_one(pool)
    .await?;
    Ok(BurstQueue {
        waiting,
        oldest_due_age_secs,
    })
}
