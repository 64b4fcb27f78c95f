//! What the conversation aggregate needs from outside.

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::ids::IdGenerator;
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

/// A tenant's standing, as far as conversations care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantStatus {
    /// Registered and not suspended.
    Active,
    /// Registered and suspended.
    Suspended,
    /// Not registered.
    Unknown,
}

/// Answers whether a tenant may be served. The tenant's standing belongs to another
/// aggregate, so the conversation asks instead of keeping a copy that could go stale.
#[async_trait::async_trait]
pub trait TenantGate: Send + Sync {
    /// The tenant's current standing.
    async fn tenant_status(&self, tenant: Uuid) -> Result<TenantStatus, ServiceError>;
}

/// The services the conversation aggregate uses.
#[derive(Clone)]
pub struct ConversationServices {
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Ids for outbound messages.
    pub ids: Arc<dyn IdGenerator>,
    /// The tenant's standing.
    pub tenants: Arc<dyn TenantGate>,
}

impl ConversationServices {
    /// Services from their parts.
    pub fn new(
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        tenants: Arc<dyn TenantGate>,
    ) -> Self {
        Self {
            clock,
            ids,
            tenants,
        }
    }
}

impl fmt::Debug for ConversationServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConversationServices")
            .finish_non_exhaustive()
    }
}
