//! Rebuilding the views from a whole history at once, for replay.
//!
//! The live sink re-folds every child a batch touches. That suits live
//! traffic (a few events per child per batch), but during a rebuild it
//! would fold a child once for every batch that carries one of its events.
//! A rebuild stores every event first and then folds each child once: the
//! same rows as the sink gives (the fold does not depend on arrival
//! order), each written once.

use std::sync::Arc;

use handoff_bus::SinkError;
use handoff_events::codec::from_datum;
use handoff_events::{Catalogue, Event};

use crate::child::ChildState;
use crate::projection::{store_event, write_child};
use crate::schema::open_store;
use crate::store::{offsets, Store, StoreError, StoreLocation, Value};

/// How many children one folding transaction writes.
const CHILDREN_PER_TRANSACTION: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event {event_id} ({event_type}) cannot be stored: {reason}")]
    Event {
        event_id: String,
        event_type: String,
        reason: String,
    },
    #[error("child {a_number} cannot be folded: {reason}")]
    Fold { a_number: String, reason: String },
    #[error("{location} already holds views ({events} events, {offsets} stored offsets); a rebuild needs a new store: give another path or database, or remove this one")]
    NotEmpty {
        location: String,
        events: i64,
        offsets: i64,
    },
}

pub struct Rebuild {
    store: Store,
    catalogue: Arc<Catalogue>,
}

impl Rebuild {
    /// Opens (creating) the store, which must hold no events or offsets
    /// yet: mixing a rebuild into existing views would give neither.
    pub async fn open_empty(
        location: &StoreLocation,
        catalogue: Arc<Catalogue>,
    ) -> Result<Self, RebuildError> {
        let store = open_store(location).await?;
        let count = async |sql: &str| -> Result<i64, StoreError> {
            let rows = store.query(sql, vec![]).await?;
            Ok(rows[0][0].as_i64().unwrap_or(0))
        };
        let events = count("SELECT COUNT(*) FROM child_events").await?
            + count("SELECT COUNT(*) FROM statistical_events").await?;
        let offsets = count("SELECT COUNT(*) FROM sink_offsets").await?;
        if events > 0 || offsets > 0 {
            return Err(RebuildError::NotEmpty {
                location: location.describe(),
                events,
                offsets,
            });
        }
        Ok(Rebuild { store, catalogue })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stores a batch of events in one transaction (an event id already
    /// stored changes nothing).
    pub async fn store_events(&self, events: &[Event]) -> Result<(), RebuildError> {
        let catalogue = &self.catalogue;
        self.store
            .in_transaction(async |store| {
                // Issued together: PostgreSQL pipelines them on the one
                // connection (in order) instead of a round trip each.
                futures::future::try_join_all(events.iter().enumerate().map(
                    |(index, event)| async move {
                        store_event(store, catalogue, index, event)
                            .await
                            .map_err(|e| event_error(event, e))
                    },
                ))
                .await?;
                Ok::<(), RebuildError>(())
            })
            .await
    }

    /// Records where each partition's replay ended, so `handoff views` can
    /// go on from the rebuilt store as if it had built it itself.
    pub async fn store_offsets(&self, next: &[(String, i32, i64)]) -> Result<(), RebuildError> {
        self.store
            .in_transaction(async |store| {
                for (topic, partition, to) in next {
                    offsets::advance(store, topic, *partition, None, *to).await?;
                }
                Ok::<(), RebuildError>(())
            })
            .await
    }

    /// Folds every stored child once and writes its rows; `progress` is
    /// told how many children are done after each transaction.
    pub async fn fold_children(&self, mut progress: impl FnMut(u64)) -> Result<u64, RebuildError> {
        let mut done = 0u64;
        let mut after = String::new();
        loop {
            let page = self
                .store
                .query(
                    "SELECT DISTINCT a_number FROM child_events WHERE a_number > ?1 ORDER BY a_number LIMIT ?2",
                    vec![after.as_str().into(), CHILDREN_PER_TRANSACTION.into()],
                )
                .await?;
            let a_numbers: Vec<String> = page
                .into_iter()
                .filter_map(|r| r.into_iter().next().and_then(Value::into_string))
                .collect();
            let (Some(first), Some(last)) = (a_numbers.first(), a_numbers.last()) else {
                return Ok(done);
            };
            let rows = self
                .store
                .query(
                    "SELECT a_number, event_type, datum FROM child_events WHERE a_number >= ?1 AND a_number <= ?2 ORDER BY a_number",
                    vec![first.as_str().into(), last.as_str().into()],
                )
                .await?;
            let children = self.decode(rows)?;
            self.store
                .in_transaction(async |store| {
                    // Children are independent: their writes are issued
                    // together, pipelined on PostgreSQL like the events.
                    futures::future::try_join_all(children.iter().map(
                        |(a_number, events)| async move {
                            let state = ChildState::from_events(a_number, events);
                            write_child(store, &state)
                                .await
                                .map_err(|e| RebuildError::Fold {
                                    a_number: a_number.clone(),
                                    reason: e.to_string(),
                                })
                        },
                    ))
                    .await?;
                    Ok::<(), RebuildError>(())
                })
                .await?;
            done += children.len() as u64;
            progress(done);
            after = last.clone();
        }
    }

    /// Rows of (a_number, event_type, datum), ordered by child, as each
    /// child's events.
    fn decode(&self, rows: Vec<Vec<Value>>) -> Result<Vec<(String, Vec<Event>)>, RebuildError> {
        let mut children: Vec<(String, Vec<Event>)> = Vec::new();
        for row in rows {
            let mut row = row.into_iter();
            let a_number = row.next().and_then(Value::into_string).unwrap_or_default();
            let kind = row.next().and_then(Value::into_string).unwrap_or_default();
            let datum = row.next().and_then(Value::into_bytes).unwrap_or_default();
            let event =
                from_datum(&self.catalogue, &kind, &datum).map_err(|e| RebuildError::Fold {
                    a_number: a_number.clone(),
                    reason: format!("a stored {kind} event does not decode: {e}"),
                })?;
            match children.last_mut() {
                Some((a, events)) if *a == a_number => events.push(event),
                _ => children.push((a_number, vec![event])),
            }
        }
        Ok(children)
    }
}

fn event_error(event: &Event, e: SinkError) -> RebuildError {
    let reason = match e {
        SinkError::Rejected { reason, .. } => reason,
        other => other.to_string(),
    };
    RebuildError::Event {
        event_id: event.meta().event_id.clone(),
        event_type: event.record_name().to_owned(),
        reason,
    }
}
