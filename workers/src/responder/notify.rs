//! E-mails to the tenant's owner about its conversations: a hand-off, an attendance left
//! pending by the 24 h saga, an AI limit nearly used. Queued in the caller's transaction
//! with an idempotency key naming the cause, so each cause mails once.

use crate::mailer::{
    enqueue, tenant_locale, AiLimitKind, HandoffCause, MailError, NewMail, PublicUrl, Template,
};
use schemas::StoredEvent;
use sqlx::PgConnection;
use stream::HandlerError;
use uuid::Uuid;

/// The tenant's name, for the e-mail's text.
async fn tenant_name(db: &mut PgConnection, tenant: Uuid) -> Result<String, sqlx::Error> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM tenant_directory WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&mut *db)
            .await?;
    Ok(name.unwrap_or_else(|| "atende".to_owned()))
}

/// The first active owner's address; `None` when the tenant has no owner account.
async fn owner_email(db: &mut PgConnection, tenant: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT email FROM users
          WHERE tenant_id = $1 AND role = 'owner' AND disabled_at IS NULL
          ORDER BY created_at LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *db)
    .await
}

/// The contact as the dashboard shows it (the clear copy the conversations read model keeps
/// while the contact's key exists), or a neutral word.
async fn contact(db: &mut PgConnection, conversation_id: &str) -> Result<String, sqlx::Error> {
    let Ok(id) = conversation_id.parse::<Uuid>() else {
        return Ok("Cliente".to_owned());
    };
    let shown: Option<Option<String>> = sqlx::query_scalar(
        "SELECT COALESCE(contact_name, contact_phone) FROM conversations
          WHERE conversation_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    Ok(shown.flatten().unwrap_or_else(|| "Cliente".to_owned()))
}

async fn send(
    db: &mut PgConnection,
    tenant: Uuid,
    key: String,
    template: Template,
) -> Result<(), sqlx::Error> {
    let Some(to) = owner_email(db, tenant).await? else {
        tracing::info!(%tenant, template = template.name(), "the tenant has no owner to e-mail");
        return Ok(());
    };
    let mail = NewMail {
        idempotency_key: key,
        to,
        locale: tenant_locale(db, tenant).await?,
        template,
    };
    match enqueue(db, &mail).await {
        Ok(_) => Ok(()),
        Err(MailError::Database(e)) => Err(e),
        // A bad stored address must not stop the stream; the owner can fix it.
        Err(e) => {
            tracing::warn!(%tenant, error = %e, "the owner's e-mail cannot be queued");
            Ok(())
        }
    }
}

fn conversation_url(public_url: &PublicUrl, conversation_id: &str) -> String {
    public_url.link(&format!("/conversations/{conversation_id}"))
}

/// Queues "conversation handed to an agent" for the hand-off `event`.
pub(crate) async fn handed_off(
    db: &mut PgConnection,
    public_url: &PublicUrl,
    event: &StoredEvent,
    cause: HandoffCause,
) -> Result<(), HandlerError> {
    let tenant: Option<Uuid> =
        sqlx::query_scalar("SELECT tenant_id FROM ai_conversations WHERE conversation_id = $1")
            .bind(&event.aggregate_id)
            .fetch_optional(&mut *db)
            .await?;
    let Some(tenant) = tenant else {
        return Ok(());
    };
    let template = Template::HandedOff {
        tenant_name: tenant_name(db, tenant).await?,
        contact: contact(db, &event.aggregate_id).await?,
        cause,
        conversation_url: conversation_url(public_url, &event.aggregate_id),
    };
    let key = format!("handed-off:{}:{}", event.aggregate_id, event.sequence);
    Ok(send(db, tenant, key, template).await?)
}

/// Queues "attendance pending" for a conversation the AI took back after nobody answered;
/// `sequence` is the resumption's, naming the cause.
pub(crate) async fn attendance_pending(
    db: &mut PgConnection,
    public_url: &PublicUrl,
    tenant: Uuid,
    conversation_id: &str,
    sequence: i64,
) -> Result<(), sqlx::Error> {
    let template = Template::AttendancePending {
        tenant_name: tenant_name(db, tenant).await?,
        contact: contact(db, conversation_id).await?,
        conversation_url: conversation_url(public_url, conversation_id),
    };
    let key = format!("attendance-pending:{conversation_id}:{sequence}");
    send(db, tenant, key, template).await
}

/// Queues "80 % of an AI limit used", once per tenant, limit and window (`window` names it).
pub(crate) async fn limit_near(
    db: &mut PgConnection,
    public_url: &PublicUrl,
    tenant: Uuid,
    limit: AiLimitKind,
    used_percent: u32,
    window: &str,
) -> Result<(), sqlx::Error> {
    let template = Template::AiLimitNear {
        tenant_name: tenant_name(db, tenant).await?,
        limit,
        used_percent,
        usage_url: public_url.link("/usage"),
    };
    let key = format!("ai-limit-80:{tenant}:{}:{window}", limit.as_str());
    send(db, tenant, key, template).await
}
