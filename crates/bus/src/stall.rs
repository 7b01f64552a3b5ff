//! The stalled-partition watchdog. Every instance of a sink looks, every
//! few seconds, at every partition of its topics: where the topic ends and
//! where the sink's store says it stands. A partition that is behind and
//! has not moved for `stalled_after` has no working owner. Tansu 0.6 keeps
//! a killed member in a group that was already formed and never expires
//! it, so its partitions sit unread while the live members stay content
//! with the rest; rejoining the group makes the coordinator drop the dead
//! member and assign everything again. On Apache Kafka this fires only if
//! an owner hangs, and then a rebalance is the right move too.
//!
//! The same look gives the sink's backlog (records not yet stored, over
//! every partition), which tells the consumer loop whether it is live or
//! still catching up (`Signals::backlog`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::sink::{OffsetReader, TopicPartition};
use crate::watermarks::topic_ends;
use crate::KafkaConfig;

/// What one look found among the partitions behind their end.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding {
    /// Every partition behind moved within the period, or has not waited
    /// a whole period yet.
    Moving,
    /// Partitions this instance holds waited a whole period while others
    /// it holds moved. On a long catch-up the fetcher serves partitions
    /// in turn (Tansu fills a fetch from the first partitions asked for),
    /// so this is a queue, not a fault: a rejoin would revoke everything
    /// and throw the prefetched records away. At 448,820 children the
    /// views rejoined every 45 s for this until they read partitions in
    /// that order anyway.
    Queued(Vec<TopicPartition>),
    /// Partitions with no working owner: held by another instance (or by
    /// none) that has not moved them, or held here while nothing here
    /// moved. A rejoin reassigns them.
    Stalled(Vec<TopicPartition>),
}

/// What the watchdog remembers between looks.
#[derive(Debug, Default)]
pub struct Progress {
    /// Per partition: the stored offset last seen and when its clock last
    /// started (it moved, or a finding was reported).
    seen: HashMap<TopicPartition, (Option<i64>, Instant)>,
    /// When a partition this instance holds last moved.
    held_moved: Option<Instant>,
}

impl Progress {
    /// Records one look: `ends` of every partition, the sink's `stored`
    /// offsets, and the partitions this instance `held` at the time.
    ///
    /// A stall means a rejoin, which revokes and reassigns every
    /// partition, so every partition's clock starts again then: each
    /// waited on its own clock before, and at full scale (one instance,
    /// eighteen partitions, a session timeout that had just revoked them
    /// all) the next look always found another partition past its time,
    /// rejoined again before anything could be fetched, and the views
    /// stood still for good. A queue restarts only the queued partitions'
    /// clocks, so each is reported once a period.
    pub fn observe(
        &mut self,
        ends: &HashMap<TopicPartition, i64>,
        stored: &HashMap<TopicPartition, i64>,
        held: &HashSet<TopicPartition>,
        now: Instant,
        stalled_after: Duration,
    ) -> Finding {
        let mut waited = Vec::new();
        for (tp, end) in ends {
            let at = stored.get(tp).copied();
            let entry = self.seen.entry(tp.clone()).or_insert((at, now));
            if entry.0 != at {
                *entry = (at, now);
                if held.contains(tp) {
                    self.held_moved = Some(now);
                }
            }
            let behind = at.unwrap_or(0) < *end;
            if behind && now.duration_since(entry.1) >= stalled_after {
                waited.push(tp.clone());
            }
        }
        if waited.is_empty() {
            return Finding::Moving;
        }
        waited.sort();
        let here_moving = self
            .held_moved
            .is_some_and(|t| now.duration_since(t) < stalled_after);
        if here_moving && waited.iter().all(|tp| held.contains(tp)) {
            for tp in &waited {
                if let Some(entry) = self.seen.get_mut(tp) {
                    entry.1 = now;
                }
            }
            return Finding::Queued(waited);
        }
        for entry in self.seen.values_mut() {
            entry.1 = now;
        }
        Finding::Stalled(waited)
    }
}

/// The partitions an instance holds right now (its consumer's assignment).
pub type Held = Box<dyn Fn() -> HashSet<TopicPartition> + Send>;

/// What the watchdog tells the consumer loop, and how the loop stops it.
#[derive(Debug)]
pub struct Signals {
    /// Set when partitions stalled: the loop should rejoin the group.
    pub rejoin: AtomicBool,
    /// Records on the broker the sink has not stored yet, over every
    /// partition of its topics, at the last look (`i64::MAX` before the
    /// first). The store's offsets and the broker's ends are exact where
    /// the consumer's own lag statistics are not: they say nothing for a
    /// partition it has not fetched from yet, which on a catch-up can be
    /// most of them.
    pub backlog: AtomicI64,
    /// Set (under its lock, then `wake`) when the loop asks for a look
    /// now (`look_now`), and read by the watchdog's wait.
    asked: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
}

