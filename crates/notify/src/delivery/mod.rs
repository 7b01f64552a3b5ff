//! The delivery loop: one task per subscriber sends its pending
//! notifications in sequence order (a later one waits while an earlier
//! one is retried), marks those the channel accepted delivered (a run of
//! up to `RUN` in one write), retries failures with exponential backoff
//! and jitter, and after the retry budget moves a notification to the
//! dead-letter state with a log line and a metric. A crash between sending
//! and marking means those of the run are sent again, with the same
//! idempotency keys. Idle webhooks get a heartbeat.

pub mod backoff;
pub mod email;
pub mod topic;
pub mod webhook;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff_bus::KafkaConfig;
use handoff_events::{Codec, Timestamp};
use handoff_store::{Store, StoreLocation};
use rand::SeedableRng;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Channel, DeliveryConfig, NotifyConfig};
use crate::metrics::{Labels, Metrics};
use crate::notification::{BodyType, Heartbeat, Notification};
use crate::outbox;
use crate::projection::open_store;
use handoff_http::Time;

/// How one subscriber is reached.
pub enum Sender {
    Webhook(webhook::Webhook),
    Email(email::Email),
    Topic(Arc<topic::Topic>),
}

impl Sender {
    fn name(&self) -> &'static str {
        match self {
            Sender::Webhook(_) => "webhook",
            Sender::Email(_) => "email",
            Sender::Topic(_) => "topic",
        }
    }

    async fn send(&self, n: &Notification) -> Result<(), String> {
        match self {
            Sender::Webhook(w) => {
                w.post(&n.webhook_body(), Some(&n.idempotency_key), n.sequence)
                    .await
            }
            Sender::Email(e) => e.send(n).await,
            Sender::Topic(t) => t.send(n).await,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("subscriber `{subscriber}`: the environment variable {env} (its webhook secret) is not set; set it, or give the subscriber another channel")]
    MissingSecret { subscriber: String, env: String },
    #[error("subscriber `{subscriber}`: {message}; fix [delivery] smtp_url or email_from in the notify config")]
    Email { subscriber: String, message: String },
    #[error("{0}")]
    Producer(String),
}

/// Every subscriber's sender, checked before anything runs: a missing
/// secret or a bad SMTP URL stops the start with the subscriber named.
pub fn senders(
    config: &NotifyConfig,
    kafka: &KafkaConfig,
    codec: Codec,
    env: impl Fn(&str) -> Option<String>,
) -> Result<HashMap<String, Arc<Sender>>, DeliveryError> {
    let mut topic = None;
    let mut out = HashMap::new();
    for s in &config.subscribers {
        let sender = match &s.channel {
            Channel::Webhook { url, secret_env } => {
                let secret = env(secret_env).filter(|v| !v.is_empty()).ok_or_else(|| {
                    DeliveryError::MissingSecret {
                        subscriber: s.id.clone(),
                        env: secret_env.clone(),
                    }
                })?;
                Sender::Webhook(webhook::Webhook::new(url, secret.into_bytes()))
            }
            Channel::Email { to } => Sender::Email(
                email::Email::new(&config.delivery.smtp_url, &config.delivery.email_from, to)
                    .map_err(|message| DeliveryError::Email {
                        subscriber: s.id.clone(),
                        message,
                    })?,
            ),
            Channel::Topic => {
                if topic.is_none() {
                    topic = Some(Arc::new(
                        topic::Topic::new(kafka, codec.clone()).map_err(DeliveryError::Producer)?,
                    ));
                }
                Sender::Topic(topic.clone().expect("just set"))
            }
        };
        out.insert(s.id.clone(), Arc::new(sender));
    }
    Ok(out)
}

/// Starts one delivery task per subscriber; they end on `shutdown`.
pub fn start(
    location: &StoreLocation,
    config: &DeliveryConfig,
    senders: HashMap<String, Arc<Sender>>,
    metrics: Arc<Metrics>,
    woken: watch::Receiver<u64>,
    shutdown: CancellationToken,
) -> Vec<JoinHandle<()>> {
    let mut ids: Vec<String> = senders.keys().cloned().collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let task = SubscriberLoop {
                location: location.clone(),
                subscriber: id.clone(),
                sender: senders[&id].clone(),
                config: config.clone(),
                metrics: metrics.clone(),
                woken: woken.clone(),
            };
            tokio::spawn(task.run(shutdown.clone()))
        })
        .collect()
}

struct SubscriberLoop {
    location: StoreLocation,
    subscriber: String,
    sender: Arc<Sender>,
    config: DeliveryConfig,
    metrics: Arc<Metrics>,
    /// Changes whenever the notifier commits new notifications.
    woken: watch::Receiver<u64>,
}

/// The longest a loop sleeps before looking at the outbox again (a
/// wake-up from the notifier usually comes first).
const POLL: Duration = Duration::from_millis(500);

/// The most notifications sent in a row before they are marked delivered
/// in one write. Marking each alone took the store's write lock once per
/// notification, queued behind the sink's batches: under a backlog that
/// capped a subscriber at a few notifications per sink batch.
const RUN: usize = 64;

