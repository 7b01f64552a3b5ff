//! A data directory whose broker ran on the SQLite engine (`broker.db`,
//! every record a row) carried over to the log engine (`broker/`).
//!
//! The copy is storage to storage, in this process: each topic is created
//! in the new engine with its configuration, and each partition's batches
//! are read from the old engine in offset order and appended to the new
//! log, which must give every batch the offset it had, so the views' and
//! the notifier's stored offsets, which point into these logs, stay true.
//! A partition whose records no longer start at offset 0 cannot keep its
//! offsets, and stops the migration with nothing changed.
//!
//! The new files are built in `broker-migrating/` and checked (every
//! partition ends where it did) before anything is renamed; then the new
//! directory becomes `broker/` and only then `broker.db` is kept as
//! `broker.sqlite-engine.db`. A crash between the two renames leaves both,
//! which `migrate` recognises and finishes. Consumer groups' committed
//! offsets are not copied: Handoff's sinks keep their own.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use handoff_log::Log;
use nisshi_sans_io::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use nisshi_sans_io::{ConfigResource, IsolationLevel};
use nisshi_storage::{ArcDynStorage, Storage, Topition};
use url::Url;

use super::log_storage::LogStorage;
use super::{log_settings, sqlite_storage, EmbeddedError, Fsync};

/// Where the SQLite engine's file is kept after a migration.
pub const KEPT_AS: &str = "broker.sqlite-engine.db";
const WORK: &str = "broker-migrating";
/// Written into the new directory once its copy is checked: the swap may
/// go ahead (and finish after a crash).
const CHECKED: &str = "migrated-from-sqlite";
/// Bytes read from the old engine at a time.
const READ_BYTES: u32 = 4 << 20;

/// What a migration copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    pub topics: usize,
    pub partitions: usize,
    pub records: u64,
}

/// Copies `<data_dir>/broker.db` into `<data_dir>/broker/` (see the module
/// comment). Stop every Handoff process on the directory first.
pub async fn migrate(data_dir: &Path) -> Result<Migrated, EmbeddedError> {
    let data_dir = std::path::absolute(data_dir).map_err(|source| EmbeddedError::DataDir {
        path: data_dir.to_owned(),
        source,
    })?;
    let old_file = data_dir.join("broker.db");
    let target = data_dir.join("broker");
    if target.join(CHECKED).exists() && old_file.exists() {
        // A migration copied and checked everything, then stopped between
        // its renames.
        keep_old(&data_dir)?;
        finish(&target)?;
        return Ok(Migrated::default());
    }
    if !old_file.exists() {
        return Err(EmbeddedError::Migrate(format!(
            "{} does not exist; there is nothing to migrate",
            old_file.display()
        )));
    }
    if target.exists() {
        return Err(EmbeddedError::Migrate(format!(
            "{} exists already: this directory has data of both engines; move one aside first",
            target.display()
        )));
    }
    let work = data_dir.join(WORK);
    if work.exists() {
        remove_dir(&work)?;
    }
    let listener = Url::parse("tcp://127.0.0.1:9092").expect("valid url");
    let old = sqlite_storage(&old_file, &listener).await?;
    let copied = copy(&old, &work, &listener).await;
    drop(old);
    let migrated = match copied {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(e);
        }
    };
    super::wait_released(&old_file).await;
    super::wait_released(&work.join("state.db")).await;
    std::fs::write(work.join(CHECKED), "").map_err(|source| EmbeddedError::DataDir {
        path: work.clone(),
        source,
    })?;
    rename(&work, &target)?;
    keep_old(&data_dir)?;
    finish(&target)?;
    Ok(migrated)
}

async fn copy(old: &ArcDynStorage, work: &Path, listener: &Url) -> Result<Migrated, EmbeddedError> {
    let fail =
        |what: &str, e: nisshi_storage::Error| EmbeddedError::Migrate(format!("{what}: {e}"));
    std::fs::create_dir_all(work).map_err(|source| EmbeddedError::DataDir {
        path: work.to_owned(),
        source,
    })?;
    let state = sqlite_storage(&work.join("state.db"), listener).await?;
    let (log, _) = Log::open(&work.join("log"), log_settings(Fsync::Interval))
        .map_err(|e| EmbeddedError::Migrate(e.to_string()))?;
    let log = Arc::new(log);
    let new = LogStorage::new(state, log.clone());
    super::serve::register(&new).await?;
    let metadata = old
        .metadata(None)
        .await
        .map_err(|e| fail("cannot list the old topics", e))?;
    let mut migrated = Migrated::default();
    for topic in metadata.topics {
        let Some(name) = topic.name else { continue };
        let partitions = topic.partitions.unwrap_or_default().len() as i32;
        let configs = old
            .describe_config(&name, ConfigResource::Topic, None)
            .await
            .map_err(|e| fail(&format!("cannot read topic {name}'s configuration"), e))?
            .configs
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !c.read_only && c.is_default != Some(true))
            .map(|c| CreatableTopicConfig::default().name(c.name).value(c.value))
            .collect::<Vec<_>>();
        new.create_topic(
            CreatableTopic::default()
                .name(name.clone())
                .num_partitions(partitions)
                .replication_factor(1)
                .configs(Some(configs)),
            false,
        )
        .await
        .map_err(|e| fail(&format!("cannot create topic {name}"), e))?;
        migrated.topics += 1;
        for partition in 0..partitions {
            let topition = Topition::new(name.as_str(), partition);
            migrated.records += copy_partition(old, &new, &topition).await?;
            migrated.partitions += 1;
        }
    }
    log.sync_all()
        .map_err(|e| EmbeddedError::Migrate(e.to_string()))?;
    Ok(migrated)
}

