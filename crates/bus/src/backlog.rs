//! The backlog look. Every few seconds (or at once when the consumer loop
//! asks) a thread looks at every partition of a sink's topics: where the
//! broker says it ends and where the sink's store says it stands. That
//! gives two things the consumer cannot tell by itself:
//!
//! - the sink's backlog, records not yet stored over every partition,
//!   which tells the loop whether it is live or still catching up
//!   (deadlines fire only on the whole story). The store's offsets and the
//!   broker's ends are exact where the consumer's own lag statistics are
//!   not: those say nothing for a partition not fetched from yet, which on
//!   a catch-up can be most of them;
//! - the partitions that exist, so that an instance running alone assigns
//!   itself a partition a topic gains while it runs.
//!
//! It does not watch for stalled partitions: an instance alone holds every
//! partition, and a consumer group's coordinator (Kafka's, or the
//! embedded Nisshi's, which follows it) hands a dead member's partitions to
//! the others once its session times out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::sink::{OffsetReader, TopicPartition};
use crate::watermarks::topic_ends;
use crate::KafkaConfig;

/// How often the look runs unless asked sooner.
const PERIOD: Duration = Duration::from_millis(7_500);

/// What the look tells the consumer loop, and how the loop stops it.
#[derive(Debug)]
pub struct Signals {
    /// Records on the broker the sink has not stored yet, over every
    /// partition of its topics, at the last look (`i64::MAX` before the
    /// first).
    pub backlog: AtomicI64,
    /// Every partition of the sink's topics at the last look (empty before
    /// the first).
    partitions: Mutex<Vec<TopicPartition>>,
    /// Set (under its lock, then `wake`) when the loop asks for a look
    /// now (`look_now`), and read by the look's wait.
    asked: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
}

impl Signals {
    /// Has the look run now rather than at its next period: a quiet loop
    /// that still sees a backlog from the last look asks whether it has
    /// caught up since, so deadlines do not wait a whole period at the end
    /// of a catch-up.
    pub fn look_now(&self) {
        *self.asked.lock().expect("look lock") = true;
        self.wake.notify_one();
    }

    /// Every partition of the topics at the last look.
    pub fn partitions(&self) -> Vec<TopicPartition> {
        self.partitions.lock().expect("partitions lock").clone()
    }

    /// Ends the look's thread at once.
    pub fn stop(&self) {
        let _asked = self.asked.lock().expect("look lock");
        self.stop.store(true, Ordering::Relaxed);
        self.wake.notify_one();
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Waits out `period`, unless a look is asked for or the look is
    /// stopped first.
    fn wait(&self, period: Duration) {
        let asked = self.asked.lock().expect("look lock");
        let (mut asked, _) = self
            .wake
            .wait_timeout_while(asked, period, |asked| !*asked && !self.stopped())
            .expect("look lock");
        *asked = false;
    }
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            backlog: AtomicI64::new(i64::MAX),
            partitions: Mutex::new(Vec::new()),
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

/// Runs the look on its own thread (its broker and store calls block)
/// until `signals.stop()`. The first look is at once.
pub fn spawn(
    kafka: KafkaConfig,
    topics: Vec<String>,
    reader: Arc<dyn OffsetReader>,
    signals: Arc<Signals>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        while !signals.stopped() {
            look(&kafka, &topics, reader.as_ref(), &signals);
            signals.wait(PERIOD);
        }
    })
}

fn look(kafka: &KafkaConfig, topics: &[&str], reader: &dyn OffsetReader, signals: &Signals) {
    let Ok(ends) = topic_ends(kafka, topics) else {
        return; // the broker is away; the consumer will say so
    };
    let mut partitions: Vec<TopicPartition> = ends.keys().cloned().collect();
    partitions.sort();
    let Ok(stored) = reader.stored(&partitions) else {
        return;
    };
    signals
        .backlog
        .store(backlog(&ends, &stored), Ordering::Relaxed);
    *signals.partitions.lock().expect("partitions lock") = partitions;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        ("t".to_owned(), p)
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
}
