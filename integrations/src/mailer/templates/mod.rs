//! The e-mails the product sends, in Brazilian Portuguese and English. Each template builds
//! a list of [`Block`]s per locale; [`layout`] turns them into the text and HTML bodies, so
//! escaping happens in one place and no template can forget it.

mod en;
mod layout;
mod pt_br;

pub use schemas::locale::{Locale, UnsupportedLocale};

/// How dates are written in `locale` (a `chrono` format).
pub fn date_pattern(locale: Locale) -> &'static str {
    match locale {
        Locale::PtBr => "%d/%m/%Y",
        Locale::En => "%Y-%m-%d",
    }
}

/// An e-mail and the values it shows. Links are absolute URLs (see
/// [`PublicUrl`](super::PublicUrl)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// A new tenant's owner account: how to sign in for the first time.
    Welcome {
        /// The tenant's name.
        tenant_name: String,
        /// The e-mail they sign in with.
        login_email: String,
        /// Their generated password (shown only here).
        password: String,
        /// The dashboard's sign-in page.
        dashboard_url: String,
    },
    /// A subscription payment failed; the tenant is suspended if it stays unpaid.
    PaymentFailed {
        /// The tenant's name.
        tenant_name: String,
        /// The last day before suspension, as the recipient reads dates (already formatted).
        grace_until: String,
        /// Where to update the payment method.
        billing_url: String,
    },
    /// The tenant was suspended: the AI stopped answering.
    Suspended {
        /// The tenant's name.
        tenant_name: String,
        /// Where to settle the subscription.
        billing_url: String,
    },
    /// The tenant is active again.
    Reactivated {
        /// The tenant's name.
        tenant_name: String,
        /// The dashboard.
        dashboard_url: String,
    },
    /// A conversation waits for a human.
    AttendancePending {
        /// The tenant's name.
        tenant_name: String,
        /// Who is waiting (name or number, as the dashboard shows it).
        contact: String,
        /// The conversation in the dashboard.
        conversation_url: String,
    },
    /// The tenant's AI answers in the billing period reached a share of the plan's quota
    /// (F24); at the quota the AI stops answering and hands conversations to humans.
    QuotaAlert {
        /// The tenant's name.
        tenant_name: String,
        /// AI answers so far in the period.
        used: i64,
        /// The plan's monthly quota.
        quota: i64,
        /// The last day of the period, as the recipient reads dates (already formatted).
        period_last_day: String,
        /// Where to see usage and change plan.
        billing_url: String,
    },
    /// The AI handed a conversation to a human (F4): someone should answer it.
    HandedOff {
        /// The tenant's name.
        tenant_name: String,
        /// Who is waiting (name or number, as the dashboard shows it).
        contact: String,
        /// Why the AI stopped (see [`HandoffCause`]).
        cause: HandoffCause,
        /// The conversation in the dashboard.
        conversation_url: String,
    },
    /// An AI usage limit of the tenant is 80 % used (F15); at 100 % the AI stops answering.
    AiLimitNear {
        /// The tenant's name.
        tenant_name: String,
        /// Which limit.
        limit: AiLimitKind,
        /// The share used, in percent.
        used_percent: u32,
        /// The usage page in the dashboard.
        usage_url: String,
    },
    /// A support ticket needs the admins: a tenant opened it, or it was handed to them.
    TicketForAdmins {
        /// The tenant that opened it.
        tenant_name: String,
        /// Its category key.
        category: String,
        /// What happened.
        cause: TicketCause,
        /// The ticket in the admin console.
        ticket_url: String,
    },
    /// Support answered the tenant's ticket.
    TicketAnswered {
        /// The tenant's name.
        tenant_name: String,
        /// Whether the support AI answered (an admin otherwise).
        by_ai: bool,
        /// The ticket in the dashboard.
        ticket_url: String,
    },
    /// The operator's announcement to the tenants it is for (issue 20): its title and
    /// body as the admin wrote them in the recipient's language.
    Announcement {
        /// The tenant's name.
        tenant_name: String,
        /// The announcement's title.
        title: String,
        /// Its body (Markdown, sent as plain text).
        body: String,
        /// The dashboard.
        dashboard_url: String,
    },
    /// A link to choose a new password.
    PasswordReset {
        /// The link carrying the reset token.
        reset_url: String,
        /// Minutes the link stays valid.
        valid_minutes: u32,
    },
    /// An owner invited someone to answer the tenant's customers: a link to choose their
    /// password (no password is ever generated or shown).
    Invitation {
        /// The tenant's name.
        tenant_name: String,
        /// The e-mail they will sign in with.
        login_email: String,
        /// The link carrying the invitation token.
        accept_url: String,
        /// Hours the link stays valid.
        valid_hours: u32,
    },
}

impl Template {
    /// The template's stable name, stored with each mail.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "welcome",
            Self::PaymentFailed { .. } => "payment_failed",
            Self::Suspended { .. } => "suspended",
            Self::Reactivated { .. } => "reactivated",
            Self::AttendancePending { .. } => "attendance_pending",
            Self::QuotaAlert { .. } => "quota_alert",
            Self::HandedOff { .. } => "handed_off",
            Self::AiLimitNear { .. } => "ai_limit_near",
            Self::PasswordReset { .. } => "password_reset",
            Self::TicketForAdmins { .. } => "ticket_for_admins",
            Self::TicketAnswered { .. } => "ticket_answered",
            Self::Invitation { .. } => "invitation",
            Self::Announcement { .. } => "announcement",
        }
    }

    /// Renders the subject and both bodies in `locale`.
    pub fn render(&self, locale: Locale) -> Rendered {
        let content = match locale {
            Locale::PtBr => pt_br::content(self),
            Locale::En => en::content(self),
        };
        layout::render(&content)
    }
}

/// Why a conversation was handed to a human, as the hand-off e-mail explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffCause {
    /// The customer asked for a person.
    CustomerAsked,
    /// The knowledge did not support a confident answer.
    LowConfidence,
    /// The plan's AI messages for the period are used up.
    QuotaReached,
    /// A usage limit (requests, tokens or cost) is reached.
    LimitReached,
    /// The AI model could not be reached.
    AiUnavailable,
}

/// Why admins hear of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketCause {
    /// A tenant opened it.
    Opened,
    /// The support AI had no confident answer.
    AiHandedOff,
    /// The tenant asked for a person.
    HumanRequested,
}

/// A per-tenant AI usage limit (F15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiLimitKind {
    /// Model requests per hour.
    RequestsPerHour,
    /// Tokens per day.
    TokensPerDay,
    /// Cost per month.
    CostPerMonth,
}

impl AiLimitKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestsPerHour => "requests_per_hour",
            Self::TokensPerDay => "tokens_per_day",
            Self::CostPerMonth => "cost_per_month",
        }
    }
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// What a template says, before layout.
#[derive(Debug)]
struct Content {
    subject: String,
    blocks: Vec<Block>,
    signature: &'static str,
}

/// One piece of a body.
#[derive(Debug)]
enum Block {
    /// A paragraph.
    Para(String),
    /// A labelled value (a login, a password).
    Field(&'static str, String),
    /// A call to action.
    Link(&'static str, String),
}

#[cfg(test)]
mod tests;
