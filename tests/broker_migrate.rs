//! A data directory of an earlier Handoff, whose embedded broker was Tansu
//! 0.6: the new broker refuses its `broker.db` with a way forward and
//! leaves it untouched, and `migrate` copies every record, key, value,
//! timestamp and header to the same offsets of a new file, in the SQLite
//! engine's layout, which the second step carries into the log engine.
//!
//! The old file is built here in Tansu 0.6's table layout (the columns the
//! migration reads), with synthetic records.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use handoff_bus::embedded::{sqlite_engine, tansu_file, EmbeddedBroker, EmbeddedError, Engine};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

/// One record as stored: offset, timestamp, key, value, headers.
type Row = (i64, i64, Vec<u8>, Vec<u8>, Vec<(String, Vec<u8>)>);

/// Tansu 0.6's tables, as far as a migration reads them.
const LAYOUT: &str = "
CREATE TABLE cluster (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
CREATE TABLE topic (id INTEGER PRIMARY KEY AUTOINCREMENT, cluster INT NOT NULL, name TEXT NOT NULL,
  uuid TEXT NOT NULL, partitions INT NOT NULL, replication_factor INT NOT NULL, is_internal INT DEFAULT false NOT NULL);
CREATE TABLE topic_configuration (id INTEGER PRIMARY KEY AUTOINCREMENT, topic INT, name TEXT NOT NULL, value TEXT);
CREATE TABLE topition (id INTEGER PRIMARY KEY AUTOINCREMENT, topic INTEGER, partition INTEGER);
CREATE TABLE record (topition INTEGER, offset_id INTEGER NOT NULL, attributes INTEGER, producer_id INTEGER,
  producer_epoch INTEGER, timestamp INTEGER, v BLOB, k BLOB, PRIMARY KEY (topition, offset_id));
CREATE TABLE header (topition INTEGER, offset_id INTEGER, k BLOB, v BLOB);
CREATE TABLE watermark (id INTEGER PRIMARY KEY AUTOINCREMENT, topition INTEGER, low INTEGER, high INTEGER);
";

/// Synthetic records of one partition, `first` the first offset.
fn rows(topic: &str, partition: i32, first: i64, n: i64) -> Vec<Row> {
    (first..first + n)
        .map(|offset| {
            let headers = vec![
                (
                    "ce_id".to_owned(),
                    format!("{topic}-{partition}-{offset}").into_bytes(),
                ),
                ("ce_type".to_owned(), b"gov.handoff.v1.Synthetic".to_vec()),
            ];
            (
                offset,
                1_700_000_000_000 + offset * 1_000,
                format!("A{:09}", offset % 7).into_bytes(),
                vec![0, 0, 0, 0, 1, offset as u8, partition as u8],
                headers,
            )
        })
        .collect()
}

/// One topic of an old file: name, partitions, configs, each partition's rows.
type OldTopic<'a> = (&'a str, i32, &'a [(&'a str, &'a str)], &'a [Vec<Row>]);

/// Writes a Tansu 0.6 file: each topic with its partitions' rows.
async fn write_old_file(file: &Path, topics: &[OldTopic<'_>]) {
    let db = libsql::Builder::new_local(file).build().await.unwrap();
    let conn = db.connect().unwrap();
    conn.execute_batch(LAYOUT).await.unwrap();
    conn.execute("INSERT INTO cluster (name) VALUES ('handoff-local')", ())
        .await
        .unwrap();
    for (t, (name, partitions, configs, data)) in topics.iter().enumerate() {
        let topic_id = t as i64 + 1;
        conn.execute(
            "INSERT INTO topic (id, cluster, name, uuid, partitions, replication_factor) VALUES (?1, 1, ?2, 'u', ?3, 1)",
            libsql::params![topic_id, *name, *partitions],
        )
        .await
        .unwrap();
        for (k, v) in configs.iter() {
            conn.execute(
                "INSERT INTO topic_configuration (topic, name, value) VALUES (?1, ?2, ?3)",
                libsql::params![topic_id, *k, *v],
            )
            .await
            .unwrap();
        }
        for partition in 0..*partitions {
            conn.execute(
                "INSERT INTO topition (topic, partition) VALUES (?1, ?2)",
                libsql::params![topic_id, partition],
            )
            .await
            .unwrap();
            let topition = conn.last_insert_rowid();
            for (offset, ts, k, v, headers) in &data[partition as usize] {
                conn.execute(
                    "INSERT INTO record (topition, offset_id, timestamp, k, v) VALUES (?1, ?2, ?3, ?4, ?5)",
                    libsql::params![topition, *offset, *ts, k.clone(), v.clone()],
                )
                .await
                .unwrap();
                for (hk, hv) in headers {
                    conn.execute(
                        "INSERT INTO header (topition, offset_id, k, v) VALUES (?1, ?2, ?3, ?4)",
                        libsql::params![topition, *offset, hk.as_bytes().to_vec(), hv.clone()],
                    )
                    .await
                    .unwrap();
                }
            }
        }
    }
}

/// Every record of a partition as the new broker serves it.
fn read_partition(kafka: &handoff_bus::KafkaConfig, topic: &str, partition: i32) -> Vec<Row> {
    let consumer: BaseConsumer = kafka.consumer("migrate-check").create().unwrap();
    let (_, high) = consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(10))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    while (out.len() as i64) < high {
        let m = consumer
            .poll(Duration::from_secs(10))
            .expect("a record within 10 s")
            .unwrap();
        let headers = handoff_bus::headers::pairs(m.headers());
        out.push((
            m.offset(),
            m.timestamp().to_millis().unwrap(),
            m.key().unwrap().to_vec(),
            m.payload().unwrap().to_vec(),
            headers,
        ));
    }
    out
}

