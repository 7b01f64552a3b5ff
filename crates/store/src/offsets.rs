//! Consumer offsets kept in the store, in the same transaction as the rows
//! they produced (`sink_offsets`: topic, partition, next). Advancing is
//! compare-and-set, so two instances sharing a store never both advance
//! one partition.

use std::collections::HashMap;

use crate::{Store, StoreError};

/// Moves `topic`/`partition` from `from` (None: nothing stored yet) to
/// `to`. False when another instance moved it first.
pub async fn advance(
    store: &Store,
    topic: &str,
    partition: i32,
    from: Option<i64>,
    to: i64,
) -> Result<bool, StoreError> {
    let changed = match from {
        None => {
            store
                .execute(
                    "INSERT INTO sink_offsets VALUES (?1, ?2, ?3) ON CONFLICT (topic, partition) DO NOTHING",
                    vec![topic.into(), partition.into(), to.into()],
                )
                .await?
        }
        Some(from) => {
            store
                .execute(
                    "UPDATE sink_offsets SET next = ?3 WHERE topic = ?1 AND partition = ?2 AND next = ?4",
                    vec![topic.into(), partition.into(), to.into(), from.into()],
                )
                .await?
        }
    };
    Ok(changed == 1)
}

/// The stored next offsets of `partitions` (absent: nothing stored).
pub async fn stored(
    store: &Store,
    partitions: &[(String, i32)],
) -> Result<HashMap<(String, i32), i64>, StoreError> {
    let mut out = HashMap::new();
    for (topic, partition) in partitions {
        let rows = store
            .query(
                "SELECT next FROM sink_offsets WHERE topic = ?1 AND partition = ?2",
                vec![topic.as_str().into(), (*partition).into()],
            )
            .await?;
        if let Some(next) = rows.first().and_then(|r| r[0].as_i64()) {
            out.insert((topic.clone(), *partition), next);
        }
    }
    Ok(out)
}

/// A partition a sink has not reached yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behind {
    pub topic: String,
    pub partition: i32,
    /// The next offset the sink stored (None: nothing yet).
    pub stored: Option<i64>,
    /// The offset it must reach.
    pub end: i64,
}

impl std::fmt::Display for Behind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.stored {
            Some(at) => write!(
                f,
                "{} {} at {at} of {}",
                self.topic, self.partition, self.end
            ),
            None => write!(
                f,
                "{} {} at nothing of {}",
                self.topic, self.partition, self.end
            ),
        }
    }
}

/// The partitions of `ends` whose stored offset is below its end.
pub fn behind(
    ends: &HashMap<(String, i32), i64>,
    stored: &HashMap<(String, i32), i64>,
) -> Vec<Behind> {
    let mut out: Vec<Behind> = ends
        .iter()
        .filter(|(tp, end)| **end > 0 && stored.get(*tp).is_none_or(|at| at < *end))
        .map(|((topic, partition), end)| Behind {
            topic: topic.clone(),
            partition: *partition,
            stored: stored.get(&(topic.clone(), *partition)).copied(),
            end: *end,
        })
        .collect();
    out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    out
}

/// Waits until the sink whose offsets `store` keeps has stored, on every
/// partition of `ends`, an offset at or past the end given: it then holds
/// every record below those ends. This is the exact form of "caught up"
/// (a count of rows or children is not: rows of one child arrive from
/// three topics at different moments). `Err` lists the partitions still
/// behind once `within` has passed.
pub async fn wait_reached(
    store: &Store,
    ends: &HashMap<(String, i32), i64>,
    within: std::time::Duration,
) -> Result<(), Vec<Behind>> {
    let partitions: Vec<(String, i32)> = ends.keys().cloned().collect();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        // A store that cannot be read now counts as not there yet.
        let now = stored(store, &partitions).await.unwrap_or_default();
        let left = behind(ends, &now);
        if left.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(left);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> (String, i32) {
        ("t".to_owned(), p)
    }

    #[test]
    fn behind_lists_only_partitions_with_records_not_yet_stored() {
        let ends = HashMap::from([(tp(0), 10), (tp(1), 5), (tp(2), 0)]);
        let stored = HashMap::from([(tp(0), 10), (tp(1), 4)]);
        assert_eq!(
            behind(&ends, &stored),
            vec![Behind {
                topic: "t".into(),
                partition: 1,
                stored: Some(4),
                end: 5
            }]
        );
        // Nothing stored at all on a partition with records.
        let none = behind(&ends, &HashMap::new());
        assert_eq!(none.len(), 2);
        assert_eq!(none[0].to_string(), "t 0 at nothing of 10");
        // Past the end given (more arrived since) is reached.
        assert!(behind(&ends, &HashMap::from([(tp(0), 12), (tp(1), 5)])).is_empty());
    }
}
