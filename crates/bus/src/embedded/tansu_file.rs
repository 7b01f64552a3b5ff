//! A `broker.db` left by the Tansu 0.6 broker of an earlier Handoff.
//!
//! Nisshi's SQLite engine records its schema's version in a table of its
//! own and takes a file without one for an early file of its own, creating
//! what is missing beside Tansu's tables (whose header table has another
//! layout), so such a file is recognised here first and never opened by the
//! new broker. `migrate` copies it into a new file through the Kafka
//! protocol, partition by partition in offset order, so every record keeps
//! its offset: the views' and the notifier's stored offsets, which point
//! into these logs, stay true. Consumer groups' committed offsets are not
//! copied: Handoff's sinks keep their own, and Kafka's serve only lag
//! monitoring.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::{EmbeddedBroker, EmbeddedError, Engine};

/// Where the Tansu file is kept after a migration.
pub const KEPT_AS: &str = "broker.tansu-0.6.db";

/// Whether `file` exists and holds Tansu 0.6's tables without Nisshi's
/// schema-version table.
pub async fn is_tansu_file(file: &Path) -> Result<bool, EmbeddedError> {
    if !file.exists() {
        return Ok(false);
    }
    let old = open(file).await?;
    let tables = strings(
        &old,
        file,
        "SELECT name FROM sqlite_schema WHERE type = 'table'",
    )
    .await?;
    let has = |name: &str| tables.iter().any(|t| t == name);
    Ok(has("cluster") && has("record") && !has("nisshi_schema_version"))
}

/// What a migration copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    pub topics: usize,
    pub partitions: usize,
    pub records: u64,
}

/// One topic of the old file.
struct OldTopic {
    id: i64,
    name: String,
    partitions: i32,
    configs: Vec<(String, String)>,
}

/// Copies `<data_dir>/broker.db`, a Tansu 0.6 file, into a new broker
/// file at the same offsets; keeps the old one as `broker.tansu-0.6.db`.
/// The old file is only read until every record is acknowledged by the
/// new broker and every partition's end checked against it; only then are
/// the files swapped, so a failure at any point leaves the directory as it
/// was.
pub async fn migrate(data_dir: &Path) -> Result<Migrated, EmbeddedError> {
    let old_file = data_dir.join("broker.db");
    if !is_tansu_file(&old_file).await? {
        return Err(EmbeddedError::Migrate(format!(
            "{} is not a Tansu 0.6 broker file; there is nothing to migrate",
            old_file.display()
        )));
    }
    let work = data_dir.join("broker-migrating");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|source| EmbeddedError::DataDir {
            path: work.clone(),
            source,
        })?;
    }
    let old = open(&old_file).await?;
    let topics = old_topics(&old, &old_file).await?;
    let broker = EmbeddedBroker::start_with(&work, 0, Engine::Sqlite).await?;
    let copied = copy(&old, &old_file, &topics, &broker).await;
    broker.stop().await;
    let migrated = match copied {
        Ok(migrated) => migrated,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(e);
        }
    };
    drop(old);
    swap(data_dir, &work)?;
    Ok(migrated)
}

async fn copy(
    old: &libsql::Connection,
    old_file: &Path,
    topics: &[OldTopic],
    broker: &EmbeddedBroker,
) -> Result<Migrated, EmbeddedError> {
    let kafka = broker.kafka_config();
    create_topics(&kafka, topics).await?;
    let producer: FutureProducer = kafka
        .producer()
        .create()
        .map_err(|e| EmbeddedError::Migrate(format!("cannot create a producer: {e}")))?;
    let mut migrated = Migrated {
        topics: topics.len(),
        ..Migrated::default()
    };
    let mut counts = HashMap::new();
    for topic in topics {
        for partition in 0..topic.partitions {
            let n = copy_partition(old, old_file, topic, partition, &producer).await?;
            counts.insert((topic.name.clone(), partition), n);
            migrated.partitions += 1;
            migrated.records += u64::try_from(n).unwrap_or(0);
        }
    }
    check_ends(&kafka, &counts).await?;
    Ok(migrated)
}

