//! The idempotent producer's state per partition, as Kafka keeps it: for
//! each producer id, its epoch and its last few batches' sequence ranges,
//! so a batch retried after a lost acknowledgement is answered with the
//! offset it already has instead of being written twice, and a batch that
//! skips a sequence (one was lost) is refused.
//!
//! The state is derived from the log: a partition rebuilds it by reading
//! its batches' producer fields when it opens (the snapshot written at
//! each segment roll spares reading the sealed segments).

use std::collections::HashMap;
use std::path::Path;

use crate::batch::Header;
use crate::error::LogError;

/// How many recent batches per producer a retry is recognised against
/// (a producer has at most 5 requests in flight when idempotent).
const RECENT: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Written {
    first_sequence: i32,
    last_sequence: i32,
    base_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Producer {
    epoch: i16,
    recent: Vec<Written>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Producers {
    by_id: HashMap<i64, Producer>,
}

/// What to do with an incoming batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Write it.
    Append,
    /// Already written at this base offset: answer that, write nothing.
    Duplicate(i64),
}

fn last_sequence(header: &Header) -> i32 {
    // Sequences wrap at i32::MAX back to 0, as Kafka's do.
    let last = i64::from(header.base_sequence) + i64::from(header.last_offset_delta);
    (last % (i64::from(i32::MAX) + 1)) as i32
}

fn next_sequence(sequence: i32) -> i32 {
    if sequence == i32::MAX {
        0
    } else {
        sequence + 1
    }
}

impl Producers {
    /// Whether `header`'s batch is new, a retry, or out of order.
    pub fn check(&self, header: &Header) -> Result<Check, LogError> {
        if header.producer_id < 0 || header.base_sequence < 0 {
            return Ok(Check::Append);
        }
        let Some(producer) = self.by_id.get(&header.producer_id) else {
            return Ok(Check::Append);
        };
        if header.producer_epoch < producer.epoch {
            return Err(LogError::ProducerFenced {
                producer_id: header.producer_id,
                current: producer.epoch,
                got: header.producer_epoch,
            });
        }
        if header.producer_epoch > producer.epoch {
            // A new epoch starts its sequences again.
            return if header.base_sequence == 0 {
                Ok(Check::Append)
            } else {
                Err(LogError::OutOfOrderSequence {
                    producer_id: header.producer_id,
                    expected: 0,
                    got: header.base_sequence,
                })
            };
        }
        if let Some(w) = producer.recent.iter().find(|w| {
            w.first_sequence == header.base_sequence && w.last_sequence == last_sequence(header)
        }) {
            return Ok(Check::Duplicate(w.base_offset));
        }
        let expected = producer
            .recent
            .last()
            .map_or(0, |w| next_sequence(w.last_sequence));
        if header.base_sequence == expected {
            Ok(Check::Append)
        } else {
            Err(LogError::OutOfOrderSequence {
                producer_id: header.producer_id,
                expected,
                got: header.base_sequence,
            })
        }
    }

    /// Records a batch written at its header's base offset.
    pub fn note(&mut self, header: &Header) {
        if header.producer_id < 0 || header.base_sequence < 0 {
            return;
        }
        let producer = self
            .by_id
            .entry(header.producer_id)
            .or_insert_with(|| Producer {
                epoch: header.producer_epoch,
                recent: Vec::new(),
            });
        if header.producer_epoch != producer.epoch {
            producer.epoch = header.producer_epoch;
            producer.recent.clear();
        }
        if producer.recent.len() == RECENT {
            producer.recent.remove(0);
        }
        producer.recent.push(Written {
            first_sequence: header.base_sequence,
            last_sequence: last_sequence(header),
            base_offset: header.base_offset,
        });
    }

    /// Writes the state to `path` (through a temporary file, so a crash
    /// leaves the old snapshot or the new one, never half of one).
    pub fn save(&self, path: &Path) -> Result<(), LogError> {
        let mut text = String::new();
        for (id, p) in &self.by_id {
            for w in &p.recent {
                text.push_str(&format!(
                    "{id} {} {} {} {}\n",
                    p.epoch, w.first_sequence, w.last_sequence, w.base_offset
                ));
            }
        }
        let partial = path.with_extension("snapshot.partial");
        std::fs::write(&partial, text).map_err(|e| LogError::io(&partial, "write", e))?;
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| LogError::io(&partial, "fsync", e))?;
        std::fs::rename(&partial, path).map_err(|e| LogError::io(path, "replace", e))
    }

    /// The state in `path`; empty when there is none (a partition whose
    /// first segment is still being written).
    pub fn load(path: &Path) -> Result<Producers, LogError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Producers::default()),
            Err(e) => return Err(LogError::io(path, "read", e)),
        };
        let mut producers = Producers::default();
        for (n, line) in text.lines().enumerate() {
            let fields: Vec<i64> = line
                .split(' ')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()
                .filter(|f: &Vec<i64>| f.len() == 5)
                .ok_or_else(|| LogError::DamagedSegment {
                    path: path.to_owned(),
                    position: n as u64 + 1,
                    why: format!("line {} is not a producer's batch: {line:?}", n + 1),
                })?;
            let producer = producers.by_id.entry(fields[0]).or_insert(Producer {
                epoch: fields[1] as i16,
                recent: Vec::new(),
            });
            producer.recent.push(Written {
                first_sequence: fields[2] as i32,
                last_sequence: fields[3] as i32,
                base_offset: fields[4],
            });
        }
        for p in producers.by_id.values_mut() {
            p.recent.sort_by_key(|w| w.base_offset);
        }
        Ok(producers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch;

    fn header(producer: (i64, i16, i32), records: i32, base_offset: i64) -> Header {
        let mut b = batch::for_test(records, 0, 0, producer, b"");
        batch::set_base_offset(&mut b, base_offset);
        Header::parse(&b).unwrap()
    }

    #[test]
    fn a_retry_is_answered_with_its_offset_and_a_gap_is_refused() {
        let mut p = Producers::default();
        let first = header((9, 0, 0), 3, 100);
        assert_eq!(p.check(&first).unwrap(), Check::Append);
        p.note(&first);
        let second = header((9, 0, 3), 2, 103);
        assert_eq!(p.check(&second).unwrap(), Check::Append);
        p.note(&second);
        // The first, sent again after its acknowledgement was lost.
        assert_eq!(
            p.check(&header((9, 0, 0), 3, 0)).unwrap(),
            Check::Duplicate(100)
        );
        assert!(matches!(
            p.check(&header((9, 0, 7), 1, 0)),
            Err(LogError::OutOfOrderSequence {
                expected: 5,
                got: 7,
                ..
            })
        ));
        assert_eq!(p.check(&header((9, 1, 0), 1, 0)).unwrap(), Check::Append);
        assert!(matches!(
            p.check(&header((9, 1, 4), 1, 0)),
            Err(LogError::OutOfOrderSequence { expected: 0, .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.snapshot");
        p.save(&path).unwrap();
        assert_eq!(Producers::load(&path).unwrap(), p);
    }

    #[test]
    fn an_older_epoch_is_fenced_and_a_plain_batch_is_not_checked() {
        let mut p = Producers::default();
        p.note(&header((4, 2, 0), 1, 0));
        assert!(matches!(
            p.check(&header((4, 1, 1), 1, 1)),
            Err(LogError::ProducerFenced {
                current: 2,
                got: 1,
                ..
            })
        ));
        assert_eq!(p.check(&header((-1, -1, -1), 1, 1)).unwrap(), Check::Append);
    }
}
