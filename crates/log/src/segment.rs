//! One segment of a partition: `<base offset, 20 digits>.log` holding
//! whole record batches back to back, with `.index` and `.timeindex`
//! beside it.
//!
//! Invariants:
//! - the file is a sequence of whole batches, each with a base offset one
//!   past the previous batch's last offset (a batch may cover offsets its
//!   producer compacted away, never fewer than it says);
//! - `size` is where the next batch goes, and everything before it has
//!   been written to the OS (reads never look past it);
//! - every index entry points at the start of a batch before `size`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::batch::{self, Header, HEADER_LEN};
use crate::error::LogError;
use crate::index::{Index, OffsetEntry, TimeEntry};

#[derive(Debug)]
pub struct Segment {
    pub base_offset: i64,
    path: PathBuf,
    file: File,
    size: u64,
    /// One past the last offset written (the base offset when empty).
    next_offset: i64,
    /// The largest batch max timestamp written; `i64::MIN` when empty.
    max_timestamp: i64,
    offsets: Index<OffsetEntry>,
    times: Index<TimeEntry>,
    index_interval: u64,
    bytes_since_entry: u64,
}

/// A batch found by a scan: where it starts, and its header.
#[derive(Debug, Clone, Copy)]
pub struct Located {
    pub position: u64,
    pub header: Header,
}

/// What a recovery scan cut off the end of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repaired {
    pub kept_bytes: u64,
    pub cut_bytes: u64,
}

pub fn file_name(base_offset: i64, extension: &str) -> String {
    format!("{base_offset:020}.{extension}")
}

impl Segment {
    pub fn create(dir: &Path, base_offset: i64, index_interval: u64) -> Result<Segment, LogError> {
        let path = dir.join(file_name(base_offset, "log"));
        let file = open_log(&path, true)?;
        Ok(Segment {
            base_offset,
            file,
            size: 0,
            next_offset: base_offset,
            max_timestamp: i64::MIN,
            offsets: Index::create(&dir.join(file_name(base_offset, "index")))?,
            times: Index::create(&dir.join(file_name(base_offset, "timeindex")))?,
            index_interval,
            bytes_since_entry: index_interval,
            path,
        })
    }

    /// Opens a segment written before. `active`: it is the one being
    /// written, so a crash may have torn its tail: the scan cuts the file
    /// back to its last whole batch (reported) and rebuilds both indexes.
    /// A sealed segment keeps its index files when they agree with it;
    /// damage in it is an error, never cut.
    pub fn open(
        dir: &Path,
        base_offset: i64,
        index_interval: u64,
        active: bool,
    ) -> Result<(Segment, Option<Repaired>), LogError> {
        let path = dir.join(file_name(base_offset, "log"));
        let file = open_log(&path, false)?;
        let size = file
            .metadata()
            .map_err(|e| LogError::io(&path, "read the size of", e))?
            .len();
        let mut segment = Segment {
            base_offset,
            file,
            size,
            next_offset: base_offset,
            max_timestamp: i64::MIN,
            offsets: Index::create(&dir.join(file_name(base_offset, "index.new")))?,
            times: Index::create(&dir.join(file_name(base_offset, "timeindex.new")))?,
            index_interval,
            bytes_since_entry: index_interval,
            path,
        };
        let (kept, last, damage) = segment.scan_all()?;
        let repaired = match damage {
            None => None,
            Some(why) if active => {
                tracing::warn!(
                    segment = %segment.path.display(),
                    kept_bytes = kept,
                    cut_bytes = size - kept,
                    why,
                    "cutting a torn tail off the segment being written (a crash during a write)"
                );
                segment
                    .file
                    .set_len(kept)
                    .map_err(|e| LogError::io(&segment.path, "truncate", e))?;
                segment
                    .file
                    .sync_all()
                    .map_err(|e| LogError::io(&segment.path, "fsync", e))?;
                Some(Repaired {
                    kept_bytes: kept,
                    cut_bytes: size - kept,
                })
            }
            Some(why) => {
                return Err(LogError::DamagedSegment {
                    path: segment.path,
                    position: kept,
                    why,
                })
            }
        };
        segment.size = kept;
        if let Some(last) = last {
            segment.next_offset = last.header.last_offset() + 1;
        }
        segment.adopt_indexes(dir, active)?;
        Ok((segment, repaired))
    }

