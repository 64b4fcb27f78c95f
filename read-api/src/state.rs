//! The application state, and each feature's part of it. Handlers take their feature's
//! sub-state (`State<BillingState>`, …), never the whole; the impls here derive every
//! sub-state from [`AppState`], so features need not know it exists.

use crate::http::CorsOrigins;
use crate::request::{AuthConfig, JwtSecret};
use axum::extract::FromRef;
use commands::privacy::KeyRing;
use commands::CommandBus;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use stream::{ConsumerStatus, Registry, Tail};

/// Shared application state, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: PgPool,
    /// The event-store tail, used to report the head position and consumers' lag.
    pub tail: Tail,
    /// Live status of every stream consumer running in this process.
    pub consumers: Vec<Arc<Mutex<ConsumerStatus>>>,
    /// Access-token keys and client-address policy.
    pub auth: AuthConfig,
    /// The write side: route handlers that change things issue commands through it.
    pub bus: Arc<CommandBus>,
    /// Data subjects' keys (export, erasure).
    pub keys: Arc<KeyRing>,
    /// The stream handlers this process runs, for the projection admin endpoints.
    pub projections: Registry,
    /// Plan prices and quotas, and the AI models' token prices (usage, reports).
    pub pricing: Arc<schemas::plans::Pricing>,
    /// Browser origins allowed to call the API (none by default).
    pub cors: CorsOrigins,
    /// Conversation changes for the live stream (F41).
    pub changes: crate::stream::Changes,
    /// The dashboard's base URL, for links in e-mails.
    pub public_url: integrations::mailer::PublicUrl,
    /// Stripe, when `STRIPE_SECRET_KEY` is set; billing routes answer 503 without it.
    pub stripe: Option<integrations::stripe::StripeClient>,
    /// How Stripe webhooks are verified.
    pub stripe_webhook: crate::stripe_webhook::WebhookConfig,
    /// The WhatsApp channel: webhook secrets, handlers and tenants' channel settings.
    pub whatsapp: crate::webhooks::WhatsAppHttp,
    /// Tenants' knowledge: its index state and retrieval (the search route).
    pub knowledge: ::knowledge::KnowledgeBase,
    /// What `/health` checks beyond the database and who may read `/metrics` (issue 19).
    pub ops: crate::observability::Ops,
    /// The AI limits every tenant has unless an admin set its own (issue 18).
    pub ai_limits: schemas::events::AiLimits,
    /// Requests' rate limits, per tenant, user, client IP and provider number (issue 19).
    pub rate_limits: crate::rate_limit::RateLimiters,
}

impl AppState {
    /// State with no stream consumers, signing access tokens with a random key (they die
    /// with the process; `with_auth` sets the real one).
    pub fn new(pool: PgPool, bus: Arc<CommandBus>, keys: Arc<KeyRing>) -> Self {
        // Every server builds its state once at start-up: computing the throw-away hash now
        // keeps the first sign-in for an unknown e-mail from taking longer than the others.
        crate::auth::password::prepare();
        Self {
            whatsapp: crate::webhooks::WhatsAppHttp::new(pool.clone(), bus.clone(), keys.clone()),
            tail: Tail::new(pool.clone()),
            changes: crate::stream::Changes::new(pool.clone()),
            knowledge: ::knowledge::KnowledgeBase::local(pool.clone()),
            pool,
            consumers: Vec::new(),
            auth: AuthConfig::new(&JwtSecret::generate(), false),
            bus,
            keys,
            projections: Registry::default(),
            pricing: Arc::default(),
            cors: CorsOrigins::None,
            public_url: integrations::mailer::PublicUrl::default(),
            stripe: None,
            stripe_webhook: Default::default(),
            ops: Default::default(),
            ai_limits: schemas::events::AiLimits::PLATFORM_DEFAULTS,
            rate_limits: crate::rate_limit::RateLimiters::new(&Default::default()),
        }
    }

    /// Limits requests' rates by `limits` (the defaults otherwise).
    pub fn with_rate_limits(mut self, limits: &crate::rate_limit::RateLimits) -> Self {
        self.rate_limits = crate::rate_limit::RateLimiters::new(limits);
        self
    }

    /// Checks the outside services in `ops` on `/health` and guards `/metrics` with its
    /// token.
    pub fn with_ops(mut self, ops: crate::observability::Ops) -> Self {
        self.ops = ops;
        self
    }

    /// Shows `defaults` as the AI limits of tenants without their own (the responder's
    /// configuration; the built-in defaults otherwise).
    pub fn with_ai_limits(mut self, defaults: schemas::events::AiLimits) -> Self {
        self.ai_limits = defaults;
        self
    }

    /// Sends billing calls to `stripe`.
    pub fn with_stripe(mut self, stripe: Option<integrations::stripe::StripeClient>) -> Self {
        self.stripe = stripe;
        self
    }

    /// Verifies Stripe webhooks with `config`.
    pub fn with_stripe_webhook(mut self, config: crate::stripe_webhook::WebhookConfig) -> Self {
        self.stripe_webhook = config;
        self
    }

