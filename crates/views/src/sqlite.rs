//! The views on SQLite (libsql, the engine the embedded broker already
//! links), as a sink: each batch of events, the children it touches and the
//! consumer offsets are written in one transaction, so after any crash the
//! views resume exactly where their own offsets say.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use handoff_bus::sink::{block_on_side_thread, TopicPartition};
use handoff_bus::{Delivered, OffsetAdvance, OffsetReader, Sink, SinkError};
use handoff_events::codec::{from_datum, to_datum};
use handoff_events::{Catalogue, Event};
use libsql::{params, Connection};

use crate::child::ChildState;

const SCHEMA: &str = "
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS child_events (
    event_id TEXT PRIMARY KEY,
    a_number TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    agency TEXT NOT NULL,
    event_type TEXT NOT NULL,
    datum BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS child_events_by_child ON child_events (a_number);
CREATE TABLE IF NOT EXISTS children (
    a_number TEXT PRIMARY KEY,
    nta_status TEXT NOT NULL,
    released_at INTEGER,
    court TEXT,
    area_of_responsibility TEXT,
    fta_count INTEGER NOT NULL,
    agencies TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS statistical_events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    idncase TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    at INTEGER NOT NULL,
    agency TEXT NOT NULL,
    token_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    a_numbers TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sink_offsets (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
";

#[derive(Debug, thiserror::Error)]
#[error("views store {path}: {message}")]
pub struct StoreError {
    path: String,
    message: String,
}

pub struct SqliteViews {
    path: PathBuf,
    conn: Connection,
    catalogue: Arc<Catalogue>,
}

async fn connect(path: &Path) -> libsql::Result<Connection> {
    let db = libsql::Builder::new_local(path).build().await?;
    let conn = db.connect()?;
    conn.busy_timeout(Duration::from_secs(30))?;
    Ok(conn)
}

async fn stored_next(
    conn: &Connection,
    topic: &str,
    partition: i32,
) -> libsql::Result<Option<i64>> {
    let mut rows = conn
        .query(
            "SELECT next FROM sink_offsets WHERE topic = ?1 AND partition = ?2",
            params![topic, partition],
        )
        .await?;
    match rows.next().await? {
        Some(row) => Ok(Some(row.get::<i64>(0)?)),
        None => Ok(None),
    }
}

impl SqliteViews {
    pub async fn open(path: &Path, catalogue: Arc<Catalogue>) -> Result<Self, StoreError> {
        let err = |e: libsql::Error| StoreError {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = connect(path).await.map_err(err)?;
        conn.execute_batch(SCHEMA).await.map_err(err)?;
        Ok(SqliteViews {
            path: path.to_owned(),
            conn,
            catalogue,
        })
    }

    /// One child's merged state, re-folded from its stored events.
    pub async fn child(&self, a_number: &str) -> Result<Option<ChildState>, SinkError> {
        let events = self.events_of(a_number).await?;
        Ok((!events.is_empty()).then(|| ChildState::from_events(a_number, &events)))
    }

    /// Records a read of children's data: who, what, when.
    pub async fn audit(
        &self,
        at: handoff_events::Timestamp,
        agency: handoff_events::Agency,
        token_id: &str,
        endpoint: &str,
        a_numbers: &[&str],
    ) -> Result<(), SinkError> {
        self.conn
            .execute(
                "INSERT INTO audit VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    at.0,
                    agency.symbol(),
                    token_id,
                    endpoint,
                    a_numbers.join(",")
                ],
            )
            .await
            .map(|_| ())
            .map_err(|e| SinkError::Store(e.to_string()))
    }

    /// The audit records, oldest first: (agency, token id, endpoint, A-numbers).
    pub async fn audit_log(&self) -> Result<Vec<(String, String, String, String)>, SinkError> {
        let store = |e: libsql::Error| SinkError::Store(e.to_string());
        let mut rows = self
            .conn
            .query(
                "SELECT agency, token_id, endpoint, a_numbers FROM audit ORDER BY rowid",
                (),
            )
            .await
            .map_err(store)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await.map_err(store)? {
            out.push((
                row.get(0).map_err(store)?,
                row.get(1).map_err(store)?,
                row.get(2).map_err(store)?,
                row.get(3).map_err(store)?,
            ));
        }
        Ok(out)
    }

    async fn events_of(&self, a_number: &str) -> Result<Vec<Event>, SinkError> {
        let store = |e: libsql::Error| SinkError::Store(e.to_string());
        let mut rows = self
            .conn
            .query(
                "SELECT event_type, datum FROM child_events WHERE a_number = ?1",
                params![a_number],
            )
            .await
            .map_err(store)?;
        let mut events = Vec::new();
        while let Some(row) = rows.next().await.map_err(store)? {
            let kind: String = row.get(0).map_err(store)?;
            let datum: Vec<u8> = row.get(1).map_err(store)?;
            let event = from_datum(&self.catalogue, &kind, &datum)
                .map_err(|e| SinkError::Store(e.to_string()))?;
            events.push(event);
        }
        Ok(events)
    }

    async fn apply_in_transaction(
        &mut self,
        events: &[Delivered],
        offsets: &[OffsetAdvance],
    ) -> Result<(), SinkError> {
        let store = |e: libsql::Error| SinkError::Store(e.to_string());
        for a in offsets {
            let current = stored_next(&self.conn, &a.topic, a.partition)
                .await
                .map_err(store)?;
            if current != a.from {
                return Err(SinkError::OffsetMoved);
            }
            self.conn
                .execute(
                    "INSERT INTO sink_offsets VALUES (?1, ?2, ?3) ON CONFLICT (topic, partition) DO UPDATE SET next = excluded.next",
                    params![a.topic.clone(), a.partition, a.to],
                )
                .await
                .map_err(store)?;
        }
        let mut touched = BTreeSet::new();
        for (n, delivered) in events.iter().enumerate() {
            let event = &delivered.event;
            let meta = event.meta();
            match &meta.a_number {
                Some(a) => {
                    let datum =
                        to_datum(&self.catalogue, event).map_err(|e| SinkError::Rejected {
                            index: n,
                            reason: e.to_string(),
                        })?;
                    self.conn
                        .execute(
                            "INSERT OR IGNORE INTO child_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            params![
                                meta.event_id.clone(),
                                a.as_str(),
                                meta.occurred_at.0,
                                meta.recorded_at.0,
                                meta.source_agency.symbol(),
                                event.record_name(),
                                datum
                            ],
                        )
                        .await
                        .map_err(store)?;
                    touched.insert(a.as_str().to_owned());
                }
                None => {
                    self.conn
                        .execute(
                            "INSERT OR IGNORE INTO statistical_events VALUES (?1, ?2, ?3, ?4)",
                            params![
                                meta.event_id.clone(),
                                event.record_name(),
                                meta.occurred_at.0,
                                meta.case_ids.eoir_idncase.clone()
                            ],
                        )
                        .await
                        .map_err(store)?;
                }
            }
        }
        let touched: Vec<String> = touched.into_iter().collect();
        for a_number in &touched {
            let events = self.events_of(a_number).await?;
            let state = ChildState::from_events(a_number, &events);
            let json =
                serde_json::to_string(&state).map_err(|e| SinkError::Store(e.to_string()))?;
            let agencies: Vec<&str> = state.agencies.iter().map(|a| a.symbol()).collect();
            self.conn
                .execute(
                    "INSERT INTO children VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (a_number) DO UPDATE SET nta_status = excluded.nta_status, released_at = excluded.released_at,
                       court = excluded.court, area_of_responsibility = excluded.area_of_responsibility,
                       fta_count = excluded.fta_count, agencies = excluded.agencies, state = excluded.state",
                    params![
                        a_number.clone(),
                        serde_json::to_value(state.nta_status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                        state.released_at.map(|t| t.0),
                        state.court.clone(),
                        state.area_of_responsibility.clone(),
                        state.ftas.len() as i64,
                        agencies.join(","),
                        json
                    ],
                )
                .await
                .map_err(store)?;
        }
        Ok(())
    }
}

struct Reader(PathBuf);

impl OffsetReader for Reader {
    fn stored(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        block_on_side_thread(async {
            let store = |e: libsql::Error| SinkError::Store(e.to_string());
            let conn = connect(&self.0).await.map_err(store)?;
            let mut out = HashMap::new();
            for (topic, partition) in partitions {
                if let Some(next) = stored_next(&conn, topic, *partition).await.map_err(store)? {
                    out.insert((topic.clone(), *partition), next);
                }
            }
            Ok(out)
        })
    }
}

impl Sink for SqliteViews {
    fn offset_reader(&self) -> Arc<dyn OffsetReader> {
        Arc::new(Reader(self.path.clone()))
    }

    async fn apply(
        &mut self,
        events: &[Delivered],
        offsets: &[OffsetAdvance],
    ) -> Result<(), SinkError> {
        let store = |e: libsql::Error| SinkError::Store(e.to_string());
        self.conn
            .execute("BEGIN IMMEDIATE", ())
            .await
            .map_err(store)?;
        match self.apply_in_transaction(events, offsets).await {
            Ok(()) => {
                self.conn.execute("COMMIT", ()).await.map_err(store)?;
                Ok(())
            }
            Err(e) => {
                let _ = self.conn.execute("ROLLBACK", ()).await;
                Err(e)
            }
        }
    }
}
