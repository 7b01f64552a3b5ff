//! The consumer loop every sink (views, notifier) runs on.
//!
//! Effectively-once without Kafka transactions: a sink stores the next
//! offset of each partition in the same database transaction as the state
//! it derives from the events. On every partition assignment the loop asks
//! the sink where it stands and starts exactly there (the beginning when
//! the sink has nothing stored), whatever Kafka's committed offsets say.
//! Kafka offsets are committed after each batch only so lag can be
//! monitored. A record below the sink's offset is a redelivery and is
//! skipped; a record that cannot be decoded goes to the dead-letter topic
//! before the loop moves past it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use handoff_events::{Codec, Event};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::config::KafkaConfig;
use crate::dlq::{DeadLetters, FailedRecord};

/// A partition of a topic.
pub type TopicPartition = (String, i32);

/// One decoded event with where it came from.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub event: Event,
}

/// How a batch moves one partition's stored offset: from the value the
/// sink held (`None` when it held none) to the next offset to read. A sink
/// shared by several instances writes `to` only if it still holds `from`
/// (compare-and-set) and otherwise answers `SinkError::OffsetMoved`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAdvance {
    pub topic: String,
    pub partition: i32,
    pub from: Option<i64>,
    pub to: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The store failed (connection, disk). The batch is retried.
    #[error("store error: {0}")]
    Store(String),
    /// Event `index` of the batch can never be applied. It goes to the
    /// dead-letter topic with `reason`, and the rest is applied.
    #[error("event {index} of the batch rejected: {reason}")]
    Rejected { index: usize, reason: String },
    /// Another instance advanced the offsets first; the batch is dropped
    /// and positions re-read from the store.
    #[error("stored offsets moved under this instance")]
    OffsetMoved,
}

/// Reads a sink's stored offsets. Called from the rebalance callback, so
/// it is synchronous; a sink gives the loop its own reader (for example a
/// second database connection).
pub trait OffsetReader: Send + Sync {
    fn stored(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError>;
}

/// Runs an async store query to completion from synchronous code (the
/// rebalance callback), on a short-lived thread with its own runtime, so
/// it works whatever runtime, if any, the caller is on.
pub fn block_on_side_thread<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("side runtime")
                    .block_on(future)
            })
            .join()
            .expect("side thread does not panic")
    })
}

/// A consumer of events that keeps its own offsets.
pub trait Sink: Send + 'static {
    fn offset_reader(&self) -> Arc<dyn OffsetReader>;

    /// Applies the events and stores `offsets` in one transaction. Either
    /// both happen or neither does.
    fn apply(
        &mut self,
        events: &[Delivered],
        offsets: &[OffsetAdvance],
    ) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Called once fewer than a batch of records wait on the broker, over
    /// all partitions (live traffic, not a backlog): every second while
    /// none has arrived for a second, and every `IDLE_UNDER_TRAFFIC` while
    /// they keep arriving. Either way the sink holds the whole story up to
    /// a moment ago. Also called every second once nothing has arrived for
    /// `QUIET_WITH_A_BACKLOG`, whatever the backlog says. A sink with
    /// deadlines fires those due here. Steady traffic must not hold
    /// deadlines back (at 1,000 events/s no second is ever quiet), and a
    /// catch-up, even one that pauses, must not fire them on half a story:
    /// a consumer may read partitions largely in turn, so a child's
    /// release may be applied long before the NTA served on another topic.
    fn idle(&mut self) -> impl Future<Output = Result<(), SinkError>> + Send {
        async { Ok(()) }
    }
}

/// How often `Sink::idle` runs while live records keep arriving.
const IDLE_UNDER_TRAFFIC: Duration = Duration::from_secs(5);

/// How long nothing must arrive before `Sink::idle` runs although the
/// watchdog still counts a backlog: the count can stay high for reasons
/// no wait will mend (partitions held by a member that died, a watchdog
/// that cannot reach the broker), and deadlines must not wait on it for
/// ever. A catch-up that merely pauses resumes well within this.
const QUIET_WITH_A_BACKLOG: Duration = Duration::from_secs(60);

