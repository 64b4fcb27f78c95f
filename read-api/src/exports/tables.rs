//! The admin tables that export, each paged through by calling its own JSON list route's
//! handler with the caller's filters: the file holds exactly what the list shows, and a
//! filter added to a list works in its export at once.

use super::sheet::{col, Column, Kind};
use super::ExportState;
use crate::error::ApiError;
use crate::request::{ApiQuery, AuthUser, RequireAdmin, RequireAuditor};
use axum::extract::{Query, State};
use axum::http::Uri;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Rows asked of a list route at once (its largest page).
const PAGE: u32 = 200;

/// An admin table that exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Table {
    /// `GET /api/v1/admin/tenants`.
    Tenants,
    /// `GET /api/v1/admin/subscriptions`.
    Subscriptions,
    /// `GET /api/v1/admin/payments`.
    Payments,
    /// `GET /api/v1/admin/usage`: top spenders.
    Usage,
    /// `GET /api/v1/admin/sign-in-attempts`.
    SignInAttempts,
    /// `GET /api/v1/admin/ip-blocks`.
    IpBlocks,
    /// `GET /api/v1/admin/notifications`.
    Notifications,
    /// `GET /api/v1/audit/log`: the auditors' feed (admins read it too).
    AuditLog,
}

/// One page of a list.
#[derive(Debug)]
pub struct Page {
    /// Its rows, as the list answers them.
    pub rows: Vec<Value>,
    /// The cursor of the next page, if any.
    pub next: Option<String>,
}

impl Table {
    /// The name in the path and in the file's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Tenants => "tenants",
            Self::Subscriptions => "subscriptions",
            Self::Payments => "payments",
            Self::Usage => "usage",
            Self::SignInAttempts => "sign-in-attempts",
            Self::IpBlocks => "ip-blocks",
            Self::Notifications => "notifications",
            Self::AuditLog => "audit-log",
        }
    }

    /// Query parameters whose values are personal data: the trace names them, not what
    /// was asked.
    pub const fn personal_filters(self) -> &'static [&'static str] {
        match self {
            Self::SignInAttempts => &["email"],
            _ => &[],
        }
    }

    /// The columns, in the list's field names (money in major units).
    pub fn columns(self) -> &'static [Column] {
        use Kind::*;
        match self {
            Self::Tenants => {
                const C: &[Column] = &[
                    col("tenant_id", "tenant_id", Text),
                    col("name", "name", Text),
                    col("plan", "plan", Text),
                    col("status", "status", Text),
                    col("phone_number_id", "phone_number_id", Text),
                    col("registered_at", "registered_at", Time),
                    col("updated_at", "updated_at", Time),
                ];
                C
            }
            Self::Subscriptions => {
                const C: &[Column] = &[
                    col("tenant_id", "tenant_id", Text),
                    col("tenant_name", "tenant_name", Text),
                    col("plan", "plan", Text),
                    col("status", "status", Text),
                    col("complimentary", "complimentary", Bool),
                    col("stripe_customer_id", "stripe_customer_id", Text),
                    col("stripe_subscription_id", "stripe_subscription_id", Text),
                    col("started_at", "started_at", Time),
                    col("trial_end", "trial_end", Time),
                    col("paid_until", "paid_until", Time),
                    col("cancelled_at", "cancelled_at", Time),
                    col("cancel_reason", "cancel_reason", Text),
                    col("cancel_at_period_end", "cancel_at_period_end", Bool),
                    col("updated_at", "updated_at", Time),
                ];
                C
            }
            Self::Payments => {
                const C: &[Column] = &[
                    col("position", "position", Int),
                    col("at", "at", Time),
                    col("tenant_id", "tenant_id", Text),
                    col("tenant_name", "tenant_name", Text),
                    col("invoice_id", "invoice_id", Text),
                    col("status", "status", Text),
                    col("amount_cents", "amount", Money("currency")),
                    col("refunded_cents", "refunded", Money("currency")),
                    col("net_cents", "net", Money("currency")),
                    col("refund_state", "refund_state", Text),
                    col("currency", "currency", Text),
                    col("attempt", "attempt", Int),
                    col("period_end", "period_end", Time),
                ];
                C
            }
            Self::Usage => {
                const C: &[Column] = &[
                    col("tenant_id", "tenant_id", Text),
                    col("plan", "plan", Text),
                    col("period.start", "period_start", Day),
                    col("period.end", "period_end", Day),
                    col("inbound_messages", "inbound_messages", Int),
                    col("ai_replies", "ai_replies", Int),
                    col("tokens_in", "tokens_in", Int),
                    col("tokens_out", "tokens_out", Int),
                    col("estimated_cost_usd", "estimated_cost_usd", Number),
                    col("ai_message_quota", "ai_message_quota", Int),
                    col("quota_used", "quota_used", Ratio),
                    col("unpriced_models", "unpriced_models", List),
                ];
                C
            }
            Self::SignInAttempts => {
                const C: &[Column] = &[
                    col("id", "id", Int),
                    col("at", "at", Time),
                    col("ip", "ip", Text),
                    col("email", "email", Text),
                    col("outcome", "outcome", Text),
                    col("cleared", "cleared", Bool),
                ];
                C
            }
            Self::IpBlocks => {
                const C: &[Column] = &[
                    col("ip", "ip", Text),
                    col("blocked_until", "blocked_until", Time),
                ];
                C
            }
            Self::AuditLog => {
                const C: &[Column] = &[
                    col("at", "at", Time),
                    col("kind", "kind", Text),
                    col("action", "action", Text),
                    col("outcome", "outcome", Text),
                    col("target_kind", "target_kind", Text),
                    col("target_id", "target_id", Text),
                    col("detail", "detail", Text),
                    col("event_type", "event_type", Text),
                    col("aggregate_type", "aggregate_type", Text),
                    col("aggregate_id", "aggregate_id", Text),
                    col("position", "position", Int),
                    col("method", "method", Text),
                    col("path", "path", Text),
                    col("status", "status", Int),
                    col("code", "code", Text),
                    col("reason", "reason", Text),
                    col("actor_kind", "actor_kind", Text),
                    col("actor_id", "actor_id", Text),
                    col("tenant_id", "tenant_id", Text),
                    col("client_ip", "client_ip", Text),
                    col("request_id", "request_id", Text),
                ];
                C
            }
            Self::Notifications => {
                const C: &[Column] = &[
                    col("id", "id", Int),
                    col("at", "at", Time),
                    col("kind", "kind", Text),
                    col("tenant_id", "tenant_id", Text),
                    col("subject", "subject", Text),
                    col("read", "read", Bool),
                ];
                C
            }
        }
    }

    /// The page after `cursor` of the list filtered by `filters` (the caller's query
    /// string, without the export's own parameters).
    pub async fn page(
        self,
        state: &ExportState,
        user: AuthUser,
        filters: &str,
        cursor: Option<&str>,
    ) -> Result<Page, ApiError> {
        // The route's guard has checked the caller's role already.
        let admin = RequireAdmin(user);
        let json = match self {
            Self::Tenants => {
                let q = query(filters, cursor)?;
                let page = crate::tenants::list_directory(State(state.tenants.clone()), admin, q);
                serde_json::to_value(page.await?.0)
            }
            Self::Subscriptions => {
                let q = query(filters, cursor)?;
                let page =
                    crate::billing::list_subscriptions(State(state.billing.clone()), admin, q);
                serde_json::to_value(page.await?.0)
            }
            Self::Payments => {
                let q = query(filters, cursor)?;
                let page = crate::billing::list_payments(State(state.billing.clone()), admin, q);
                serde_json::to_value(page.await?.0)
            }
            Self::Usage => {
                let q = query(filters, cursor)?;
                let page = crate::usage::admin_usage(State(state.usage.clone()), admin, q);
                serde_json::to_value(page.await?.0)
            }
            Self::SignInAttempts => {
                let q = query(filters, cursor)?;
                let page = crate::auth::list_attempts(State(state.auth.clone()), admin, q);
                serde_json::to_value(page.await?.0)
            }
            Self::IpBlocks => {
                let list = crate::auth::list_ip_blocks(State(state.auth.clone()), admin);
                serde_json::to_value(list.await?.0)
            }
            Self::Notifications => {
                let q = query(filters, cursor)?;
                let page = crate::notifications::list(State(state.notifications.clone()), admin, q);
                serde_json::to_value(page.await?.0)
            }
            Self::AuditLog => {
                let q = query(filters, cursor)?;
                let page = crate::audit::log(State(state.audit.clone()), RequireAuditor(user), q);
                serde_json::to_value(page.await?.0)
            }
        }
        .map_err(ApiError::internal)?;
        Ok(split(json))
    }
}

