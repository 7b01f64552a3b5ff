//! One topic partition: a directory of segments, the last one written.
//!
//! Invariants:
//! - segments are in base offset order, each starting where the previous
//!   one ends, and only the last is written;
//! - `log_start` (the first offset a reader may ask for) is at or after
//!   the first segment's base and at or before `next_offset`; it moves
//!   forward only (deleting records), and is kept in `log-start-offset`;
//! - `next_offset` is the high watermark: every offset below it is in a
//!   batch written to the OS (with one broker, every written record is
//!   replicated to all the replicas there are).

use std::path::{Path, PathBuf};

use crate::batch::{self, Header};
use crate::error::LogError;
use crate::producers::{Check, Producers};
use crate::segment::{self, Repaired, Segment};
use crate::Settings;

const LOG_START_FILE: &str = "log-start-offset";

#[derive(Debug)]
pub struct Partition {
    dir: PathBuf,
    segments: Vec<Segment>,
    log_start: i64,
    producers: Producers,
    settings: Settings,
    /// Bytes written since the last fsync.
    unsynced: bool,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Written; the batch's base offset.
    Written(i64),
    /// An idempotent producer's retry of a batch already written at this
    /// base offset: nothing written.
    Duplicate(i64),
}

impl Appended {
    pub fn base_offset(self) -> i64 {
        match self {
            Appended::Written(o) | Appended::Duplicate(o) => o,
        }
    }
}

impl Partition {
    /// Opens the partition in `dir`, creating it empty if need be. A torn
    /// tail of the last segment is cut back (and reported).
    pub fn open(dir: &Path, settings: Settings) -> Result<(Partition, Option<Repaired>), LogError> {
        std::fs::create_dir_all(dir).map_err(|e| LogError::io(dir, "create", e))?;
        let mut bases = segment_bases(dir)?;
        bases.sort_unstable();
        let mut segments = Vec::with_capacity(bases.len().max(1));
        let mut repaired = None;
        let last = bases.len().saturating_sub(1);
        for (i, base) in bases.iter().enumerate() {
            let (segment, cut) = Segment::open(dir, *base, settings.index_interval, i == last)?;
            if let Some(previous) = segments.last().map(Segment::next_offset) {
                if previous != *base {
                    return Err(LogError::DamagedSegment {
                        path: dir.join(segment::file_name(*base, "log")),
                        position: 0,
                        why: format!(
                            "it starts at offset {base}, the segment before ends at {previous}"
                        ),
                    });
                }
            }
            repaired = repaired.or(cut);
            segments.push(segment);
        }
        if segments.is_empty() {
            segments.push(Segment::create(dir, 0, settings.index_interval)?);
        }
        let first = segments[0].base_offset;
        let log_start = read_log_start(dir)?.unwrap_or(first).max(first);
        let active = segments.last().expect("one segment at least");
        let mut producers =
            Producers::load(&dir.join(segment::file_name(active.base_offset, "snapshot")))?;
        let mut located = active.batch_at(0)?;
        while let Some(l) = located {
            producers.note(&l.header);
            located = active.batch_at(l.position + l.header.total_len as u64)?;
        }
        let log_start = log_start.min(active.next_offset());
        let partition = Partition {
            dir: dir.to_owned(),
            segments,
            log_start,
            producers,
            settings,
            unsynced: false,
        };
        Ok((partition, repaired))
    }

    pub fn log_start(&self) -> i64 {
        self.log_start
    }

    /// One past the last offset written: the high watermark.
    pub fn next_offset(&self) -> i64 {
        self.active().next_offset()
    }

    fn active(&self) -> &Segment {
        self.segments.last().expect("one segment at least")
    }

    /// Appends one batch as produced: the log gives it the next offset and
    /// stores its bytes otherwise untouched. An idempotent producer's
    /// retry answers the offset already given.
    pub fn append(&mut self, mut bytes: Vec<u8>) -> Result<Appended, LogError> {
        let header = Header::parse(&bytes)?;
        if header.total_len != bytes.len() {
            return Err(LogError::Malformed(format!(
                "the batch says it is {} bytes long, and {} were sent",
                header.total_len,
                bytes.len()
            )));
        }
        if !batch::crc_holds(&bytes) {
            return Err(LogError::Corrupt);
        }
        if let Check::Duplicate(offset) = self.producers.check(&header)? {
            return Ok(Appended::Duplicate(offset));
        }
        let base = self.next_offset();
        batch::set_base_offset(&mut bytes, base);
        let header = Header {
            base_offset: base,
            ..header
        };
        let active = self.active();
        if !active.is_empty()
            && (active.size() + bytes.len() as u64 > self.settings.segment_bytes
                || header.last_offset() - active.base_offset >= i64::from(u32::MAX))
        {
            self.roll()?;
        }
        let active = self.segments.last_mut().expect("one segment at least");
        active.append(&bytes, &header)?;
        self.producers.note(&header);
        self.unsynced = true;
        if self.settings.fsync == crate::Fsync::Always {
            self.sync()?;
        }
        Ok(Appended::Written(base))
    }

