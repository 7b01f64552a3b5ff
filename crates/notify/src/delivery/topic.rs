//! The topic channel: the notification as a `gov.handoff.v1.Notification`
//! Avro record on `handoff.notifications.v1`, keyed by subscriber id so
//! each subscriber's notifications stay in order on one partition.
//! Delivered once the broker acknowledged it.

use std::time::Duration;

use handoff_bus::KafkaConfig;
use handoff_events::{topics, Codec};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::notification::Notification;

pub struct Topic {
    producer: FutureProducer,
    codec: Codec,
}

impl Topic {
    pub fn new(kafka: &KafkaConfig, codec: Codec) -> Result<Self, String> {
        let producer = kafka
            .producer()
            .create()
            .map_err(|e| format!("creating the notifications producer: {e}"))?;
        Ok(Topic { producer, codec })
    }

    pub async fn send(&self, n: &Notification) -> Result<(), String> {
        let payload = self
            .codec
            .encode_record("Notification", n.to_avro())
            .await
            .map_err(|e| e.to_string())?;
        let record = FutureRecord::to(topics::NOTIFICATIONS)
            .key(n.subscriber.as_bytes())
            .payload(&payload)
            .headers(handoff_bus::headers::owned(&[(
                "idempotency-key",
                n.idempotency_key.clone(),
            )]));
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(e, _)| format!("producing to {}: {e}", topics::NOTIFICATIONS))
    }
}