impl SubscriberLoop {
    async fn run(mut self, shutdown: CancellationToken) {
        let store = loop {
            match open_store(&self.location).await {
                Ok(store) => break store,
                Err(e) => {
                    tracing::warn!(error = %e, subscriber = self.subscriber, "delivery: store not ready")
                }
            }
            if self.pause(Duration::from_secs(2), &shutdown).await {
                return;
            }
        };
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let mut last_sent = Instant::now();
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            // Seen before the outbox is read: anything committed after
            // this wakes the pause below at once.
            self.woken.borrow_and_update();
            let now = Timestamp::now().0;
            let wait = match outbox::next_pending(&store, &self.subscriber, RUN).await {
                Err(e) => {
                    tracing::warn!(error = %e, subscriber = self.subscriber, "delivery: cannot read the outbox; retrying");
                    Duration::from_secs(1)
                }
                Ok(rows) => match rows.first() {
                    None => {
                        if self.heartbeat_due(last_sent) {
                            self.heartbeat(&store).await;
                            last_sent = Instant::now();
                        }
                        POLL
                    }
                    Some(first) if first.next_attempt_at > now => {
                        Duration::from_millis((first.next_attempt_at - now) as u64).min(POLL)
                    }
                    Some(_) => {
                        self.send_run(&store, rows, &mut rng).await;
                        last_sent = Instant::now();
                        Duration::ZERO
                    }
                },
            };
            if !wait.is_zero() && self.pause(wait, &shutdown).await {
                return;
            }
        }
    }

    /// Sleeps up to `wait`, waking early for new notifications. True on shutdown.
    async fn pause(&mut self, wait: Duration, shutdown: &CancellationToken) -> bool {
        let woken = async {
            if self.woken.changed().await.is_err() {
                // The notifier has stopped: only the clock wakes us.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = woken => false,
            _ = tokio::time::sleep(wait) => false,
        }
    }

    /// Sends `rows` (pending, in sequence order) until one is not due yet
    /// or fails, then marks those sent delivered in one write and records
    /// the failure, if there was one.
    async fn send_run(&self, store: &Store, rows: Vec<outbox::Row>, rng: &mut rand::rngs::StdRng) {
        let mut sent = Vec::with_capacity(rows.len());
        let mut failed = None;
        for row in rows {
            if row.next_attempt_at > Timestamp::now().0 {
                break;
            }
            match self.sender.send(&row.notification).await {
                Ok(()) => sent.push(row),
                Err(error) => {
                    failed = Some((row, error));
                    break;
                }
            }
        }
        self.delivered(store, &sent).await;
        if let Some((row, error)) = failed {
            self.failed(store, row, error, rng).await;
        }
    }

    fn labels(&self, row: &outbox::Row) -> Labels {
        Labels {
            rule: row.notification.rule.clone(),
            channel: self.sender.name().to_owned(),
        }
    }

    /// Marks `sent` delivered, as of now (the end of their run).
    async fn delivered(&self, store: &Store, sent: &[outbox::Row]) {
        let now = Timestamp::now().0;
        let ids: Vec<i64> = sent.iter().map(|r| r.notification.id).collect();
        if let Err(e) = outbox::mark_delivered(store, &ids, now).await {
            // They will be sent again, with the same idempotency keys.
            tracing::warn!(error = %e, ids = ?ids, "delivered, but not marked so; they will be resent");
            return;
        }
        for row in sent {
            self.metrics
                .delivered
                .get_or_create(&self.labels(row))
                .inc();
            self.metrics
                .delivery_seconds
                .observe((now - row.created_at).max(0) as f64 / 1000.0);
        }
    }

    /// Records a failed attempt: a retry after the backoff, or the dead
    /// letters once the budget is spent.
    async fn failed(
        &self,
        store: &Store,
        row: outbox::Row,
        error: String,
        rng: &mut rand::rngs::StdRng,
    ) {
        let n = &row.notification;
        let labels = self.labels(&row);
        self.metrics.failed_attempts.get_or_create(&labels).inc();
        let failed = row.attempts + 1;
        let retry_at = (failed < self.config.max_attempts).then(|| {
            Timestamp::now().0 + backoff::delay(&self.config, failed, rng).as_millis() as i64
        });
        if let Err(e) = outbox::mark_failed(store, n.id, &error, retry_at).await {
            tracing::warn!(error = %e, id = n.id, "cannot record a failed attempt");
            return;
        }
        match retry_at {
            Some(_) => tracing::warn!(
                id = n.id,
                subscriber = self.subscriber,
                attempt = failed,
                error,
                "delivery failed; will retry"
            ),
            None => {
                self.metrics.dead_lettered.get_or_create(&labels).inc();
                tracing::error!(
                    id = n.id,
                    subscriber = self.subscriber,
                    rule = n.rule,
                    attempts = failed,
                    error,
                    "notification dead-lettered after its retry budget; see `handoff notify dlq list`"
                );
            }
        }
    }

    fn heartbeat_due(&self, last_sent: Instant) -> bool {
        matches!(*self.sender, Sender::Webhook(_))
            && self.config.heartbeat_seconds > 0
            && last_sent.elapsed() >= Duration::from_secs(self.config.heartbeat_seconds)
    }

    /// Tells an idle webhook the notifier is alive and the last sequence
    /// number delivered, so a receiver can notice a gap even when nothing
    /// new follows it.
    async fn heartbeat(&self, store: &Store) {
        let Sender::Webhook(hook) = &*self.sender else {
            return;
        };
        let last = match outbox::last_delivered(store, &self.subscriber).await {
            Ok(last) => last,
            Err(e) => {
                tracing::warn!(error = %e, "heartbeat: cannot read the outbox");
                return;
            }
        };
        let body = serde_json::to_value(Heartbeat {
            kind: BodyType::Heartbeat,
            subscriber: self.subscriber.clone(),
            last_sequence: last,
            sent_at: Time(Timestamp::now()),
        })
        .expect("a heartbeat serialises");
        if let Err(e) = hook.post(&body, None, last).await {
            tracing::warn!(subscriber = self.subscriber, error = e, "heartbeat failed");
        }
    }
}
