//! The two sparse indexes beside a segment, as Kafka keeps them: an
//! offset index (offset → byte position of the batch that holds it) and a
//! time index (timestamp → the first offset whose batch reaches it). An
//! entry is added every `index_interval` bytes of batches, so a lookup is
//! a binary search and then a short forward scan of batch headers.
//!
//! Both are kept whole in memory (8 and 12 bytes an entry: a full 1 GiB
//! segment at 4 KiB intervals is 2 MiB and 3 MiB) and appended to their
//! files. The files are a cache of what the segment says: a segment
//! reopened after a crash has its indexes rebuilt from its batches, and
//! a sealed segment's files are used only if they agree with it.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::LogError;

/// One offset index entry: an offset relative to the segment's base, and
/// the byte position of the batch that starts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetEntry {
    pub relative_offset: u32,
    pub position: u32,
}

/// One time index entry: the largest timestamp seen up to and including
/// the batch at `relative_offset`'s base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEntry {
    pub timestamp: i64,
    pub relative_offset: u32,
}

/// An index's entries and its file.
#[derive(Debug)]
pub struct Index<E> {
    entries: Vec<E>,
    path: PathBuf,
    file: BufWriter<File>,
}

/// How an entry is written: a fixed number of big-endian bytes.
pub trait Entry: Copy {
    const LEN: usize;
    fn write(&self, out: &mut Vec<u8>);
    fn read(bytes: &[u8]) -> Self;
}

impl Entry for OffsetEntry {
    const LEN: usize = 8;
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.relative_offset.to_be_bytes());
        out.extend_from_slice(&self.position.to_be_bytes());
    }
    fn read(b: &[u8]) -> Self {
        OffsetEntry {
            relative_offset: u32::from_be_bytes(b[0..4].try_into().expect("4 bytes")),
            position: u32::from_be_bytes(b[4..8].try_into().expect("4 bytes")),
        }
    }
}

impl Entry for TimeEntry {
    const LEN: usize = 12;
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.relative_offset.to_be_bytes());
    }
    fn read(b: &[u8]) -> Self {
        TimeEntry {
            timestamp: i64::from_be_bytes(b[0..8].try_into().expect("8 bytes")),
            relative_offset: u32::from_be_bytes(b[8..12].try_into().expect("4 bytes")),
        }
    }
}

impl<E: Entry> Index<E> {
    /// An empty index, its file created or cut to nothing.
    pub fn create(path: &Path) -> Result<Index<E>, LogError> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(|e| LogError::io(path, "create", e))?;
        Ok(Index {
            entries: Vec::new(),
            path: path.to_owned(),
            file: BufWriter::new(file),
        })
    }

    /// The entries in `path`, or `None` when the file is missing or is not
    /// a whole number of entries (then the caller rebuilds it).
    pub fn load(path: &Path) -> Result<Option<Index<E>>, LogError> {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut f) => f
                .read_to_end(&mut bytes)
                .map_err(|e| LogError::io(path, "read", e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LogError::io(path, "open", e)),
        };
        if bytes.len() % E::LEN != 0 {
            return Ok(None);
        }
        let entries = bytes.chunks_exact(E::LEN).map(E::read).collect();
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| LogError::io(path, "open", e))?;
        Ok(Some(Index {
            entries,
            path: path.to_owned(),
            file: BufWriter::new(file),
        }))
    }

    #[cfg(test)]
    pub fn entries(&self) -> &[E] {
        &self.entries
    }

    pub fn push(&mut self, entry: E) -> Result<(), LogError> {
        let mut bytes = Vec::with_capacity(E::LEN);
        entry.write(&mut bytes);
        self.file
            .write_all(&bytes)
            .map_err(|e| LogError::io(&self.path, "append to", e))?;
        self.entries.push(entry);
        Ok(())
    }

    /// Writes what is buffered to the OS, and to the disk when `sync`.
    pub fn flush(&mut self, sync: bool) -> Result<(), LogError> {
        self.file
            .flush()
            .map_err(|e| LogError::io(&self.path, "write", e))?;
        if sync {
            self.file
                .get_ref()
                .sync_data()
                .map_err(|e| LogError::io(&self.path, "fsync", e))?;
        }
        Ok(())
    }
}