/// Sends one partition's records in offset order and waits for every
/// acknowledgement; returns how many there were. Offsets are kept only if
/// the old partition starts at 0 with no gap, which is checked first.
async fn copy_partition(
    old: &libsql::Connection,
    old_file: &Path,
    topic: &OldTopic,
    partition: i32,
    producer: &FutureProducer,
) -> Result<i64, EmbeddedError> {
    let fail = |e: libsql::Error| sql_error(old_file, e);
    let topition = format!(
        "(SELECT id FROM topition WHERE topic = {} AND partition = {partition})",
        topic.id
    );
    let mut rows = old
        .query(
            &format!("SELECT count(*), coalesce(min(offset_id), 0), coalesce(max(offset_id), -1) FROM record WHERE topition = {topition}"),
            (),
        )
        .await
        .map_err(fail)?;
    let row = rows
        .next()
        .await
        .map_err(fail)?
        .expect("an aggregate has a row");
    let (count, first, last): (i64, i64, i64) = (
        row.get(0).map_err(fail)?,
        row.get(1).map_err(fail)?,
        row.get(2).map_err(fail)?,
    );
    if count > 0 && (first != 0 || last != count - 1) {
        return Err(EmbeddedError::Migrate(format!(
            "{} partition {partition} holds {count} records at offsets {first} to {last}, not 0 to {}: its offsets cannot be kept. Rebuild instead: move the data directory aside, start anew and re-ingest the agency exports (the same exports give the same event ids)",
            topic.name,
            count - 1
        )));
    }
    // Headers are read a window of offsets at a time (earlier Handoff
    // builds indexed the header table by record), so memory stays bounded
    // however long the partition.
    let mut headers = HashMap::new();
    let mut headers_until = 0;
    let mut records = old
        .query(
            &format!("SELECT offset_id, timestamp, k, v FROM record WHERE topition = {topition} ORDER BY offset_id"),
            (),
        )
        .await
        .map_err(fail)?;
    let mut pending = Vec::new();
    while let Some(row) = records.next().await.map_err(fail)? {
        let offset: i64 = row.get(0).map_err(fail)?;
        let timestamp: Option<i64> = row.get(1).map_err(fail)?;
        let key: Option<Vec<u8>> = row.get(2).map_err(fail)?;
        let value: Option<Vec<u8>> = row.get(3).map_err(fail)?;
        if offset >= headers_until {
            headers_until = offset + HEADER_WINDOW;
            headers = header_rows(old, old_file, &topition, offset, headers_until).await?;
        }
        let mut owned = OwnedHeaders::new();
        for (k, v) in headers.remove(&offset).unwrap_or_default() {
            owned = owned.insert(Header {
                key: &k,
                value: v.as_deref(),
            });
        }
        let mut record = FutureRecord::<Vec<u8>, Vec<u8>>::to(&topic.name)
            .partition(partition)
            .headers(owned);
        if let Some(key) = &key {
            record = record.key(key);
        }
        if let Some(value) = &value {
            record = record.payload(value);
        }
        if let Some(ts) = timestamp {
            record = record.timestamp(ts);
        }
        pending.push(producer.send_result(record).map_err(|(e, _)| {
            EmbeddedError::Migrate(format!(
                "cannot send {} {partition}@{offset}: {e}",
                topic.name
            ))
        })?);
        if pending.len() >= 10_000 {
            acknowledged(&topic.name, partition, std::mem::take(&mut pending)).await?;
        }
    }
    acknowledged(&topic.name, partition, pending).await?;
    Ok(count)
}

async fn acknowledged(
    topic: &str,
    partition: i32,
    pending: Vec<rdkafka::producer::DeliveryFuture>,
) -> Result<(), EmbeddedError> {
    for delivery in pending {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => {
                return Err(EmbeddedError::Migrate(format!(
                    "the new broker refused a record of {topic} partition {partition}: {e}"
                )))
            }
            Err(_) => {
                return Err(EmbeddedError::Migrate(format!(
                    "a record of {topic} partition {partition} was never acknowledged"
                )))
            }
        }
    }
    Ok(())
}

/// A record's headers in the order written: key, value.
type RecordHeaders = Vec<(String, Option<Vec<u8>>)>;

/// How many records' headers are held at once during a copy.
const HEADER_WINDOW: i64 = 10_000;

/// The headers of one partition's records at offsets `from..until`, by
/// record offset.
async fn header_rows(
    old: &libsql::Connection,
    old_file: &Path,
    topition: &str,
    from: i64,
    until: i64,
) -> Result<HashMap<i64, RecordHeaders>, EmbeddedError> {
    let fail = |e: libsql::Error| sql_error(old_file, e);
    let mut rows = old
        .query(
            &format!("SELECT offset_id, k, v FROM header WHERE topition = {topition} AND offset_id >= {from} AND offset_id < {until} ORDER BY offset_id, rowid"),
            (),
        )
        .await
        .map_err(fail)?;
    let mut out: HashMap<i64, RecordHeaders> = HashMap::new();
    while let Some(row) = rows.next().await.map_err(fail)? {
        let offset: i64 = row.get(0).map_err(fail)?;
        let key: Vec<u8> = row.get(1).map_err(fail)?;
        let value: Option<Vec<u8>> = row.get(2).map_err(fail)?;
        out.entry(offset)
            .or_default()
            .push((String::from_utf8_lossy(&key).into_owned(), value));
    }
    Ok(out)
}

