//! Per-agency views of each child's merged cross-agency story.
//!
//! - `child` (the `handoff-story` crate): the fold of one child's events
//!   from all three agencies, in event time, so the result never depends
//!   on arrival order.
//! - `rows`: what a child contributes to the view tables and the
//!   data-quality findings.
//! - `schema` on `store` (the `handoff-store` crate): the tables, on
//!   SQLite or PostgreSQL, with one set of statements.
//! - `projection`: the sink that writes rows and offsets in one transaction.
//! - `rebuild`: the same rows from a whole history at once (replay).
//! - `queries`, `narrow`, `answers`, `api`, `policy`, `audit`, `metrics`: the reads,
//!   the types they answer (from which the OpenAPI document is
//!   generated), the HTTP API that serves them under the data-sharing
//!   policy, and the audit trail of every read.

pub mod answers;
pub mod api;
pub mod audit;
pub mod checksum;
pub mod metrics;
pub mod narrow;
pub mod policy;
pub mod projection;
pub mod queries;
pub mod rebuild;
pub mod rows;
pub mod schema;
pub mod service;

pub use handoff_store as store;
pub use handoff_story as child;

pub use child::ChildState;
pub use metrics::Metrics;
pub use projection::Views;
pub use store::{Store, StoreLocation};
