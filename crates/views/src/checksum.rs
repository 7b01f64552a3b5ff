//! A content checksum of the view tables: SHA-256 over every row in key
//! order, so two stores built from the same events compare equal however
//! their batches fell, whatever crashed in between, and on either engine.
//! The audit log is left out (it records reads, not events).

use sha2::{Digest, Sha256};

use crate::store::{Store, StoreError};

/// (table, columns, order; `{c}` marks a text key)
const TABLES: [(&str, &str, &str); 7] = [
    (
        "child_events",
        "event_id, a_number, occurred_at, recorded_at, agency, event_type, datum",
        "event_id{c}",
    ),
    ("statistical_events", "event_id, event_type, occurred_at, idncase", "event_id{c}"),
    (
        "children",
        "a_number, agencies, area_of_responsibility, released_at, nta_status, nta_status_at, nta_served_at, court, court_status, represented, fta_count, last_fta_at, open_safety_concerns, latest_address, latest_address_agency, latest_address_at, address_differs_from_eoir, state",
        "a_number{c}",
    ),
    (
        "ftas",
        "a_number, hearing_at, court, area_of_responsibility, follow_up, opla_recorded",
        "a_number{c}, hearing_at",
    ),
    (
        "hearings",
        "a_number, hearing_at, schedule_id, court, status",
        "a_number{c}, hearing_at, schedule_id{c}",
    ),
    ("findings", "a_number, kind, detail", "a_number{c}, kind{c}, detail{c}"),
    ("sink_offsets", "topic, partition, next", "topic{c}, partition"),
];

/// The checksum (hex) and the number of rows it covers.
pub async fn content_checksum(store: &Store) -> Result<(String, u64), StoreError> {
    checksum_of(store, &TABLES).await
}

/// The same, leaving out the stored offsets: what a view says, whatever
/// read it (a replay of a window stores no offsets, see `rebuild`).
pub async fn rows_checksum(store: &Store) -> Result<(String, u64), StoreError> {
    let rows_only: Vec<_> = TABLES
        .into_iter()
        .filter(|(table, _, _)| *table != "sink_offsets")
        .collect();
    checksum_of(store, &rows_only).await
}

async fn checksum_of(
    store: &Store,
    tables: &[(&str, &str, &str)],
) -> Result<(String, u64), StoreError> {
    let mut hasher = Sha256::new();
    let mut rows_seen = 0u64;
    for &(table, columns, order) in tables {
        hasher.update(format!("table {table}\n").as_bytes());
        // Text keys sort the same on both engines in byte order
        // (`COLLATE "C"` on PostgreSQL; SQLite compares bytes already).
        let collate = match store {
            Store::Postgres(_) => " COLLATE \"C\"",
            Store::Sqlite(_) => "",
        };
        let order = order.replace("{c}", collate);
        let rows = store
            .query(
                &format!("SELECT {columns} FROM {table} ORDER BY {order}"),
                vec![],
            )
            .await?;
        for row in rows {
            let mut buf = Vec::new();
            for v in &row {
                v.render(&mut buf);
                buf.push(b'|');
            }
            buf.push(b'\n');
            hasher.update(&buf);
            rows_seen += 1;
        }
    }
    Ok((format!("{:x}", hasher.finalize()), rows_seen))
}
