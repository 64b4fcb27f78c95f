//! Given/when/then tests of the tenant rules, one per rule.

// Per-tenant AI limits (issue 18).
mod ai_limits;
mod registration;
mod settings;

use super::*;
use crate::clock::FixedClock;
use crate::error::{DomainError, ErrorKind, ServiceError};
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use schemas::events::{BotSettings, TenantEvent, Tone};
use schemas::Locale;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(1);
const OTHER_TENANT: Uuid = Uuid::from_u128(2);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

/// Numbers and their owners, like the real directory's unique index.
#[derive(Default)]
struct FakeDirectory {
    owners: Mutex<HashMap<String, Uuid>>,
    down: bool,
}

impl FakeDirectory {
    fn with_owner(number: &str, owner: Uuid) -> Self {
        let d = Self::default();
        d.owners.lock().unwrap().insert(number.into(), owner);
        d
    }
}

#[async_trait::async_trait]
impl PhoneNumberDirectory for FakeDirectory {
    async fn claim(&self, number: &str, tenant: Uuid) -> Result<ClaimOutcome, ServiceError> {
        if self.down {
            return Err(ServiceError::new("connection refused"));
        }
        let mut owners = self.owners.lock().unwrap();
        Ok(match owners.get(number) {
            None => {
                owners.insert(number.into(), tenant);
                ClaimOutcome::Claimed
            }
            Some(owner) if *owner == tenant => ClaimOutcome::AlreadyOurs,
            Some(_) => ClaimOutcome::TakenByOther,
        })
    }
}

fn with(directory: FakeDirectory) -> TestFramework<Tenant> {
    TestFramework::with(TenantServices::new(
        Arc::new(FixedClock::new(t0())),
        Arc::new(directory),
    ))
}

fn tenant() -> TestFramework<Tenant> {
    with(FakeDirectory::default())
}

fn register() -> TenantCommand {
    TenantCommand::RegisterTenant {
        tenant_id: TENANT,
        name: "Padaria Pão Quente".into(),
        owner_email: "dona@padaria.com.br".into(),
        plan: "pro".into(),
    }
}

fn registered() -> TenantEvent {
    TenantEvent::TenantRegistered {
        tenant_id: TENANT,
        name: "Padaria Pão Quente".into(),
        owner_email: "dona@padaria.com.br".into(),
        plan: "pro".into(),
        at: t0(),
    }
}

fn linked(number: &str, previous: Option<&str>) -> TenantEvent {
    TenantEvent::WhatsAppNumberLinked {
        phone_number_id: number.into(),
        display_phone_number: "+55 11 4000-0000".into(),
        previous_phone_number_id: previous.map(Into::into),
        at: t0(),
    }
}

fn link(number: &str) -> TenantCommand {
    TenantCommand::LinkWhatsAppNumber {
        phone_number_id: number.into(),
        display_phone_number: "+55 11 4000-0000".into(),
    }
}

fn settings_command(threshold: f64) -> TenantCommand {
    TenantCommand::ChangeBotSettings {
        greeting: "Oi!".into(),
        fallback_message: "Vou chamar alguém.".into(),
        waiting_message: "Aguarde.".into(),
        return_message: "Voltei.".into(),
        tone: Tone::Casual,
        confidence_threshold: threshold,
        handoff_keywords: Vec::new(),
    }
}

fn settings(threshold: f64) -> BotSettings {
    BotSettings {
        greeting: "Oi!".into(),
        fallback_message: "Vou chamar alguém.".into(),
        waiting_message: "Aguarde.".into(),
        return_message: "Voltei.".into(),
        tone: Tone::Casual,
        confidence_threshold: threshold,
        handoff_keywords: Vec::new(),
    }
}

fn knowledge(version: u32, text: &str) -> TenantEvent {
    TenantEvent::KnowledgeReplaced {
        version,
        text: text.into(),
        char_count: u32::try_from(text.chars().count()).unwrap(),
        at: t0(),
    }
}

fn error_of(events: Vec<TenantEvent>, command: TenantCommand) -> TenantError {
    tenant()
        .given(events)
        .when(command)
        .inspect_result()
        .unwrap_err()
}

#[test]
fn the_aggregate_type_is_the_stored_tenant_string() {
    assert_eq!(Tenant::TYPE, "tenant");
}