/// Appends one partition's batches in offset order; answers how many
/// offsets it holds.
async fn copy_partition(
    old: &ArcDynStorage,
    new: &LogStorage,
    topition: &Topition,
) -> Result<u64, EmbeddedError> {
    let fail = |what: &str, e: nisshi_storage::Error| {
        EmbeddedError::Migrate(format!(
            "{} partition {}: {what}: {e}",
            topition.topic(),
            topition.partition()
        ))
    };
    let stage = old
        .offset_stage(topition)
        .await
        .map_err(|e| fail("cannot read its offsets", e))?;
    if stage.log_start != 0 {
        return Err(EmbeddedError::Migrate(format!(
            "{} partition {} starts at offset {}, not 0, so its records cannot keep their offsets; nothing was changed. Rebuild instead: a fresh data directory, the agency exports ingested again (they give the same event ids)",
            topition.topic(),
            topition.partition(),
            stage.log_start
        )));
    }
    let mut offset = 0;
    while offset < stage.high_watermark {
        let batches = old
            .fetch(
                topition,
                offset,
                1,
                READ_BYTES,
                IsolationLevel::ReadUncommitted,
                Duration::ZERO,
            )
            .await
            .map_err(|e| fail("cannot read its records", e))?;
        if batches.is_empty() {
            return Err(EmbeddedError::Migrate(format!(
                "{} partition {} has no record at offset {offset} below its end {}; nothing was changed",
                topition.topic(),
                topition.partition(),
                stage.high_watermark
            )));
        }
        for batch in batches {
            let expected = batch.base_offset;
            let last = expected + i64::from(batch.last_offset_delta);
            if expected != offset {
                return Err(EmbeddedError::Migrate(format!(
                    "{} partition {} has a gap at offset {offset} (the next record is at {expected}), so its records cannot keep their offsets; nothing was changed",
                    topition.topic(),
                    topition.partition()
                )));
            }
            let given = new
                .produce(None, topition, batch)
                .await
                .map_err(|e| fail("cannot write its records", e))?;
            if given != expected {
                return Err(EmbeddedError::Migrate(format!(
                    "{} partition {}: the new log gave offset {given} to the record at {expected}; nothing was changed",
                    topition.topic(),
                    topition.partition()
                )));
            }
            offset = last + 1;
        }
    }
    let end = new
        .offset_stage(topition)
        .await
        .map_err(|e| fail("cannot read its new offsets", e))?;
    if end.high_watermark != stage.high_watermark {
        return Err(EmbeddedError::Migrate(format!(
            "{} partition {} ends at {} in the new log but at {} in the old; nothing was changed",
            topition.topic(),
            topition.partition(),
            end.high_watermark,
            stage.high_watermark
        )));
    }
    Ok(stage.high_watermark as u64)
}

/// Keeps the old file (and its write-ahead log) under `KEPT_AS`.
fn keep_old(data_dir: &Path) -> Result<(), EmbeddedError> {
    for suffix in ["", "-wal", "-shm"] {
        let old = data_dir.join(format!("broker.db{suffix}"));
        if old.exists() {
            rename(&old, &data_dir.join(format!("{KEPT_AS}{suffix}")))?;
        }
    }
    Ok(())
}

fn finish(target: &Path) -> Result<(), EmbeddedError> {
    let marker = target.join(CHECKED);
    std::fs::remove_file(&marker).map_err(|source| EmbeddedError::DataDir {
        path: marker,
        source,
    })
}

fn rename(from: &Path, to: &Path) -> Result<(), EmbeddedError> {
    std::fs::rename(from, to).map_err(|source| EmbeddedError::DataDir {
        path: from.to_owned(),
        source,
    })
}

fn remove_dir(dir: &PathBuf) -> Result<(), EmbeddedError> {
    std::fs::remove_dir_all(dir).map_err(|source| EmbeddedError::DataDir {
        path: dir.clone(),
        source,
    })
}
