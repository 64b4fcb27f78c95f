//! What to do with a burst: answer it, hand it to a human, or stay silent.

use super::cache::{self, CachedAnswer};
use super::limits;
use super::memory::{Remembered, Role};
use super::Responder;
use aggregates::{Subscription, Tenant};
use integrations::llm::{system_prompt, Prompt, Turn, EXTRACTIVE};
use knowledge::confidence::normalize;
use knowledge::decision::{judge, retrieval_query, triage, Triage};
use schemas::events::{AiRun, HandoffReason, SubscriptionStatus};
use std::time::Instant;
use uuid::Uuid;

/// The decision for one burst.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Outcome {
    /// An answer to record.
    Reply {
        text: String,
        confidence: f64,
        sources: Vec<String>,
        model: String,
        tokens_in: u32,
        tokens_out: u32,
        run: AiRun,
    },
    /// The AI stops and a human takes over.
    Handoff {
        confidence: f64,
        reason: HandoffReason,
        question: String,
    },
    /// The customer asked for a person.
    HumanRequested { question: String },
}

/// Why a burst could not be decided now (it is retried).
#[derive(Debug, thiserror::Error)]
pub(super) enum AnswerError {
    /// The database failed.
    #[error("the database failed while answering")]
    Database(#[from] sqlx::Error),
    /// The tenant or subscription could not be loaded.
    #[error("loading the tenant failed")]
    Load(#[from] commands::CommandError),
}

fn handoff(confidence: f64, reason: HandoffReason, question: &str) -> Outcome {
    Outcome::Handoff {
        confidence,
        reason,
        question: question.to_owned(),
    }
}

/// The tenant and its subscription, as loaded once for a burst.
pub(super) struct Standing {
    account: Tenant,
    subscription: Subscription,
}

impl Standing {
    /// The tenant's greeting setting.
    pub(super) fn greeting(&self) -> &str {
        &self.account.settings().greeting
    }
}

impl Responder {
    /// The tenant's standing, or why the AI must not answer it at all now: checked before
    /// the memory is read and opened, which a tenant the AI does not serve never needs.
    pub(super) async fn standing(
        &self,
        tenant: Uuid,
    ) -> Result<Result<Standing, &'static str>, AnswerError> {
        let (account, _) = self.bus.tenants.load(&tenant.to_string()).await?;
        if account.is_suspended() {
            return Ok(Err("tenant_suspended"));
        }
        let (subscription, _) = self.bus.subscriptions.load(&tenant.to_string()).await?;
        if !matches!(
            subscription.status(),
            Some(
                SubscriptionStatus::Trialing
                    | SubscriptionStatus::Active
                    | SubscriptionStatus::PastDue
            )
        ) {
            return Ok(Err("no_active_subscription"));
        }
        Ok(Ok(Standing {
            account,
            subscription,
        }))
    }

    /// Decides what to do with the customer messages after `answered_through` in `memory`,
    /// for a tenant in good `standing`.
    #[tracing::instrument(name = "deciding how to answer a burst", skip_all, fields(%tenant))]
    pub(super) async fn decide(
        &self,
        tenant: Uuid,
        standing: &Standing,
        memory: &[Remembered],
        answered_through: i64,
    ) -> Result<Outcome, AnswerError> {
        let Standing {
            account,
            subscription,
        } = standing;
        let question = memory
            .iter()
            .filter(|m| m.role == Role::Customer && m.position > answered_through)
            .filter_map(|m| m.text.as_deref())
            .collect::<Vec<_>>()
            .join("\n");
        let own = &account.settings().handoff_keywords;
        let keywords = if own.is_empty() {
            &self.config.handoff_keywords
        } else {
            own
        };
        match triage(&question, keywords) {
            Triage::Unreadable => return Ok(handoff(0.0, HandoffReason::LowConfidence, &question)),
            Triage::HumanRequested => return Ok(Outcome::HumanRequested { question }),
            Triage::Answerable => {}
        }
        let now = self.clock.now();
        let plan = if subscription.plan().0.is_empty() {
            account.plan()
        } else {
            subscription.plan()
        };
        // The quota the tenant bought: its plan's revision in force when the subscription
        // moved onto the plan; the catalogue in force when that time is unknown (no
        // subscription yet, or a state older than the time was kept).
        // Only this plan's revisions are read: this runs for every answer.
        let mut conn = self.pool.acquire().await?;
        let quota = projections::plans::PlanHistory::load_plan(
            &mut conn,
            &self.config.pricing.plans,
            &plan.0,
        )
        .await?
        .quota_bought(
            &plan.0,
            subscription
                .plan_since()
                .filter(|_| !subscription.plan().0.is_empty()),
        );
        drop(conn);
        if limits::quota_reached(&self.pool, tenant, quota, now).await? {
            return Ok(handoff(0.0, HandoffReason::PlanQuotaReached, &question));
        }
        let previous = memory
            .iter()
            .rev()
            .find(|m| m.role == Role::Customer && m.position <= answered_through)
            .and_then(|m| m.text.as_deref());
        let query = retrieval_query(&question, previous);
        let judgement = judge(
            self.retriever.as_ref(),
            tenant,
            &query,
            account.settings().confidence_threshold,
            self.config.top_k,
        )
        .await;
        let confidence = judgement.confidence;
        if let Some(reason) = judgement.handoff {
            return Ok(handoff(confidence, reason, &question));
        }
        let chunks = judgement.passages;
        let sources: Vec<String> = chunks.iter().map(|c| c.chunk_id.clone()).collect();
        if !self.models.is_configured() {
            return Ok(Outcome::Reply {
                text: judgement.answer.unwrap_or_default(),
                confidence,
                sources: chunks
                    .first()
                    .map(|c| c.chunk_id.clone())
                    .into_iter()
                    .collect(),
                model: EXTRACTIVE.to_owned(),
                tokens_in: 0,
                tokens_out: 0,
                run: AiRun {
                    provider: EXTRACTIVE.to_owned(),
                    latency_ms: 0,
                    cost_usd: 0.0,
                    cached: false,
                },
            });
        }
        let key = cache::cache_key(
            tenant,
            account.knowledge_version(),
            &normalize(&question),
            &chunks,
        );
        let started = Instant::now();
        if let Some(hit) = cache::lookup(&self.pool, &key, now).await? {
            return Ok(Outcome::Reply {
                text: hit.answer,
                confidence,
                sources: hit.sources,
                model: hit.model,
                tokens_in: 0,
                tokens_out: 0,
                run: AiRun {
                    provider: "cache".to_owned(),
                    latency_ms: started.elapsed().as_millis().try_into().unwrap_or(u64::MAX),
                    cost_usd: 0.0,
                    cached: true,
                },
            });
        }
        let mut conn = self.pool.acquire().await?;
        let usage = limits::usage(&mut conn, tenant, now).await?;
        drop(conn);
        // The tenant's own limits (an admin's, issue 18) over the platform's defaults, as
        // the aggregate just loaded stands: a change applies from the next answer.
        let limits = self.config.limits.with_own(account.ai_limits());
        if let Some(reason) = limits.reached(&usage) {
            return Ok(handoff(confidence, reason, &question));
        }
        let prompt = Prompt {
            system: system_prompt(account.name(), account.settings().tone, &chunks),
            turns: memory
                .iter()
                .filter_map(|m| {
                    let text = m.text.clone()?;
                    Some(match m.role {
                        Role::Customer => Turn::Customer(text),
                        Role::Ai | Role::Human => Turn::Business(text),
                    })
                })
                .collect(),
        };
        let completion = match self.models.complete(&prompt).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "no model answered; handing the conversation over");
                return Ok(handoff(confidence, HandoffReason::AiUnavailable, &question));
            }
        };
        let cost_usd = self
            .config
            .pricing
            .models
            .get(&completion.model)
            .map_or(0.0, |p| {
                p.cost_usd(
                    i64::from(completion.tokens_in),
                    i64::from(completion.tokens_out),
                )
            });
        tracing::info!(
            provider = %completion.provider,
            model = %completion.model,
            latency_ms = completion.latency.as_millis() as u64,
            tokens_in = completion.tokens_in,
            tokens_out = completion.tokens_out,
            cost_usd,
            "a model wrote the answer"
        );
        let entry = CachedAnswer {
            answer: completion.text.clone(),
            model: completion.model.clone(),
            sources: sources.clone(),
        };
        let stored = cache::store(
            &self.pool,
            &cache::NewEntry {
                key: &key,
                tenant,
                version: account.knowledge_version(),
                answer: &entry,
                confidence,
            },
            now,
            self.config.cache_ttl,
        )
        .await;
        if let Err(e) = stored {
            tracing::warn!(error = %e, "the answer could not be cached");
        }
        Ok(Outcome::Reply {
            text: completion.text,
            confidence,
            sources,
            model: completion.model,
            tokens_in: completion.tokens_in,
            tokens_out: completion.tokens_out,
            run: AiRun {
                provider: completion.provider,
                latency_ms: completion
                    .latency
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX),
                cost_usd,
                cached: false,
            },
        })
    }
}
