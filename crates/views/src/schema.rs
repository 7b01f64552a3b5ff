//! The views' tables, written once in SQLite's words (the store
//! translates them for PostgreSQL, so both hold exactly the same schema).
//!
//! - `child_events`: every event about a child, as stored Avro (the source
//!   of each child's state, re-folded whenever one arrives).
//! - `children`: one row per child, the merged state (`state`, JSON) and
//!   the columns the agency views filter and sort on, with a partial index
//!   per worklist.
//! - `ftas`, `hearings`: one row per missed hearing / hearing.
//! - `findings`: the data-quality findings that do not depend on the date
//!   asked about (the others are computed at query time from `children`
//!   and `hearings`).
//! - `statistical_events`: events with no A-number (EOIR's public data).
//! - `audit`: every read of a child's data; `published` marks the rows
//!   already copied to `handoff.audit.v1`.
//! - `sink_offsets`: the next offset per partition, written in the same
//!   transaction as the rows it produced.

pub const TABLES: &str = "
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
CREATE TABLE IF NOT EXISTS statistical_events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    idncase TEXT
);
CREATE TABLE IF NOT EXISTS children (
    a_number TEXT PRIMARY KEY,
    agencies TEXT NOT NULL,
    area_of_responsibility TEXT,
    released_at INTEGER,
    nta_status TEXT NOT NULL,
    nta_status_at INTEGER,
    nta_served_at INTEGER,
    court TEXT,
    court_status TEXT NOT NULL,
    represented INTEGER,
    fta_count INTEGER NOT NULL,
    last_fta_at INTEGER,
    open_safety_concerns INTEGER NOT NULL,
    latest_address TEXT,
    latest_address_agency TEXT,
    latest_address_at INTEGER,
    address_differs_from_eoir INTEGER,
    state TEXT NOT NULL
);
-- The worklists' lists, each counted, filtered and paged from an index
-- holding just its rows and the columns its filters read: a child's row
-- carries its merged state, so reading the table reads the whole store
-- (hundreds of MB at full scale).
CREATE INDEX IF NOT EXISTS children_with_safety_concerns
    ON children (a_number, agencies, area_of_responsibility, court, open_safety_concerns)
    WHERE open_safety_concerns > 0;
CREATE INDEX IF NOT EXISTS children_released_missed_hearing
    ON children (a_number, court, last_fta_at, fta_count, released_at)
    WHERE released_at IS NOT NULL AND fta_count > 0;
CREATE INDEX IF NOT EXISTS children_address_differs
    ON children (a_number, court, latest_address_at, court_status, address_differs_from_eoir)
    WHERE court_status = 'open' AND address_differs_from_eoir = 1;
CREATE INDEX IF NOT EXISTS children_nta_backlog
    ON children (released_at, a_number, area_of_responsibility, court)
    WHERE nta_served_at IS NULL AND nta_status IN ('none', 'issued');
CREATE TABLE IF NOT EXISTS ftas (
    a_number TEXT NOT NULL,
    hearing_at INTEGER NOT NULL,
    court TEXT NOT NULL,
    area_of_responsibility TEXT,
    follow_up TEXT,
    opla_recorded INTEGER NOT NULL,
    PRIMARY KEY (a_number, hearing_at)
);
CREATE INDEX IF NOT EXISTS ftas_by_time ON ftas (hearing_at);
CREATE TABLE IF NOT EXISTS hearings (
    a_number TEXT NOT NULL,
    hearing_at INTEGER NOT NULL,
    schedule_id TEXT NOT NULL,
    court TEXT,
    status TEXT NOT NULL,
    PRIMARY KEY (a_number, hearing_at, schedule_id)
);
CREATE INDEX IF NOT EXISTS hearings_by_time ON hearings (hearing_at);
CREATE TABLE IF NOT EXISTS findings (
    a_number TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (a_number, kind, detail)
);
CREATE INDEX IF NOT EXISTS findings_by_kind ON findings (kind, a_number);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    agency TEXT NOT NULL,
    token_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    a_numbers TEXT NOT NULL,
    published INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sink_offsets (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
";

/// Opens the views' store, creating the tables if they are missing.
pub async fn open_store(
    location: &handoff_store::StoreLocation,
) -> Result<handoff_store::Store, handoff_store::StoreError> {
    handoff_store::Store::open(location, TABLES).await
}
