//! The log against its files: what is appended reads back, across
//! segments and reopenings; a torn tail is cut back; lookups by time land
//! on the first batch that reaches the time.

use std::io::Write;

use super::*;
use crate::batch::{for_test, Header};

fn small() -> Settings {
    Settings {
        segment_bytes: 1_000,
        index_interval: 200,
        fsync: Fsync::Always,
    }
}

/// A batch of `records` with timestamps from `t`, from no producer.
fn plain(records: i32, t: i64, payload: &[u8]) -> Vec<u8> {
    for_test(
        records,
        t,
        t + i64::from(records) - 1,
        (-1, -1, -1),
        payload,
    )
}

fn base_offsets(batches: &[Vec<u8>]) -> Vec<i64> {
    batches
        .iter()
        .map(|b| Header::parse(b).unwrap().base_offset)
        .collect()
}

#[test]
fn batches_read_back_as_written_across_segments_and_a_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("topic.a-0");
    let (mut p, repaired) = Partition::open(&path, small()).unwrap();
    assert!(repaired.is_none());
    let mut written = Vec::new();
    for i in 0..40 {
        let payload = vec![i as u8; 50 + i];
        let batch = plain(3, 1_000 + 10 * i as i64, &payload);
        let at = p.append(batch.clone()).unwrap();
        assert_eq!(at, Appended::Written(3 * i as i64));
        written.push((at.base_offset(), payload));
    }
    assert_eq!(p.next_offset(), 120);
    let segments = std::fs::read_dir(&path)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "log")
        .count();
    assert!(segments > 3, "1,000-byte segments rolled: {segments}");
    drop(p);

    let (p, repaired) = Partition::open(&path, small()).unwrap();
    assert!(repaired.is_none(), "a clean log needs no repair");
    assert_eq!(p.next_offset(), 120);
    // From every offset, the batch holding it comes first.
    for offset in 0..120 {
        let got = p.read(offset, 1).unwrap();
        assert_eq!(got.len(), 1, "at least one batch for offset {offset}");
        let h = Header::parse(&got[0]).unwrap();
        assert!(h.base_offset <= offset && offset <= h.last_offset());
        let (_, payload) = &written[(offset / 3) as usize];
        assert_eq!(&got[0][61..], &payload[..], "the bytes as produced");
        assert!(batch::crc_holds(&got[0]));
    }
    // A large read takes consecutive batches up to the limit.
    let many = p.read(6, 400).unwrap();
    let bases = base_offsets(&many);
    assert_eq!(bases[0], 6);
    assert!(bases.windows(2).all(|w| w[1] == w[0] + 3));
    assert!(many.iter().map(Vec::len).sum::<usize>() <= 400);
    assert!(p.read(120, 1000).unwrap().is_empty(), "the end of the log");
    assert!(matches!(
        p.read(121, 1000),
        Err(LogError::OffsetOutOfRange { .. })
    ));
}

#[test]
fn a_lookup_by_time_finds_the_first_batch_that_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut p, _) = Partition::open(&dir.path().join("t-0"), small()).unwrap();
    // Timestamps go up with one step back, as producers' clocks may.
    let times = [100, 200, 300, 250, 400, 500, 600, 700, 800, 900];
    for (i, t) in times.iter().enumerate() {
        p.append(plain(1, *t, &vec![0; 120 + i])).unwrap();
    }
    let base_at = |p: &Partition, t| {
        p.batch_for_time(t)
            .unwrap()
            .map(|b| Header::parse(&b).unwrap().base_offset)
    };
    assert_eq!(base_at(&p, 0), Some(0));
    assert_eq!(base_at(&p, 100), Some(0));
    assert_eq!(base_at(&p, 101), Some(1));
    assert_eq!(
        base_at(&p, 250),
        Some(2),
        "the first batch reaching 250 is at 300"
    );
    assert_eq!(base_at(&p, 301), Some(4));
    assert_eq!(base_at(&p, 900), Some(9));
    assert_eq!(base_at(&p, 901), None);
    assert_eq!(p.max_timestamp(), Some(900));
    // After deleting records, a lookup never answers a deleted batch.
    assert_eq!(p.delete_before(5).unwrap(), 5);
    assert_eq!(base_at(&p, 0), Some(5));
    assert!(matches!(
        p.read(4, 10),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    assert_eq!(base_offsets(&p.read(5, 1).unwrap()), vec![5]);
}

#[test]
fn a_torn_tail_is_cut_back_to_the_last_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t-3");
    let (mut p, _) = Partition::open(&path, Settings::default()).unwrap();
    for i in 0..5 {
        p.append(plain(2, i, b"whole")).unwrap();
    }
    drop(p);
    let log = path.join("00000000000000000000.log");
    let whole = std::fs::metadata(&log).unwrap().len();
    // Half a batch, as a crash in the middle of a write leaves it.
    let next = plain(2, 9, b"torn batch");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&next[..next.len() / 2])
        .unwrap();

    let (mut p, repaired) = Partition::open(&path, Settings::default()).unwrap();
    let repaired = repaired.expect("the tail was repaired");
    assert_eq!(repaired.kept_bytes, whole);
    assert_eq!(repaired.cut_bytes, next.len() as u64 / 2);
    assert_eq!(std::fs::metadata(&log).unwrap().len(), whole);
    assert_eq!(p.next_offset(), 10);
    assert_eq!(
        p.append(plain(1, 10, b"after")).unwrap(),
        Appended::Written(10)
    );

    // A whole batch whose bytes were damaged goes the same way.
    drop(p);
    let mut bytes = std::fs::read(&log).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&log, &bytes).unwrap();
    let (p, repaired) = Partition::open(&path, Settings::default()).unwrap();
    assert!(repaired.is_some());
    assert_eq!(
        p.next_offset(),
        10,
        "the damaged batch is gone, the rest stays"
    );
}

