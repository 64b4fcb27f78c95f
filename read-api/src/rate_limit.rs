//! Rate limits (issue 19, F34): GCRA buckets from `governor`, one per key, so one client's
//! flood spends its own budget and nobody else's.
//!
//! - The tenant API (any route a token opens): per tenant for owners' and agents' tokens,
//!   per user for platform users' (admins, auditors), each with its own limit.
//! - Without a valid token (sign-in, sign-up, password reset, invitations, the public plan
//!   list, and every refused token): per client IP, by the same address policy as login
//!   blocking ([`crate::request::ClientIp`]); IPv6 clients by their /64, which one host
//!   usually holds whole.
//! - The WhatsApp webhooks: per provider number, checked by the handlers once the request
//!   is verified and read (the Cloud API's `phone_number_id`, the tenant an Evolution
//!   instance's secret address names), so only the provider's own requests spend it.
//!
//! A limit of N per period allows N requests at once and one more every period / N after
//! that: a client idle for a whole period has its whole budget again. Over it: 429
//! `rate_limited` with `Retry-After`, counted in `atende_rate_limited_total{scope}`.

use crate::error::ApiError;
use crate::request::{bearer_token, AuthConfig};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use uuid::Uuid;

/// Requests allowed per period, by key; 0 is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// The period the counts are per.
    pub period: Duration,
    /// Per tenant, for owners' and agents' tokens.
    pub tenant: u32,
    /// Per platform user (admin, super admin, auditor).
    pub platform_user: u32,
    /// Per client IP, for requests without a valid token.
    pub ip: u32,
    /// Per WhatsApp number, for its provider's webhooks.
    pub provider_number: u32,
}

impl RateLimits {
    /// The defaults: far above what a console or a busy number sends, low enough to stop a
    /// runaway script.
    pub const DEFAULT: Self = Self {
        period: Duration::from_secs(60),
        tenant: 3000,
        platform_user: 3000,
        ip: 600,
        provider_number: 12_000,
    };

    /// No limit at all (the benchmarks measure the server, not the limiter).
    pub const OFF: Self = Self {
        period: Duration::from_secs(60),
        tenant: 0,
        platform_user: 0,
        ip: 0,
        provider_number: 0,
    };
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The label of `atende_rate_limited_total` and of the buckets.
#[derive(Debug, Clone, Copy)]
enum Bucket {
    Tenant,
    PlatformUser,
    Ip,
    ProviderNumber,
}

impl Bucket {
    fn label(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::PlatformUser => "platform_user",
            Self::Ip => "ip",
            Self::ProviderNumber => "provider_number",
        }
    }
}

/// What a provider number is known by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Number {
    /// The Cloud API's `phone_number_id`.
    Cloud(String),
    /// An Evolution API instance, by the tenant whose secret address it posts to.
    Evolution(Uuid),
}

/// One bucket per key; `None` when unlimited.
type Keyed<K> = Option<DefaultKeyedRateLimiter<K>>;

struct Limiters {
    tenant: Keyed<Uuid>,
    platform_user: Keyed<Uuid>,
    ip: Keyed<IpAddr>,
    provider_number: Keyed<Number>,
    clock: DefaultClock,
}

/// The process's rate limiters; cheap to clone.
#[derive(Clone)]
pub struct RateLimiters {
    inner: Arc<Limiters>,
}

impl std::fmt::Debug for RateLimiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiters").finish_non_exhaustive()
    }
}

fn keyed<K: Hash + Eq + Clone>(per_period: u32, period: Duration) -> Keyed<K> {
    let burst = NonZeroU32::new(per_period)?;
    let quota = Quota::with_period(period / per_period)?.allow_burst(burst);
    Some(DefaultKeyedRateLimiter::dashmap(quota))
}

/// Keys whose bucket is full again are dropped this often at most (and once a period), so
/// memory holds only the clients of the last period or two.
const SWEEP_AT_MOST_EVERY: Duration = Duration::from_secs(60);

