//! Producer adapters: each agency's native records (ICE's EID/EARM CSV
//! extracts, ORR's UC Path JSON Lines, EOIR's CASE tables) parsed,
//! validated, mapped to v1 events and published. Every input record ends
//! up published, skipped as a duplicate, accepted without an event, or
//! rejected with a reason in the rejects file; the counts add up.

pub mod address;
pub mod doj;
pub mod fields;
pub mod hhs;
pub mod http;
pub mod ice;
pub mod ingest;
pub mod invariants;
pub mod ledger;
pub mod origin;
pub mod publisher;
pub mod record;
pub mod records;
pub mod rejects;
pub mod summary;
pub mod table;
pub mod time;
pub mod watch;

pub use ingest::{ingest_files, ingest_reader, Layout, Progress};
pub use ledger::Ledger;
pub use publisher::{IngestError, Publisher};
pub use rejects::RejectWriter;
pub use summary::{FileSummary, Summary};
