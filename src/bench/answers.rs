//! `atende bench answers --set <file>`: how well the AI answers without a model. Each
//! business's knowledge is indexed into a scratch tenant (the embedded default: local
//! embedding, in-process index, lexical retrieval), every question goes through the
//! responder's own decision ([`triage`], [`judge`]), and the answers are checked against
//! the facts the set expects. Prints Markdown for BENCHMARKS.md.

use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use ::knowledge::decision::{judge, triage, Triage};
use ::knowledge::embed::fold;
use ::knowledge::KnowledgeBase;
use anyhow::Context;
use clap::Args;
use hdrhistogram::Histogram;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Instant;
use uuid::Uuid;
use workers::responder::{default_keywords, ResponderConfig};

/// Settings of `atende bench answers`.
#[derive(Debug, Clone, Args)]
pub struct AnswersArgs {
    /// A question set: `{"businesses": [{"id", "knowledge", "questions": [{"q",
    /// "answerable", "expect_any": [...]}]}]}`.
    #[arg(long)]
    pub set: PathBuf,
    /// The threshold of the per-business table (the tenant default).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Knowledge size of the latency measurement, in characters.
    #[arg(long, default_value_t = 50_000)]
    pub latency_chars: usize,
}

#[derive(Debug, Deserialize)]
struct QuestionSet {
    businesses: Vec<Business>,
}

#[derive(Debug, Deserialize)]
struct Business {
    id: String,
    knowledge: String,
    questions: Vec<Question>,
}

#[derive(Debug, Deserialize)]
struct Question {
    q: String,
    answerable: bool,
    #[serde(default)]
    expect_any: Vec<String>,
}

/// One question's outcome at threshold 0: the answer is kept or not by the threshold.
#[derive(Debug)]
struct Asked {
    answerable: bool,
    confidence: f64,
    /// Whether the answer holds an expected fact (`false` without an answer).
    right: bool,
    /// Whether the AI could answer at all (not a request for a person, not a failure).
    answers: bool,
}

/// Case, accents and runs of whitespace do not matter when looking for a fact.
fn normalized(text: &str) -> String {
    fold(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn ask(base: &KnowledgeBase, tenant: Uuid, question: &Question) -> Asked {
    let top_k = ResponderConfig::default().top_k;
    let mut asked = Asked {
        answerable: question.answerable,
        confidence: 0.0,
        right: false,
        answers: false,
    };
    if triage(&question.q, &default_keywords()) != Triage::Answerable {
        return asked;
    }
    let judgement = judge(base, tenant, &question.q, 0.0, top_k).await;
    asked.confidence = judgement.confidence;
    asked.answers = judgement.handoff.is_none();
    let answer = normalized(judgement.answer.as_deref().unwrap_or_default());
    asked.right = question
        .expect_any
        .iter()
        .any(|fact| answer.contains(&normalized(fact)));
    asked
}

async fn index(base: &KnowledgeBase, pool: &sqlx::PgPool, text: &str) -> anyhow::Result<Uuid> {
    let tenant = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    base.index_version(&mut tx, tenant, 1, text).await?;
    tx.commit().await?;
    Ok(tenant)
}

/// Counts at `threshold`: (answerable, right, wrong, handed off, unanswerable, false answers).
fn tally(asked: &[Asked], threshold: f64) -> [usize; 6] {
    let mut t = [0; 6];
    for a in asked {
        let answered = a.answers && a.confidence >= threshold;
        if a.answerable {
            t[0] += 1;
            match (answered, a.right) {
                (true, true) => t[1] += 1,
                (true, false) => t[2] += 1,
                (false, _) => t[3] += 1,
            }
        } else {
            t[4] += 1;
            t[5] += usize::from(answered);
        }
    }
    t
}

fn pct(n: usize, of: usize) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{:.0} %", 100.0 * n as f64 / of as f64)
    }
}

/// Indexes, asks, prints the report, and drops the scratch database.
#[allow(clippy::print_stdout)]
pub async fn run(db: &DatabaseConfig, args: AnswersArgs) -> anyhow::Result<()> {
    let raw = std::fs::read_to_string(&args.set)
        .with_context(|| format!("reading {}", args.set.display()))?;
    let set: QuestionSet = serde_json::from_str(&raw).context("parsing the question set")?;
    let scratch = Scratch::open(db, 4).await?;
    let base = KnowledgeBase::local(scratch.pool.clone());

    println!(
        "### Answers without a model (`{}`, threshold {})\n",
        args.set.display(),
        args.threshold
    );
    println!("| business | answerable | right fact | wrong | handed off | unanswerable | answered (false) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut all = Vec::new();
    for business in &set.businesses {
        let tenant = index(&base, &scratch.pool, &business.knowledge).await?;
        let mut asked = Vec::new();
        for q in &business.questions {
            asked.push(ask(&base, tenant, q).await);
        }
        let t = tally(&asked, args.threshold);
        println!(
            "| {} | {} | {} ({}) | {} | {} | {} | {} ({}) |",
            business.id,
            t[0],
            t[1],
            pct(t[1], t[0]),
            t[2],
            t[3],
            t[4],
            t[5],
            pct(t[5], t[4])
        );
        all.extend(asked);
    }
    let t = tally(&all, args.threshold);
    println!(
        "| **all** | {} | **{} ({})** | {} ({}) | {} ({}) | {} | **{} ({})** |\n",
        t[0],
        t[1],
        pct(t[1], t[0]),
        t[2],
        pct(t[2], t[0]),
        t[3],
        pct(t[3], t[0]),
        t[4],
        t[5],
        pct(t[5], t[4])
    );

    println!("#### The threshold's trade-off\n");
    println!("| threshold | answerable: right fact | wrong | handed off | unanswerable answered |");
    println!("|---:|---:|---:|---:|---:|");
    for step in 0..=10 {
        let threshold = 0.3 + 0.05 * f64::from(step);
        let t = tally(&all, threshold);
        println!(
            "| {threshold:.2} | {} | {} | {} | {} |",
            pct(t[1], t[0]),
            pct(t[2], t[0]),
            pct(t[3], t[0]),
            pct(t[5], t[4])
        );
    }

    // Latency: every question against one tenant holding `latency_chars` of knowledge.
    let mut big = String::new();
    while big.chars().count() < args.latency_chars {
        for b in &set.businesses {
            big.push_str(&b.knowledge);
            big.push_str("\n\n");
        }
    }
    let big: String = big.chars().take(args.latency_chars).collect();
    let tenant = index(&base, &scratch.pool, &big).await?;
    let questions: Vec<&Question> = set.businesses.iter().flat_map(|b| &b.questions).collect();
    let top_k = ResponderConfig::default().top_k;
    // The first search builds the tenant's lexical index; later ones find it cached.
    let _ = judge(&base, tenant, "warm up", args.threshold, top_k).await;
    let mut histogram = Histogram::<u64>::new(3)?;
    for _ in 0..5 {
        for q in &questions {
            let started = Instant::now();
            let _ = judge(&base, tenant, &q.q, args.threshold, top_k).await;
            histogram.record(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX))?;
        }
    }
    println!(
        "\nRetrieval + decision at {} characters of knowledge, {} questions: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms.",
        args.latency_chars,
        histogram.len(),
        histogram.value_at_quantile(0.5) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.max() as f64 / 1000.0
    );
    scratch.close().await
}
