//! Reading the log for replay and export.
//!
//! Every partition of the agency topics is read from where the window
//! starts (found with offsets-for-times, since producers stamp each record
//! with the time the agency recorded it) to where the log ended when the
//! read began, so events published meanwhile never make a rebuild a
//! moving target. The reader assigns partitions itself and never joins a
//! consumer group or commits an offset: live views and the notifier never
//! see it.
//!
//! Every record read is accounted for: an event inside the window, one
//! before or after it, or a rejected record (with its place in the log and
//! why), so the counts always add up.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use handoff_bus::KafkaConfig;
use handoff_events::{Codec, CodecError, Event};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::window::{Placement, Window};

/// Records read per chunk handed on.
const CHUNK_RECORDS: u64 = 2_000;
/// How long the broker may go without answering before the read fails.
const STALL_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "cannot read the log from {brokers}: {source}; check --brokers and that the broker runs"
    )]
    Kafka {
        brokers: String,
        source: Box<KafkaError>,
    },
    #[error(
        "topic {topic} does not exist on {brokers}; run `handoff topics create` or check --brokers"
    )]
    NoTopic { topic: String, brokers: String },
    #[error(transparent)]
    Registry(CodecError),
    #[error("the broker sent nothing for {seconds} s with {partitions} partitions still unread (first: {first}); the read stopped rather than wait for ever")]
    Stalled {
        seconds: u64,
        partitions: usize,
        first: String,
    },
}

/// One partition's part of the read: offsets `start..end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSpan {
    pub topic: String,
    pub partition: i32,
    pub start: i64,
    pub end: i64,
}

/// A record that is not a readable event, and where it sits in the log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RejectedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub reason: String,
}

/// What a stretch of the read gave.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Events recorded inside the window, in log order per partition.
    pub events: Vec<Event>,
    /// Records read, whatever became of them.
    pub read: u64,
    /// Events recorded before the window's start / at or after its end.
    pub before: u64,
    pub after: u64,
    pub rejected: Vec<RejectedRecord>,
}

pub struct History {
    spans: Vec<PartitionSpan>,
    rx: mpsc::Receiver<Result<Chunk, HistoryError>>,
}

impl History {
    /// Finds each partition's span and starts reading in the background.
    pub async fn open(
        kafka: &KafkaConfig,
        codec: Codec,
        topics: &[&str],
        window: Window,
    ) -> Result<History, HistoryError> {
        let group = format!("handoff-replay-{}", uuid::Uuid::now_v7());
        let kafka_error = |source: KafkaError| HistoryError::Kafka {
            brokers: kafka.brokers.clone(),
            source: Box::new(source),
        };
        let spans = {
            let kafka = kafka.clone();
            let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
            let group = group.clone();
            tokio::task::spawn_blocking(move || find_spans(&kafka, &group, &topics, window))
                .await
                .expect("the span lookup does not panic")?
        };
        let consumer: StreamConsumer = kafka.consumer(&group).create().map_err(kafka_error)?;
        let mut assignment = TopicPartitionList::new();
        for s in spans.iter().filter(|s| s.start < s.end) {
            assignment
                .add_partition_offset(&s.topic, s.partition, Offset::Offset(s.start))
                .map_err(kafka_error)?;
        }
        consumer.assign(&assignment).map_err(kafka_error)?;
        let (tx, rx) = mpsc::channel(4);
        let reading = Reading {
            consumer,
            codec,
            window,
            brokers: kafka.brokers.clone(),
            remaining: spans
                .iter()
                .filter(|s| s.start < s.end)
                .map(|s| ((s.topic.clone(), s.partition), s.end))
                .collect(),
        };
        tokio::spawn(reading.run(tx));
        Ok(History { spans, rx })
    }

    pub fn spans(&self) -> &[PartitionSpan] {
        &self.spans
    }

    /// Records the read will go through.
    pub fn total(&self) -> u64 {
        self.spans.iter().map(|s| (s.end - s.start) as u64).sum()
    }

    /// The next chunk; `None` once every partition is read to its end.
    pub async fn next(&mut self) -> Option<Result<Chunk, HistoryError>> {
        self.rx.recv().await
    }
}

/// Each partition's span: from the window's start (or the log's) to the
/// log's end now. Blocking.
fn find_spans(
    kafka: &KafkaConfig,
    group: &str,
    topics: &[String],
    window: Window,
) -> Result<Vec<PartitionSpan>, HistoryError> {
    let timeout = Duration::from_secs(15);
    let kafka_error = |source: KafkaError| HistoryError::Kafka {
        brokers: kafka.brokers.clone(),
        source: Box::new(source),
    };
    let consumer: BaseConsumer = kafka.consumer(group).create().map_err(kafka_error)?;
    let mut spans = Vec::new();
    for topic in topics {
        let metadata = consumer
            .fetch_metadata(Some(topic), timeout)
            .map_err(kafka_error)?;
        let partitions = metadata
            .topics()
            .first()
            .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<i32>>())
            .unwrap_or_default();
        if partitions.is_empty() {
            return Err(HistoryError::NoTopic {
                topic: topic.clone(),
                brokers: kafka.brokers.clone(),
            });
        }
        for partition in partitions {
            let (low, high) = consumer
                .fetch_watermarks(topic, partition, timeout)
                .map_err(kafka_error)?;
            spans.push(PartitionSpan {
                topic: topic.clone(),
                partition,
                start: low,
                end: high,
            });
        }
    }
    if let Some(from) = window.from {
        seek_to_time(&consumer, &mut spans, from.0, timeout);
    }
    Ok(spans)
}

