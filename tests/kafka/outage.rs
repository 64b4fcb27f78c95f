//! A broker outage with every consumer running: they pause, and resume when the broker
//! comes back, also when it comes back empty (the topics recreated, their offsets gone).

use crate::support::*;
use std::time::Duration;
use testkit::kafka::Tansu;

#[tokio::test]
async fn consumers_pause_through_a_broker_outage_and_resume_when_it_comes_back_empty() {
    log_relay_to_test_output();
    let db = testkit::test_database().await.unwrap();
    let mut broker = Tansu::start().await.unwrap();
    let app = start_app(&db.pool, Some(&broker), false).await;
    let pool = &db.pool;
    let applied_everything = || consumer_applied_all(pool, "conversations", &["conversation"]);
    drive(&app.bus, 2, 3).await;
    eventually(
        "the conversations consumer applies the first events",
        Duration::from_secs(60),
        applied_everything,
    )
    .await;

    broker.stop().await.unwrap();
    drive(&app.bus, 2, 3).await;
    eventually(
        "the consumers notice the outage",
        Duration::from_secs(30),
        || async {
            app.consumers()
                .iter()
                .any(|c| c.name == "conversations" && c.last_error.is_some())
        },
    )
    .await;
    // Memory storage: the broker comes back without topics, offsets or groups.
    broker.restart().await.unwrap();

    eventually(
        "the consumers resume and apply the events written during the outage",
        Duration::from_secs(120),
        applied_everything,
    )
    .await;
    drive(&app.bus, 2, 3).await;
    eventually(
        "the consumers apply events written after the broker came back",
        Duration::from_secs(60),
        applied_everything,
    )
    .await;
    app.stop().await.unwrap();
}
