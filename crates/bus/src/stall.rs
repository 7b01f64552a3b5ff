//! The stalled-partition watchdog. Every instance of a sink looks, every
//! few seconds, at every partition of its topics: where the topic ends and
//! where the sink's store says it stands. A partition that is behind and
//! has not moved for `stalled_after` has no working owner. Tansu 0.6 keeps
//! a killed member in a group that was already formed and never expires
//! it, so its partitions sit unread while the live members stay content
//! with the rest; rejoining the group makes the coordinator drop the dead
//! member and assign everything again. On Apache Kafka this fires only if
//! an owner hangs, and then a rebalance is the right move too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sink::{OffsetReader, TopicPartition};
use crate::watermarks::topic_ends;
use crate::KafkaConfig;

/// What the watchdog found: the partitions to complain about.
#[derive(Debug, Default)]
pub struct Progress {
    /// Per partition: the stored offset last seen and when it last moved.
    seen: HashMap<TopicPartition, (Option<i64>, Instant)>,
}

impl Progress {
    /// Records one look; returns the partitions behind their end that
    /// have not moved for `stalled_after`.
    ///
    /// Any answer means a rejoin, which revokes and reassigns every
    /// partition, so every partition's clock starts again then: each
    /// waited on its own clock before, and at full scale (one instance,
    /// eighteen partitions, a session timeout that had just revoked them
    /// all) the next look always found another partition past its time,
    /// rejoined again before anything could be fetched, and the views
    /// stood still for good.
    pub fn observe(
        &mut self,
        ends: &HashMap<TopicPartition, i64>,
        stored: &HashMap<TopicPartition, i64>,
        now: Instant,
        stalled_after: Duration,
    ) -> Vec<TopicPartition> {
        let mut stalled = Vec::new();
        for (tp, end) in ends {
            let at = stored.get(tp).copied();
            let entry = self.seen.entry(tp.clone()).or_insert((at, now));
            if entry.0 != at {
                *entry = (at, now);
            }
            let behind = at.unwrap_or(0) < *end;
            if behind && now.duration_since(entry.1) >= stalled_after {
                stalled.push(tp.clone());
            }
        }
        if !stalled.is_empty() {
            for entry in self.seen.values_mut() {
                entry.1 = now;
            }
        }
        stalled.sort();
        stalled
    }
}

/// Runs the watchdog on its own thread (its broker and store calls block)
/// until `stop` is set; sets `rejoin` when a partition stalls.
pub fn spawn(
    kafka: KafkaConfig,
    topics: Vec<String>,
    reader: Arc<dyn OffsetReader>,
    stalled_after: Duration,
    rejoin: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        let mut progress = Progress::default();
        let every = (stalled_after / 6).max(Duration::from_millis(500));
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(every);
            let Ok(ends) = topic_ends(&kafka, &topics) else {
                continue; // the broker is away; the consumer will say so
            };
            let partitions: Vec<TopicPartition> = ends.keys().cloned().collect();
            let Ok(stored) = reader.stored(&partitions) else {
                continue;
            };
            let stalled = progress.observe(&ends, &stored, Instant::now(), stalled_after);
            if !stalled.is_empty() {
                tracing::warn!(
                    partitions = ?stalled,
                    after = ?stalled_after,
                    "partitions behind with no progress; rejoining the group so they are assigned again"
                );
                rejoin.store(true, Ordering::Relaxed);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        ("t".to_owned(), p)
    }

    #[test]
    fn only_a_partition_behind_and_unmoving_is_stalled() {
        let mut progress = Progress::default();
        let t0 = Instant::now();
        let after = Duration::from_secs(30);
        let ends = HashMap::from([(tp(0), 100), (tp(1), 100), (tp(2), 0)]);
        // 0 moves, 1 sits behind, 2 is empty (nothing to read).
        let look = |progress: &mut Progress, s0: i64, secs: u64| {
            let stored = HashMap::from([(tp(0), s0), (tp(1), 40)]);
            progress.observe(&ends, &stored, t0 + Duration::from_secs(secs), after)
        };
        assert!(look(&mut progress, 10, 0).is_empty());
        assert!(look(&mut progress, 20, 20).is_empty());
        assert_eq!(look(&mut progress, 30, 31), vec![tp(1)]);
        // Not again until another period has passed.
        assert!(look(&mut progress, 40, 40).is_empty());
        assert_eq!(look(&mut progress, 50, 62), vec![tp(1)]);
        // Caught up: no longer stalled.
        let stored = HashMap::from([(tp(0), 100), (tp(1), 100)]);
        assert!(progress
            .observe(&ends, &stored, t0 + Duration::from_secs(200), after)
            .is_empty());
    }

    #[test]
    fn a_rejoin_gives_every_partition_a_fresh_period() {
        // Every partition revoked at once and none moving since: one rejoin,
        // then nothing until a whole period has passed again, rather than a
        // rejoin at every look for whichever partition's clock ran out next.
        let mut progress = Progress::default();
        let t0 = Instant::now();
        let after = Duration::from_secs(45);
        let ends = HashMap::from([(tp(0), 100), (tp(1), 100), (tp(2), 100)]);
        let mut stored = HashMap::from([(tp(0), 10), (tp(1), 10), (tp(2), 10)]);
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        assert!(progress.observe(&ends, &stored, at(0), after).is_empty());
        stored.insert(tp(1), 20);
        assert!(progress.observe(&ends, &stored, at(10), after).is_empty());
        stored.insert(tp(2), 30);
        assert!(progress.observe(&ends, &stored, at(20), after).is_empty());
        assert_eq!(progress.observe(&ends, &stored, at(46), after), vec![tp(0)]);
        for secs in [56, 66, 76, 86] {
            assert!(
                progress.observe(&ends, &stored, at(secs), after).is_empty(),
                "rejoined again at {secs} s"
            );
        }
        assert_eq!(
            progress.observe(&ends, &stored, at(92), after),
            vec![tp(0), tp(1), tp(2)]
        );
    }
}
