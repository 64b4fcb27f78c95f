//! What can be asked of a plan.

use schemas::plans::PlanSpec;
use uuid::Uuid;

/// A request to change a plan. Every command names the admin who asks, so the log says
/// who did what, and whether the configured catalogue (the seed) lists the plan, which
/// the aggregate cannot know from its own events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanCommand {
    /// Put a new plan on sale.
    Create {
        /// Its whole spec; `spec.id` is the aggregate id.
        spec: PlanSpec,
        /// Whether the configured catalogue lists a plan with this key.
        configured: bool,
        /// The admin.
        admin_id: Uuid,
    },
    /// Replace a plan's spec for new checkouts from now on.
    Edit {
        /// Its whole new spec; `spec.id` is the aggregate id.
        spec: PlanSpec,
        /// Whether the configured catalogue lists the plan.
        configured: bool,
        /// The admin.
        admin_id: Uuid,
    },
    /// Take a plan off sale for good.
    Retire {
        /// Its key (the aggregate id).
        plan_id: String,
        /// Whether the configured catalogue lists the plan.
        configured: bool,
        /// The admin.
        admin_id: Uuid,
    },
}
