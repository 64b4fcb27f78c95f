//! The sending loop.

use super::outbox::{self, Claimed};
use crate::jobs::{Attempt, Backoff, JobRunner, Queue, RunnerConfig};
use integrations::mailer::{SendFailure, Transport, NOTIFY_CHANNEL};
use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::Handle;

/// How the mailer sends.
#[derive(Debug, Clone)]
pub struct MailerConfig {
    /// The `From` of every mail.
    pub from: Mailbox,
    /// How often to look for due mails when no notification came (other processes'
    /// notifications can be missed while reconnecting).
    pub poll_interval: Duration,
    /// The wait after the first failed attempt; it doubles with each further one.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_max: Duration,
    /// Attempts before a mail is given up (`failed`).
    pub max_attempts: i32,
    /// Mails claimed at once.
    pub batch_size: i64,
    /// How long a claim lasts: a mail whose worker died is retried after it.
    pub lease: Duration,
}

impl Default for MailerConfig {
    fn default() -> Self {
        Self {
            from: default_from(),
            poll_interval: Duration::from_secs(5),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            max_attempts: 8,
            batch_size: 20,
            lease: Duration::from_secs(300),
        }
    }
}

/// `atende <no-reply@localhost>`, the sender when `ATENDE_MAIL_FROM` is unset.
pub const DEFAULT_FROM: &str = "atende <no-reply@localhost>";

fn default_from() -> Mailbox {
    // A constant, checked by a test; parsing cannot fail at run time.
    DEFAULT_FROM.parse().unwrap_or_else(|_| {
        Mailbox::new(
            Some("atende".into()),
            lettre::Address::new_dangerous("no-reply", "localhost"),
        )
    })
}

impl MailerConfig {
    /// The wait before the attempt after `attempts` failed ones.
    pub fn backoff(&self, attempts: i32) -> Duration {
        self.retry_backoff()
            .after(u32::try_from(attempts).unwrap_or(0))
    }

    fn retry_backoff(&self) -> Backoff {
        Backoff {
            base: self.retry_base,
            max: self.retry_max,
        }
    }
}

/// Sends the outbox's due mails.
#[derive(Debug, Clone)]
pub struct Mailer {
    runner: JobRunner<Outbox>,
}

/// The outbox as a job queue.
#[derive(Debug)]
struct Outbox {
    pool: PgPool,
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// A mailer sending through `transport`.
    pub fn new(pool: PgPool, transport: Transport, config: MailerConfig) -> Self {
        let runner = RunnerConfig {
            channel: Some(NOTIFY_CHANNEL),
            poll_interval: config.poll_interval,
            wait_first: false,
            batch_size: usize::try_from(config.batch_size).unwrap_or(1),
            concurrency: 1,
            lease: config.lease,
            backoff: config.retry_backoff(),
            max_attempts: Some(u32::try_from(config.max_attempts).unwrap_or(0)),
        };
        let outbox = Outbox {
            pool: pool.clone(),
            transport,
            from: config.from,
        };
        Self {
            runner: JobRunner::new(Arc::new(outbox), pool, runner),
        }
    }

    /// Sends every mail due now, batch after batch; returns how many were attempted.
    #[tracing::instrument(name = "sending the due e-mails", skip_all)]
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let mut attempted = 0;
        loop {
            let round = self.runner.round().await?;
            if round.claimed == 0 {
                return Ok(attempted);
            }
            attempted += round.claimed;
        }
    }

    /// Runs the loop in the background: sends what is due, then waits for a notification,
    /// the next retry or the poll interval, whichever comes first.
    pub fn spawn(self) -> Handle {
        self.runner.spawn()
    }
}

#[async_trait::async_trait]
impl Queue for Outbox {
    type Job = Claimed;
    type Output = ();
    type Error = sqlx::Error;

    fn name(&self) -> &'static str {
        "mail_outbox"
    }

    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<Claimed>, sqlx::Error> {
        outbox::claim(&self.pool, i64::try_from(limit).unwrap_or(i64::MAX), lease).await
    }

    fn attempt(&self, mail: &Claimed) -> u32 {
        u32::try_from(mail.attempts).unwrap_or(0)
    }

    async fn run(&self, mail: &Claimed) -> Attempt<()> {
        let outcome = match self.build(mail) {
            Ok(message) => self.transport.send(mail.id, &message).await,
            Err(message) => Err(SendFailure {
                permanent: true,
                message,
            }),
        };
        match outcome {
            Ok(()) => Attempt::Done(()),
            Err(f) if f.permanent => Attempt::Permanent {
                error: f.message,
                output: (),
            },
            Err(f) => Attempt::Transient {
                error: f.message,
                output: (),
            },
        }
    }

    async fn complete(&self, mail: &Claimed, (): ()) -> Result<(), sqlx::Error> {
        outbox::sent(&self.pool, mail.id).await?;
        tracing::info!(id = %mail.id, attempts = mail.attempts, "an e-mail was sent");
        Ok(())
    }

    async fn retry(&self, mail: &Claimed, after: Duration, error: &str) -> Result<(), sqlx::Error> {
        outbox::retry(&self.pool, mail.id, after, error).await?;
        tracing::warn!(id = %mail.id, attempts = mail.attempts, retry_in = ?after, %error, "an e-mail failed; it will be retried");
        Ok(())
    }

    async fn give_up(&self, mail: &Claimed, error: &str, (): ()) -> Result<(), sqlx::Error> {
        outbox::failed(&self.pool, mail.id, error).await?;
        tracing::error!(id = %mail.id, attempts = mail.attempts, %error, "an e-mail was given up");
        // Raised after the row is marked: a crash in between loses the notification, never
        // the mail's state; raising it again (the job is claimed anew) does nothing.
        let notice = stream::notifications::Notice::mail_given_up(
            mail.id,
            &mail.subject,
            error,
            chrono::Utc::now(),
        );
        stream::notifications::raise_now(&self.pool, &notice).await?;
        Ok(())
    }

    /// Until the next retry is due.
    async fn next_due(&self) -> Option<Duration> {
        match outbox::next_due_in(&self.pool).await {
            Ok(Some(secs)) if secs.is_finite() => Some(Duration::from_secs_f64(secs.max(0.0))),
            _ => None,
        }
    }
}

impl Outbox {
    /// The message for a claimed mail; an error means it can never be built.
    fn build(&self, mail: &Claimed) -> Result<Message, String> {
        let (Some(text), Some(html)) = (&mail.text_body, &mail.html_body) else {
            return Err("the mail's bodies are gone".into());
        };
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| format!("recipient {:?}: {e}", mail.recipient))?;
        Message::builder()
            // From the outbox id, so a receiver can drop a mail resent after a lost reply.
            .message_id(Some(format!("<{}@atende>", mail.id)))
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(header::ContentType::TEXT_PLAIN)
                            .body(text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(header::ContentType::TEXT_HTML)
                            .body(html.clone()),
                    ),
            )
            .map_err(|e| format!("building the message: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_between_attempts_doubles_up_to_the_cap() {
        let config = MailerConfig {
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(100),
            ..MailerConfig::default()
        };
        assert_eq!(config.backoff(1), Duration::from_secs(30));
        assert_eq!(config.backoff(2), Duration::from_secs(60));
        assert_eq!(config.backoff(3), Duration::from_secs(100));
        assert_eq!(config.backoff(40), Duration::from_secs(100));
    }

    #[test]
    fn the_default_sender_is_atende_no_reply() {
        assert_eq!(
            MailerConfig::default().from.to_string(),
            "atende <no-reply@localhost>"
        );
    }
}
