//! All the aggregate stores, wired with their services.

use crate::privacy::KeyRing;
use crate::services::{EventStoreTenantGate, PgPhoneNumberDirectory};
use crate::store::{AggregateStore, CommitHook};
// Plans managed by admins (issue 18).
use aggregates::{
    AdminAction, AdminActionServices, Clock, Conversation, ConversationServices, IdGenerator,
    PlatformContent, PlatformContentServices, Subscription, SubscriptionServices, Tenant,
    TenantServices, Ticket, TicketServices,
};
use aggregates::{CataloguePlan, PlanServices};
// The usage monitor's AI spend thresholds (issue 18).
use aggregates::{AiSpendServices, AiSpendThreshold};
use cqrs_es::Aggregate;
use sqlx::PgPool;
use std::sync::Arc;

/// Settings of the write side.
#[derive(Debug, Clone)]
pub struct CommandBusConfig {
    /// Events between snapshots of one aggregate.
    pub snapshot_every: usize,
    /// Seal personal fields under subject keys. Always on in the product; the append
    /// benchmark turns it off to show what sealing costs.
    pub seal_personal_data: bool,
}

impl Default for CommandBusConfig {
    fn default() -> Self {
        Self {
            snapshot_every: 50,
            seal_personal_data: true,
        }
    }
}

/// The entry point of every command: one store per aggregate type.
#[derive(Debug)]
pub struct CommandBus {
    /// Tenants.
    pub tenants: AggregateStore<Tenant>,
    /// Subscriptions.
    pub subscriptions: AggregateStore<Subscription>,
    /// Conversations.
    pub conversations: AggregateStore<Conversation>,
    /// Support tickets.
    pub tickets: AggregateStore<Ticket>,
    /// Tutorials and announcements.
    pub content: AggregateStore<PlatformContent>,
    /// Operators' actions no other aggregate records (one aggregate per action).
    pub admin_actions: AggregateStore<AdminAction>,
    // Plans managed by admins (issue 18).
    /// The plans admins publish, revise and retire.
    pub plans: AggregateStore<CataloguePlan>,
    // The usage monitor's AI spend thresholds (issue 18).
    /// The monthly AI spend thresholds admins set (`global`, or a tenant's id).
    pub ai_spend: AggregateStore<AiSpendThreshold>,
}

impl CommandBus {
    /// Wires every store to `pool`, with the given clock and id source; `on_commit` runs
    /// after each successful command.
    pub fn new(
        pool: PgPool,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        config: &CommandBusConfig,
        on_commit: CommitHook,
        keys: Arc<KeyRing>,
    ) -> Self {
        let every = config.snapshot_every;
        let keys = config.seal_personal_data.then_some(keys);
        let gate = Arc::new(EventStoreTenantGate::new(pool.clone()));
        let hook_gate = gate.clone();
        let on_commit: CommitHook = Arc::new(move |aggregate, id| {
            if aggregate == Tenant::TYPE {
                hook_gate.invalidate(id);
            }
            on_commit(aggregate, id);
        });
        let tenant_services = TenantServices::new(
            clock.clone(),
            Arc::new(PgPhoneNumberDirectory::new(pool.clone())),
        );
        let conversation_services = ConversationServices::new(clock.clone(), ids, gate);
        Self {
            tenants: AggregateStore::new(
                pool.clone(),
                tenant_services,
                every,
                on_commit.clone(),
                keys.clone(),
                clock.clone(),
            ),
            subscriptions: AggregateStore::new(
                pool.clone(),
                SubscriptionServices::new(clock.clone()),
                every,
                on_commit.clone(),
                keys.clone(),
                clock.clone(),
            ),
            conversations: AggregateStore::new(
                pool.clone(),
                conversation_services,
                every,
                on_commit.clone(),
                keys.clone(),
                clock.clone(),
            ),
            tickets: AggregateStore::new(
                pool.clone(),
                TicketServices::new(clock.clone()),
                every,
                on_commit.clone(),
                keys.clone(),
                clock.clone(),
            ),
            content: AggregateStore::new(
                pool.clone(),
                PlatformContentServices::new(clock.clone()),
                every,
                on_commit.clone(),
                keys.clone(),
                clock.clone(),
            ),
            admin_actions: AggregateStore::new(
                pool.clone(),
                AdminActionServices::new(clock.clone()),
                every,
                on_commit.clone(),
                keys.clone(),
                clock.clone(),
            ),
            // Plans managed by admins (issue 18).
            plans: AggregateStore::new(
                pool.clone(),
                PlanServices::new(clock.clone()),
                every,
                on_commit.clone(),
                keys.clone(),
                clock.clone(),
            ),
            // The usage monitor's AI spend thresholds (issue 18).
            ai_spend: AggregateStore::new(
                pool,
                AiSpendServices::new(clock.clone()),
                every,
                on_commit,
                keys,
                clock,
            ),
        }
    }
}