impl RateLimiters {
    /// Limiters for `limits`. Within a Tokio runtime, a task drops idle keys each period
    /// for as long as the limiters live.
    pub fn new(limits: &RateLimits) -> Self {
        let period = limits.period.max(Duration::from_millis(1));
        let inner = Arc::new(Limiters {
            tenant: keyed(limits.tenant, period),
            platform_user: keyed(limits.platform_user, period),
            ip: keyed(limits.ip, period),
            provider_number: keyed(limits.provider_number, period),
            clock: DefaultClock::default(),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(sweep(
                Arc::downgrade(&inner),
                period.min(SWEEP_AT_MOST_EVERY),
            ));
        }
        Self { inner }
    }

    /// Spends one request of the Cloud API number `phone_number_id`.
    pub fn check_cloud_number(&self, phone_number_id: &str) -> Result<(), ApiError> {
        self.check(
            &self.inner.provider_number,
            &Number::Cloud(phone_number_id.to_owned()),
            Bucket::ProviderNumber,
        )
    }

    /// Spends one request of the Evolution API instance that posts to `tenant`'s address.
    pub fn check_evolution_instance(&self, tenant: Uuid) -> Result<(), ApiError> {
        self.check(
            &self.inner.provider_number,
            &Number::Evolution(tenant),
            Bucket::ProviderNumber,
        )
    }

    fn check<K: Hash + Eq + Clone>(
        &self,
        limiter: &Keyed<K>,
        key: &K,
        bucket: Bucket,
    ) -> Result<(), ApiError> {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.inner.clock.now());
            ::metrics::counter!("atende_rate_limited_total", "scope" => bucket.label())
                .increment(1);
            tracing::debug!(
                scope = bucket.label(),
                ?wait,
                "a request over its rate limit was refused"
            );
            ApiError::RateLimited {
                // Rounded up, and never 0: a client retrying at once would be refused again.
                retry_after_secs: u64::try_from(wait.as_nanos().div_ceil(1_000_000_000))
                    .unwrap_or(u64::MAX)
                    .max(1),
            }
        })
    }

    /// Whether any caller's limit is on (off, the middleware does not even read tokens).
    fn limits_callers(&self) -> bool {
        let l = &self.inner;
        l.tenant.is_some() || l.platform_user.is_some() || l.ip.is_some()
    }

    /// Spends one request of the caller's bucket: its tenant, its platform user, or its IP.
    fn check_caller(&self, caller: Caller) -> Result<(), ApiError> {
        match caller {
            Caller::Tenant(t) => self.check(&self.inner.tenant, &t, Bucket::Tenant),
            Caller::PlatformUser(u) => {
                self.check(&self.inner.platform_user, &u, Bucket::PlatformUser)
            }
            Caller::Ip(ip) => self.check(&self.inner.ip, &ip, Bucket::Ip),
            Caller::Unknown => Ok(()),
        }
    }
}

impl Limiters {
    fn sweep(&self) {
        fn drop_idle<K: Hash + Eq + Clone>(limiter: &Keyed<K>) {
            if let Some(limiter) = limiter {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        drop_idle(&self.tenant);
        drop_idle(&self.platform_user);
        drop_idle(&self.ip);
        drop_idle(&self.provider_number);
    }
}

async fn sweep(limiters: Weak<Limiters>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match limiters.upgrade() {
            Some(limiters) => limiters.sweep(),
            None => return,
        }
    }
}

/// Whose budget a request spends.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Tenant(Uuid),
    PlatformUser(Uuid),
    Ip(IpAddr),
    /// No token and no address (a server started without connect info): not limited.
    Unknown,
}

/// IPv6 clients by their /64: one host (or one customer of a provider) holds it whole and
/// could otherwise rotate through its addresses.
fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// How an operation is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// By the caller, in [`limit`]: its tenant or platform user, or its IP without a token.
    Caller,
    /// By provider number, in the handler.
    ProviderNumber,
    /// Not limited.
    Unlimited,
}

/// Operations no limit applies to: monitors' probes (`/health`, `/metrics`, which guards
/// itself), the static document, and Stripe's webhooks (signed, and a refused event would
/// only come back later).
pub const UNLIMITED_OPERATIONS: [&str; 4] = [
    "health",
    "metrics",
    "openapi_document",
    "receive_stripe_webhook",
];

/// The WhatsApp webhooks, limited per provider number by their handlers.
pub const PROVIDER_NUMBER_OPERATIONS: [&str; 2] =
    ["receive_whatsapp_webhook", "receive_evolution_webhook"];

/// How the operation `operation_id` is limited.
pub fn scope_of(operation_id: &str) -> Scope {
    if UNLIMITED_OPERATIONS.contains(&operation_id) {
        Scope::Unlimited
    } else if PROVIDER_NUMBER_OPERATIONS.contains(&operation_id) {
        Scope::ProviderNumber
    } else {
        Scope::Caller
    }
}

/// Every operation's scope, by method and route template, as the router sees them.
#[derive(Debug, Default)]
pub struct RouteScopes(HashMap<(Method, String), Scope>);

