//! The dead-letter path. A record a consumer cannot process goes to
//! `handoff.dlq.v1` unchanged (key, payload, original headers) with the
//! reason and its origin in headers, and only after the broker has
//! acknowledged it does the consumer move past it. Nothing is dropped
//! silently: Kafka Connect users were burned by exactly that.

use std::time::Duration;

use handoff_events::topics;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;

use crate::config::KafkaConfig;

/// Header names on dead letters.
pub const REASON: &str = "handoff.dlq.reason";
pub const SOURCE_TOPIC: &str = "handoff.dlq.source.topic";
pub const SOURCE_PARTITION: &str = "handoff.dlq.source.partition";
pub const SOURCE_OFFSET: &str = "handoff.dlq.source.offset";
pub const CONSUMER: &str = "handoff.dlq.consumer";

/// A record that could not be processed, owned so it outlives the message.
#[derive(Debug, Clone)]
pub struct FailedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl FailedRecord {
    pub fn from_message<M: Message>(message: &M) -> Self {
        let headers = message
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        FailedRecord {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
        }
    }
}

#[derive(Clone)]
pub struct DeadLetters {
    producer: FutureProducer,
    consumer: String,
}

impl DeadLetters {
    pub fn new(kafka: &KafkaConfig, consumer: &str) -> Result<Self, rdkafka::error::KafkaError> {
        Ok(DeadLetters {
            producer: kafka.producer().create()?,
            consumer: consumer.to_owned(),
        })
    }

    /// Sends the record to the DLQ and waits for the broker's ack.
    pub async fn send(
        &self,
        failed: &FailedRecord,
        reason: &str,
    ) -> Result<(), rdkafka::error::KafkaError> {
        let mut headers = OwnedHeaders::new();
        for (key, value) in &failed.headers {
            headers = headers.insert(Header {
                key,
                value: value.as_deref(),
            });
        }
        let partition = failed.partition.to_string();
        let offset = failed.offset.to_string();
        for (key, value) in [
            (REASON, reason),
            (SOURCE_TOPIC, failed.topic.as_str()),
            (SOURCE_PARTITION, partition.as_str()),
            (SOURCE_OFFSET, offset.as_str()),
            (CONSUMER, self.consumer.as_str()),
        ] {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(topics::DLQ).headers(headers);
        if let Some(key) = failed.key.as_deref() {
            record = record.key(key);
        }
        if let Some(payload) = failed.payload.as_deref() {
            record = record.payload(payload);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(e, _)| e)
    }
}