    /// Walks every batch, rebuilding the indexes in the `.new` files, and
    /// returns how many bytes are whole, the last whole batch, and why the
    /// scan stopped short if it did.
    fn scan_all(&mut self) -> Result<(u64, Option<Located>, Option<String>), LogError> {
        let mut position = 0;
        let mut last = None;
        let mut expected = self.base_offset;
        while position < self.size {
            let header = match self.header_at(position) {
                Ok(Some(h)) => h,
                Ok(None) => return Ok((position, last, Some("a partial header".into()))),
                Err(LogError::Malformed(why)) => return Ok((position, last, Some(why))),
                Err(e) => return Err(e),
            };
            if position + header.total_len as u64 > self.size {
                return Ok((position, last, Some("a partial batch".into())));
            }
            let bytes = self.read_exact(position, header.total_len)?;
            if !batch::crc_holds(&bytes) {
                return Ok((
                    position,
                    last,
                    Some("a batch whose CRC does not match".into()),
                ));
            }
            if header.base_offset != expected {
                return Ok((
                    position,
                    last,
                    Some(format!(
                        "base offset {} where {expected} was due",
                        header.base_offset
                    )),
                ));
            }
            self.note(position, &header)?;
            expected = header.last_offset() + 1;
            last = Some(Located { position, header });
            position += header.total_len as u64;
        }
        Ok((position, last, None))
    }