/// Whether the consumer loop runs `Sink::idle` now (see there), given how
/// long since the last record and the last idle run, and whether the sink
/// is `caught_up`.
fn idle_is_due(quiet_for: Duration, since_idle: Duration, caught_up: bool) -> bool {
    let timely = quiet_for >= Duration::from_secs(1) || since_idle >= IDLE_UNDER_TRAFFIC;
    (caught_up && timely) || quiet_for >= QUIET_WITH_A_BACKLOG
}

/// Fewer than a batch of records wait on the broker: live traffic.
fn caught_up(backlog: i64, max_batch: usize) -> bool {
    backlog < i64::try_from(max_batch).unwrap_or(i64::MAX)
}

/// How an instance of a sink comes by its partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// The only instance: it assigns itself every partition of its topics
    /// (and any a topic gains later) and joins no consumer group, so no
    /// coordinator can leave it without partitions. The default, and what
    /// `handoff up` always runs.
    Alone,
    /// One of several instances sharing a store (views on PostgreSQL):
    /// the consumer group's coordinator divides the partitions among them
    /// and hands a dead member's partitions to the others.
    Group,
}

#[derive(Debug, Clone)]
pub struct SinkRunnerConfig {
    /// Consumer group: the partitions' owner under `Membership::Group`;
    /// under `Alone`, only the name the lag-monitoring commits go under.
    pub group_id: String,
    pub topics: Vec<String>,
    /// Default `Membership::Alone`.
    pub membership: Membership,
    /// Most events per transaction. Default 500.
    pub max_batch: usize,
    /// How long to wait to fill a batch once it has one event. Default
    /// zero: a batch is whatever has already arrived, so a lone FTA is
    /// applied at once, while a backlog still fills batches of `max_batch`
    /// (the records are already in the client's queue).
    pub linger: Duration,
}

