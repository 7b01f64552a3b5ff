//! A Kafka record batch (magic 2) as bytes: the unit the log stores. The
//! log reads only the fixed header; the records stay as the producer
//! encoded (and perhaps compressed) them, so a fetch sends the very bytes
//! a produce received, with the offset the log gave it.
//!
//! The header, big-endian, 61 bytes:
//!
//! | at | field | |
//! |---|---|---|
//! | 0 | base offset | i64, written by the log |
//! | 8 | batch length | i32, the bytes after this field |
//! | 12 | partition leader epoch | i32 |
//! | 16 | magic | i8, 2 |
//! | 17 | CRC-32C | u32, of every byte from 21 to the end |
//! | 21 | attributes | i16 |
//! | 23 | last offset delta | i32 |
//! | 27 | base timestamp | i64 |
//! | 35 | max timestamp | i64 |
//! | 43 | producer id | i64 |
//! | 51 | producer epoch | i16 |
//! | 53 | base sequence | i32 |
//! | 57 | record count | i32 |
//!
//! The base offset and the leader epoch are outside the CRC: the log may
//! set the first without touching the checksum, as Kafka does.

use crate::error::LogError;

/// The fixed header's length.
pub const HEADER_LEN: usize = 61;
/// Base offset and batch length: enough to know how long a batch is.
pub const LENGTH_PREFIX: usize = 12;
const CRC_AT: usize = 17;
const CRC_FROM: usize = 21;
/// A batch longer than this is damage, not data (Kafka's largest
/// `message.max.bytes` is far below it).
pub const MAX_BATCH_LEN: usize = 1 << 30;

/// The header fields the log and the broker read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub base_offset: i64,
    /// The whole batch's length in bytes, prefix included.
    pub total_len: usize,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

impl Header {
    /// The last offset the batch holds.
    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }

    /// Reads the header at the start of `bytes` (at least `HEADER_LEN`).
    pub fn parse(bytes: &[u8]) -> Result<Header, LogError> {
        if bytes.len() < HEADER_LEN {
            return Err(LogError::Malformed(format!(
                "a batch header is {HEADER_LEN} bytes, not {}",
                bytes.len()
            )));
        }
        let batch_length = i32_at(bytes, 8);
        let total_len = usize::try_from(batch_length)
            .ok()
            .map(|l| l + LENGTH_PREFIX)
            .filter(|l| (HEADER_LEN..=MAX_BATCH_LEN).contains(l))
            .ok_or_else(|| {
                LogError::Malformed(format!("a batch length of {batch_length} bytes"))
            })?;
        let header = Header {
            base_offset: i64_at(bytes, 0),
            total_len,
            magic: bytes[16] as i8,
            crc: u32::from_be_bytes(bytes[CRC_AT..CRC_AT + 4].try_into().expect("4 bytes")),
            attributes: i16::from_be_bytes([bytes[21], bytes[22]]),
            last_offset_delta: i32_at(bytes, 23),
            base_timestamp: i64_at(bytes, 27),
            max_timestamp: i64_at(bytes, 35),
            producer_id: i64_at(bytes, 43),
            producer_epoch: i16::from_be_bytes([bytes[51], bytes[52]]),
            base_sequence: i32_at(bytes, 53),
            record_count: i32_at(bytes, 57),
        };
        if header.magic != 2 {
            return Err(LogError::Malformed(format!(
                "magic {} (only record batches of magic 2 are stored)",
                header.magic
            )));
        }
        if header.last_offset_delta < 0 {
            return Err(LogError::Malformed(format!(
                "a last offset delta of {}",
                header.last_offset_delta
            )));
        }
        Ok(header)
    }
}

/// Whether the whole batch in `bytes` (exactly one batch) matches its CRC.
pub fn crc_holds(bytes: &[u8]) -> bool {
    if bytes.len() < HEADER_LEN {
        return false;
    }
    let stored = u32::from_be_bytes(bytes[CRC_AT..CRC_AT + 4].try_into().expect("4 bytes"));
    crc32c(&bytes[CRC_FROM..]) == stored
}

/// Writes `offset` as the batch's base offset (outside the CRC).
pub fn set_base_offset(bytes: &mut [u8], offset: i64) {
    bytes[0..8].copy_from_slice(&offset.to_be_bytes());
}

fn crc32c(bytes: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, bytes) as u32
}

fn i64_at(bytes: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

fn i32_at(bytes: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// A batch for tests: `records` empty records' worth of offsets, the given
/// timestamps and producer, and a valid CRC over `payload`.
#[cfg(test)]
pub fn for_test(
    record_count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    producer: (i64, i16, i32),
    payload: &[u8],
) -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER_LEN + payload.len());
    b.extend_from_slice(&0i64.to_be_bytes());
    let length = (HEADER_LEN - LENGTH_PREFIX + payload.len()) as i32;
    b.extend_from_slice(&length.to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    b.push(2);
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&(record_count - 1).to_be_bytes());
    b.extend_from_slice(&base_timestamp.to_be_bytes());
    b.extend_from_slice(&max_timestamp.to_be_bytes());
    b.extend_from_slice(&producer.0.to_be_bytes());
    b.extend_from_slice(&producer.1.to_be_bytes());
    b.extend_from_slice(&producer.2.to_be_bytes());
    b.extend_from_slice(&record_count.to_be_bytes());
    b.extend_from_slice(payload);
    let crc = crc32c(&b[CRC_FROM..]);
    b[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_reads_back_and_the_base_offset_is_outside_the_crc() {
        let mut b = for_test(3, 1_000, 1_002, (7, 1, 40), b"records");
        let h = Header::parse(&b).unwrap();
        assert_eq!(h.total_len, b.len());
        assert_eq!(h.last_offset_delta, 2);
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (7, 1, 40)
        );
        assert!(crc_holds(&b));
        set_base_offset(&mut b, 1234);
        assert_eq!(Header::parse(&b).unwrap().last_offset(), 1236);
        assert!(crc_holds(&b), "the base offset is not in the CRC");
        let last = b.len() - 1;
        b[last] ^= 1;
        assert!(
            !crc_holds(&b),
            "a flipped bit in the records breaks the CRC"
        );
    }

    #[test]
    fn a_length_or_magic_that_cannot_be_is_malformed() {
        let mut b = for_test(1, 0, 0, (-1, -1, -1), b"");
        b[16] = 1;
        assert!(Header::parse(&b).is_err());
        let mut b = for_test(1, 0, 0, (-1, -1, -1), b"");
        b[8..12].copy_from_slice(&(-5i32).to_be_bytes());
        assert!(Header::parse(&b).is_err());
        assert!(Header::parse(&b[..20]).is_err());
    }
}
