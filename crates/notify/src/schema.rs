//! The notifier's tables, written in SQLite's words (the store translates
//! them for PostgreSQL):
//!
//! - `child_events`: every event about a child, as stored Avro: the
//!   rules read a child's state before and after each event.
//! - `outbox`: one row per (cause, rule, subscriber), the idempotency key;
//!   a redelivered event or a restart never adds a second row. `seq` is
//!   the subscriber's own gap-free sequence number; `state` is one of
//!   `outbox.rs`'s states.
//! - `subscriber_seq`: the next sequence number of each subscriber.
//! - `timers`: deadlines (rule, child, key), fired by the event-time clock.
//! - `clock`: named instants: `event_time` (the latest event time seen,
//!   the timers' clock), `event_time_seen_at` (the wall clock when it was
//!   seen: the clock moves on from there), `first_start`, and `history_until` (the latest event time among
//!   history events: timers due by then are history too).
//! - `history_marks`: where each agency partition ended when the notifier
//!   first started; events before the mark are history (a rebuild or a
//!   replay), whose notifications are kept but not sent.
//! - `sink_offsets`: consumer offsets, in the same transaction as the rest.

/// How many deadlines that fell within the history (what was on the
/// topics at the notifier's first start) have not fired yet. The notifier
/// fires them once it has caught up (and the backlog look has seen it
/// caught up), so the bench, waiting for a history's whole outcome, waits
/// for this to reach zero as well as for the offsets.
pub const HISTORY_TIMERS_UNFIRED: &str =
    "SELECT COUNT(*) FROM timers WHERE due <= (SELECT at FROM clock WHERE name = 'history_until')";

/// How many deadlines due by the latest event time seen have not fired
/// yet: the same wait for a history published after the notifier started
/// (the demo's), which has no `history_until`.
pub const EVENT_TIME_TIMERS_UNFIRED: &str =
    "SELECT COUNT(*) FROM timers WHERE due <= (SELECT at FROM clock WHERE name = 'event_time')";

pub const TABLES: &str = "
CREATE TABLE IF NOT EXISTS child_events (
    event_id TEXT PRIMARY KEY,
    a_number TEXT NOT NULL,
    event_type TEXT NOT NULL,
    datum BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS notify_events_by_child ON child_events (a_number);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    subscriber TEXT NOT NULL,
    seq INTEGER NOT NULL,
    rule TEXT NOT NULL,
    priority TEXT NOT NULL,
    a_number TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    acked_at INTEGER,
    acked_by TEXT,
    follow_up INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, subscriber, seq);
CREATE INDEX IF NOT EXISTS outbox_by_subscriber ON outbox (subscriber, seq);
CREATE TABLE IF NOT EXISTS subscriber_seq (
    subscriber TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS timers (
    rule TEXT NOT NULL,
    a_number TEXT NOT NULL,
    key TEXT NOT NULL,
    due INTEGER NOT NULL,
    repeat_every INTEGER,
    firings INTEGER NOT NULL,
    PRIMARY KEY (rule, a_number, key)
);
CREATE INDEX IF NOT EXISTS timers_by_due ON timers (due);
CREATE TABLE IF NOT EXISTS clock (
    name TEXT PRIMARY KEY,
    at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history_marks (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS sink_offsets (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
";
