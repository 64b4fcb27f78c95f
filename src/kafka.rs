//! Kafka settings (F61): with `KAFKA_BROKERS` set, events travel through Kafka.

use anyhow::Context;
use clap::Args;
use stream::{EventSource, KafkaConfig, Tail};
use workers::relay::RelayHandle;

/// Settings of the Kafka stream, shared by `serve` and `worker`.
#[derive(Debug, Clone, Args)]
pub struct KafkaSettings {
    /// Bootstrap brokers, `host:port[,host:port…]`. Unset: events travel through the
    /// in-process tail of the event store.
    #[arg(long, env = "KAFKA_BROKERS")]
    pub kafka_brokers: Option<String>,
    /// Topics are `<prefix>.tenant`, `.subscription`, `.conversation`, `.ticket`.
    #[arg(long, env = "KAFKA_TOPIC_PREFIX", default_value = "atende")]
    pub kafka_topic_prefix: String,
    /// Consumer groups are `<prefix>.<consumer>` (one group per projection or worker).
    #[arg(long, env = "KAFKA_GROUP_PREFIX", default_value = "atende")]
    pub kafka_group_prefix: String,
    /// Partitions of each topic the relay creates (the most processes that share one
    /// consumer's work).
    #[arg(long, env = "KAFKA_PARTITIONS", default_value_t = 6)]
    pub kafka_partitions: i32,
    /// Replication factor of each topic the relay creates.
    #[arg(long, env = "KAFKA_REPLICATION_FACTOR", default_value_t = 1)]
    pub kafka_replication_factor: i32,
    /// librdkafka properties for every Kafka client, `key=value` separated by commas
    /// (`security.protocol=SASL_SSL,sasl.mechanism=PLAIN,…`); they override atende's own.
    #[arg(long, env = "KAFKA_OPTIONS", value_parser = parse_options, default_value = "")]
    pub kafka_options: KafkaOptions,
}

/// Parsed `KAFKA_OPTIONS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KafkaOptions(pub Vec<(String, String)>);

fn parse_options(text: &str) -> Result<KafkaOptions, String> {
    KafkaConfig::parse_options(text).map(KafkaOptions)
}

impl Default for KafkaSettings {
    fn default() -> Self {
        let d = KafkaConfig::new("");
        Self {
            kafka_brokers: None,
            kafka_topic_prefix: d.topic_prefix,
            kafka_group_prefix: d.group_prefix,
            kafka_partitions: d.partitions,
            kafka_replication_factor: d.replication_factor,
            kafka_options: KafkaOptions::default(),
        }
    }
}

impl KafkaSettings {
    /// The Kafka configuration, when brokers are set.
    pub fn config(&self) -> Option<KafkaConfig> {
        let brokers = self
            .kafka_brokers
            .as_deref()
            .filter(|b| !b.trim().is_empty())?;
        Some(KafkaConfig {
            topic_prefix: self.kafka_topic_prefix.clone(),
            group_prefix: self.kafka_group_prefix.clone(),
            partitions: self.kafka_partitions.max(1),
            replication_factor: self.kafka_replication_factor.max(1),
            options: self.kafka_options.0.clone(),
            ..KafkaConfig::new(brokers)
        })
    }

    /// Where runners read: Kafka when brokers are set, else `tail`.
    pub fn source(&self, tail: Tail) -> EventSource {
        match self.config() {
            Some(config) => EventSource::Kafka { config, tail },
            None => EventSource::Tail(tail),
        }
    }

    /// Starts the relay from `tail` when brokers are set.
    pub fn relay(&self, tail: Tail) -> anyhow::Result<Option<RelayHandle>> {
        self.config()
            .map(|c| workers::relay::spawn(tail, c).context("starting the kafka relay"))
            .transpose()
    }
}
