//! What a subscriber receives: the same content whichever the channel
//! (the webhook's JSON body, the e-mail's text, the topic's Avro record).

use apache_avro::types::Value as Avro;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// The notifier's id: what `POST /v1/notifications/{id}/ack` takes.
    pub id: i64,
    /// Cause, rule and subscriber: unchanged by redelivery or resending,
    /// so a receiver that has seen it can drop the repeat.
    pub idempotency_key: String,
    pub subscriber: String,
    /// The subscriber's gap-free sequence number, from 1.
    pub sequence: i64,
    pub rule: String,
    pub priority: String,
    pub a_number: String,
    /// When what is notified happened (event time).
    pub occurred_at: DateTime<Utc>,
    /// What the receiver needs to act (rules.rs builds it).
    pub payload: Value,
}

impl Notification {
    /// The webhook body: the notification, marked as such (heartbeats
    /// travel on the same URL).
    pub fn webhook_body(&self) -> Value {
        let mut body = serde_json::to_value(self).expect("a notification serialises");
        body["type"] = "notification".into();
        body
    }

    /// The `gov.handoff.v1.Notification` record (schemas/notify/).
    pub fn to_avro(&self) -> Avro {
        Avro::Record(vec![
            ("id".into(), Avro::Long(self.id)),
            (
                "idempotency_key".into(),
                Avro::String(self.idempotency_key.clone()),
            ),
            ("subscriber".into(), Avro::String(self.subscriber.clone())),
            ("sequence".into(), Avro::Long(self.sequence)),
            ("rule".into(), Avro::String(self.rule.clone())),
            ("priority".into(), Avro::String(self.priority.clone())),
            ("a_number".into(), Avro::String(self.a_number.clone())),
            (
                "occurred_at".into(),
                Avro::TimestampMillis(self.occurred_at.timestamp_millis()),
            ),
            (
                "payload_json".into(),
                Avro::String(self.payload.to_string()),
            ),
        ])
    }

    /// A plain-text rendering for e-mail: the facts first, then the JSON.
    pub fn email_text(&self) -> String {
        format!(
            "Handoff notification {sequence} for {subscriber}\n\n\
             Rule:        {rule}\n\
             Priority:    {priority}\n\
             A-number:    {a}\n\
             Occurred at: {at}\n\
             Id:          {id} (acknowledge with POST /v1/notifications/{id}/ack)\n\
             Key:         {key}\n\n\
             {payload}\n",
            sequence = self.sequence,
            subscriber = self.subscriber,
            rule = self.rule,
            priority = self.priority,
            a = self.a_number,
            at = self.occurred_at.to_rfc3339(),
            id = self.id,
            key = self.idempotency_key,
            payload = serde_json::to_string_pretty(&self.payload).unwrap_or_default(),
        )
    }
}
