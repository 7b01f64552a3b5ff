//! The sink consumer loop against a real broker, with a real SQLite store
//! that keeps its offsets in the same transaction as its rows: resume
//! after a crash without loss or double-apply, dead letters for records
//! that cannot be decoded, and partitions taken by assignment alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use handoff_bus::dlq;
use handoff_bus::sink::{block_on_side_thread, TopicPartition};
use handoff_bus::{
    Delivered, EventProducer, OffsetAdvance, OffsetReader, Sink, SinkError, SinkRunner,
    SinkRunnerConfig,
};
use handoff_e2e::Stack;
use handoff_events::{samples, topics, ANumber, Event};
use libsql::{params, Connection};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

/// Records every applied event id (no uniqueness constraint, so a double
/// apply shows up as a duplicate row) and its offsets, in one transaction.
struct SqliteSink {
    path: PathBuf,
    conn: Connection,
}

async fn connect(path: &Path) -> Connection {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

impl SqliteSink {
    async fn open(path: &Path) -> Self {
        let conn = connect(path).await;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE IF NOT EXISTS applied (event_id TEXT NOT NULL, topic TEXT, partition INTEGER, offset INTEGER);
             CREATE TABLE IF NOT EXISTS offsets (topic TEXT, partition INTEGER, next INTEGER, PRIMARY KEY (topic, partition));",
        )
        .await
        .unwrap();
        SqliteSink {
            path: path.to_owned(),
            conn,
        }
    }
}

async fn stored_next(
    conn: &Connection,
    topic: &str,
    partition: i32,
) -> libsql::Result<Option<i64>> {
    let mut rows = conn
        .query(
            "SELECT next FROM offsets WHERE topic = ?1 AND partition = ?2",
            params![topic, partition],
        )
        .await?;
    match rows.next().await? {
        Some(row) => Ok(Some(row.get::<i64>(0)?)),
        None => Ok(None),
    }
}

struct Reader(PathBuf);

impl OffsetReader for Reader {
    fn stored(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        block_on_side_thread(async {
            let conn = connect(&self.0).await;
            let mut out = HashMap::new();
            for (topic, partition) in partitions {
                let next = stored_next(&conn, topic, *partition)
                    .await
                    .map_err(|e| SinkError::Store(e.to_string()))?;
                if let Some(next) = next {
                    out.insert((topic.clone(), *partition), next);
                }
            }
            Ok(out)
        })
    }
}

impl Sink for SqliteSink {
    fn offset_reader(&self) -> Arc<dyn OffsetReader> {
        Arc::new(Reader(self.path.clone()))
    }

    async fn apply(
        &mut self,
        events: &[Delivered],
        offsets: &[OffsetAdvance],
    ) -> Result<(), SinkError> {
        let store = |e: libsql::Error| SinkError::Store(e.to_string());
        let tx = self.conn.transaction().await.map_err(store)?;
        for d in events {
            tx.execute(
                "INSERT INTO applied VALUES (?1, ?2, ?3, ?4)",
                params![
                    d.event.meta().event_id.clone(),
                    d.topic.clone(),
                    d.partition,
                    d.offset
                ],
            )
            .await
            .map_err(store)?;
        }
        for a in offsets {
            let current = stored_next(&tx, &a.topic, a.partition)
                .await
                .map_err(store)?;
            if current != a.from {
                return Err(SinkError::OffsetMoved);
            }
            tx.execute(
                "INSERT INTO offsets VALUES (?1, ?2, ?3) ON CONFLICT (topic, partition) DO UPDATE SET next = excluded.next",
                params![a.topic.clone(), a.partition, a.to],
            )
            .await
            .map_err(store)?;
        }
        tx.commit().await.map_err(store)
    }
}

