//! Topic admin: creates the topics of the design at start-up. The local
//! broker does not auto-create topics, and in production explicit creation
//! is what lets an operator see partitions and retention in one place.

use std::time::Duration;

use handoff_events::topics;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use serde::{Deserialize, Serialize};

use crate::config::KafkaConfig;

/// Partitions, replication and retention of the topics Handoff creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicsConfig {
    /// Partitions of each agency topic; the key is the A-number, so this
    /// bounds how many consumer instances of one group can share the work.
    /// Default 6.
    pub agency_partitions: i32,
    /// Replication factor of every topic. Default 1 (one local broker);
    /// production uses 3 with `min.insync.replicas=2`.
    pub replication_factor: i32,
    /// Retention of the agency topics, the system of record, in ms.
    /// Default -1: keep forever.
    pub agency_retention_ms: i64,
    /// Retention of notifications and dead letters in ms. Default 30 days.
    pub bounded_retention_ms: i64,
    /// `min.insync.replicas` for every topic, when set. Default unset.
    pub min_insync_replicas: Option<i32>,
}

impl Default for TopicsConfig {
    fn default() -> Self {
        TopicsConfig {
            agency_partitions: 6,
            replication_factor: 1,
            agency_retention_ms: -1,
            bounded_retention_ms: 30 * 24 * 3_600_000,
            min_insync_replicas: None,
        }
    }
}

/// One topic as it will be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: &'static str,
    pub partitions: i32,
    pub retention_ms: i64,
}

impl TopicsConfig {
    /// Every topic of the design with its settings.
    pub fn specs(&self) -> Vec<TopicSpec> {
        let spec = |name, partitions, retention_ms| TopicSpec {
            name,
            partitions,
            retention_ms,
        };
        vec![
            spec(
                topics::ICE,
                self.agency_partitions,
                self.agency_retention_ms,
            ),
            spec(
                topics::HHS,
                self.agency_partitions,
                self.agency_retention_ms,
            ),
            spec(
                topics::DOJ,
                self.agency_partitions,
                self.agency_retention_ms,
            ),
            spec(
                topics::NOTIFICATIONS,
                self.agency_partitions,
                self.bounded_retention_ms,
            ),
            spec(topics::DLQ, 1, self.bounded_retention_ms),
            // The audit log is evidence: kept like the system of record.
            spec(
                topics::AUDIT,
                self.agency_partitions,
                self.agency_retention_ms,
            ),
            // The registry's log must be a single ordered partition.
            spec(topics::SCHEMAS, 1, -1),
        ]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot create an admin client for {brokers}: {source}")]
    Client {
        brokers: String,
        source: rdkafka::error::KafkaError,
    },
    #[error("creating topics on {brokers} failed: {source}; is the broker reachable?")]
    Request {
        brokers: String,
        source: rdkafka::error::KafkaError,
    },
    #[error(
        "creating topic {topic} failed: {code}; check the broker's permissions (ACLs) and settings"
    )]
    Topic {
        topic: String,
        code: RDKafkaErrorCode,
    },
}

/// Creates every missing topic of the design; existing ones are left as
/// they are. Returns the names it created.
pub async fn ensure_topics(
    kafka: &KafkaConfig,
    config: &TopicsConfig,
) -> Result<Vec<String>, AdminError> {
    ensure_named_topics(kafka, config, &topics::ALL).await
}

/// Like `ensure_topics`, for the named topics of the design only (the
/// stand-alone registry needs just `_schemas`).
pub async fn ensure_named_topics(
    kafka: &KafkaConfig,
    config: &TopicsConfig,
    names: &[&str],
) -> Result<Vec<String>, AdminError> {
    let admin: AdminClient<DefaultClientContext> =
        kafka
            .client()
            .create()
            .map_err(|source| AdminError::Client {
                brokers: kafka.brokers.clone(),
                source,
            })?;
    let request_err = |source| AdminError::Request {
        brokers: kafka.brokers.clone(),
        source,
    };
    let existing = existing_topics(&admin).await?;
    let specs: Vec<TopicSpec> = config
        .specs()
        .into_iter()
        .filter(|s| names.contains(&s.name) && !existing.iter().any(|e| e == s.name))
        .collect();
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let retentions: Vec<String> = specs.iter().map(|s| s.retention_ms.to_string()).collect();
    let min_isr = config.min_insync_replicas.map(|n| n.to_string());
    let new_topics: Vec<NewTopic> = specs
        .iter()
        .zip(&retentions)
        .map(|(spec, retention)| {
            let mut topic = NewTopic::new(
                spec.name,
                spec.partitions,
                TopicReplication::Fixed(config.replication_factor),
            )
            .set("retention.ms", retention);
            if let Some(min_isr) = &min_isr {
                topic = topic.set("min.insync.replicas", min_isr);
            }
            topic
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(request_err)?;
    let mut created = Vec::new();
    for result in results {
        match result {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(AdminError::Topic { topic, code }),
        }
    }
    Ok(created)
}

/// Topic names the cluster has, so existing topics are not re-created
/// (the local broker logs an error for each attempt).
async fn existing_topics(
    admin: &AdminClient<DefaultClientContext>,
) -> Result<Vec<String>, AdminError> {
    let metadata = admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(10))
        .map_err(|source| AdminError::Request {
            brokers: "the cluster".to_owned(),
            source,
        })?;
    Ok(metadata
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .collect())
}
