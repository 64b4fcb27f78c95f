//! The rate limits' settings (issue 19, F34): requests per period, per tenant, platform
//! user, client IP and WhatsApp number; 0 is unlimited. What each one keys on:
//! [`read_api::rate_limit`].

use clap::Args;
use read_api::rate_limit::RateLimits;
use std::time::Duration;

const DEFAULT: RateLimits = RateLimits::DEFAULT;

/// `serve`'s rate limits.
#[derive(Debug, Clone, Copy, Args)]
pub struct RateLimitSettings {
    /// The period the limits below count requests in, in seconds. A client idle for one
    /// whole period has its whole budget again.
    #[arg(long, env = "ATENDE_RATE_LIMIT_PERIOD_SECS", default_value_t = DEFAULT.period.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub rate_limit_period_secs: u64,
    /// Requests per period per tenant (its owners' and agents' tokens); 0: unlimited.
    #[arg(long, env = "ATENDE_RATE_LIMIT_TENANT", default_value_t = DEFAULT.tenant)]
    pub rate_limit_tenant: u32,
    /// Requests per period per platform user (admin, super admin, auditor); 0: unlimited.
    #[arg(long, env = "ATENDE_RATE_LIMIT_PLATFORM_USER", default_value_t = DEFAULT.platform_user)]
    pub rate_limit_platform_user: u32,
    /// Requests per period per client IP without a valid token (sign-in, sign-up, password
    /// reset, invitations, public pages); 0: unlimited.
    #[arg(long, env = "ATENDE_RATE_LIMIT_IP", default_value_t = DEFAULT.ip)]
    pub rate_limit_ip: u32,
    /// Webhooks per period per WhatsApp number (Cloud API number, Evolution instance); 0:
    /// unlimited.
    #[arg(long, env = "ATENDE_RATE_LIMIT_PROVIDER_NUMBER", default_value_t = DEFAULT.provider_number)]
    pub rate_limit_provider_number: u32,
}

impl RateLimitSettings {
    /// Every limit off (the benchmarks measure the server, not the limiter).
    pub const OFF: Self = Self::of(RateLimits::OFF);

    const fn of(limits: RateLimits) -> Self {
        Self {
            rate_limit_period_secs: limits.period.as_secs(),
            rate_limit_tenant: limits.tenant,
            rate_limit_platform_user: limits.platform_user,
            rate_limit_ip: limits.ip,
            rate_limit_provider_number: limits.provider_number,
        }
    }

    /// The limits the API applies.
    pub fn limits(&self) -> RateLimits {
        RateLimits {
            period: Duration::from_secs(self.rate_limit_period_secs.max(1)),
            tenant: self.rate_limit_tenant,
            platform_user: self.rate_limit_platform_user,
            ip: self.rate_limit_ip,
            provider_number: self.rate_limit_provider_number,
        }
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self::of(DEFAULT)
    }
}