    /// Seals the active segment (fsynced, with a producer snapshot beside
    /// the next) and starts a new one at the next offset.
    fn roll(&mut self) -> Result<(), LogError> {
        let next = self.next_offset();
        self.segments
            .last_mut()
            .expect("one segment at least")
            .flush(true)?;
        self.producers
            .save(&self.dir.join(segment::file_name(next, "snapshot")))?;
        self.segments.push(Segment::create(
            &self.dir,
            next,
            self.settings.index_interval,
        )?);
        sync_dir(&self.dir)?;
        tracing::debug!(dir = %self.dir.display(), base_offset = next, "rolled a new segment");
        Ok(())
    }

    /// Writes what was appended since the last sync to the disk.
    pub fn sync(&mut self) -> Result<(), LogError> {
        if self.unsynced {
            self.segments
                .last_mut()
                .expect("one segment at least")
                .flush(true)?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Whole batches from the one holding `offset`: at least one when
    /// there is one, then as many as fit in `max_bytes`. Empty at the end
    /// of the log; an error before its start.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<Vec<Vec<u8>>, LogError> {
        if offset < self.log_start || offset > self.next_offset() {
            return Err(LogError::OffsetOutOfRange {
                offset,
                log_start: self.log_start,
                next_offset: self.next_offset(),
            });
        }
        let from = self.segments.partition_point(|s| s.base_offset <= offset);
        for segment in &self.segments[from.saturating_sub(1)..] {
            if let Some(located) = segment.locate(offset)? {
                return segment.read_batches(located.position, max_bytes);
            }
        }
        Ok(Vec::new())
    }

    /// The first batch at or after the log start whose max timestamp is
    /// at or after `timestamp`, whole (the caller finds the record in it).
    pub fn batch_for_time(&self, timestamp: i64) -> Result<Option<Vec<u8>>, LogError> {
        for segment in &self.segments {
            if segment.next_offset() <= self.log_start {
                continue;
            }
            let mut located = segment.locate_time(timestamp)?;
            // A batch wholly before the log start is gone to readers.
            while let Some(l) = located {
                if l.header.last_offset() >= self.log_start && l.header.max_timestamp >= timestamp {
                    return segment.read_batch(&l).map(Some);
                }
                located = segment.batch_at(l.position + l.header.total_len as u64)?;
            }
        }
        Ok(None)
    }

    /// The largest timestamp of any batch, with the base offset of the
    /// last batch: what Kafka's ListOffsets `MAX_TIMESTAMP` answers.
    pub fn max_timestamp(&self) -> Option<i64> {
        self.segments
            .iter()
            .map(Segment::max_timestamp)
            .filter(|t| *t != i64::MIN)
            .max()
    }

    /// Moves the log start to `offset` (records before it are gone to
    /// readers) and deletes the segments wholly before it. Answers the new
    /// log start.
    pub fn delete_before(&mut self, offset: i64) -> Result<i64, LogError> {
        let next = self.next_offset();
        if offset > next {
            return Err(LogError::OffsetOutOfRange {
                offset,
                log_start: self.log_start,
                next_offset: next,
            });
        }
        if offset <= self.log_start {
            return Ok(self.log_start);
        }
        write_log_start(&self.dir, offset)?;
        self.log_start = offset;
        while self.segments.len() > 1 && self.segments[1].base_offset <= offset {
            let gone = self.segments.remove(0);
            gone.delete(&self.dir)?;
        }
        Ok(self.log_start)
    }
}

fn segment_bases(dir: &Path) -> Result<Vec<i64>, LogError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LogError::io(dir, "list", e))?;
    let mut bases = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| LogError::io(dir, "list", e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(base) = name.strip_suffix(".log").and_then(|b| b.parse().ok()) {
            bases.push(base);
        }
    }
    Ok(bases)
}

fn read_log_start(dir: &Path) -> Result<Option<i64>, LogError> {
    let path = dir.join(LOG_START_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| LogError::DamagedSegment {
                path,
                position: 0,
                why: format!("{text:?} is not an offset"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LogError::io(&path, "read", e)),
    }
}

fn write_log_start(dir: &Path, offset: i64) -> Result<(), LogError> {
    let path = dir.join(LOG_START_FILE);
    let partial = dir.join("log-start-offset.partial");
    std::fs::write(&partial, offset.to_string()).map_err(|e| LogError::io(&partial, "write", e))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| LogError::io(&partial, "fsync", e))?;
    std::fs::rename(&partial, &path).map_err(|e| LogError::io(&path, "replace", e))
}

/// Makes a new or renamed file's name durable.
fn sync_dir(dir: &Path) -> Result<(), LogError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LogError::io(dir, "fsync", e))
}