/// A list answers a page `{items, next_cursor}`, or (IP blocks) the whole list.
fn split(json: Value) -> Page {
    match json {
        Value::Array(rows) => Page { rows, next: None },
        mut page => {
            let rows = match page["items"].take() {
                Value::Array(rows) => rows,
                _ => Vec::new(),
            };
            let next = match &page["next_cursor"] {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            };
            Page { rows, next }
        }
    }
}

/// The list's own query, read from `filters` as its route reads it, on the largest page
/// after `cursor`.
fn query<T: DeserializeOwned>(
    filters: &str,
    cursor: Option<&str>,
) -> Result<ApiQuery<T>, ApiError> {
    let mut text = format!("/?limit={PAGE}");
    if !filters.is_empty() {
        text.push('&');
        text.push_str(filters);
    }
    if let Some(c) = cursor {
        text.push_str("&cursor=");
        text.push_str(&percent_encode(c));
    }
    let uri: Uri = text.parse().map_err(|_| ApiError::BadRequest {
        code: "invalid_query",
        message: "the query string could not be read".into(),
    })?;
    Query::try_from_uri(&uri)
        .map(|Query(q)| ApiQuery(q))
        .map_err(|e| ApiError::BadRequest {
            code: "invalid_query",
            message: e.body_text(),
        })
}

/// Cursors are URL-safe already; anything else is escaped all the same.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_page_and_a_whole_list_split_into_rows_and_the_next_cursor() {
        let page = split(json!({"items": [{"a": 1}], "next_cursor": "abc"}));
        assert_eq!((page.rows.len(), page.next.as_deref()), (1, Some("abc")));
        let last = split(json!({"items": [], "next_cursor": null}));
        assert_eq!(last.next, None);
        let whole = split(json!([{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]));
        assert_eq!((whole.rows.len(), whole.next), (2, None));
    }

    #[test]
    fn a_cursor_is_escaped_into_the_query() {
        assert_eq!(percent_encode("a-b_c"), "a-b_c");
        assert_eq!(percent_encode("a b&c"), "a%20b%26c");
    }
}