impl Signals {
    /// Has the watchdog look now rather than at its next period: a quiet
    /// loop that still sees a backlog from the last look asks whether it
    /// has caught up since, so deadlines do not wait a whole period at the
    /// end of a catch-up.
    pub fn look_now(&self) {
        *self.asked.lock().expect("look lock") = true;
        self.wake.notify_one();
    }

    /// Ends the watchdog's thread at once.
    pub fn stop(&self) {
        let _asked = self.asked.lock().expect("look lock");
        self.stop.store(true, Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// Waits out `period`, unless a look is asked for or the watchdog is
    /// stopped first.
    fn wait(&self, period: Duration) {
        let asked = self.asked.lock().expect("look lock");
        let (mut asked, _) = self
            .wake
            .wait_timeout_while(asked, period, |asked| {
                !*asked && !self.stop.load(Ordering::Relaxed)
            })
            .expect("look lock");
        *asked = false;
    }
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            rejoin: AtomicBool::new(false),
            backlog: AtomicI64::new(i64::MAX),
            asked: Mutex::new(false),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        }
    }
}

/// Records behind their ends, summed over `ends`.
pub fn backlog(ends: &HashMap<TopicPartition, i64>, stored: &HashMap<TopicPartition, i64>) -> i64 {
    ends.iter()
        .map(|(tp, end)| (end - stored.get(tp).copied().unwrap_or(0)).max(0))
        .sum()
}

