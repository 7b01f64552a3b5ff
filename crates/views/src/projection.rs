//! The views as a sink: each batch of events, the rows of every child it
//! touches and the consumer offsets are written in one transaction, so
//! after any crash the views resume exactly where their own offsets say
//! and end as if nothing had happened.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use handoff_bus::sink::{block_on_side_thread, TopicPartition};
use handoff_bus::{Delivered, OffsetAdvance, OffsetReader, Sink, SinkError};
use handoff_events::codec::{from_datum, to_datum};
use handoff_events::{Catalogue, Event};

use crate::child::ChildState;
use crate::metrics::{EventType, Metrics};
use crate::rows::{address_finding, ChildRows};
use crate::schema::open_store;
use crate::store::{offsets, Store, StoreError, StoreLocation, Value};

/// A store failure, as the sink loop sees it: the batch is retried.
pub(crate) fn sink_error(e: StoreError) -> SinkError {
    SinkError::Store(e.to_string())
}

pub struct Views {
    store: Store,
    catalogue: Arc<Catalogue>,
    metrics: Arc<Metrics>,
}

impl Views {
    pub async fn open(
        location: &StoreLocation,
        catalogue: Arc<Catalogue>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, StoreError> {
        Ok(Views {
            store: open_store(location).await?,
            catalogue,
            metrics,
        })
    }

    async fn advance(&self, a: &OffsetAdvance) -> Result<(), SinkError> {
        let moved = offsets::advance(&self.store, &a.topic, a.partition, a.from, a.to)
            .await
            .map_err(sink_error)?;
        if moved {
            Ok(())
        } else {
            Err(SinkError::OffsetMoved)
        }
    }

    async fn apply_in_transaction(
        &self,
        events: &[Delivered],
        offsets: &[OffsetAdvance],
    ) -> Result<(), SinkError> {
        for a in offsets {
            self.advance(a).await?;
        }
        let touched: BTreeSet<String> = events
            .iter()
            .filter_map(|d| d.event.meta().a_number.as_ref())
            .map(|a| a.as_str().to_owned())
            .collect();
        let touched: Vec<String> = touched.into_iter().collect();
        self.store.lock_keys(&touched).await.map_err(sink_error)?;
        for (index, delivered) in events.iter().enumerate() {
            store_event(&self.store, &self.catalogue, index, &delivered.event).await?;
        }
        for a_number in &touched {
            let events = events_of(&self.store, &self.catalogue, a_number).await?;
            let state = ChildState::from_events(a_number, &events);
            write_child(&self.store, &state).await?;
        }
        Ok(())
    }
}

/// Stores one event (once: a redelivered event id changes nothing).
/// `index` is the event's place in its batch, for the rejection.
pub(crate) async fn store_event(
    store: &Store,
    catalogue: &Catalogue,
    index: usize,
    event: &Event,
) -> Result<(), SinkError> {
    let meta = event.meta();
    match &meta.a_number {
        Some(a) => {
            let datum = to_datum(catalogue, event).map_err(|e| SinkError::Rejected {
                index,
                reason: e.to_string(),
            })?;
            store
                .execute(
                    "INSERT INTO child_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (event_id) DO NOTHING",
                    vec![
                        meta.event_id.as_str().into(),
                        a.as_str().into(),
                        meta.occurred_at.0.into(),
                        meta.recorded_at.0.into(),
                        meta.source_agency.symbol().into(),
                        event.record_name().into(),
                        datum.into(),
                    ],
                )
                .await
                .map_err(sink_error)?;
        }
        None => {
            store
                .execute(
                    "INSERT INTO statistical_events VALUES (?1, ?2, ?3, ?4) ON CONFLICT (event_id) DO NOTHING",
                    vec![
                        meta.event_id.as_str().into(),
                        event.record_name().into(),
                        meta.occurred_at.0.into(),
                        meta.case_ids.eoir_idncase.clone().into(),
                    ],
                )
                .await
                .map_err(sink_error)?;
        }
    }
    Ok(())
}

/// One child's stored events, decoded.
pub(crate) async fn events_of(
    store: &Store,
    catalogue: &Catalogue,
    a_number: &str,
) -> Result<Vec<Event>, SinkError> {
    let rows = store
        .query(
            "SELECT event_type, datum FROM child_events WHERE a_number = ?1",
            vec![a_number.into()],
        )
        .await
        .map_err(sink_error)?;
    rows.into_iter()
        .map(|row| {
            let mut row = row.into_iter();
            let kind = row.next().and_then(Value::into_string).unwrap_or_default();
            let datum = row.next().and_then(Value::into_bytes).unwrap_or_default();
            from_datum(catalogue, &kind, &datum).map_err(|e| SinkError::Store(e.to_string()))
        })
        .collect()
}

/// Replaces everything the views hold about one child with the rows its
/// merged state gives.
pub(crate) async fn write_child(store: &Store, state: &ChildState) -> Result<(), SinkError> {
    let a = state.a_number.as_str();
    let rows = ChildRows::of(state);
    let c = &rows.child;
    let json = serde_json::to_string(state).map_err(|e| SinkError::Store(e.to_string()))?;
    let latest = c.latest_address.as_ref();
    let address_json = latest.map(|l| {
        let mut v = serde_json::to_value(&l.address).unwrap_or_default();
        v["finding"] = address_finding(&l.address).into();
        v.to_string()
    });
    store
        .execute(
            "INSERT INTO children VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
             ON CONFLICT (a_number) DO UPDATE SET agencies = excluded.agencies,
               area_of_responsibility = excluded.area_of_responsibility, released_at = excluded.released_at,
               nta_status = excluded.nta_status, nta_status_at = excluded.nta_status_at,
               nta_served_at = excluded.nta_served_at, court = excluded.court,
               court_status = excluded.court_status, represented = excluded.represented,
               fta_count = excluded.fta_count, last_fta_at = excluded.last_fta_at,
               open_safety_concerns = excluded.open_safety_concerns, latest_address = excluded.latest_address,
               latest_address_agency = excluded.latest_address_agency, latest_address_at = excluded.latest_address_at,
               address_differs_from_eoir = excluded.address_differs_from_eoir, state = excluded.state",
            vec![
                a.into(),
                c.agencies.as_str().into(),
                c.area_of_responsibility.clone().into(),
                c.released_at.map(|t| t.0).into(),
                c.nta_status.as_str().into(),
                c.nta_status_at.map(|t| t.0).into(),
                c.nta_served_at.map(|t| t.0).into(),
                c.court.clone().into(),
                c.court_status.as_str().into(),
                c.represented.into(),
                c.fta_count.into(),
                c.last_fta_at.map(|t| t.0).into(),
                c.open_safety_concerns.into(),
                address_json.into(),
                latest.map(|l| l.agency.symbol()).into(),
                latest.map(|l| l.at.0).into(),
                c.address_differs_from_eoir.into(),
                json.into(),
            ],
        )
        .await.map_err(sink_error)?;
    for table in ["ftas", "hearings", "findings"] {
        store
            .execute(
                &format!("DELETE FROM {table} WHERE a_number = ?1"),
                vec![a.into()],
            )
            .await
            .map_err(sink_error)?;
    }
    for f in &rows.ftas {
        store
            .execute(
                "INSERT INTO ftas VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                vec![
                    a.into(),
                    f.hearing_at.0.into(),
                    f.court.as_str().into(),
                    c.area_of_responsibility.clone().into(),
                    f.follow_up.clone().into(),
                    f.opla_recorded.into(),
                ],
            )
            .await
            .map_err(sink_error)?;
    }
    for h in &rows.hearings {
        store
            .execute(
                "INSERT INTO hearings VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                vec![
                    a.into(),
                    h.at.0.into(),
                    h.schedule_id.as_str().into(),
                    h.court.clone().into(),
                    h.status.as_str().into(),
                ],
            )
            .await
            .map_err(sink_error)?;
    }
    for f in &rows.findings {
        store
            .execute(
                "INSERT INTO findings VALUES (?1, ?2, ?3)",
                vec![a.into(), f.kind.into(), f.detail.as_str().into()],
            )
            .await
            .map_err(sink_error)?;
    }
    Ok(())
}

/// Reads stored offsets on its own connection: the rebalance callback is
/// synchronous and must not wait on the sink's connection.
struct Reader(StoreLocation);

impl OffsetReader for Reader {
    fn stored(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        block_on_side_thread(async {
            let store = open_store(&self.0).await.map_err(sink_error)?;
            offsets::stored(&store, partitions)
                .await
                .map_err(sink_error)
        })
    }
}

impl Sink for Views {
    fn offset_reader(&self) -> Arc<dyn OffsetReader> {
        Arc::new(Reader(self.store.location()))
    }

    async fn apply(
        &mut self,
        events: &[Delivered],
        offsets: &[OffsetAdvance],
    ) -> Result<(), SinkError> {
        let started = Instant::now();
        self.store.begin().await.map_err(sink_error)?;
        let result = match self.apply_in_transaction(events, offsets).await {
            Ok(()) => self.store.commit().await.map_err(sink_error),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.store.rollback().await;
            return result;
        }
        self.metrics
            .store_latency
            .observe(started.elapsed().as_secs_f64());
        for d in events {
            self.metrics
                .events_applied
                .get_or_create(&EventType {
                    event_type: d.event.record_name().to_owned(),
                })
                .inc();
        }
        Ok(())
    }
}