impl SinkRunnerConfig {
    pub fn new(group_id: &str, topics: &[&str]) -> Self {
        SinkRunnerConfig {
            group_id: group_id.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            membership: Membership::Alone,
            max_batch: 500,
            linger: Duration::ZERO,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SinkRunError {
    #[error("cannot create the consumer for group {group}: {source}")]
    Client {
        group: String,
        source: rdkafka::error::KafkaError,
    },
    #[error("cannot read the sink's stored offsets: {0}; the sink cannot know where to resume, so it stops rather than guess")]
    Offsets(String),
    #[error("sending a record to the dead-letter topic failed: {0}; stopping rather than skip it")]
    DeadLetter(rdkafka::error::KafkaError),
}

/// Counters a running sink exposes (for metrics and tests).
#[derive(Debug, Default)]
pub struct SinkStats {
    pub applied: AtomicU64,
    pub redeliveries_skipped: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub batches: AtomicU64,
    /// Records on the broker not yet applied, per assigned partition, from
    /// the consumer's statistics (refreshed every few seconds).
    lag: Mutex<HashMap<TopicPartition, i64>>,
}

impl SinkStats {
    pub fn lag(&self) -> Vec<(TopicPartition, i64)> {
        let mut lag: Vec<_> = self
            .lag
            .lock()
            .expect("lag lock")
            .iter()
            .map(|(tp, n)| (tp.clone(), *n))
            .collect();
        lag.sort();
        lag
    }
}

struct SinkContext {
    reader: Arc<dyn OffsetReader>,
    /// Next offset to read per assigned partition, as the sink stored it
    /// (`None`: nothing stored, started from the beginning).
    positions: Mutex<HashMap<TopicPartition, Option<i64>>>,
    failure: Mutex<Option<String>>,
    stats: Arc<SinkStats>,
}

impl ClientContext for SinkContext {
    fn stats(&self, statistics: rdkafka::Statistics) {
        let mut lag = self.stats.lag.lock().expect("lag lock");
        lag.clear();
        for (topic, t) in statistics.topics {
            for (partition, p) in t.partitions {
                // Partition -1 is librdkafka's internal placeholder; a lag
                // of -1 means not known yet.
                if partition >= 0 && p.consumer_lag >= 0 {
                    lag.insert((topic.clone(), partition), p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for SinkContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let partitions: Vec<TopicPartition> = tpl
                    .elements()
                    .iter()
                    .map(|e| (e.topic().to_owned(), e.partition()))
                    .collect();
                tracing::info!(partitions = ?partitions, "partitions assigned");
                match self.reader.stored(&partitions) {
                    Ok(stored) => {
                        let mut positions = self.positions.lock().expect("positions lock");
                        for tp in &partitions {
                            let at = stored.get(tp).copied();
                            let offset = at.map_or(Offset::Beginning, Offset::Offset);
                            if let Err(e) = tpl.set_partition_offset(&tp.0, tp.1, offset) {
                                tracing::error!(error = %e, "cannot set start offset");
                            }
                            positions.insert(tp.clone(), at);
                        }
                    }
                    Err(e) => {
                        *self.failure.lock().expect("failure lock") = Some(e.to_string());
                    }
                }
                if let Err(e) = consumer.assign(tpl) {
                    *self.failure.lock().expect("failure lock") =
                        Some(format!("assign failed: {e}"));
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(partitions = tpl.count(), "partitions revoked");
                let mut positions = self.positions.lock().expect("positions lock");
                for e in tpl.elements() {
                    positions.remove(&(e.topic().to_owned(), e.partition()));
                }
                if let Err(e) = consumer.unassign() {
                    tracing::warn!(error = %e, "unassign failed");
                }
            }
            other => tracing::warn!(error = ?other, "rebalance error"),
        }
    }
}

/// Sets its flag when dropped.
/// Stops the backlog look and waits for its thread: a look still running
/// when the sink has returned would talk to a broker that may be stopping
/// next (`handoff up` stops the embedded one right after its sinks), and
/// its client would log connection errors after "stopped.".
struct StopOnDrop(
    Arc<crate::backlog::Signals>,
    Option<std::thread::JoinHandle<()>>,
);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
        if let Some(thread) = self.1.take() {
            let _ = thread.join();
        }
    }
}

/// Runs a sink until `shutdown` fires or an unrecoverable error occurs.
pub struct SinkRunner<S: Sink> {
    parts: Parts,
    sink: S,
}

/// Everything but the sink. Kept apart so that the loop can hold shared
/// borrows of it across awaits without requiring the sink to be `Sync`
/// (a SQLite connection is `Send` only).
struct Parts {
    config: SinkRunnerConfig,
    consumer: StreamConsumer<SinkContext>,
    codec: Codec,
    dead_letters: DeadLetters,
    stats: Arc<SinkStats>,
    kafka: KafkaConfig,
}

/// What became of one consumed record. Most records are events, the large
/// variant, so boxing it would only add an allocation per record.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Event(Delivered),
    DeadLetter(FailedRecord, String),
}

impl<S: Sink> SinkRunner<S> {
    pub fn new(
        kafka: &KafkaConfig,
        config: SinkRunnerConfig,
        codec: Codec,
        sink: S,
    ) -> Result<Self, SinkRunError> {
        let client_err = |source| SinkRunError::Client {
            group: config.group_id.clone(),
            source,
        };
        let stats = Arc::new(SinkStats::default());
        let context = SinkContext {
            reader: sink.offset_reader(),
            positions: Mutex::new(HashMap::new()),
            failure: Mutex::new(None),
            stats: stats.clone(),
        };
        let mut client = kafka.consumer(&config.group_id);
        // The eager protocol: every rebalance revokes and re-assigns, so
        // each assignment re-reads the sink's offsets.
        client.set("partition.assignment.strategy", "range");
        // Statistics carry the per-partition lag the metrics report.
        client.set("statistics.interval.ms", "5000");
        // A killed instance's partitions wait this long for a new owner
        // (librdkafka's default is 45 s), unless the operator set it.
        let configured = |key: &str| {
            kafka.properties.contains_key(key) || kafka.consumer_properties.contains_key(key)
        };
        if !configured("session.timeout.ms") {
            client.set("session.timeout.ms", "10000");
        }
        // librdkafka prefetches up to 64 MiB by default, which a catch-up
        // on a long history fills: most of the services' memory growth
        // from 10,000 to 100,000 children (BENCHMARKS.md). A sink applies
        // a batch of at most a few thousand records at a time, so 16 MiB
        // ahead keeps it fed.
        if !configured("queued.max.messages.kbytes") {
            client.set("queued.max.messages.kbytes", "16384");
        }
        let consumer: StreamConsumer<SinkContext> =
            client.create_with_context(context).map_err(client_err)?;
        if config.membership == Membership::Group {
            let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
            consumer.subscribe(&topics).map_err(client_err)?;
        }
        let dead_letters = DeadLetters::new(kafka, &config.group_id).map_err(client_err)?;
        Ok(SinkRunner {
            parts: Parts {
                config,
                consumer,
                codec,
                dead_letters,
                stats,
                kafka: kafka.clone(),
            },
            sink,
        })
    }

    pub fn stats(&self) -> Arc<SinkStats> {
        self.parts.stats.clone()
    }

    /// Consumes and applies until shutdown. Returns the sink for inspection.
    pub async fn run(self, shutdown: CancellationToken) -> Result<S, SinkRunError> {
        let SinkRunner { parts, mut sink } = self;
        let look = Arc::new(crate::backlog::Signals::default());
        let thread = crate::backlog::spawn(
            parts.kafka.clone(),
            parts.config.topics.clone(),
            sink.offset_reader(),
            look.clone(),
        );
        // Stops the look however this function returns.
        let _stop_look = StopOnDrop(look.clone(), Some(thread));
        if parts.config.membership == Membership::Alone {
            parts.assign_alone_at_start().await?;
        }
        let mut last_batch = tokio::time::Instant::now();
        let mut last_idle = tokio::time::Instant::now();
        let mut check = tokio::time::interval(Duration::from_secs(1));
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => return Ok(sink),
                _ = check.tick() => {
                    if parts.config.membership == Membership::Alone {
                        parts.assign_missing(&look.partitions())?;
                    }
                    let backlog = look.backlog.load(Ordering::Relaxed);
                    let live = caught_up(backlog, parts.config.max_batch);
                    let quiet_for = last_batch.elapsed();
                    if !live && quiet_for >= Duration::from_secs(1) {
                        look.look_now();
                    }
                    if idle_is_due(quiet_for, last_idle.elapsed(), live) {
                        last_idle = tokio::time::Instant::now();
                        if let Err(e) = sink.idle().await {
                            tracing::warn!(error = %e, "the sink's idle work failed; retrying");
                        }
                    }
                    continue;
                }
                m = parts.consumer.recv() => m,
            };
            last_batch = tokio::time::Instant::now();
            parts.check_failure()?;
            let mut outcomes = Vec::new();
            match first {
                Ok(m) => parts.take(&m, &mut outcomes, &shutdown).await,
                Err(e) => {
                    tracing::warn!(error = %e, "consume error; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            }
            let deadline = tokio::time::Instant::now() + parts.config.linger;
            while outcomes.len() < parts.config.max_batch {
                match tokio::time::timeout_at(deadline, parts.consumer.recv()).await {
                    Ok(Ok(m)) => parts.take(&m, &mut outcomes, &shutdown).await,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "consume error");
                        break;
                    }
                    Err(_) => break,
                }
            }
            parts.check_failure()?;
            if shutdown.is_cancelled() {
                // Not applied: read again at the next start, from the
                // sink's own offsets (a record that waited on the registry
                // must not be dead-lettered on the way out).
                return Ok(sink);
            }
            parts.apply_batch(&mut sink, outcomes, &shutdown).await?;
        }
    }
}

impl Outcome {
    /// Where the record came from: topic, partition, offset.
    fn origin(&self) -> (&str, i32, i64) {
        match self {
            Outcome::Event(d) => (&d.topic, d.partition, d.offset),
            Outcome::DeadLetter(f, _) => (&f.topic, f.partition, f.offset),
        }
    }
}

impl Parts {
    fn positions(&self) -> std::sync::MutexGuard<'_, HashMap<TopicPartition, Option<i64>>> {
        self.consumer
            .context()
            .positions
            .lock()
            .expect("positions lock")
    }

    /// `Membership::Alone` at start: every partition of the topics, each
    /// from the sink's stored offset, before the first record is read. If
    /// the broker cannot say yet which partitions exist, the look's first
    /// answer assigns them a moment later.
    async fn assign_alone_at_start(&self) -> Result<(), SinkRunError> {
        let kafka = self.kafka.clone();
        let topics = self.config.topics.clone();
        let ends = tokio::task::spawn_blocking(move || {
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            crate::watermarks::topic_ends(&kafka, &topics)
        })
        .await
        .expect("the partition look does not panic");
        match ends {
            Ok(ends) => {
                let mut partitions: Vec<TopicPartition> = ends.into_keys().collect();
                partitions.sort();
                self.assign_missing(&partitions)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the topics' partitions yet; waiting for the broker");
                Ok(())
            }
        }
    }

    /// `Membership::Alone`: assigns each partition of `partitions` not
    /// held yet, from the sink's stored offset (the beginning when it has
    /// none). A topic that gains partitions while the sink runs is read
    /// in full from the next look on.
    fn assign_missing(&self, partitions: &[TopicPartition]) -> Result<(), SinkRunError> {
        let missing: Vec<TopicPartition> = {
            let held = self.positions();
            partitions
                .iter()
                .filter(|tp| !held.contains_key(*tp))
                .cloned()
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let stored = self
            .consumer
            .context()
            .reader
            .stored(&missing)
            .map_err(|e| SinkRunError::Offsets(e.to_string()))?;
        let mut tpl = TopicPartitionList::new();
        {
            let mut held = self.positions();
            for tp in &missing {
                let at = stored.get(tp).copied();
                let offset = at.map_or(Offset::Beginning, Offset::Offset);
                tpl.add_partition_offset(&tp.0, tp.1, offset)
                    .map_err(|source| self.client_error(source))?;
                // Known before the first record of it can arrive.
                held.insert(tp.clone(), at);
            }
        }
        self.consumer
            .incremental_assign(&tpl)
            .map_err(|source| self.client_error(source))?;
        tracing::info!(
            partitions = missing.len(),
            "partitions assigned (alone: no consumer group)"
        );
        Ok(())
    }

    fn client_error(&self, source: rdkafka::error::KafkaError) -> SinkRunError {
        SinkRunError::Client {
            group: self.config.group_id.clone(),
            source,
        }
    }

    fn check_failure(&self) -> Result<(), SinkRunError> {
        match self
            .consumer
            .context()
            .failure
            .lock()
            .expect("failure lock")
            .take()
        {
            Some(why) => Err(SinkRunError::Offsets(why)),
            None => Ok(()),
        }
    }

    /// Decodes one message, or marks it for the dead-letter topic; skips
    /// records the sink has already applied. While the registry cannot be
    /// reached the record is not undecodable, only not decodable yet: it
    /// waits (and the partition with it) rather than being dead-lettered.
    async fn take(
        &self,
        message: &BorrowedMessage<'_>,
        out: &mut Vec<Outcome>,
        shutdown: &CancellationToken,
    ) {
        let tp = (message.topic().to_owned(), message.partition());
        let position = self.position(&tp, out);
        match position {
            Some(Some(next)) if message.offset() < next => {
                self.stats
                    .redeliveries_skipped
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
            None => return, // no longer assigned to this instance
            _ => {}
        }
        let failed = || FailedRecord::from_message(message);
        match message.payload() {
            None => out.push(Outcome::DeadLetter(
                failed(),
                "record has no payload".into(),
            )),
            Some(payload) => match self.decode_when_registry_answers(payload, shutdown).await {
                Ok(event) => out.push(Outcome::Event(Delivered {
                    topic: tp.0,
                    partition: tp.1,
                    offset: message.offset(),
                    event,
                })),
                Err(e) => out.push(Outcome::DeadLetter(failed(), format!("cannot decode: {e}"))),
            },
        }
    }

    /// Decodes, retrying with backoff while the registry is unreachable.
    /// On shutdown the last error is returned; the batch it would join is
    /// not applied then, so the record is read again at the next start.
    async fn decode_when_registry_answers(
        &self,
        payload: &[u8],
        shutdown: &CancellationToken,
    ) -> Result<handoff_events::Event, handoff_events::CodecError> {
        let mut wait = Duration::from_millis(200);
        loop {
            match self.codec.decode(payload).await {
                Err(e) if e.is_transient() && !shutdown.is_cancelled() => {
                    tracing::warn!(error = %e, retry_in = ?wait, "cannot decode until the registry answers; waiting");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
                decoded => return decoded,
            }
        }
    }

    /// The next offset expected for a partition: after the last record
    /// already in this batch, else where the sink stood at assignment.
    fn position(&self, tp: &TopicPartition, batch: &[Outcome]) -> Option<Option<i64>> {
        let in_batch = batch.iter().rev().find_map(|o| {
            let (topic, partition, offset) = o.origin();
            (topic == tp.0 && partition == tp.1).then_some(offset + 1)
        });
        let positions = self.positions();
        let assigned = positions.get(tp).copied()?;
        Some(in_batch.or(assigned))
    }

    async fn apply_batch<S: Sink>(
        &self,
        sink: &mut S,
        outcomes: Vec<Outcome>,
        shutdown: &CancellationToken,
    ) -> Result<(), SinkRunError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut events = Vec::with_capacity(outcomes.len());
        let mut advances: Vec<OffsetAdvance> = Vec::new();
        {
            let positions = self.positions();
            for outcome in &outcomes {
                let (topic, partition, offset) = outcome.origin();
                match advances
                    .iter_mut()
                    .find(|a| a.topic == topic && a.partition == partition)
                {
                    Some(a) => a.to = offset + 1,
                    None => {
                        let from = positions
                            .get(&(topic.to_owned(), partition))
                            .copied()
                            .flatten();
                        if from.is_some_and(|f| offset > f) {
                            // Not expected on these uncompacted topics.
                            tracing::warn!(
                                topic,
                                partition,
                                expected = from,
                                got = offset,
                                "a gap in a partition's offsets"
                            );
                        }
                        advances.push(OffsetAdvance {
                            topic: topic.to_owned(),
                            partition,
                            from,
                            to: offset + 1,
                        })
                    }
                }
            }
        }
        for outcome in outcomes {
            match outcome {
                Outcome::Event(d) => events.push(d),
                Outcome::DeadLetter(failed, reason) => {
                    self.dead_letter(&failed, &reason).await?;
                }
            }
        }
        let mut backoff = Duration::from_millis(100);
        loop {
            match sink.apply(&events, &advances).await {
                Ok(()) => break,
                Err(SinkError::Rejected { index, reason }) if index < events.len() => {
                    let rejected = events.remove(index);
                    let failed = FailedRecord {
                        topic: rejected.topic.clone(),
                        partition: rejected.partition,
                        offset: rejected.offset,
                        key: Some(rejected.event.key().into_bytes()),
                        payload: self.codec.encode(&rejected.event).await.ok(),
                        headers: Vec::new(),
                    };
                    self.dead_letter(&failed, &format!("rejected by sink: {reason}"))
                        .await?;
                }
                Err(SinkError::OffsetMoved) => {
                    tracing::info!(
                        "another instance applied these offsets first; re-reading positions"
                    );
                    self.refresh_positions()?;
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "sink apply failed; retrying the batch");
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        tracing::debug!(
            events = events.len(),
            advances = ?advances
                .iter()
                .map(|a| format!("{}/{} {:?}->{}", a.topic, a.partition, a.from, a.to))
                .collect::<Vec<_>>(),
            "batch applied"
        );
        self.stats
            .applied
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        {
            let mut positions = self.positions();
            for a in &advances {
                if let Some(p) = positions.get_mut(&(a.topic.clone(), a.partition)) {
                    *p = Some(a.to);
                }
            }
        }
        self.commit_for_lag(&advances);
        Ok(())
    }

    async fn dead_letter(&self, failed: &FailedRecord, reason: &str) -> Result<(), SinkRunError> {
        tracing::warn!(
            topic = failed.topic,
            partition = failed.partition,
            offset = failed.offset,
            reason,
            "record sent to the dead-letter topic"
        );
        self.dead_letters
            .send(failed, reason)
            .await
            .map_err(SinkRunError::DeadLetter)?;
        self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// After an offset conflict: reload positions and seek to them.
    fn refresh_positions(&self) -> Result<(), SinkRunError> {
        let context = self.consumer.context();
        let partitions: Vec<TopicPartition> = context
            .positions
            .lock()
            .expect("positions lock")
            .keys()
            .cloned()
            .collect();
        let stored = context
            .reader
            .stored(&partitions)
            .map_err(|e| SinkRunError::Offsets(e.to_string()))?;
        let mut positions = context.positions.lock().expect("positions lock");
        for tp in partitions {
            let at = stored.get(&tp).copied();
            let offset = at.map_or(Offset::Beginning, Offset::Offset);
            if let Err(e) = self
                .consumer
                .seek(&tp.0, tp.1, offset, Duration::from_secs(5))
            {
                tracing::warn!(error = %e, "seek after offset conflict failed");
            }
            positions.insert(tp, at);
        }
        Ok(())
    }

    fn commit_for_lag(&self, advances: &[OffsetAdvance]) {
        let mut tpl = TopicPartitionList::new();
        for a in advances {
            if tpl
                .add_partition_offset(&a.topic, a.partition, Offset::Offset(a.to))
                .is_err()
            {
                return;
            }
        }
        if let Err(e) = self.consumer.commit(&tpl, CommitMode::Async) {
            tracing::debug!(error = %e, "lag commit failed (harmless: offsets live in the sink)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    /// `idle_is_due` with the watchdog's `backlog` and a batch of 500.
    fn due(quiet_for: Duration, since_idle: Duration, backlog: i64) -> bool {
        idle_is_due(quiet_for, since_idle, caught_up(backlog, 500))
    }

    #[test]
    fn a_quiet_second_runs_idle_only_when_caught_up() {
        assert!(due(S(1), S(1), 0));
        assert!(due(S(1), S(1), 499));
        // A catch-up that pauses: the broker still holds a batch or more.
        assert!(!due(S(1), S(1), 500));
        assert!(!due(S(30), S(30), 100_000));
        // Before the watchdog's first look the backlog is unknown.
        assert!(!due(S(1), S(1), i64::MAX));
    }

    #[test]
    fn steady_live_traffic_runs_idle_every_few_seconds() {
        assert!(!due(Duration::ZERO, S(4), 10));
        assert!(due(Duration::ZERO, IDLE_UNDER_TRAFFIC, 10));
        assert!(!due(Duration::ZERO, IDLE_UNDER_TRAFFIC, 5_000));
    }

    #[test]
    fn a_long_quiet_runs_idle_whatever_the_backlog_says() {
        assert!(!due(S(59), S(59), i64::MAX));
        assert!(due(QUIET_WITH_A_BACKLOG, S(0), i64::MAX));
    }
}
