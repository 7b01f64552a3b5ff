//! A long-running service (`views`, `notify`) started on topics that
//! already hold a history, timed until it has applied all of it, then
//! stopped cleanly so its peak memory can be read.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use handoff_events::topics;
use handoff_store::{Store, StoreLocation};

use crate::ceiling::Rate;
use crate::process::{Finished, Service};
use crate::stack::BenchStack;
use crate::BenchError;

/// How a service fared on the history: the time it took to catch up and
/// its peak resident memory.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct CaughtUp {
    pub seconds: f64,
    pub peak_rss_mb: f64,
}

/// Work a service still owes once its offsets reach the ends: a query on
/// its store counting what is left, done at zero.
pub type Owed = Option<&'static str>;

/// The notifier's deadlines that fell within the history and have not
/// fired: it fires them once it has caught up, and that is the part of its
/// catch-up that once took 1,046 MB (BENCHMARKS.md, "Where the time goes").
pub const NOTIFY_TIMERS_OWED: Owed = Some(handoff_notify::schema::HISTORY_TIMERS_UNFIRED);

/// Starts `handoff <args>` (whose sink keeps its offsets in `store`),
/// waits until those offsets reach the ends of the agency topics and what
/// it `owed` is done, and stops it with SIGTERM.
pub async fn measure(
    stack: &mut BenchStack,
    name: &str,
    args: &[String],
    store: &Path,
    owed: Owed,
    within: Duration,
) -> Result<CaughtUp, BenchError> {
    let ends = topic_ends(stack).await?;
    let mut service = Service::start(&stack.bin, name, args, &stack.dir)?;
    let started = Instant::now();
    let location = StoreLocation::Sqlite(store.to_owned());
    let (mut last_applied, mut last_progress) = (0, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if service.exited() {
            return Err(service.failure("exited before it caught up"));
        }
        stack.check()?;
        let (applied, done) = progress(&location, &ends).await;
        let left = match (done, owed) {
            (true, Some(query)) => count(&location, query).await,
            _ => Some(0),
        };
        if done && left == Some(0) {
            break;
        }
        // Work left going down is progress too.
        let applied = applied - left.unwrap_or(0);
        if applied > last_applied {
            (last_applied, last_progress) = (applied, Instant::now());
        }
        if last_progress.elapsed() > STALLED_AFTER {
            return Err(service.failure(&format!(
                "applied nothing for {STALLED_AFTER:?} ({last_applied} of {} records)",
                ends.values().sum::<i64>()
            )));
        }
        if started.elapsed() > within {
            return Err(service.failure(&format!("had not caught up after {within:?}")));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let Finished { peak_rss_mb, .. } = tokio::task::spawn_blocking(move || service.stop())
        .await
        .expect("stopping a service does not panic")?;
    Ok(CaughtUp {
        seconds,
        peak_rss_mb,
    })
}

async fn topic_ends(stack: &BenchStack) -> Result<HashMap<(String, i32), i64>, BenchError> {
    let kafka = stack.kafka.clone();
    tokio::task::spawn_blocking(move || {
        handoff_bus::watermarks::topic_ends(&kafka, &topics::AGENCY)
    })
    .await
    .expect("reading watermarks does not panic")
    .map_err(|e| BenchError::Run(format!("reading the topics' ends: {e}")))
}

/// A service whose stored offsets do not move for this long is stuck: the
/// run stops with its log rather than waiting out `within`.
const STALLED_AFTER: Duration = Duration::from_secs(300);

/// How many records the store's offsets account for, and whether they
/// reach every non-empty partition's end (a store not created yet has
/// applied nothing).
async fn progress(location: &StoreLocation, ends: &HashMap<(String, i32), i64>) -> (i64, bool) {
    let Ok(store) = Store::open(location, "").await else {
        return (0, false);
    };
    let Ok(rows) = store
        .query("SELECT topic, partition, next FROM sink_offsets", vec![])
        .await
    else {
        return (0, false);
    };
    let stored: HashMap<(String, i32), i64> = rows
        .into_iter()
        .filter_map(|r| {
            Some((
                (r[0].as_str()?.to_owned(), r[1].as_i64()? as i32),
                r[2].as_i64()?,
            ))
        })
        .collect();
    let done = ends
        .iter()
        .all(|(tp, end)| *end == 0 || stored.get(tp).copied().unwrap_or(0) >= *end);
    (stored.values().sum(), done)
}

/// The count `query` gives on the store, or `None` while it cannot be
/// read (not created yet, or its tables not yet).
async fn count(location: &StoreLocation, query: &str) -> Option<i64> {
    let store = Store::open(location, "").await.ok()?;
    let rows = store.query(query, vec![]).await.ok()?;
    rows.first()?.first()?.as_i64()
}

/// Records on the agency topics now, for the figures' event counts.
pub async fn log_size(stack: &BenchStack) -> Result<u64, BenchError> {
    Ok(topic_ends(stack).await?.values().sum::<i64>() as u64)
}

impl CaughtUp {
    pub fn rate(&self, events: u64) -> Rate {
        Rate {
            records: events,
            bytes: 0,
            seconds: self.seconds,
        }
    }
}
