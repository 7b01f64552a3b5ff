//! Publishing events: encode through the registry, key by A-number, add
//! CloudEvents headers, and report success only once the broker has
//! acknowledged the record on all in-sync replicas.

use std::time::Duration;

use handoff_events::{cloudevents, Codec, CodecError, Event};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::config::KafkaConfig;
use crate::headers;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot create a producer for {brokers}: {source}")]
    Client {
        brokers: String,
        source: Box<rdkafka::error::KafkaError>,
    },
    #[error(transparent)]
    Encode(#[from] CodecError),
    #[error("the broker did not acknowledge event {event_id} on {topic}: {source}; nothing was counted as published")]
    NotAcknowledged {
        event_id: String,
        topic: String,
        source: Box<rdkafka::error::KafkaError>,
    },
}

/// Where an acknowledged event landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub partition: i32,
    pub offset: i64,
}

#[derive(Clone)]
pub struct EventProducer {
    producer: FutureProducer,
    codec: Codec,
}

impl EventProducer {
    pub fn new(kafka: &KafkaConfig, codec: Codec) -> Result<Self, PublishError> {
        let producer = kafka
            .producer()
            .create()
            .map_err(|source| PublishError::Client {
                brokers: kafka.brokers.clone(),
                source: Box::new(source),
            })?;
        Ok(EventProducer { producer, codec })
    }

    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// Publishes one event to its agency's topic and waits for the ack.
    pub async fn publish(
        &self,
        event: &Event,
        traceparent: Option<&str>,
    ) -> Result<Delivery, PublishError> {
        let payload = self.codec.encode(event).await?;
        self.publish_encoded(event, &payload, traceparent).await
    }

    /// Publishes bytes already encoded for `event` (lets callers encode in
    /// parallel and keep per-key order when sending).
    pub async fn publish_encoded(
        &self,
        event: &Event,
        payload: &[u8],
        traceparent: Option<&str>,
    ) -> Result<Delivery, PublishError> {
        let key = event.key();
        let headers = headers::owned(&cloudevents::headers(event, traceparent));
        let record = FutureRecord::to(event.topic())
            .key(&key)
            .payload(payload)
            .headers(headers)
            // The log's time index is when the agency recorded the event, so
            // replay can seek into history with offsets-for-times even when
            // years of records are backfilled today.
            .timestamp(event.meta().recorded_at.0);
        let delivered = self
            .producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(source, _)| PublishError::NotAcknowledged {
                event_id: event.meta().event_id.clone(),
                topic: event.topic().to_owned(),
                source: Box::new(source),
            })?;
        Ok(Delivery {
            partition: delivered.partition,
            offset: delivered.offset,
        })
    }

    /// Waits for every outstanding send, for a clean shutdown.
    pub fn flush(&self, timeout: Duration) -> Result<(), rdkafka::error::KafkaError> {
        self.producer.flush(timeout)
    }
}
