//! Creating the stream's topics.

use super::config::KafkaConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use std::time::Duration;

/// Creates the stream's topics that do not exist yet.
///
/// Consumers and the relay both call it at start, so neither depends on the broker
/// auto-creating topics (with a default partition count) or on starting first.
#[tracing::instrument(name = "making sure the stream's topics exist", skip_all, fields(brokers = %config.brokers))]
pub async fn ensure_topics(config: &KafkaConfig) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> =
        config.with_options(&mut config.client()).create()?;
    let names = config.topics();
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| {
            NewTopic::new(
                n,
                config.partitions,
                TopicReplication::Fixed(config.replication_factor),
            )
        })
        .collect();
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&topics, &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                tracing::warn!(topic, ?code, "creating a topic failed");
                return Err(KafkaError::AdminOp(code));
            }
        }
    }
    Ok(())
}
