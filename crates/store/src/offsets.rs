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
