//! Identifiers that both sides derive the same way.

use uuid::Uuid;

/// A tenant (a paying business) is identified by a UUID.
pub type TenantId = Uuid;

/// A dashboard user (owner or agent) is identified by a UUID.
pub type AgentId = Uuid;

/// Namespace for deriving conversation ids; fixed forever because ids are stored.
const CONVERSATION_NAMESPACE: Uuid = Uuid::from_u128(0x6a7e_6e64_6563_6f6e_7665_7273_6174_696f);

/// The id of the one conversation between a tenant and a WhatsApp contact.
///
/// Derived (UUIDv5) rather than looked up so that a webhook can address the conversation
/// without a read, and so the contact's number never appears in the aggregate id.
pub fn conversation_id(tenant: TenantId, contact_wa_id: &str) -> Uuid {
    let mut name = Vec::with_capacity(16 + contact_wa_id.len());
    name.extend_from_slice(tenant.as_bytes());
    name.extend_from_slice(contact_wa_id.as_bytes());
    Uuid::new_v5(&CONVERSATION_NAMESPACE, &name)
}

/// Namespace for deriving tenant ids from Stripe customers; fixed forever.
const STRIPE_CUSTOMER_NAMESPACE: Uuid = Uuid::from_u128(0x7374_7269_7065_2d63_7573_746f_6d65_7273);

/// The tenant (and subscription) a Stripe customer pays for.
///
/// Derived (UUIDv5) so that every webhook about the customer, in whatever order and however
/// often Stripe delivers it, addresses the same aggregates without a lookup.
pub fn tenant_for_stripe_customer(customer_id: &str) -> TenantId {
    Uuid::new_v5(&STRIPE_CUSTOMER_NAMESPACE, customer_id.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stripe_customer_always_maps_to_the_same_tenant() {
        let t = tenant_for_stripe_customer("cus_1");
        assert_eq!(t, tenant_for_stripe_customer("cus_1"));
        assert_ne!(t, tenant_for_stripe_customer("cus_2"));
        assert_eq!(t.get_version_num(), 5);
    }

    #[test]
    fn conversation_id_is_stable_per_tenant_and_contact() {
        let t1 = Uuid::from_u128(1);
        let t2 = Uuid::from_u128(2);
        assert_eq!(
            conversation_id(t1, "5511999"),
            conversation_id(t1, "5511999")
        );
        assert_ne!(
            conversation_id(t1, "5511999"),
            conversation_id(t2, "5511999")
        );
        assert_ne!(
            conversation_id(t1, "5511999"),
            conversation_id(t1, "5511998")
        );
    }
}
