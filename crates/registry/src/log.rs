//! The `_schemas` topic as the registry's storage. The registry holds no
//! state of its own: a reader task applies every record of the topic to
//! the in-memory `State`; a write is a produce followed by waiting until
//! the reader has applied it. A restarted instance, or a second one on the
//! same topic, reads the same log and so serves the same ids.

use std::sync::Arc;
use std::time::Duration;

use handoff_bus::KafkaConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::{watch, Mutex, RwLock};
use tokio_util::sync::CancellationToken;

use crate::records::Record;
use crate::state::State;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot create a Kafka client for {topic}: {source}")]
    Client {
        topic: String,
        source: rdkafka::error::KafkaError,
    },
    #[error("writing to {topic} failed: {source}; is the broker up?")]
    Produce {
        topic: String,
        source: rdkafka::error::KafkaError,
    },
    #[error(
        "reading the end of {topic} failed: {source}; is the broker up and the topic created?"
    )]
    Watermarks {
        topic: String,
        source: rdkafka::error::KafkaError,
    },
    #[error("the {topic} reader stopped")]
    ReaderStopped { topic: String },
    #[error("timed out after {0:?} waiting for the {1} reader to catch up")]
    CatchUpTimeout(Duration, String),
}

pub struct SchemaLog {
    topic: String,
    producer: FutureProducer,
    consumer: Arc<StreamConsumer>,
    pub state: Arc<RwLock<State>>,
    seen: watch::Receiver<i64>,
    /// One writer at a time in this instance; across instances the log
    /// order decides (see `state`).
    pub write_lock: Mutex<()>,
}

const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(30);

impl SchemaLog {
    /// Starts the reader. The returned task ends when `shutdown` fires.
    pub fn open(
        kafka: &KafkaConfig,
        topic: &str,
        shutdown: CancellationToken,
    ) -> Result<(Arc<Self>, tokio::task::JoinHandle<()>), LogError> {
        let client_err = |source| LogError::Client {
            topic: topic.to_owned(),
            source,
        };
        let producer: FutureProducer = kafka.producer().create().map_err(client_err)?;
        let consumer: StreamConsumer = kafka
            .consumer("handoff-registry")
            .create()
            .map_err(client_err)?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, 0, Offset::Beginning)
            .map_err(client_err)?;
        consumer.assign(&tpl).map_err(client_err)?;
        let consumer = Arc::new(consumer);
        let (seen_tx, seen) = watch::channel(-1);
        let state = Arc::new(RwLock::new(State::default()));
        let log = Arc::new(SchemaLog {
            topic: topic.to_owned(),
            producer,
            consumer: consumer.clone(),
            state: state.clone(),
            seen,
            write_lock: Mutex::new(()),
        });
        let task = tokio::spawn(read_loop(consumer, state, seen_tx, shutdown));
        Ok((log, task))
    }

    /// Waits until every record written before this call has been applied.
    pub async fn catch_up(&self) -> Result<(), LogError> {
        let consumer = self.consumer.clone();
        let topic = self.topic.clone();
        let (_, high) = tokio::task::spawn_blocking(move || {
            consumer.fetch_watermarks(&topic, 0, Duration::from_secs(10))
        })
        .await
        .expect("watermark task does not panic")
        .map_err(|source| LogError::Watermarks {
            topic: self.topic.clone(),
            source,
        })?;
        self.wait_seen(high - 1).await
    }

    async fn wait_seen(&self, offset: i64) -> Result<(), LogError> {
        let mut seen = self.seen.clone();
        let reached = tokio::time::timeout(CATCH_UP_TIMEOUT, seen.wait_for(|s| *s >= offset))
            .await
            .map(|r| r.map(|_| ()));
        match reached {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(LogError::ReaderStopped {
                topic: self.topic.clone(),
            }),
            Err(_) => Err(LogError::CatchUpTimeout(
                CATCH_UP_TIMEOUT,
                self.topic.clone(),
            )),
        }
    }

    /// Appends a record and returns once this instance has applied it.
    pub async fn append(&self, record: &Record) -> Result<(), LogError> {
        let (key, value) = record.encode();
        let mut out = FutureRecord::to(&self.topic).key(&key).partition(0);
        if let Some(value) = value.as_ref() {
            out = out.payload(value);
        }
        let delivered = self
            .producer
            .send(out, Duration::from_secs(30))
            .await
            .map_err(|(source, _)| LogError::Produce {
                topic: self.topic.clone(),
                source,
            })?;
        self.wait_seen(delivered.offset).await
    }
}

async fn read_loop(
    consumer: Arc<StreamConsumer>,
    state: Arc<RwLock<State>>,
    seen: watch::Sender<i64>,
    shutdown: CancellationToken,
) {
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return,
            m = consumer.recv() => m,
        };
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "schema log read failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let offset = message.offset();
        let Some(key) = message.key() else {
            mark_seen(&seen, offset);
            continue;
        };
        match Record::decode(key, message.payload()) {
            Ok(Some(record)) => {
                state.write().await.apply(offset, &record);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(offset, error = %e, "skipping a _schemas record this registry cannot read")
            }
        }
        mark_seen(&seen, offset);
    }
}

/// Offsets only move forward, even if the broker redelivers older records.
fn mark_seen(seen: &watch::Sender<i64>, offset: i64) {
    seen.send_if_modified(|current| {
        let moved = offset > *current;
        if moved {
            *current = offset;
        }
        moved
    });
}