    /// Searches knowledge through `base` (the local embedding over the in-process index
    /// otherwise).
    pub fn with_knowledge(mut self, base: ::knowledge::KnowledgeBase) -> Self {
        self.knowledge = base;
        self
    }

    /// Makes e-mailed links point at `url`.
    pub fn with_public_url(mut self, url: integrations::mailer::PublicUrl) -> Self {
        self.public_url = url;
        self
    }

    /// Checks WhatsApp webhooks with Meta's app secret and answers its verification with
    /// `verify_token`.
    pub fn with_whatsapp(mut self, app_secret: Option<&str>, verify_token: Option<&str>) -> Self {
        self.whatsapp.app_secret = app_secret
            .filter(|s| !s.is_empty())
            .map(|s| std::sync::Arc::from(s.as_bytes()));
        self.whatsapp.verify_token = verify_token.filter(|s| !s.is_empty()).map(str::to_owned);
        self
    }

    /// Offers the platform's Evolution API server at `url` (with its global `key`) to
    /// tenants that bring none.
    pub fn with_evolution(mut self, url: Option<&str>, key: Option<&str>) -> Self {
        let blank = |s: &&str| s.trim().is_empty();
        self.whatsapp.evolution = match (url.filter(|s| !blank(s)), key.filter(|s| !blank(s))) {
            (Some(url), Some(key)) => Some(crate::webhooks::EvolutionServer {
                url: url.trim().trim_end_matches('/').to_owned(),
                global_key: key.trim().to_owned(),
            }),
            _ => None,
        };
        self
    }

    /// Uses `auth` to sign and check access tokens.
    pub fn with_auth(mut self, auth: AuthConfig) -> Self {
        self.auth = auth;
        self
    }

    /// Adds consumers whose status /health reports.
    pub fn with_consumers(mut self, consumers: Vec<Arc<Mutex<ConsumerStatus>>>) -> Self {
        self.consumers.extend(consumers);
        self
    }

    /// Allows `origins` to call the API from a browser.
    pub fn with_cors(mut self, origins: CorsOrigins) -> Self {
        self.cors = origins;
        self
    }

    /// Prices usage and reports with `pricing` (built-in defaults otherwise).
    pub fn with_pricing(mut self, pricing: schemas::plans::Pricing) -> Self {
        self.pricing = Arc::new(pricing);
        self
    }

    /// Makes `registry`'s handlers reachable by the projection admin endpoints.
    pub fn with_projections(mut self, registry: Registry) -> Self {
        self.projections = registry;
        self
    }
}

impl FromRef<AppState> for AuthConfig {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

/// `FromRef<AppState>` for each feature's sub-state, copying the named fields (all cheap
/// to clone: pools, `Arc`s and handles).
macro_rules! sub_states {
    ($($sub:ty { $($field:ident),+ $(,)? })+) => {$(
        impl FromRef<AppState> for $sub {
            fn from_ref(state: &AppState) -> Self {
                Self { $($field: state.$field.clone()),+ }
            }
        }
    )+};
}

// Reports export (issue 18, F45): the states of the lists it pages through.
impl FromRef<AppState> for crate::exports::ExportState {
    fn from_ref(state: &AppState) -> Self {
        Self {
            tenants: FromRef::from_ref(state),
            billing: FromRef::from_ref(state),
            usage: FromRef::from_ref(state),
            auth: FromRef::from_ref(state),
            notifications: FromRef::from_ref(state),
            reports: FromRef::from_ref(state),
            audit: FromRef::from_ref(state),
        }
    }
}

sub_states! {
    crate::audit::AuditState { pool, auth }
    crate::auth::AuthState { pool, auth, public_url, bus }
    crate::billing::BillingState { pool, pricing, public_url, stripe }
    crate::content::ContentState { pool, bus, pricing, public_url, auth }
    crate::conversations::ConversationsState { pool, bus, keys }
    crate::health::HealthState { pool, tail, consumers, ops }
    crate::knowledge::KnowledgeState { pool, bus, knowledge }
    crate::metrics::MetricsState { pool }
    crate::notifications::NotificationsState { pool }
    crate::onboarding::OnboardingState { pool, bus, whatsapp }
    crate::outbox::OutboxState { pool, keys }
    // Plans managed by admins (issue 18).
    crate::plans::PlansState { pool, bus, pricing }
    crate::privacy::PrivacyState { pool, bus, keys }
    crate::projections::ProjectionsState { pool, tail, projections }
    crate::reports::ReportsState { pool, pricing }
    crate::settings::SettingsState { pool, bus, public_url, whatsapp }
    crate::stream::StreamState { changes }
    crate::stripe_webhook::StripeWebhookState { pool, bus, pricing, stripe_webhook }
    crate::tenants::TenantsState { pool, bus, pricing, whatsapp, public_url, ai_limits }
    crate::tickets::TicketsState { pool, bus, keys, knowledge }
    crate::trail::TrailState { bus }
    crate::usage::UsageState { pool, pricing, bus }
    crate::users::UsersState { pool, bus, public_url }
    crate::webhooks::WebhooksState { whatsapp, rate_limits }
}