/// Starts a sink runner on its own task; returns its counters, its stop
/// token and the task.
async fn spawn_sink(
    stack: &Stack,
    config: SinkRunnerConfig,
    db: &Path,
) -> (
    Arc<handoff_bus::sink::SinkStats>,
    CancellationToken,
    tokio::task::JoinHandle<Result<SqliteSink, handoff_bus::sink::SinkRunError>>,
) {
    let runner = SinkRunner::new(
        &stack.kafka,
        config,
        stack.codec(),
        SqliteSink::open(db).await,
    )
    .unwrap();
    let stats = runner.stats();
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run(stop.clone()));
    (stats, stop, task)
}

fn children(n: usize) -> Vec<Event> {
    (0..n)
        .flat_map(|i| samples::one_of_each(ANumber::parse(&format!("A{:09}", 200 + i)).unwrap()))
        .collect()
}

async fn count(db: &Path, sql: &str) -> i64 {
    let conn = connect(db).await;
    let mut rows = conn.query(sql, ()).await.unwrap();
    rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap()
}

async fn wait_for(db: &Path, sql: &str, want: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n = count(db, sql).await;
        if n >= want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{sql}: {n} of {want} within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_sink_resumes_from_its_own_offsets_without_loss_or_duplicates() {
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let producer = EventProducer::new(&stack.kafka, codec.clone()).unwrap();
    let events = children(10);
    let db = stack.data_dir().join("sink.db");
    let total = events.len() as i64;

    // First half published, consumed by a sink that is then killed (its
    // task aborted mid-run, as a crash would).
    for e in &events[..events.len() / 2] {
        producer.publish(e, None).await.unwrap();
    }
    let mut config = SinkRunnerConfig::new("sink-test-a", &topics::AGENCY);
    config.max_batch = 7;
    let (_, _, task) = spawn_sink(&stack, config, &db).await;
    wait_for(&db, "SELECT COUNT(*) FROM applied", total / 2).await;
    task.abort();
    let _ = task.await;

    // Second half published while the sink is down; a new instance under a
    // *different* consumer group (so Kafka's committed offsets cannot help)
    // must resume exactly where the store says.
    for e in &events[events.len() / 2..] {
        producer.publish(e, None).await.unwrap();
    }
    let (stats, stop, task) = spawn_sink(
        &stack,
        SinkRunnerConfig::new("sink-test-b", &topics::AGENCY),
        &db,
    )
    .await;
    wait_for(&db, "SELECT COUNT(*) FROM applied", total).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    task.await.unwrap().unwrap();

    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM applied").await,
        total,
        "every event exactly once"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT event_id) FROM applied").await,
        total
    );
    assert_eq!(
        count(
            &db,
            "SELECT CAST(COALESCE(SUM(next), 0) AS BIGINT) FROM offsets"
        )
        .await,
        total,
        "stored offsets cover every record"
    );
    assert_eq!(
        stats.applied.load(Ordering::Relaxed) as i64,
        total / 2,
        "the second instance applied only the rest"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_records_go_to_the_dead_letter_topic_and_the_loop_goes_on() {
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let producer = EventProducer::new(&stack.kafka, codec.clone()).unwrap();
    let raw: FutureProducer = stack.kafka.producer().create().unwrap();
    let good = samples::one_of_each(ANumber::parse("A000000301").unwrap());
    let garbage: [(&str, &[u8]); 2] = [
        ("not framed", b"hello, I am not Avro"),
        ("unknown schema id", &[0, 0, 0, 0x27, 0x0f, 2, 4, 6]),
    ];
    for (_, bytes) in &garbage {
        raw.send(
            FutureRecord::to(topics::ICE)
                .key("A000000301")
                .partition(0)
                .payload(*bytes),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    }
    for e in &good {
        producer.publish(e, None).await.unwrap();
    }

    let db = stack.data_dir().join("dlq-sink.db");
    let (stats, stop, task) = spawn_sink(
        &stack,
        SinkRunnerConfig::new("dlq-test", &topics::AGENCY),
        &db,
    )
    .await;
    wait_for(&db, "SELECT COUNT(*) FROM applied", good.len() as i64).await;
    stop.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(stats.dead_lettered.load(Ordering::Relaxed), 2);
    let ice0 = count(
        &db,
        "SELECT next FROM offsets WHERE topic = 'handoff.ice.v1' AND partition = 0",
    )
    .await;
    assert!(
        ice0 >= 2,
        "the loop moved past the dead letters (next offset {ice0})"
    );

    let consumer: StreamConsumer = stack.kafka.consumer("dlq-reader").create().unwrap();
    consumer.subscribe(&[topics::DLQ]).unwrap();
    let mut letters = Vec::new();
    while letters.len() < 2 {
        let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("dead letters arrive")
            .unwrap();
        let h = m.headers().unwrap();
        let get = |k: &str| handoff_bus::headers::get(h, k).unwrap().to_owned();
        letters.push((
            m.payload().unwrap().to_vec(),
            get(dlq::REASON),
            get(dlq::SOURCE_TOPIC),
            get(dlq::SOURCE_PARTITION),
            get(dlq::SOURCE_OFFSET),
            get(dlq::CONSUMER),
        ));
        assert_eq!(m.key(), Some(b"A000000301".as_slice()));
    }
    letters.sort_by(|a, b| a.4.cmp(&b.4));
    assert_eq!(letters[0].0, garbage[0].1, "payload kept unchanged");
    assert!(
        letters[0].1.contains("Confluent-framed"),
        "{}",
        letters[0].1
    );
    assert!(
        letters[1].1.contains("registry") || letters[1].1.contains("schema"),
        "{}",
        letters[1].1
    );
    for (i, l) in letters.iter().enumerate() {
        assert_eq!(
            (l.2.as_str(), l.3.as_str(), l.4.as_str(), l.5.as_str()),
            ("handoff.ice.v1", "0", &*i.to_string(), "dlq-test")
        );
    }
    stack.stop().await;
}

/// A sink alone joins no group: it assigns itself every partition, reads
/// partitions that appear while it runs (here a topic created after it
/// started: the embedded broker cannot add partitions to a topic, and
/// either way the look finds partitions it does not hold yet), and still
/// commits its offsets under its group name for lag monitoring.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_alone_reads_partitions_that_appear_while_it_runs_and_commits_its_lag() {
    const LATE: &str = "handoff.test.late.v1";
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let db = stack.data_dir().join("sink.db");
    let (stats, stop, task) = spawn_sink(
        &stack,
        SinkRunnerConfig::new("sink-alone", &[topics::ICE, LATE]),
        &db,
    )
    .await;

    let admin: AdminClient<DefaultClientContext> = stack.kafka.client().create().unwrap();
    let created = admin
        .create_topics(
            &[NewTopic::new(LATE, 2, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let event = samples::one_of_each(ANumber::parse("A000000777").unwrap())
        .into_iter()
        .next()
        .unwrap();
    let payload = codec.encode(&event).await.unwrap();
    let producer: FutureProducer = stack.kafka.producer().create().unwrap();
    producer
        .send(
            FutureRecord::to(LATE)
                .partition(1)
                .key(event.key().as_bytes())
                .payload(&payload),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    wait_for(
        &db,
        &format!(
            "SELECT COUNT(*) FROM offsets WHERE topic = '{LATE}' AND partition = 1 AND next = 1"
        ),
        1,
    )
    .await;
    assert_eq!(stats.applied.load(Ordering::Relaxed), 1);

    // The lag commit lands under the group name, with no member in it.
    let kafka = stack.kafka.clone();
    let committed = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = kafka.consumer("sink-alone").create().unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(LATE, 1);
        consumer
            .committed_offsets(tpl, Duration::from_secs(10))
            .unwrap()
            .find_partition(LATE, 1)
            .unwrap()
            .offset()
    })
    .await
    .unwrap();
    assert_eq!(committed, Offset::Offset(1));
    stop.cancel();
    task.await.unwrap().unwrap();
    stack.stop().await;
}