    /// After a scan: a sealed segment whose index files agree keeps them
    /// (they hold the same entries the scan rebuilt unless written with
    /// another interval); otherwise the rebuilt ones replace them.
    fn adopt_indexes(&mut self, dir: &Path, active: bool) -> Result<(), LogError> {
        self.offsets.flush(false)?;
        self.times.flush(false)?;
        let index = dir.join(file_name(self.base_offset, "index"));
        let timeindex = dir.join(file_name(self.base_offset, "timeindex"));
        let kept = !active
            && Index::<OffsetEntry>::load(&index)?.is_some_and(|i| i.agrees_with(self.size))
            && Index::<TimeEntry>::load(&timeindex)?.is_some_and(|t| {
                t.agrees_with(self.relative(self.next_offset.max(self.base_offset + 1) - 1))
            });
        let new_index = dir.join(file_name(self.base_offset, "index.new"));
        let new_timeindex = dir.join(file_name(self.base_offset, "timeindex.new"));
        if kept {
            remove(&new_index)?;
            remove(&new_timeindex)?;
        } else {
            rename(&new_index, &index)?;
            rename(&new_timeindex, &timeindex)?;
        }
        self.offsets = Index::load(&index)?.expect("an index just written");
        self.times = Index::load(&timeindex)?.expect("an index just written");
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Appends one whole batch whose base offset is already this segment's
    /// next offset. Written to the OS before it returns.
    pub fn append(&mut self, bytes: &[u8], header: &Header) -> Result<(), LogError> {
        debug_assert_eq!(header.base_offset, self.next_offset);
        self.file
            .write_all(bytes)
            .map_err(|e| LogError::io(&self.path, "append to", e))?;
        let position = self.size;
        self.size += bytes.len() as u64;
        self.note(position, header)?;
        self.next_offset = header.last_offset() + 1;
        Ok(())
    }

    /// Indexes the batch at `position` if an interval has passed since the
    /// last entry, and keeps the largest timestamp.
    fn note(&mut self, position: u64, header: &Header) -> Result<(), LogError> {
        let relative = self.relative(header.base_offset);
        if self.bytes_since_entry >= self.index_interval {
            self.offsets.push(OffsetEntry {
                relative_offset: relative,
                position: position as u32,
            })?;
            if header.max_timestamp > self.times.last_timestamp().unwrap_or(i64::MIN) {
                self.times.push(TimeEntry {
                    timestamp: header.max_timestamp,
                    relative_offset: relative,
                })?;
            }
            self.bytes_since_entry = 0;
        }
        self.bytes_since_entry += header.total_len as u64;
        self.max_timestamp = self.max_timestamp.max(header.max_timestamp);
        Ok(())
    }

    fn relative(&self, offset: i64) -> u32 {
        u32::try_from(offset - self.base_offset).expect("a segment spans less than 2^32 offsets")
    }

    /// The batch holding `offset` or the first after it, if the segment has
    /// one.
    pub fn locate(&self, offset: i64) -> Result<Option<Located>, LogError> {
        let from = if offset <= self.base_offset {
            0
        } else {
            u64::from(self.offsets.position_for(self.relative(offset)))
        };
        self.scan_from(from, |h| h.last_offset() >= offset)
    }

    /// The first batch whose max timestamp is at or after `timestamp`.
    pub fn locate_time(&self, timestamp: i64) -> Result<Option<Located>, LogError> {
        if self.max_timestamp < timestamp {
            return Ok(None);
        }
        let relative = self.times.offset_for(timestamp);
        let from = u64::from(self.offsets.position_for(relative));
        self.scan_from(from, |h| h.max_timestamp >= timestamp)
    }

    fn scan_from(
        &self,
        mut position: u64,
        found: impl Fn(&Header) -> bool,
    ) -> Result<Option<Located>, LogError> {
        while position < self.size {
            let header = self
                .header_at(position)?
                .ok_or_else(|| self.damaged(position))?;
            if found(&header) {
                return Ok(Some(Located { position, header }));
            }
            position += header.total_len as u64;
        }
        Ok(None)
    }

    /// Whole batches from `position`: at least the first, then as many as
    /// fit in `max_bytes`.
    pub fn read_batches(&self, position: u64, max_bytes: usize) -> Result<Vec<Vec<u8>>, LogError> {
        let mut batches = Vec::new();
        let mut taken = 0;
        let mut at = position;
        while at < self.size {
            let header = self.header_at(at)?.ok_or_else(|| self.damaged(at))?;
            if !batches.is_empty() && taken + header.total_len > max_bytes {
                break;
            }
            batches.push(self.read_exact(at, header.total_len)?);
            taken += header.total_len;
            at += header.total_len as u64;
        }
        Ok(batches)
    }

    /// The batch starting at `position`, if one does (`position` must be
    /// a batch's start: the end of the one before).
    pub fn batch_at(&self, position: u64) -> Result<Option<Located>, LogError> {
        Ok(self
            .header_at(position)?
            .map(|header| Located { position, header }))
    }

    /// The whole batch at `position`.
    pub fn read_batch(&self, located: &Located) -> Result<Vec<u8>, LogError> {
        self.read_exact(located.position, located.header.total_len)
    }

    fn header_at(&self, position: u64) -> Result<Option<Header>, LogError> {
        if position + HEADER_LEN as u64 > self.size {
            return Ok(None);
        }
        let bytes = self.read_exact(position, HEADER_LEN)?;
        Header::parse(&bytes).map(Some)
    }

    fn read_exact(&self, position: u64, len: usize) -> Result<Vec<u8>, LogError> {
        let mut buffer = vec![0; len];
        self.file
            .read_exact_at(&mut buffer, position)
            .map_err(|e| LogError::io(&self.path, "read", e))?;
        Ok(buffer)
    }

    fn damaged(&self, position: u64) -> LogError {
        LogError::DamagedSegment {
            path: self.path.clone(),
            position,
            why: "a batch header runs past the end".into(),
        }
    }

    /// Writes buffered index entries to the OS and, when `sync`, the
    /// segment and its indexes to the disk.
    pub fn flush(&mut self, sync: bool) -> Result<(), LogError> {
        if sync {
            self.file
                .sync_data()
                .map_err(|e| LogError::io(&self.path, "fsync", e))?;
        }
        self.offsets.flush(sync)?;
        self.times.flush(sync)
    }

    /// Deletes the segment's files.
    pub fn delete(self, dir: &Path) -> Result<(), LogError> {
        for extension in ["log", "index", "timeindex"] {
            remove(&dir.join(file_name(self.base_offset, extension)))?;
        }
        Ok(())
    }
}

fn open_log(path: &Path, create: bool) -> Result<File, LogError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(create)
        .open(path)
        .map_err(|e| LogError::io(path, "open", e))
}

fn remove(path: &Path) -> Result<(), LogError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(LogError::io(path, "remove", e)),
        _ => Ok(()),
    }
}

fn rename(from: &Path, to: &Path) -> Result<(), LogError> {
    std::fs::rename(from, to).map_err(|e| LogError::io(to, "replace", e))
}
