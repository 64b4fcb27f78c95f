//! The lifecycle's mails to the tenant's owner.

use crate::mailer::{date_pattern, enqueue, tenant_locale, NewMail, PublicUrl, Template};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use stream::HandlerError;
use uuid::Uuid;

/// What to tell the owner.
#[derive(Debug, Clone, Copy)]
pub(super) enum Notice {
    /// A payment failed; suspension follows at `grace_until`.
    PaymentFailed {
        /// The end of the grace period.
        grace_until: DateTime<Utc>,
    },
    /// The tenant is suspended.
    Suspended,
    /// The tenant is active again.
    Reactivated,
}

impl Notice {
    /// Names the mail in its idempotency key.
    pub(super) fn key(self) -> &'static str {
        match self {
            Self::PaymentFailed { .. } => "payment-failed",
            Self::Suspended => "suspended",
            Self::Reactivated => "reactivated",
        }
    }
}

/// Queues `notice` to the tenant's first owner in the caller's transaction, once per `key`.
pub(super) async fn send(
    db: &mut PgConnection,
    tenant: Uuid,
    tenant_name: &str,
    key: &str,
    notice: Notice,
    public_url: &PublicUrl,
) -> Result<(), HandlerError> {
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT email FROM users WHERE tenant_id = $1 AND role = 'owner' AND disabled_at IS NULL
          ORDER BY created_at, id LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *db)
    .await?;
    let Some(to) = owner else {
        tracing::warn!(%tenant, "the tenant has no owner to tell");
        return Ok(());
    };
    let locale = tenant_locale(db, tenant).await?;
    let tenant_name = tenant_name.to_owned();
    let template = match notice {
        Notice::PaymentFailed { grace_until } => Template::PaymentFailed {
            tenant_name,
            grace_until: grace_until.format(date_pattern(locale)).to_string(),
            billing_url: public_url.link("/billing"),
        },
        Notice::Suspended => Template::Suspended {
            tenant_name,
            billing_url: public_url.link("/billing"),
        },
        Notice::Reactivated => Template::Reactivated {
            tenant_name,
            dashboard_url: public_url.link("/"),
        },
    };
    let mail = NewMail {
        idempotency_key: key.to_owned(),
        to,
        locale,
        template,
    };
    enqueue(db, &mail)
        .await
        .map_err(|e| HandlerError::Rejected(format!("queueing the mail: {e}")))?;
    Ok(())
}
