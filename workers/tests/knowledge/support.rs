//! Shared by the knowledge tests: events as the stream delivers them, and sample texts.

use chrono::Utc;
use schemas::StoredEvent;
use serde_json::json;
use uuid::Uuid;

/// A `KnowledgeReplaced` of `tenant` as the event stream delivers it.
pub fn replaced(tenant: Uuid, version: u32, text: &str) -> StoredEvent {
    StoredEvent {
        position: i64::from(version),
        tx_id: i64::from(version),
        recorded_at: Utc::now(),
        aggregate_type: "Tenant".into(),
        aggregate_id: tenant.to_string(),
        sequence: i64::from(version) + 1,
        event_type: "KnowledgeReplaced".into(),
        event_version: "1".into(),
        payload: json!({ "KnowledgeReplaced": {
            "version": version,
            "text": text,
            "char_count": text.chars().count(),
            "at": Utc::now(),
        }}),
        metadata: Default::default(),
    }
}

pub const PADARIA: &str = "Horário de funcionamento: abrimos de segunda a sábado das 7h às 20h.\n\
    Entregas: entregamos pães e bolos no bairro por R$ 5,00.\n\
    Pagamento: aceitamos Pix e cartão.";

pub const OFICINA: &str =
    "Horário de funcionamento: a oficina abre de segunda a sexta das 8h às 18h.\n\
    Serviços: troca de óleo, alinhamento e balanceamento.\n\
    Pagamento: aceitamos boleto e cartão em até 6 vezes.";