/// Moves each span's start to the first record stamped at or after `at`.
/// Every record before it is stamped earlier and so recorded before the
/// window (a record is never published before it is recorded). A broker
/// that cannot look offsets up by time costs only speed: the read then
/// starts at the beginning and the window filter does the work.
fn seek_to_time(consumer: &BaseConsumer, spans: &mut [PartitionSpan], at: i64, timeout: Duration) {
    let mut wanted = TopicPartitionList::new();
    for s in spans.iter() {
        if wanted
            .add_partition_offset(&s.topic, s.partition, Offset::Offset(at))
            .is_err()
        {
            return;
        }
    }
    let found = match consumer.offsets_for_times(wanted, timeout) {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "the broker cannot look offsets up by time; reading each partition from its beginning");
            return;
        }
    };
    for s in spans.iter_mut() {
        match found
            .find_partition(&s.topic, s.partition)
            .map(|p| p.offset())
        {
            Some(Offset::Offset(o)) => s.start = o.clamp(s.start, s.end),
            // No record stamped that late: nothing of this partition is in the window.
            Some(Offset::End) => s.start = s.end,
            _ => {}
        }
    }
}

struct Reading {
    consumer: StreamConsumer,
    codec: Codec,
    window: Window,
    brokers: String,
    /// Partitions not yet read to their end, and that end.
    remaining: HashMap<(String, i32), i64>,
}

impl Reading {
    async fn run(mut self, tx: mpsc::Sender<Result<Chunk, HistoryError>>) {
        let mut chunk = Chunk::default();
        let mut last_progress = Instant::now();
        while !self.remaining.is_empty() {
            match tokio::time::timeout(Duration::from_secs(2), self.consumer.recv()).await {
                Ok(Ok(message)) => {
                    last_progress = Instant::now();
                    let key = (message.topic().to_owned(), message.partition());
                    let Some(&end) = self.remaining.get(&key) else {
                        continue;
                    };
                    let offset = message.offset();
                    if offset < end {
                        if let Err(e) = self.take(&mut chunk, &key, offset, message.payload()).await
                        {
                            let _ = tx.send(Err(e)).await;
                            return;
                        }
                    }
                    if offset + 1 >= end {
                        self.finish(&key);
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "reading the log"),
                Err(_) => self.finish_read_partitions(),
            }
            if last_progress.elapsed() > STALL_LIMIT && !self.remaining.is_empty() {
                let first = self
                    .remaining
                    .keys()
                    .next()
                    .map(|(t, p)| format!("{t}/{p}"));
                let _ = tx
                    .send(Err(HistoryError::Stalled {
                        seconds: STALL_LIMIT.as_secs(),
                        partitions: self.remaining.len(),
                        first: first.unwrap_or_default(),
                    }))
                    .await;
                return;
            }
            if chunk.read >= CHUNK_RECORDS && tx.send(Ok(std::mem::take(&mut chunk))).await.is_err()
            {
                return; // the caller stopped reading
            }
        }
        if chunk.read > 0 {
            let _ = tx.send(Ok(chunk)).await;
        }
        tracing::debug!(brokers = %self.brokers, "the log is read to the end it had");
    }

    async fn take(
        &self,
        chunk: &mut Chunk,
        (topic, partition): &(String, i32),
        offset: i64,
        payload: Option<&[u8]>,
    ) -> Result<(), HistoryError> {
        chunk.read += 1;
        let reject = |reason: String| RejectedRecord {
            topic: topic.clone(),
            partition: *partition,
            offset,
            reason,
        };
        let Some(payload) = payload else {
            chunk
                .rejected
                .push(reject("the record has no payload (a tombstone?)".into()));
            return Ok(());
        };
        match self.codec.decode(payload).await {
            Ok(event) => match self.window.place(event.meta().recorded_at) {
                Placement::Before => chunk.before += 1,
                Placement::After => chunk.after += 1,
                Placement::Inside => chunk.events.push(event),
            },
            // The registry being away is no fault of the record's.
            Err(e @ CodecError::Registry { .. }) => return Err(HistoryError::Registry(e)),
            Err(e) => chunk.rejected.push(reject(e.to_string())),
        }
        Ok(())
    }

    fn finish(&mut self, key: &(String, i32)) {
        self.remaining.remove(key);
        let mut done = TopicPartitionList::new();
        done.add_partition(&key.0, key.1);
        // Stop fetching what others publish meanwhile; an error only costs bandwidth.
        let _ = self.consumer.pause(&done);
    }

    /// A partition whose last offsets are gaps (no record to deliver)
    /// counts as read once the consumer's position passes its end.
    fn finish_read_partitions(&mut self) {
        let Ok(positions) = self.consumer.position() else {
            return;
        };
        let done: Vec<(String, i32)> = self
            .remaining
            .iter()
            .filter(|((topic, partition), end)| {
                matches!(
                    positions.find_partition(topic, *partition).map(|p| p.offset()),
                    Some(Offset::Offset(o)) if o >= **end
                )
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in done {
            self.finish(&key);
        }
    }
}
