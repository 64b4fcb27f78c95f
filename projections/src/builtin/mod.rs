//! The projections every `atende serve` runs.

mod aggregate_index;

pub use aggregate_index::AggregateIndex;

use crate::audit::EventChain;
use crate::conversations::SubjectKeys;
use std::sync::Arc;
use stream::registry::Registry;
use stream::tail::Tail;
use stream::Handle;

/// Every built-in projection, and the sealer of the event chain. `keys` opens the personal
/// fields a read model keeps in clear (the conversations' contacts, for search).
pub fn registry(keys: Arc<dyn SubjectKeys>) -> Registry {
    Registry::new([
        Arc::new(AggregateIndex) as Arc<dyn stream::EventHandler>,
        Arc::new(EventChain::new()),
        Arc::new(crate::tenants::TenantDirectory),
        Arc::new(crate::conversations::Conversations::new(keys)),
        Arc::new(crate::metrics::TenantMetrics),
        Arc::new(crate::usage::TenantUsage),
        Arc::new(crate::reports::AdminReports),
        Arc::new(crate::billing::BillingAdmin),
        Arc::new(crate::knowledge::KnowledgeDocuments),
        Arc::new(crate::tickets::Tickets),
        Arc::new(crate::content::PlatformContentModel),
        // Plans managed by admins (issue 18).
        Arc::new(crate::plans::PlanCatalogueModel),
        Arc::new(crate::notifications::AdminNotifications),
    ])
}

/// Starts every built-in projection on `tail`, and the sealer of the event chain.
pub fn spawn_all(tail: &Tail, keys: Arc<dyn SubjectKeys>) -> Vec<Handle> {
    registry(keys).spawn_all(tail)
}