impl RouteScopes {
    /// The scopes of `doc`'s operations.
    pub fn of(doc: &OpenApi) -> Self {
        let mut scopes = HashMap::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in crate::openapi::operations(item) {
                let (Ok(method), Some(id)) = (method.parse(), op.operation_id.as_deref()) else {
                    continue;
                };
                scopes.insert((method, path.clone()), scope_of(id));
            }
        }
        Self(scopes)
    }

    fn get(&self, method: &Method, template: &str) -> Scope {
        // Requests no route matched reach no handler: they are left alone.
        self.0
            .get(&(method.clone(), template.to_owned()))
            .copied()
            .unwrap_or(Scope::Unlimited)
    }
}

/// Documents the 429 on every limited operation of `doc`, with its `Retry-After`.
pub fn document(doc: &mut OpenApi) {
    let retry_after = || {
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::Integer))
            .description(Some("Seconds until a retry may succeed (rounded up)"))
            .build()
    };
    const LIMITED: &str = "The caller's rate limit is spent (`rate_limited`); retry after \
                           `Retry-After` seconds";
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let id = op.operation_id.as_deref().unwrap_or_default();
            if scope_of(id) == Scope::Unlimited {
                continue;
            }
            let responses = &mut op.responses.responses;
            match responses.get_mut("429") {
                // Sign-in's and password reset's own 429 (failed attempts) says so already.
                Some(RefOr::T(existing)) => {
                    existing.description = format!(
                        "{}, or the caller's rate limit is spent (`rate_limited`)",
                        existing.description
                    );
                    existing
                        .headers
                        .entry("Retry-After".into())
                        .or_insert_with(retry_after);
                }
                Some(RefOr::Ref(_)) => {}
                None => {
                    let response = ResponseBuilder::new()
                        .description(LIMITED)
                        .header("Retry-After", retry_after())
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build();
                    responses.insert("429".into(), RefOr::T(response));
                }
            }
        }
    }
}

/// What [`limit`] needs.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The limiters.
    pub limiters: RateLimiters,
    /// The routes' scopes.
    pub scopes: Arc<RouteScopes>,
    /// Reads tokens and client addresses.
    pub auth: AuthConfig,
}

impl Guard {
    fn caller(&self, request: &Request) -> Caller {
        // The signature and expiry are enough to name the tenant: a revoked token still
        // names its own tenant, whose budget it is fair to spend.
        let token = match bearer_token(request.headers()) {
            Some(token) => self.auth.verify_access_token(token).ok(),
            // The stream's `EventSource` can only send its token in the query.
            None => crate::stream::auth::token_in_query(request.uri())
                .and_then(|token| self.auth.verify_access_token(&token).ok()),
        };
        if let Some(user) = token {
            return match user.tenant_id {
                Some(tenant) => Caller::Tenant(tenant),
                None => Caller::PlatformUser(user.id),
            };
        }
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        crate::request::client_ip(peer, request.headers(), self.auth.trust_proxy())
            .map_or(Caller::Unknown, |ip| Caller::Ip(ip_key(ip)))
    }
}

/// The middleware: refuses a request whose caller's budget is spent, before its handler
/// does any work.
pub async fn limit(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let scope = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(Scope::Unlimited, |path| {
            guard.scopes.get(request.method(), path.as_str())
        });
    if scope == Scope::Caller && guard.limiters.limits_callers() {
        if let Err(refused) = guard.limiters.check_caller(guard.caller(&request)) {
            return refused.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_nth_request_of_a_key_passes_and_the_next_waits_while_other_keys_pass() {
        let limiters = RateLimiters::new(&RateLimits {
            provider_number: 3,
            ..RateLimits::DEFAULT
        });
        for _ in 0..3 {
            assert!(limiters.check_cloud_number("a").is_ok());
        }
        match limiters.check_cloud_number("a") {
            Err(ApiError::RateLimited { retry_after_secs }) => {
                // One request comes back every 20 s.
                assert!((1..=20).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(limiters.check_cloud_number("b").is_ok());
        assert!(limiters.check_evolution_instance(Uuid::nil()).is_ok());
    }

    #[tokio::test]
    async fn a_limit_of_zero_is_no_limit() {
        let limiters = RateLimiters::new(&RateLimits::OFF);
        for _ in 0..10_000 {
            assert!(limiters.check_cloud_number("a").is_ok());
        }
    }

    #[test]
    fn ipv6_clients_share_their_64_and_ipv4_clients_are_their_own() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::2"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let v4 = IpAddr::from([192, 0, 2, 1]);
        assert_eq!(ip_key(v4), v4);
    }
}
