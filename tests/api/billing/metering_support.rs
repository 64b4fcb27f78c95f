//! Conversations in which the AI answers, as the webhook and the AI worker would run them.

use crate::helpers::TestApp;
use crate::metrics::Chat;
use uuid::Uuid;

/// `count` customer messages of a new contact of `tenant`, each answered by the AI.
pub async fn answers(app: &TestApp, tenant: Uuid, count: usize) {
    let chat = Chat {
        app,
        tenant,
        contact: format!("55119{}", Uuid::now_v7().as_u128() % 100_000_000),
    };
    for _ in 0..count {
        chat.customer_writes().await;
        chat.ai_answers("gpt-4o-mini", 10, 5).await;
    }
}