impl Index<OffsetEntry> {
    /// The last entry at or before `relative_offset`: where to start
    /// scanning for it (position 0 when none is).
    pub fn position_for(&self, relative_offset: u32) -> u32 {
        let after = self
            .entries
            .partition_point(|e| e.relative_offset <= relative_offset);
        after.checked_sub(1).map_or(0, |i| self.entries[i].position)
    }

    /// Whether every entry is in order and inside a segment of `size`
    /// bytes: a sealed segment's file is used only then.
    pub fn agrees_with(&self, size: u64) -> bool {
        self.entries
            .windows(2)
            .all(|w| w[0].relative_offset < w[1].relative_offset && w[0].position < w[1].position)
            && self
                .entries
                .last()
                .is_none_or(|e| u64::from(e.position) < size)
    }
}

impl Index<TimeEntry> {
    /// The offset to start scanning from for the first batch whose max
    /// timestamp is at or after `timestamp`: the entry before the first
    /// that reaches it (0 when none is before).
    pub fn offset_for(&self, timestamp: i64) -> u32 {
        let reached = self.entries.partition_point(|e| e.timestamp < timestamp);
        reached
            .checked_sub(1)
            .map_or(0, |i| self.entries[i].relative_offset)
    }

    /// The largest timestamp indexed, if any.
    pub fn last_timestamp(&self) -> Option<i64> {
        self.entries.last().map(|e| e.timestamp)
    }

    /// Whether timestamps and offsets only grow.
    pub fn agrees_with(&self, last_relative_offset: u32) -> bool {
        self.entries
            .windows(2)
            .all(|w| w[0].timestamp < w[1].timestamp && w[0].relative_offset < w[1].relative_offset)
            && self
                .entries
                .last()
                .is_none_or(|e| e.relative_offset <= last_relative_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_finds_the_entry_at_or_before_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.index");
        let mut index = Index::<OffsetEntry>::create(&path).unwrap();
        for (o, p) in [(0, 0), (10, 4096), (25, 8200)] {
            index
                .push(OffsetEntry {
                    relative_offset: o,
                    position: p,
                })
                .unwrap();
        }
        assert_eq!(index.position_for(0), 0);
        assert_eq!(index.position_for(9), 0);
        assert_eq!(index.position_for(10), 4096);
        assert_eq!(index.position_for(24), 4096);
        assert_eq!(index.position_for(1000), 8200);
        index.flush(false).unwrap();
        let again = Index::<OffsetEntry>::load(&path).unwrap().unwrap();
        assert_eq!(again.entries(), index.entries());
        assert!(again.agrees_with(9000));
        assert!(!again.agrees_with(8200), "an entry past the segment's end");
    }

    #[test]
    fn a_torn_index_file_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.timeindex");
        std::fs::write(&path, [0u8; 13]).unwrap();
        assert!(Index::<TimeEntry>::load(&path).unwrap().is_none());
        assert!(Index::<TimeEntry>::load(&dir.path().join("none"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn the_time_index_starts_the_scan_before_the_first_entry_that_reaches_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::<TimeEntry>::create(&dir.path().join("t")).unwrap();
        for (t, o) in [(100, 0), (200, 5), (300, 9)] {
            index
                .push(TimeEntry {
                    timestamp: t,
                    relative_offset: o,
                })
                .unwrap();
        }
        assert_eq!(index.offset_for(50), 0);
        assert_eq!(index.offset_for(100), 0);
        assert_eq!(index.offset_for(150), 0);
        assert_eq!(index.offset_for(250), 5);
        assert_eq!(index.offset_for(10_000), 9);
        assert!(index.agrees_with(9));
        assert!(!index.agrees_with(8));
    }
}