/// Runs the watchdog on its own thread (its broker and store calls block)
/// until `signals.stop()`.
pub fn spawn(
    kafka: KafkaConfig,
    topics: Vec<String>,
    reader: Arc<dyn OffsetReader>,
    held: Held,
    stalled_after: Duration,
    signals: Arc<Signals>,
) {
    std::thread::spawn(move || {
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        let mut progress = Progress::default();
        let every = (stalled_after / 6).max(Duration::from_millis(500));
        while !signals.stop.load(Ordering::Relaxed) {
            signals.wait(every);
            if signals.stop.load(Ordering::Relaxed) {
                break;
            }
            let Ok(ends) = topic_ends(&kafka, &topics) else {
                continue; // the broker is away; the consumer will say so
            };
            let partitions: Vec<TopicPartition> = ends.keys().cloned().collect();
            let Ok(stored) = reader.stored(&partitions) else {
                continue;
            };
            signals
                .backlog
                .store(backlog(&ends, &stored), Ordering::Relaxed);
            match progress.observe(&ends, &stored, &held(), Instant::now(), stalled_after) {
                Finding::Moving => {}
                Finding::Queued(partitions) => tracing::info!(
                    partitions = ?partitions,
                    after = ?stalled_after,
                    "partitions held here wait behind others being read; not rejoining"
                ),
                Finding::Stalled(partitions) => {
                    tracing::warn!(
                        partitions = ?partitions,
                        after = ?stalled_after,
                        "partitions behind with no progress; rejoining the group so they are assigned again"
                    );
                    signals.rejoin.store(true, Ordering::Relaxed);
                }
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

    fn held(partitions: &[i32]) -> HashSet<TopicPartition> {
        partitions.iter().map(|p| tp(*p)).collect()
    }

    #[test]
    fn only_a_partition_behind_and_unmoving_is_stalled() {
        // Held by another instance: this one holds nothing.
        let mut progress = Progress::default();
        let t0 = Instant::now();
        let after = Duration::from_secs(30);
        let ends = HashMap::from([(tp(0), 100), (tp(1), 100), (tp(2), 0)]);
        // 0 moves, 1 sits behind, 2 is empty (nothing to read).
        let look = |progress: &mut Progress, s0: i64, secs: u64| {
            let stored = HashMap::from([(tp(0), s0), (tp(1), 40)]);
            progress.observe(
                &ends,
                &stored,
                &held(&[]),
                t0 + Duration::from_secs(secs),
                after,
            )
        };
        assert_eq!(look(&mut progress, 10, 0), Finding::Moving);
        assert_eq!(look(&mut progress, 20, 20), Finding::Moving);
        assert_eq!(look(&mut progress, 30, 31), Finding::Stalled(vec![tp(1)]));
        // Not again until another period has passed.
        assert_eq!(look(&mut progress, 40, 40), Finding::Moving);
        assert_eq!(look(&mut progress, 50, 62), Finding::Stalled(vec![tp(1)]));
        // Caught up: no longer stalled.
        let stored = HashMap::from([(tp(0), 100), (tp(1), 100)]);
        let at = t0 + Duration::from_secs(200);
        assert_eq!(
            progress.observe(&ends, &stored, &held(&[]), at, after),
            Finding::Moving
        );
    }

    #[test]
    fn a_rejoin_gives_every_partition_a_fresh_period() {
        // Every partition revoked at once and none moving since: one rejoin,
        // then nothing until a whole period has passed again, rather than a
        // rejoin at every look for whichever partition's clock ran out next.
        let mut progress = Progress::default();
        let t0 = Instant::now();
        let after = Duration::from_secs(45);
        let none = held(&[]);
        let ends = HashMap::from([(tp(0), 100), (tp(1), 100), (tp(2), 100)]);
        let mut stored = HashMap::from([(tp(0), 10), (tp(1), 10), (tp(2), 10)]);
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let mut look =
            |stored: &HashMap<_, _>, secs| progress.observe(&ends, stored, &none, at(secs), after);
        assert_eq!(look(&stored, 0), Finding::Moving);
        stored.insert(tp(1), 20);
        assert_eq!(look(&stored, 10), Finding::Moving);
        stored.insert(tp(2), 30);
        assert_eq!(look(&stored, 20), Finding::Moving);
        assert_eq!(look(&stored, 46), Finding::Stalled(vec![tp(0)]));
        for secs in [56, 66, 76, 86] {
            assert_eq!(
                look(&stored, secs),
                Finding::Moving,
                "rejoined again at {secs} s"
            );
        }
        assert_eq!(
            look(&stored, 92),
            Finding::Stalled(vec![tp(0), tp(1), tp(2)])
        );
    }

    #[test]
    fn partitions_held_here_waiting_behind_others_are_a_queue_until_nothing_here_moves() {
        // One instance holds all three; the fetcher serves 0 while 1 and 2
        // wait their turn, as on a long catch-up.
        let mut progress = Progress::default();
        let t0 = Instant::now();
        let after = Duration::from_secs(30);
        let all = held(&[0, 1, 2]);
        let ends = HashMap::from([(tp(0), 100), (tp(1), 100), (tp(2), 100)]);
        let mut look = |s0: i64, secs: u64| {
            let stored = HashMap::from([(tp(0), s0), (tp(1), 40), (tp(2), 40)]);
            progress.observe(&ends, &stored, &all, t0 + Duration::from_secs(secs), after)
        };
        assert_eq!(look(10, 0), Finding::Moving);
        assert_eq!(look(20, 20), Finding::Moving);
        assert_eq!(look(30, 31), Finding::Queued(vec![tp(1), tp(2)]));
        // Reported once a period, not at every look.
        assert_eq!(look(40, 40), Finding::Moving);
        assert_eq!(look(50, 62), Finding::Queued(vec![tp(1), tp(2)]));
        // 0 stops too: nothing held here has moved for a period.
        assert_eq!(look(50, 70), Finding::Moving);
        assert_eq!(look(50, 93), Finding::Stalled(vec![tp(0), tp(1), tp(2)]));
    }

    #[test]
    fn the_backlog_counts_every_partition_including_those_never_read() {
        let ends = HashMap::from([(tp(0), 100), (tp(1), 50), (tp(2), 0)]);
        // 1 has nothing stored yet; 0 is ahead of a stale end.
        let stored = HashMap::from([(tp(0), 120), (tp(2), 0)]);
        assert_eq!(backlog(&ends, &stored), 50);
        let stored = HashMap::from([(tp(0), 90), (tp(1), 50)]);
        assert_eq!(backlog(&ends, &stored), 10);
    }

    #[test]
    fn a_partition_held_elsewhere_stalls_even_while_this_instance_moves() {
        // 2 belongs to a member that was killed; this instance's own
        // partitions moving must not hide it.
        let mut progress = Progress::default();
        let t0 = Instant::now();
        let after = Duration::from_secs(30);
        let mine = held(&[0, 1]);
        let ends = HashMap::from([(tp(0), 100), (tp(1), 100), (tp(2), 100)]);
        let mut look = |s: i64, secs: u64| {
            let stored = HashMap::from([(tp(0), s), (tp(1), s), (tp(2), 10)]);
            progress.observe(&ends, &stored, &mine, t0 + Duration::from_secs(secs), after)
        };
        assert_eq!(look(10, 0), Finding::Moving);
        assert_eq!(look(20, 20), Finding::Moving);
        assert_eq!(look(30, 31), Finding::Stalled(vec![tp(2)]));
    }
}
