use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(
        "cannot {action} {path}: {source}; check the data directory's permissions and free space"
    )]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// A batch the producer sent is not one the log can store.
    #[error("not a record batch: {0}")]
    Malformed(String),
    /// A batch's records do not match its CRC: damaged on the way.
    #[error("the batch's CRC does not match its bytes")]
    Corrupt,
    /// A sealed segment (not the one being written) is damaged: a crash
    /// cannot do that, so the log refuses to guess what was lost.
    #[error("{path} is damaged at byte {position} ({why}), and it is not the segment being written; restore the data directory from a backup, or move this partition's directory aside to start it empty")]
    DamagedSegment {
        path: PathBuf,
        position: u64,
        why: String,
    },
    #[error("offset {offset} is outside the log, which holds {log_start} to {next_offset}")]
    OffsetOutOfRange {
        offset: i64,
        log_start: i64,
        next_offset: i64,
    },
    /// An idempotent producer's batch came out of order (a lost batch).
    #[error("producer {producer_id} sent sequence {got} where {expected} was due")]
    OutOfOrderSequence {
        producer_id: i64,
        expected: i32,
        got: i32,
    },
    /// An older epoch of a producer that has since been re-initialised.
    #[error("producer {producer_id} wrote with epoch {got}, older than its current {current}")]
    ProducerFenced {
        producer_id: i64,
        current: i16,
        got: i16,
    },
}

impl LogError {
    pub fn io(path: &Path, action: &'static str, source: std::io::Error) -> LogError {
        LogError::Io {
            path: path.to_owned(),
            action,
            source,
        }
    }
}
