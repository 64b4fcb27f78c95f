//! The mailer's settings in `atende serve`, and the mailer they make.

use anyhow::Context;
use clap::Args;
use integrations::mailer::{PublicUrl, Transport};
use sqlx::PgPool;
use std::path::PathBuf;
use workers::mailer::{Mailer, MailerConfig, DEFAULT_FROM};

/// Settings of the mailer.
#[derive(Debug, Clone, Args)]
pub struct MailSettings {
    /// SMTP server, credentials in the URL: `smtp://host:25` (plain, for local catchers),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465`
    /// (TLS). Unset: `.eml` files in `<data dir>/outbox/`.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every e-mail.
    #[arg(long, env = "ATENDE_MAIL_FROM", default_value = DEFAULT_FROM)]
    pub mail_from: integrations::mailer::Mailbox,
    /// The dashboard's public base URL, for links in e-mails.
    #[arg(
        long,
        env = "ATENDE_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: PublicUrl,
    /// Attempts (30 s apart, doubling up to an hour) before a mail is given up and counted
    /// as failed in /health.
    #[arg(long, env = "ATENDE_MAIL_MAX_ATTEMPTS", default_value_t = 8)]
    pub mail_max_attempts: i32,
    /// The `.eml` outbox used without SMTP (`serve` sets `<data dir>/outbox`); with
    /// neither, this process sends no mail and queued mail waits for another process.
    #[arg(skip)]
    pub outbox_dir: Option<PathBuf>,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: MailerConfig::default().from,
            public_url: PublicUrl::default(),
            mail_max_attempts: 8,
            outbox_dir: None,
        }
    }
}

impl MailSettings {
    /// The mailer these settings describe; none without SMTP or an outbox directory.
    pub fn mailer(&self, pool: &PgPool) -> anyhow::Result<Option<Mailer>> {
        let transport = match (&self.smtp_url, &self.outbox_dir) {
            (Some(url), _) => Transport::smtp(url).context("using SMTP_URL")?,
            (None, Some(dir)) => Transport::files(dir),
            (None, None) => return Ok(None),
        };
        let config = MailerConfig {
            from: self.mail_from.clone(),
            max_attempts: self.mail_max_attempts.max(1),
            ..MailerConfig::default()
        };
        Ok(Some(Mailer::new(pool.clone(), transport, config)))
    }
}
