//! The embedded broker's records, stored as Apache Kafka stores a
//! partition on disk: a directory per partition holding segment files of
//! record batches exactly as produced (the log only writes each batch's
//! base offset), each with a sparse offset index and a time index.
//!
//! Why not rows in SQLite: a produce then costs a transaction and a
//! statement per record and header, and a fetch a query per record; here
//! a produce is one `write` of the batch and a fetch one read of
//! contiguous bytes, and a lookup by offset or by time is a binary search
//! in memory and a short scan of batch headers.
//!
//! Durability: every append is written to the OS before it is
//! acknowledged, so a killed process loses nothing the OS has; what
//! reaches the disk before a power cut is `Fsync`'s choice. On opening, a
//! partition's last segment is scanned, and a torn tail (a batch cut short
//! or failing its CRC) is cut back to the last whole batch; the indexes
//! and the idempotent producers' state are rebuilt from the batches.
//!
//! ```text
//! <root>/<topic>-<partition>/
//!     00000000000000000000.log        batches, back to back
//!     00000000000000000000.index      relative offset → byte position, every index_interval bytes
//!     00000000000000000000.timeindex  max timestamp so far → relative offset
//!     00000000000000052311.snapshot   the idempotent producers' state when that segment began
//!     log-start-offset                the first offset readers may ask for, after a delete
//! ```

pub mod batch;
mod error;
mod index;
mod partition;
mod producers;
mod segment;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use error::LogError;
pub use partition::{Appended, Partition};
pub use segment::Repaired;

/// When appended batches reach the disk (they reach the OS at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Before each produce is acknowledged: no acknowledged record is lost
    /// even to a power cut, at the cost of a disk flush per batch.
    Always,
    /// Every so often, as Kafka does by default (it leaves flushing to the
    /// OS and relies on replicas): a power cut may lose the last interval's
    /// acknowledged records; a killed process loses none.
    Interval(Duration),
}

/// How the log lays out its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// A segment is sealed and a new one started past this size (Kafka's
    /// `log.segment.bytes`, 1 GiB).
    pub segment_bytes: u64,
    /// Bytes of batches between index entries (Kafka's
    /// `log.index.interval.bytes`, 4 KiB).
    pub index_interval: u64,
    pub fsync: Fsync,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            segment_bytes: 1 << 30,
            index_interval: 4096,
            fsync: Fsync::Interval(Duration::from_secs(1)),
        }
    }
}

/// A shared partition: appends and reads take its lock in turn.
pub type SharedPartition = Arc<Mutex<Partition>>;

/// A partition whose tail `Log::open` cut back: topic, partition, what.
pub type RepairedPartition = (String, i32, Repaired);

/// Every partition under one directory.
#[derive(Debug)]
pub struct Log {
    root: PathBuf,
    settings: Settings,
    partitions: RwLock<HashMap<(String, i32), SharedPartition>>,
}

impl Log {
    /// Opens every partition under `root` (recovering each), creating
    /// `root` if need be. Answers the partitions whose tail was repaired.
    pub fn open(
        root: &Path,
        settings: Settings,
    ) -> Result<(Log, Vec<RepairedPartition>), LogError> {
        std::fs::create_dir_all(root).map_err(|e| LogError::io(root, "create", e))?;
        let mut partitions = HashMap::new();
        let mut repaired = Vec::new();
        let entries = std::fs::read_dir(root).map_err(|e| LogError::io(root, "list", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| LogError::io(root, "list", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((topic, partition)) = parse_dir_name(&name) else {
                continue;
            };
            if !entry.path().is_dir() {
                continue;
            }
            let (opened, cut) = Partition::open(&entry.path(), settings)?;
            if let Some(cut) = cut {
                repaired.push((topic.clone(), partition, cut));
            }
            partitions.insert((topic, partition), Arc::new(Mutex::new(opened)));
        }
        Ok((
            Log {
                root: root.to_owned(),
                settings,
                partitions: RwLock::new(partitions),
            },
            repaired,
        ))
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// The partition, if it has been written or created.
    pub fn get(&self, topic: &str, partition: i32) -> Option<SharedPartition> {
        self.partitions
            .read()
            .expect("no panic while holding the map")
            .get(&(topic.to_owned(), partition))
            .cloned()
    }

    /// The partition, created empty if it is not there.
    pub fn get_or_create(&self, topic: &str, partition: i32) -> Result<SharedPartition, LogError> {
        if let Some(p) = self.get(topic, partition) {
            return Ok(p);
        }
        let mut map = self
            .partitions
            .write()
            .expect("no panic while holding the map");
        if let Some(p) = map.get(&(topic.to_owned(), partition)) {
            return Ok(p.clone());
        }
        let (opened, _) =
            Partition::open(&self.root.join(dir_name(topic, partition)), self.settings)?;
        let shared = Arc::new(Mutex::new(opened));
        map.insert((topic.to_owned(), partition), shared.clone());
        Ok(shared)
    }

    /// Deletes every partition of `topic`, files and all.
    pub fn delete_topic(&self, topic: &str) -> Result<(), LogError> {
        let mut map = self
            .partitions
            .write()
            .expect("no panic while holding the map");
        let gone: Vec<(String, i32)> = map.keys().filter(|(t, _)| t == topic).cloned().collect();
        for key in gone {
            map.remove(&key);
            let dir = self.root.join(dir_name(&key.0, key.1));
            std::fs::remove_dir_all(&dir).map_err(|e| LogError::io(&dir, "remove", e))?;
        }
        Ok(())
    }

    /// Fsyncs every partition written since its last sync (the interval
    /// policy's tick, and a clean shutdown).
    pub fn sync_all(&self) -> Result<(), LogError> {
        let partitions: Vec<SharedPartition> = self
            .partitions
            .read()
            .expect("no panic while holding the map")
            .values()
            .cloned()
            .collect();
        for p in partitions {
            p.lock()
                .expect("no panic while holding a partition")
                .sync()?;
        }
        Ok(())
    }
}

fn dir_name(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// `handoff.ice.v1-0` → (`handoff.ice.v1`, 0): the partition is after the
/// last `-`, since a topic name may hold `-` itself.
fn parse_dir_name(name: &str) -> Option<(String, i32)> {
    let (topic, partition) = name.rsplit_once('-')?;
    let partition = partition.parse().ok().filter(|p: &i32| *p >= 0)?;
    (!topic.is_empty()).then(|| (topic.to_owned(), partition))
}

#[cfg(test)]
mod tests;