#[test]
fn damage_in_a_sealed_segment_is_refused_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t-0");
    let (mut p, _) = Partition::open(&path, small()).unwrap();
    for i in 0..20 {
        p.append(plain(1, i, &[1; 150])).unwrap();
    }
    drop(p);
    let first = path.join("00000000000000000000.log");
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&first, &bytes).unwrap();
    let err = Partition::open(&path, small()).unwrap_err();
    assert!(matches!(err, LogError::DamagedSegment { .. }), "{err}");
    assert!(err.to_string().contains("backup"), "{err}");
}

#[test]
fn a_producers_retry_is_not_written_twice_even_after_a_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t-0");
    let (mut p, _) = Partition::open(&path, small()).unwrap();
    let mut batches = Vec::new();
    for i in 0..12 {
        let b = for_test(2, i, i, (77, 0, 2 * i as i32), &[7; 120]);
        assert_eq!(p.append(b.clone()).unwrap(), Appended::Written(2 * i));
        batches.push(b);
    }
    assert_eq!(
        p.append(batches[11].clone()).unwrap(),
        Appended::Duplicate(22)
    );
    drop(p);
    // Reopened: segments rolled (snapshots) and the active one is scanned.
    let (mut p, _) = Partition::open(&path, small()).unwrap();
    assert_eq!(
        p.append(batches[10].clone()).unwrap(),
        Appended::Duplicate(20)
    );
    assert!(matches!(
        p.append(for_test(1, 0, 0, (77, 0, 30), b"")),
        Err(LogError::OutOfOrderSequence { expected: 24, .. })
    ));
    assert_eq!(
        p.append(for_test(1, 0, 0, (77, 0, 24), b"")).unwrap(),
        Appended::Written(24)
    );
}

#[test]
fn a_batch_that_fails_its_crc_or_length_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut p, _) = Partition::open(&dir.path().join("t-0"), small()).unwrap();
    let mut b = plain(1, 0, b"abc");
    let last = b.len() - 1;
    b[last] ^= 1;
    assert!(matches!(p.append(b), Err(LogError::Corrupt)));
    let mut b = plain(1, 0, b"abc");
    b.push(0);
    assert!(matches!(p.append(b), Err(LogError::Malformed(_))));
    assert_eq!(p.next_offset(), 0, "nothing written");
}

#[test]
fn the_log_finds_its_partitions_again_by_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = Log::open(dir.path(), small()).unwrap();
    for (topic, partition) in [("handoff.ice.v1", 0), ("handoff.ice.v1", 2), ("a-b-c", 1)] {
        let p = log.get_or_create(topic, partition).unwrap();
        p.lock().unwrap().append(plain(4, 0, b"x")).unwrap();
    }
    log.sync_all().unwrap();
    drop(log);
    let (log, repaired) = Log::open(dir.path(), small()).unwrap();
    assert!(repaired.is_empty());
    assert_eq!(
        log.get("a-b-c", 1).unwrap().lock().unwrap().next_offset(),
        4
    );
    assert!(log.get("handoff.ice.v1", 1).is_none());
    log.delete_topic("handoff.ice.v1").unwrap();
    assert!(log.get("handoff.ice.v1", 2).is_none());
    assert!(!dir.path().join("handoff.ice.v1-0").exists());
}