/// Every partition the migrations carry, as the broker serves them.
async fn read_migrated(broker: &EmbeddedBroker) -> BTreeMap<(&'static str, i32), Vec<Row>> {
    let kafka = broker.kafka_config();
    tokio::task::spawn_blocking(move || {
        let mut read = BTreeMap::new();
        for p in 0..3 {
            read.insert(
                ("handoff.ice.v1", p),
                read_partition(&kafka, "handoff.ice.v1", p),
            );
        }
        read.insert(("_schemas", 0), read_partition(&kafka, "_schemas", 0));
        read
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tansu_file_is_refused_untouched_then_migrated_at_the_same_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broker.db");
    let ice: Vec<Vec<Row>> = (0..3)
        .map(|p| rows("ice", p, 0, 5 + p as i64 * 3))
        .collect();
    let schemas = vec![rows("_schemas", 0, 0, 4)];
    write_old_file(
        &file,
        &[
            ("handoff.ice.v1", 3, &[("retention.ms", "-1")], &ice),
            ("_schemas", 1, &[("cleanup.policy", "compact")], &schemas),
        ],
    )
    .await;
    let before = std::fs::read(&file).unwrap();

    let refused = EmbeddedBroker::start(dir.path(), 0).await;
    let Err(error) = refused else {
        panic!("the new broker opened a Tansu 0.6 file")
    };
    assert!(matches!(error, EmbeddedError::TansuFile { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("handoff broker migrate --data-dir"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the old file changed"
    );

    let migrated = tansu_file::migrate(dir.path()).await.unwrap();
    assert_eq!(
        migrated,
        tansu_file::Migrated {
            topics: 2,
            partitions: 4,
            records: 5 + 8 + 11 + 4,
        }
    );
    assert_eq!(
        std::fs::read(dir.path().join(tansu_file::KEPT_AS)).unwrap(),
        before,
        "the old file is kept as it was"
    );

    // The migration writes the SQLite engine's file, which that engine
    // then serves.
    let broker = EmbeddedBroker::start_with(dir.path(), 0, Engine::Sqlite)
        .await
        .unwrap();
    let read = read_migrated(&broker).await;
    for p in 0..3 {
        assert_eq!(
            read[&("handoff.ice.v1", p)],
            ice[p as usize],
            "ice partition {p}"
        );
    }
    assert_eq!(read[&("_schemas", 0)], schemas[0]);
    broker.stop().await;

    // The default engine, the log, refuses the SQLite engine's file with
    // the way forward, and the second step carries it into the log.
    let refused = EmbeddedBroker::start(dir.path(), 0).await;
    let Err(error) = refused else {
        panic!("the log engine opened the SQLite engine's file")
    };
    assert!(
        matches!(error, EmbeddedError::SqliteEngineData { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("handoff broker migrate"),
        "{error}"
    );
    let migrated = sqlite_engine::migrate(dir.path()).await.unwrap();
    assert_eq!(
        migrated,
        sqlite_engine::Migrated {
            topics: 2,
            partitions: 4,
            records: 5 + 8 + 11 + 4,
        }
    );
    assert!(dir.path().join(sqlite_engine::KEPT_AS).exists());
    assert!(!dir.path().join("broker.db").exists());
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    let in_log = read_migrated(&broker).await;
    assert_eq!(
        in_log, read,
        "every record, key, timestamp and header at its offset"
    );
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_whose_offsets_cannot_be_kept_stops_the_migration_with_nothing_swapped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broker.db");
    // Offsets 3 to 6: the first three were deleted by retention.
    let doj = vec![rows("doj", 0, 3, 4)];
    write_old_file(&file, &[("handoff.doj.v1", 1, &[], &doj)]).await;
    let before = std::fs::read(&file).unwrap();
    let error = tansu_file::migrate(dir.path()).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("handoff.doj.v1 partition 0"), "{text}");
    assert!(text.contains("offsets 3 to 6"), "{text}");
    assert!(text.contains("re-ingest"), "{text}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert!(!dir.path().join(tansu_file::KEPT_AS).exists());
}
