//! Where mails go: an SMTP server, or `.eml` files in a directory.

use super::MailError;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// How long one SMTP exchange may take before it counts as a failed attempt.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A way to deliver a built message.
#[derive(Debug, Clone)]
pub enum Transport {
    /// An SMTP server (connections are pooled).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per mail, named by its outbox id, in this directory.
    Files(PathBuf),
}

/// A failed delivery.
#[derive(Debug)]
pub struct SendFailure {
    /// Retrying cannot help (the server refused the mail for good).
    pub permanent: bool,
    /// What went wrong, with its causes.
    pub message: String,
}

impl Transport {
    /// SMTP at `url`: `smtp://host:port` (plain, for local catchers),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`
    /// (TLS); credentials, if any, in the URL.
    pub fn smtp(url: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(MailError::SmtpUrl)?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self::Smtp(transport))
    }

    /// `.eml` files in `dir` (created when the first mail is written).
    pub fn files(dir: impl Into<PathBuf>) -> Self {
        Self::Files(dir.into())
    }

    /// Whether the server can be reached: an SMTP connection, greeting and `NOOP` (`/health`);
    /// the outbox directory is always reachable.
    pub async fn check(&self) -> Result<(), String> {
        match self {
            Self::Smtp(smtp) => match smtp.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("the SMTP server did not answer NOOP".to_owned()),
                Err(e) => Err(error_chain(&e)),
            },
            Self::Files(_) => Ok(()),
        }
    }

    /// Delivers `message`, the outbox mail `id`.
    pub async fn send(&self, id: Uuid, message: &Message) -> Result<(), SendFailure> {
        match self {
            Self::Smtp(smtp) => {
                smtp.send(message.clone())
                    .await
                    .map(drop)
                    .map_err(|e| SendFailure {
                        permanent: e.is_permanent(),
                        message: error_chain(&e),
                    })
            }
            Self::Files(dir) => {
                write_eml(dir, id, &message.formatted())
                    .await
                    .map_err(|e| SendFailure {
                        permanent: false,
                        message: format!("writing {}: {e}", dir.display()),
                    })
            }
        }
    }
}

/// Writes `<dir>/<id>.eml` atomically: a reader (or a crash) never sees half a file.
async fn write_eml(dir: &Path, id: Uuid, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{id}.eml.tmp"));
    let mut file = tokio::fs::File::create(&tmp).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&tmp, dir.join(format!("{id}.eml"))).await
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        // Some errors already print their cause (lettre's do): say it once.
        let cause = c.to_string();
        if !out.contains(&cause) {
            out.push_str(": ");
            out.push_str(&cause);
        }
        cur = c.source();
    }
    out
}
