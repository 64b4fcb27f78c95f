//! Publishing a batch of stored events and waiting for the broker's acknowledgements.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::StoredEvent;
use std::time::Duration;
use stream::kafka::{headers, KafkaConfig};
use stream::TailError;

/// The relay could not move a batch.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The broker refused or did not acknowledge a message.
    #[error("kafka did not acknowledge the batch")]
    Kafka(#[from] KafkaError),
    /// The producer dropped a message without an answer (it is shutting down).
    #[error("the producer dropped a message without an acknowledgement")]
    Dropped,
    /// No answer within [`ACK_TIMEOUT`]: the producer is replaced.
    #[error("kafka did not answer within {ACK_TIMEOUT:?}")]
    Unacknowledged,
    /// Reading the event store failed.
    #[error("reading the event store failed")]
    Tail(#[from] TailError),
    /// Saving the checkpoint or taking the relay's lock failed.
    #[error("database error in the relay")]
    Database(#[from] sqlx::Error),
    /// An event could not be encoded.
    #[error("encoding an event failed")]
    Encode(#[from] serde_json::Error),
}

/// How long a batch may wait for its acknowledgements. librdkafka keeps retrying for up to
/// `message.timeout.ms` (5 minutes), and an idempotent producer whose broker came back
/// empty was seen waiting that long without a word; a fresh producer starts over at once.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(15);

/// An idempotent producer for the stream's topics.
#[derive(Clone)]
pub struct Publisher {
    producer: FutureProducer,
    config: KafkaConfig,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("brokers", &self.config.brokers)
            .finish()
    }
}

impl Publisher {
    /// A producer for `config`'s brokers.
    pub fn new(config: &KafkaConfig) -> Result<Self, RelayError> {
        let mut client = config.client();
        client
            // Idempotence: retries inside librdkafka never duplicate or reorder a partition.
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            // A broker that restarted empty has no topics; librdkafka holds messages for an
            // unknown topic this long before failing them, and only then does the relay
            // create the topics again (30 s by default: the relay would sit idle that long).
            .set("topic.metadata.propagation.max.ms", "2000")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "200000");
        let producer = config.with_options(&mut client).create()?;
        Ok(Self {
            producer,
            config: config.clone(),
        })
    }

    /// Whether the producer hit a fatal error (an idempotent producer whose sequence the
    /// broker lost, as after a broker that restarted empty) and must be replaced.
    pub fn is_fatal(&self) -> bool {
        use rdkafka::producer::Producer;
        self.producer.client().fatal_error().is_some()
    }

    /// Sends `events` in order and waits until the broker acknowledged every one.
    #[tracing::instrument(name = "publishing a batch of events to kafka", skip_all, fields(events = events.len()))]
    pub async fn publish(&self, events: &[StoredEvent]) -> Result<(), RelayError> {
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            let payload = serde_json::to_vec(event)?;
            let topic = self.config.topic(&event.aggregate_type);
            let position = event.position.to_string();
            let mut record = FutureRecord::to(&topic)
                .key(&event.aggregate_id)
                .payload(&payload)
                .headers(message_headers(event, &position));
            loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => {
                        pending.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                        record = r;
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    Err((e, _)) => return Err(e.into()),
                }
            }
        }
        let acknowledged = async {
            for delivery in pending {
                match delivery.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((e, _))) => return Err(e.into()),
                    Err(_) => return Err(RelayError::Dropped),
                }
            }
            Ok(())
        };
        tokio::time::timeout(ACK_TIMEOUT, acknowledged)
            .await
            .unwrap_or(Err(RelayError::Unacknowledged))
    }
}

fn message_headers(event: &StoredEvent, position: &str) -> OwnedHeaders {
    let tenant = if event.aggregate_type == "tenant" {
        Some(event.aggregate_id.as_str())
    } else {
        event.metadata.get("tenant_id").map(String::as_str)
    };
    let mut h = OwnedHeaders::new()
        .insert(Header {
            key: headers::EVENT_TYPE,
            value: Some(event.event_type.as_str()),
        })
        .insert(Header {
            key: headers::EVENT_VERSION,
            value: Some(event.event_version.as_str()),
        })
        .insert(Header {
            key: headers::POSITION,
            value: Some(position),
        });
    if let Some(tenant) = tenant {
        h = h.insert(Header {
            key: headers::TENANT_ID,
            value: Some(tenant),
        });
    }
    if let Some(correlation) = event.metadata.get("correlation_id") {
        h = h.insert(Header {
            key: headers::CORRELATION_ID,
            value: Some(correlation.as_str()),
        });
    }
    h
}
