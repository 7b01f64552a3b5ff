//! What analysts do with the history: the log is the system of record and
//! everything here is derived from it.
//!
//! - `window`: the stretch of record time a replay or export covers.
//! - `history`: reading the agency topics over a window, under an
//!   identity of its own, every record accounted for.
//! - `replay`: the views rebuilt into a new store as of a moment.
//! - `export`: one flat table per event type (Parquet, CSV, JSON lines).
//! - `report`: the analysts' reports, from a views store.
//! - `rejects`: where unreadable records go, never silently away.

pub mod export;
pub mod history;
pub mod rejects;
pub mod replay;
pub mod report;
pub mod window;

pub use replay::{replay, ReplayConfig, ReplaySummary};
pub use window::{parse_instant, DayEdge, Window};
