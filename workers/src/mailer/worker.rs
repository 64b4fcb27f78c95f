//! The sending loop.

use super::outbox::{self, Claimed};
use integrations::mailer::{SendFailure, Transport, NOTIFY_CHANNEL};
use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

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
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        self.retry_base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.retry_max)
    }
}

/// Sends the outbox's due mails.
#[derive(Debug, Clone)]
pub struct Mailer {
    pool: PgPool,
    transport: Transport,
    config: MailerConfig,
}

/// A running mailer; [`MailerHandle::stop`] ends it after the mail being sent.
#[derive(Debug)]
pub struct MailerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MailerHandle {
    /// Stops the loop and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl Mailer {
    /// A mailer sending through `transport`.
    pub fn new(pool: PgPool, transport: Transport, config: MailerConfig) -> Self {
        Self {
            pool,
            transport,
            config,
        }
    }

    /// Sends every mail due now, batch after batch; returns how many were attempted.
    #[tracing::instrument(name = "sending the due e-mails", skip_all)]
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let mut attempted = 0;
        loop {
            let batch =
                outbox::claim(&self.pool, self.config.batch_size, self.config.lease).await?;
            if batch.is_empty() {
                return Ok(attempted);
            }
            attempted += batch.len();
            for mail in batch {
                self.deliver(mail).await?;
            }
        }
    }

    async fn deliver(&self, mail: Claimed) -> Result<(), sqlx::Error> {
        let id = mail.id;
        let attempts = mail.attempts;
        let outcome = match self.build(&mail) {
            Ok(message) => self.transport.send(id, &message).await,
            Err(message) => Err(SendFailure {
                permanent: true,
                message,
            }),
        };
        match outcome {
            Ok(()) => {
                outbox::sent(&self.pool, id).await?;
                tracing::info!(%id, attempts, "an e-mail was sent");
            }
            Err(f) if f.permanent || attempts >= self.config.max_attempts => {
                outbox::failed(&self.pool, id, &f.message).await?;
                tracing::error!(%id, attempts, error = %f.message, "an e-mail was given up");
            }
            Err(f) => {
                let after = self.config.backoff(attempts);
                outbox::retry(&self.pool, id, after, &f.message).await?;
                tracing::warn!(%id, attempts, retry_in = ?after, error = %f.message, "an e-mail failed; it will be retried");
            }
        }
        Ok(())
    }

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
            .from(self.config.from.clone())
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

    /// Runs the loop in the background: sends what is due, then waits for a notification,
    /// the next retry or the poll interval, whichever comes first.
    pub fn spawn(self) -> MailerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut listener = self.listen().await;
            loop {
                if *stopped.borrow() {
                    return;
                }
                if let Err(e) = self.run_once().await {
                    tracing::warn!(error = %e, "the mailer could not reach the outbox; retrying");
                }
                let wait = self.next_wait().await;
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = wake(&mut listener, wait) => {}
                }
            }
        });
        MailerHandle { stop, task }
    }

    async fn listen(&self) -> Option<PgListener> {
        let listener = async {
            let mut l = PgListener::connect_with(&self.pool).await?;
            l.listen(NOTIFY_CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        };
        match listener.await {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "the mailer cannot listen for new mail; it will poll");
                None
            }
        }
    }

    /// Until the next retry is due, at most the poll interval.
    async fn next_wait(&self) -> Duration {
        let poll = self.config.poll_interval;
        match outbox::next_due_in(&self.pool).await {
            Ok(Some(secs)) if secs.is_finite() => Duration::from_secs_f64(secs.max(0.0)).min(poll),
            _ => poll,
        }
    }
}

/// Returns on a notification or after `wait`.
async fn wake(listener: &mut Option<PgListener>, wait: Duration) {
    match listener {
        Some(l) => {
            // An error (a lost connection) ends the wait early; sqlx reconnects on the
            // next receive.
            let _ = tokio::time::timeout(wait, l.recv()).await;
        }
        None => tokio::time::sleep(wait).await,
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
