//! What the tenant aggregate needs from outside.

use crate::clock::Clock;
use crate::error::ServiceError;
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

/// The result of claiming a WhatsApp number for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The number was free and now belongs to the tenant.
    Claimed,
    /// The tenant had claimed it already (e.g. a retried command).
    AlreadyOurs,
    /// Another tenant has it.
    TakenByOther,
}

/// The platform-wide registry of WhatsApp numbers: webhooks are routed by
/// `phone_number_id`, so one number must never belong to two tenants. That uniqueness spans
/// aggregates, so it lives in a service with an atomic claim rather than in one tenant.
#[async_trait::async_trait]
pub trait PhoneNumberDirectory: Send + Sync {
    /// Claims `phone_number_id` for `tenant`, atomically. Claiming again for the same
    /// tenant must answer `AlreadyOurs`, because a command may be retried after a claim
    /// whose event was never stored.
    async fn claim(
        &self,
        phone_number_id: &str,
        tenant: Uuid,
    ) -> Result<ClaimOutcome, ServiceError>;
}

/// The services the tenant aggregate uses.
#[derive(Clone)]
pub struct TenantServices {
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The registry of WhatsApp numbers.
    pub phone_numbers: Arc<dyn PhoneNumberDirectory>,
}

impl TenantServices {
    /// Services from their parts.
    pub fn new(clock: Arc<dyn Clock>, phone_numbers: Arc<dyn PhoneNumberDirectory>) -> Self {
        Self {
            clock,
            phone_numbers,
        }
    }
}

impl fmt::Debug for TenantServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantServices").finish_non_exhaustive()
    }
}