async fn create_topics(
    kafka: &crate::KafkaConfig,
    topics: &[OldTopic],
) -> Result<(), EmbeddedError> {
    let admin: AdminClient<DefaultClientContext> = kafka
        .client()
        .create()
        .map_err(|e| EmbeddedError::Migrate(format!("cannot create an admin client: {e}")))?;
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|t| {
            t.configs.iter().fold(
                NewTopic::new(&t.name, t.partitions, TopicReplication::Fixed(1)),
                |topic, (k, v)| topic.set(k, v),
            )
        })
        .collect();
    let results = admin
        .create_topics(&new, &AdminOptions::new())
        .await
        .map_err(|e| EmbeddedError::Migrate(format!("cannot create the topics: {e}")))?;
    for result in results {
        if let Err((topic, code)) = result {
            return Err(EmbeddedError::Migrate(format!(
                "cannot create topic {topic}: {code}"
            )));
        }
    }
    Ok(())
}

/// Every partition of the new broker ends where the old one did.
async fn check_ends(
    kafka: &crate::KafkaConfig,
    counts: &HashMap<(String, i32), i64>,
) -> Result<(), EmbeddedError> {
    let kafka = kafka.clone();
    let counts = counts.clone();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = kafka
            .consumer("handoff-migrate")
            .create()
            .map_err(|e| EmbeddedError::Migrate(format!("cannot create a consumer: {e}")))?;
        for ((topic, partition), count) in &counts {
            let (_, high) = consumer
                .fetch_watermarks(topic, *partition, Duration::from_secs(10))
                .map_err(|e| EmbeddedError::Migrate(format!("cannot read the end of {topic} {partition}: {e}")))?;
            if high != *count {
                return Err(EmbeddedError::Migrate(format!(
                    "{topic} partition {partition} ends at {high} in the new file, not {count} as in the old one; nothing was swapped"
                )));
            }
        }
        Ok(())
    })
    .await
    .expect("the end check does not panic")
}

async fn old_topics(
    old: &libsql::Connection,
    old_file: &Path,
) -> Result<Vec<OldTopic>, EmbeddedError> {
    let fail = |e: libsql::Error| sql_error(old_file, e);
    let mut rows = old
        .query(
            "SELECT id, name, partitions FROM topic WHERE is_internal = 0 ORDER BY name",
            (),
        )
        .await
        .map_err(fail)?;
    let mut topics = Vec::new();
    while let Some(row) = rows.next().await.map_err(fail)? {
        topics.push(OldTopic {
            id: row.get(0).map_err(fail)?,
            name: row.get(1).map_err(fail)?,
            partitions: row.get(2).map_err(fail)?,
            configs: Vec::new(),
        });
    }
    for topic in &mut topics {
        let mut rows = old
            .query(
                "SELECT name, value FROM topic_configuration WHERE topic = ?1 AND value IS NOT NULL ORDER BY name",
                [topic.id],
            )
            .await
            .map_err(fail)?;
        while let Some(row) = rows.next().await.map_err(fail)? {
            topic
                .configs
                .push((row.get(0).map_err(fail)?, row.get(1).map_err(fail)?));
        }
    }
    Ok(topics)
}

/// Keeps the old file (and any write-ahead log beside it) as
/// `broker.tansu-0.6.db` and puts the new one in its place.
fn swap(data_dir: &Path, work: &Path) -> Result<(), EmbeddedError> {
    let rename = |from: PathBuf, to: PathBuf| {
        std::fs::rename(&from, &to).map_err(|source| EmbeddedError::DataDir { path: from, source })
    };
    for suffix in ["", "-wal", "-shm"] {
        let old = data_dir.join(format!("broker.db{suffix}"));
        if old.exists() {
            rename(old, data_dir.join(format!("{KEPT_AS}{suffix}")))?;
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let new = work.join(format!("broker.db{suffix}"));
        if new.exists() {
            rename(new, data_dir.join(format!("broker.db{suffix}")))?;
        }
    }
    std::fs::remove_dir_all(work).map_err(|source| EmbeddedError::DataDir {
        path: work.to_owned(),
        source,
    })
}

/// The old file, read-only: a migration that fails leaves it untouched.
struct OldFile {
    _db: libsql::Database,
    conn: libsql::Connection,
}

impl std::ops::Deref for OldFile {
    type Target = libsql::Connection;

    fn deref(&self) -> &libsql::Connection {
        &self.conn
    }
}

async fn open(file: &Path) -> Result<OldFile, EmbeddedError> {
    let fail = |e| sql_error(file, e);
    let db = libsql::Builder::new_local(file)
        .flags(libsql::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .build()
        .await
        .map_err(fail)?;
    let conn = db.connect().map_err(fail)?;
    Ok(OldFile { _db: db, conn })
}

async fn strings(
    conn: &libsql::Connection,
    file: &Path,
    sql: &str,
) -> Result<Vec<String>, EmbeddedError> {
    let fail = |e| sql_error(file, e);
    let mut rows = conn.query(sql, ()).await.map_err(fail)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.map_err(fail)? {
        out.push(row.get::<String>(0).map_err(fail)?);
    }
    Ok(out)
}

fn sql_error(file: &Path, e: libsql::Error) -> EmbeddedError {
    EmbeddedError::Migrate(format!("reading {}: {e}", file.display()))
}
