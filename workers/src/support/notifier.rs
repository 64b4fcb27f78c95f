//! The `ticket_notifier` consumer.

use crate::mailer::{enqueue, tenant_locale, Locale, NewMail, PublicUrl, Template, TicketCause};
use schemas::StoredEvent;
use serde_json::Value;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Consumer name (its checkpoint).
pub const CONSUMER: &str = "ticket_notifier";

/// E-mails admins about tickets that need them and owners about answers, in the runner's
/// transaction, each once per causing event.
#[derive(Debug, Clone)]
pub struct TicketNotifier {
    public_url: PublicUrl,
}

impl TicketNotifier {
    /// A notifier linking to `public_url`.
    pub fn new(public_url: PublicUrl) -> Self {
        Self { public_url }
    }
}

/// Who hears of an event.
enum Audience {
    Admins(TicketCause),
    Owner { by_ai: bool },
}

fn audience(event: &StoredEvent) -> Option<Audience> {
    Some(match event.event_type.as_str() {
        "TicketOpened" => Audience::Admins(TicketCause::Opened),
        "TicketAwaitingAdmin" => Audience::Admins(TicketCause::AiHandedOff),
        "TicketHumanRequested" => Audience::Admins(TicketCause::HumanRequested),
        "TicketAiAnswered" | "TicketAiAnswerGiven" => Audience::Owner { by_ai: true },
        "TicketMessageAdded" => {
            let kind = event
                .payload
                .pointer("/TicketMessageAdded/author_kind")
                .and_then(Value::as_str);
            if kind != Some("admin") {
                return None;
            }
            Audience::Owner { by_ai: false }
        }
        _ => return None,
    })
}

fn queue_failed(e: crate::mailer::MailError) -> HandlerError {
    HandlerError::Rejected(format!("queueing the mail: {e}"))
}

#[async_trait::async_trait]
impl EventHandler for TicketNotifier {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["ticket"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "ticket" && audience(event).is_some()
    }

    #[tracing::instrument(name = "telling people about a ticket", skip_all,
        fields(ticket = %event.aggregate_id, event = %event.event_type))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        let Some(audience) = audience(event) else {
            return Ok(());
        };
        let ticket = Uuid::parse_str(&event.aggregate_id)
            .map_err(|_| HandlerError::Rejected("the ticket id is not a uuid".into()))?;
        // The opening event names the tenant and category; later ones are read back from it.
        let opened: Option<Value> = sqlx::query_scalar(
            "SELECT payload FROM events WHERE aggregate_type = 'ticket' AND aggregate_id = $1
                AND sequence = 1",
        )
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *db)
        .await?;
        let opened = match (&opened, event.event_type.as_str()) {
            (_, "TicketOpened") => event.payload.get("TicketOpened"),
            (Some(p), _) => p.get("TicketOpened"),
            (None, _) => None,
        }
        .cloned()
        .ok_or_else(|| HandlerError::Rejected("the ticket's opening is not stored".into()))?;
        let tenant = opened
            .get("tenant_id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| HandlerError::Rejected("TicketOpened without a tenant".into()))?;
        let category = opened
            .get("category")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let tenant_name: String =
            sqlx::query_scalar("SELECT name FROM tenant_directory WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(&mut *db)
                .await?
                .unwrap_or_else(|| tenant.to_string());
        let key = format!("ticket:{ticket}:{}", event.sequence);
        match audience {
            Audience::Admins(cause) => {
                let admins: Vec<(Uuid, String)> = sqlx::query_as(
                    "SELECT id, email FROM users
                      WHERE role IN ('admin', 'super_admin') AND disabled_at IS NULL
                      ORDER BY created_at, id",
                )
                .fetch_all(&mut *db)
                .await?;
                for (admin, email) in admins {
                    let mail = NewMail {
                        idempotency_key: format!("{key}:admin:{admin}"),
                        to: email,
                        locale: Locale::default(),
                        template: Template::TicketForAdmins {
                            tenant_name: tenant_name.clone(),
                            category: category.clone(),
                            cause,
                            ticket_url: self.public_url.link(&format!("/admin/tickets/{ticket}")),
                        },
                    };
                    enqueue(db, &mail).await.map_err(queue_failed)?;
                }
            }
            Audience::Owner { by_ai } => {
                let owner: Option<String> = sqlx::query_scalar(
                    "SELECT email FROM users WHERE tenant_id = $1 AND role = 'owner'
                        AND disabled_at IS NULL ORDER BY created_at, id LIMIT 1",
                )
                .bind(tenant)
                .fetch_optional(&mut *db)
                .await?;
                let Some(to) = owner else {
                    tracing::warn!(%tenant, "the tenant has no owner to tell");
                    return Ok(());
                };
                let mail = NewMail {
                    idempotency_key: format!("{key}:owner"),
                    to,
                    locale: tenant_locale(db, tenant).await?,
                    template: Template::TicketAnswered {
                        tenant_name,
                        by_ai,
                        ticket_url: self.public_url.link(&format!("/tickets/{ticket}")),
                    },
                };
                enqueue(db, &mail).await.map_err(queue_failed)?;
            }
        }
        Ok(())
    }
}
