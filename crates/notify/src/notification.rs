//! What a subscriber receives: the same content whichever the channel
//! (the webhook's JSON body, the e-mail's text, the topic's Avro record).

use apache_avro::types::Value as Avro;
use handoff_http::Time;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use crate::payload::Payload;
use crate::rules::Rule;

fn rules() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Rule::ALL.map(Rule::as_str)))
        .into()
}

fn priorities() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["normal", "high"]))
        .into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// The notifier's id: what `POST /v1/notifications/{id}/ack` takes.
    pub id: i64,
    /// Cause, rule and subscriber: unchanged by redelivery or resending,
    /// so a receiver that has seen it can drop the repeat.
    pub idempotency_key: String,
    pub subscriber: String,
    /// The subscriber's gap-free sequence number, from 1.
    pub sequence: i64,
    #[schema(schema_with = rules)]
    pub rule: String,
    #[schema(schema_with = priorities)]
    pub priority: String,
    pub a_number: String,
    /// When what is notified happened (event time).
    pub occurred_at: Time,
    /// What the receiver needs to act (rules.rs builds it as a `Payload`;
    /// the outbox keeps it as JSON).
    #[schema(value_type = Payload)]
    pub payload: Value,
}

/// Marks a webhook body: a notification, or a heartbeat on an idle hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyType {
    Notification,
    Heartbeat,
}

/// The body of a notification's webhook POST.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookNotification {
    /// Always `notification`.
    #[serde(rename = "type")]
    pub kind: BodyType,
    #[serde(flatten)]
    pub notification: Notification,
}

/// The body of a heartbeat: the notifier is alive and has delivered up to
/// `last_sequence`, so a receiver can notice a gap even when nothing new
/// follows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Heartbeat {
    /// Always `heartbeat`.
    #[serde(rename = "type")]
    pub kind: BodyType,
    pub subscriber: String,
    /// 0 before the first delivery.
    pub last_sequence: i64,
    pub sent_at: Time,
}

impl Notification {
    /// The webhook body: the notification, marked as such (heartbeats
    /// travel on the same URL).
    pub fn webhook_body(&self) -> Value {
        serde_json::to_value(WebhookNotification {
            kind: BodyType::Notification,
            notification: self.clone(),
        })
        .expect("a notification serialises")
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
                Avro::TimestampMillis(self.occurred_at.0 .0),
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
            at = self.occurred_at.0.to_rfc3339(),
            id = self.id,
            key = self.idempotency_key,
            payload = serde_json::to_string_pretty(&self.payload).unwrap_or_default(),
        )
    }
}

fn states() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(crate::outbox::STATES))
        .into()
}

/// A notification as `GET /v1/notifications` lists it: what was sent, and
/// what has happened to it since.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListedNotification {
    #[serde(flatten)]
    pub notification: Notification,
    /// `pending` (to be sent), `delivered`, `dead` (retries ran out; an
    /// operator can retry), `history` (from events before the notifier
    /// first started: kept, not sent).
    #[schema(schema_with = states)]
    pub state: String,
    pub attempts: u32,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    pub delivered_at: Option<Time>,
    pub acknowledged_at: Option<Time>,
    /// The token that acknowledged it.
    pub acknowledged_by: Option<String>,
    /// The acknowledgement said the agency acted (ERO: followed up).
    pub follow_up: Option<bool>,
}

impl From<crate::outbox::Listed> for ListedNotification {
    fn from(l: crate::outbox::Listed) -> Self {
        let time = |ms: Option<i64>| ms.map(|ms| Time(handoff_events::Timestamp(ms)));
        ListedNotification {
            notification: l.row.notification,
            state: l.row.state,
            attempts: l.row.attempts,
            last_error: l.row.last_error,
            delivered_at: time(l.delivered_at),
            acknowledged_at: time(l.acked_at),
            acknowledged_by: l.acked_by,
            follow_up: l.follow_up,
        }
    }
}
